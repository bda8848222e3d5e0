"""Auxiliary-task learning: each property learned beside the properties that help it, behind a
negative-transfer gate.

Transfer is directed: a property with 5k labels can gain from sharing an encoder with one
labelled on 45k materials that it would itself hurt. A partition into task groups serves one
direction only; here every property gets its own model, trained on it and its helpers (the
lattice's :func:`~matlattice.entangle.lattice.recommend_helpers`) with the property's own
early stopping, and keeps only its own head (:func:`~matlattice.multitask.task_selection.
select_tasks`). The gate trains the property alone as well and keeps whichever model has the
lower gate error (:mod:`~matlattice.multitask.gate`: the validation MAE, or with
cross-validation members the out-of-fold MAE). Properties whose partners make the same set
(a task group: each member's partners are the other members) share one model, trained once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sklearn.base import clone

from matlattice.errors import InvalidParameterError
from matlattice.models.estimator.regressor import LatticeRegressor
from matlattice.multitask.gate import gate_decision, judging_params, validation_mae
from matlattice.multitask.task_selection import select_tasks

__all__ = ["AuxiliaryResult", "fit_with_helpers"]


@dataclass
class AuxiliaryResult:
    """What :func:`fit_with_helpers` trained and chose.

    ``models`` maps each property to the single-task :class:`LatticeRegressor` that serves it;
    ``decisions`` holds, per property, its ``helpers``, the ``chosen`` arm (``"with_helpers"``
    or ``"alone"``) and the gate's errors and gains
    (:func:`~matlattice.multitask.gate.gate_decision`).
    """

    models: dict[str, LatticeRegressor] = field(default_factory=dict)
    decisions: dict[str, dict] = field(default_factory=dict)


def fit_with_helpers(
    base: LatticeRegressor,
    train: pd.DataFrame,
    val: pd.DataFrame,
    helpers: dict[str, list[str]],
    tasks: list[str],
    *,
    gate: bool = True,
    gate_folds: int = 0,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    progress: Callable[[str], None] | None = None,
) -> AuxiliaryResult:
    """One model per property of ``tasks``: with its helpers when it has any, else alone.

    Parameters
    ----------
    base : unfitted estimator whose settings every model uses (cloned, never fitted itself);
        a model with helpers stops early on each task's own validation loss
        (``early_stopping="per_task"``), so the helpers never choose the target's epoch
    train, val : frames with ``formula`` and every task and helper column (NaN = unlabelled);
        ``val`` drives early stopping and the gate
    helpers : property -> the properties to learn it beside (absent or empty: alone)
    gate : train each property with helpers alone too and keep the better of the two on
        gate error (:mod:`~matlattice.multitask.gate`); without it the helpers' model is always kept
    gate_folds : with k >= 2 the gate reads the out-of-fold errors of k cross-validation
        models per arm (:func:`~matlattice.multitask.gate.judging_params`), then the chosen arm
        is trained on all the training rows with ``base``'s settings
    checkpoint_dir : per-model checkpoint folders (``<task>/with_helpers``, ``<task>/alone``,
        the judging models' with a ``_cv`` suffix; a model shared by several tasks under its
        first task) so an interrupted fit resumes with ``resume``

    A set of columns (task and helpers) trains one model whichever of its tasks asks first:
    ``helpers = {t: [other members of t's group]}`` trains each group once and gates each of
    its members against the member alone.
    """
    _check_columns(train, val, helpers, tasks)
    judge = judging_params(base, gate_folds) if gate else None
    models = _Models(base, train, val, judge, checkpoint_dir, resume)

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    result = AuxiliaryResult()
    for task in tasks:
        own = helpers.get(task, [])
        if not own:
            say(f"{task}: no helper, training alone")
            result.models[task] = models.model_of(task, [task])
            result.decisions[task] = {"helpers": [], "chosen": "alone", "val_gain": None}
            continue
        judging = judge is not None
        reused = models.has([task, *own], judging)
        say(f"{task}: {'reusing the model' if reused else 'training'} beside {', '.join(own)}")
        assisted = models.model_of(task, [task, *own], judging)
        alone = None
        if gate:
            say(f"{task}: training alone for the gate")
            alone = models.model_of(task, [task], judging)
        chosen, decision = gate_decision("with_helpers", assisted, alone, val, task)
        if judging:  # the judges decided; the chosen arm trains on every training row
            say(f"{task}: retraining {decision['chosen'].replace('_', ' ')}")
            columns = [task, *own] if decision["chosen"] == "with_helpers" else [task]
            chosen = models.model_of(task, columns)
            decision.update(
                gate_folds=int(gate_folds), val_mae_kept=validation_mae(chosen, val, task)
            )
        result.models[task] = chosen
        result.decisions[task] = {"helpers": list(own), **decision}
    return result


def _check_columns(
    train: pd.DataFrame, val: pd.DataFrame, helpers: dict[str, list[str]], tasks: list[str]
) -> None:
    needed = sorted({*tasks, *(h for t in tasks for h in helpers.get(t, []))})
    missing = [t for t in needed if t not in train.columns or t not in val.columns]
    if missing:
        raise InvalidParameterError(
            f"tasks {missing} are not columns of both the train and val frames"
        )
    for task in tasks:
        if task in helpers.get(task, []):
            raise InvalidParameterError(f"{task!r} is listed as its own helper")


@dataclass
class _Models:
    """The models of one :func:`fit_with_helpers` run, one per set of columns and stage
    (``judging``: the gate's cross-validation models, with the ``judge`` settings)."""

    base: LatticeRegressor
    train: pd.DataFrame
    val: pd.DataFrame
    judge: dict | None
    checkpoint_dir: Path | None
    resume: bool
    trained: dict[tuple[frozenset[str], bool], LatticeRegressor] = field(default_factory=dict)

    def has(self, columns: list[str], judging: bool) -> bool:
        """Whether the model of ``columns`` is trained already."""
        return (frozenset(columns), judging) in self.trained

    def model_of(self, task: str, columns: list[str], judging: bool = False) -> LatticeRegressor:
        """``task``'s model trained on ``columns`` (trained once per set of columns)."""
        key = (frozenset(columns), judging)
        if key not in self.trained:
            params = {"early_stopping": "per_task"} if len(columns) > 1 else {}
            arm = ("with_helpers" if len(columns) > 1 else "alone") + ("_cv" if judging else "")
            self.trained[key] = self._fit(columns, arm, **params, **(self.judge if judging else {}))
        model = self.trained[key]
        return select_tasks(model, [task]) if len(columns) > 1 else model

    def _fit(self, columns: list[str], arm: str, **params) -> LatticeRegressor:
        rows = [
            part[["formula", *columns]].dropna(subset=columns, how="all")
            for part in (self.train, self.val)
        ]
        folder = None
        if self.checkpoint_dir is not None:
            folder = Path(self.checkpoint_dir).joinpath(columns[0], arm)
        return (
            clone(self.base)
            .set_params(**params)
            .fit(rows[0], X_val=rows[1], checkpoint_dir=folder, resume=self.resume)
        )
