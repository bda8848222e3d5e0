"""Keep some of a fitted multi-task model's tasks: a copy whose heads serve only those.

An auxiliary-task model learns a target property beside helper properties so that the shared
encoder sees more materials and more signal; once trained, only the target's head is wanted.
:func:`select_tasks` drops the other heads (and their adapters, scalers, calibrators and
cross-validation residuals) and leaves the encoder, input scaling and applicability domain
untouched, so the copy predicts, saves and loads as a model of the kept tasks alone.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from matlattice.errors import InvalidParameterError
from matlattice.models.networks.encoders import MultiTaskNet
from matlattice.models.networks.routing import TaskRoutedNet

__all__ = ["select_tasks"]


def _slice_net(net: nn.Module, keep: list[int]) -> nn.Module:
    """``net`` with the heads (and adapters) of the task indices ``keep``, in that order."""
    if isinstance(net, TaskRoutedNet):
        nets = [_slice_net(n, keep) for n in net.nets]
        return TaskRoutedNet(nets, net.route[torch.as_tensor(keep)].clone()).eval()
    if not isinstance(net, MultiTaskNet):
        raise TypeError(f"cannot select the tasks of a {type(net).__name__}")
    net.heads = nn.ModuleList(net.heads[j] for j in keep)
    net.adapters = nn.ModuleList(net.adapters[j] for j in keep)
    return net


def select_tasks(model, tasks: Sequence[str]):
    """A copy of the fitted lattice estimator ``model`` that predicts only ``tasks``.

    Parameters
    ----------
    model : a fitted :class:`~matlattice.models.LatticeRegressor` or ``LatticeClassifier``
    tasks : names from ``model.tasks_``, in the order the copy's outputs should have

    Raises
    ------
    ValueError : a name that is not one of the model's tasks, a repeated name, or no name
    """
    tasks = [str(t) for t in tasks]
    unknown = [t for t in tasks if t not in model.tasks_]
    if unknown or not tasks or len(set(tasks)) != len(tasks):
        raise InvalidParameterError(
            f"tasks={tasks}: choose one or more distinct tasks of the model, {model.tasks_}"
        )
    keep = [model.tasks_.index(t) for t in tasks]
    out = copy.deepcopy(model)
    out.members_ = [_slice_net(net, keep) for net in out.members_]
    out.tasks_ = tasks
    out.scalers_ = [model.scalers_[j] for j in keep]
    if getattr(model, "calibrators_", None):
        out.calibrators_ = [model.calibrators_[j] for j in keep]
    if getattr(model, "cv_residuals_", None) is not None:
        out.cv_residuals_ = model.cv_residuals_[:, keep].copy()
    for info in out.train_info_:
        if "task_best_epochs" in info:
            info["task_best_epochs"] = {t: info["task_best_epochs"][t] for t in tasks}
    return out
