"""Multi-task pretraining, then per-property fine-tuning behind a negative-transfer gate.

A hard-sharing model learns every property together; each property then gets its own model
whose encoder starts from the shared one and trains on that property alone (a fresh head, a
lower learning rate, fewer epochs). The gate trains the property alone as well and keeps
whichever of the two has the lower gate error (:mod:`~matlattice.multitask.gate`: the
validation MAE, or with cross-validation members the out-of-fold MAE), so a property that
the shared encoder does not help falls back to its single-task model.
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

__all__ = ["FineTuneResult", "fit_fine_tuned"]


@dataclass
class FineTuneResult:
    """What :func:`fit_fine_tuned` trained and chose.

    ``models`` maps each property to the single-task :class:`LatticeRegressor` that serves it
    (fine-tuned or alone, as the gate chose); ``decisions`` holds, per property, the chosen arm
    (``"fine_tuned"`` or ``"alone"``) and the gate's errors and gains
    (:func:`~matlattice.multitask.gate.gate_decision`).
    """

    shared: LatticeRegressor
    models: dict[str, LatticeRegressor] = field(default_factory=dict)
    decisions: dict[str, dict] = field(default_factory=dict)


def fit_fine_tuned(
    base: LatticeRegressor,
    train: pd.DataFrame,
    val: pd.DataFrame,
    tasks: list[str],
    *,
    epochs: int | None = None,
    lr: float | None = None,
    gate: bool = True,
    gate_folds: int = 0,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    progress: Callable[[str], None] | None = None,
) -> FineTuneResult:
    """Pretrain ``base`` on all ``tasks``, fine-tune one copy per task, gate each on val.

    Parameters
    ----------
    base : unfitted estimator whose settings every stage uses (cloned, never fitted itself)
    train, val : frames with ``formula`` and the ``tasks`` columns (NaN = unlabelled); ``val``
        drives early stopping in every stage and the gate
    epochs, lr : fine-tuning budget; default half of ``base.epochs`` and a third of ``base.lr``
    gate : train each task alone too and keep the better of the two on the gate error; without
        it every task keeps its fine-tuned model
    gate_folds : with k >= 2 the gate reads the out-of-fold errors of k cross-validation
        models per stage (:func:`~matlattice.multitask.gate.judging_params`; fine-tuned member j
        starts from shared member j, which held out the same compositions), then the chosen
        arm is trained on all the training rows with ``base``'s settings
    checkpoint_dir : per-stage checkpoint folders (``shared/``, ``<task>/fine_tuned``,
        ``<task>/alone``; the judging models' with a ``_cv`` suffix) so an interrupted fit
        resumes with ``resume``

    ``result.shared`` is the shared model the kept fine-tuned models start from (with
    ``gate_folds``, the judging one when the gate keeps no fine-tuned model).
    """
    _check_tasks(train, val, tasks)
    stages = _Stages(
        base,
        train,
        val,
        tasks,
        epochs=int(epochs) if epochs is not None else max(1, int(base.epochs) // 2),
        lr=float(lr) if lr is not None else float(base.lr) / 3,
        judge=judging_params(base, gate_folds) if gate else None,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        progress=progress,
    )
    judging = stages.judge is not None
    result = FineTuneResult(shared=stages.shared_model(judging))
    for task in tasks:
        val_part = val[["formula", task]].dropna()
        if len(val_part) == 0:
            raise InvalidParameterError(
                f"no validation labels for {task!r}; the gate cannot compare"
            )
        tuned = stages.task_model(task, "fine_tuned", judging)
        alone = None
        if gate:
            stages.say(f"{task}: training alone for the gate")
            alone = stages.task_model(task, "alone", judging)
        chosen, decision = gate_decision("fine_tuned", tuned, alone, val_part, task)
        if judging:  # the judges decided; the chosen arm trains on every training row
            stages.say(f"{task}: retraining {decision['chosen'].replace('_', '-')}")
            chosen = stages.task_model(task, decision["chosen"], False)
            decision.update(
                gate_folds=int(gate_folds), val_mae_kept=validation_mae(chosen, val_part, task)
            )
            if decision["chosen"] == "fine_tuned":
                result.shared = stages.shared_model(False)
        result.models[task] = chosen
        result.decisions[task] = decision
    return result


def _check_tasks(train: pd.DataFrame, val: pd.DataFrame, tasks: list[str]) -> None:
    missing = [t for t in tasks if t not in train.columns or t not in val.columns]
    if missing:
        raise InvalidParameterError(
            f"tasks {missing} are not columns of both the train and val frames"
        )
    if len(tasks) < 2:
        raise InvalidParameterError(
            f"fine-tuning needs at least two tasks to pretrain on; got {tasks}"
        )


@dataclass
class _Stages:
    """The models of one :func:`fit_fine_tuned` run, each trained once: the shared model
    per stage (``judging``: the gate's cross-validation models, or the final ones) and the
    per-task models, fine-tuned (``epochs`` at ``lr``) or alone."""

    base: LatticeRegressor
    train: pd.DataFrame
    val: pd.DataFrame
    tasks: list[str]
    epochs: int
    lr: float
    judge: dict | None
    checkpoint_dir: Path | None
    resume: bool
    progress: Callable[[str], None] | None
    shared: dict[bool, LatticeRegressor] = field(default_factory=dict)

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def folder(self, *parts: str) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        return Path(self.checkpoint_dir).joinpath(*parts)

    def shared_model(self, judging: bool) -> LatticeRegressor:
        """The model pretrained on every task (trained once per stage)."""
        if judging not in self.shared:
            self.say(f"pretraining one shared model on {len(self.tasks)} properties")
            columns = ["formula", *self.tasks]
            self.shared[judging] = (
                clone(self.base)
                .set_params(**(self.judge if judging else {}))
                .fit(
                    self.train[columns].dropna(subset=self.tasks, how="all"),
                    X_val=self.val[columns].dropna(subset=self.tasks, how="all"),
                    checkpoint_dir=self.folder("shared" + ("_cv" if judging else "")),
                    resume=self.resume,
                )
            )
        return self.shared[judging]

    def task_model(self, task: str, arm: str, judging: bool) -> LatticeRegressor:
        """``task`` fine-tuned from the shared model, or trained alone."""
        params = {"early_stopping": "mean", **(self.judge if judging else {})}
        start = None
        if arm == "fine_tuned":
            self.say(f"{task}: fine-tuning ({self.epochs} epochs, lr {self.lr:.2g})")
            params.update(epochs=self.epochs, lr=self.lr)
            start = self.shared_model(judging)
        return (
            clone(self.base)
            .set_params(**params)
            .fit(
                self.train[["formula", task]].dropna(),
                X_val=self.val[["formula", task]].dropna(),
                checkpoint_dir=self.folder(task, arm + ("_cv" if judging else "")),
                resume=self.resume,
                init_from=start,
            )
        )
