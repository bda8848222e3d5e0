"""Per-task checkpoint selection: one trained network, kept at a different epoch per task.

In a multi-task network the tasks reach their best validation loss at different epochs: a
property with 4k labels overfits while one with 22k labels is still improving. Early stopping on
the mean validation loss serves neither. With ``early_stopping="per_task"`` the trainer keeps,
for every task, the weights of the epoch at which *that task's* validation loss was lowest
(:class:`~matlattice.models.networks.training.TrainResult.task_states`), and :class:`TaskRoutedNet`
serves each task from its own snapshot. Snapshots shared by several tasks are stored once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

__all__ = ["TaskRoutedNet", "route_snapshots"]


class TaskRoutedNet(nn.Module):
    """Snapshots of one network, each serving some of the tasks.

    Parameters
    ----------
    nets : the snapshots; ``nets[0]`` is the snapshot of the best mean validation loss and
        gives the embedding (``embed``, ``rate``, ``encoder``)
    route : ``(n_tasks,)`` index into ``nets`` of the snapshot serving each task
    """

    def __init__(self, nets: Sequence[nn.Module], route: Tensor) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.register_buffer("route", torch.as_tensor(route, dtype=torch.long))
        self.log_var: Tensor | None = None

    @property
    def primary(self) -> nn.Module:
        """The best-mean snapshot: one consistent network for measures that read heads."""
        return self.nets[0]

    @property
    def encoder(self) -> nn.Module:
        return self.nets[0].encoder

    @property
    def variational(self) -> bool:
        return bool(getattr(self.nets[0], "variational", False))

    def embed(self, *inputs: Tensor) -> Tensor:
        return self.nets[0].embed(*inputs)

    def rate(self, *inputs: Tensor) -> Tensor:
        return self.nets[0].rate(*inputs)

    def forward(self, *inputs: Tensor) -> Tensor:
        """``(batch, n_tasks)``: column ``t`` from snapshot ``route[t]`` (and the matching
        heteroscedastic log-variances in ``self.log_var`` where the nets have them)."""
        out = self.nets[0](*inputs)
        log_var = self.nets[0].log_var
        for i in range(1, len(self.nets)):
            columns = self.route == i
            piece = self.nets[i](*inputs)
            out = torch.where(columns, piece, out)
            if log_var is not None:
                log_var = torch.where(columns, self.nets[i].log_var, log_var)
        self.log_var = log_var
        return out


def route_snapshots(
    build: Callable[[], nn.Module],
    best_state: dict[str, Tensor],
    best_epoch: int,
    task_states: Sequence[dict[str, Tensor]],
    task_epochs: Sequence[int],
) -> nn.Module:
    """The network to predict with: ``best_state`` (the weights of epoch ``best_epoch``) alone
    when every task's best epoch is that one, else a :class:`TaskRoutedNet` over the distinct
    snapshots, ``best_state`` first. ``task_states[t]`` holds the weights of epoch
    ``task_epochs[t]``; ``build()`` makes an untrained network of the right architecture."""
    snapshots: list[dict[str, Tensor]] = [best_state]
    epochs = [int(best_epoch)]
    route = []
    for state, epoch in zip(task_states, task_epochs, strict=True):
        if int(epoch) not in epochs:
            snapshots.append(state)
            epochs.append(int(epoch))
        route.append(epochs.index(int(epoch)))
    nets = []
    for state in snapshots:
        net = build()
        net.load_state_dict(state)
        net.eval()
        nets.append(net)
    if len(nets) == 1:
        return nets[0]
    return TaskRoutedNet(nets, torch.tensor(route)).eval()
