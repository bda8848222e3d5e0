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
    missing = [t for t in tasks if t not in train.columns or t not in val.columns]
    if missing:
        raise InvalidParameterError(
            f"tasks {missing} are not columns of both the train and val frames"
        )
    if len(tasks) < 2:
        raise InvalidParameterError(
            f"fine-tuning needs at least two tasks to pretrain on; got {tasks}"
        )
    ft_epochs = int(epochs) if epochs is not None else max(1, int(base.epochs) // 2)
    ft_lr = float(lr) if lr is not None else float(base.lr) / 3

    def folder(*parts: str) -> Path | None:
        return Path(checkpoint_dir).joinpath(*parts) if checkpoint_dir is not None else None

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    judge = judging_params(base, gate_folds) if gate else None
    shared_models: dict[bool, LatticeRegressor] = {}

    def shared_model(judging: bool) -> LatticeRegressor:
        """The model pretrained on every task (trained once per stage)."""
        if judging not in shared_models:
            say(f"pretraining one shared model on {len(tasks)} properties")
            shared_models[judging] = (
                clone(base)
                .set_params(**(judge if judging else {}))
                .fit(
                    train[["formula", *tasks]].dropna(subset=tasks, how="all"),
                    X_val=val[["formula", *tasks]].dropna(subset=tasks, how="all"),
                    checkpoint_dir=folder("shared" + ("_cv" if judging else "")),
                    resume=resume,
                )
            )
        return shared_models[judging]

    def task_model(task: str, arm: str, judging: bool) -> LatticeRegressor:
        """``task`` fine-tuned from the shared model, or trained alone."""
        params = {"early_stopping": "mean", **(judge if judging else {})}
        start = None
        if arm == "fine_tuned":
            say(f"{task}: fine-tuning ({ft_epochs} epochs, lr {ft_lr:.2g})")
            params.update(epochs=ft_epochs, lr=ft_lr)
            start = shared_model(judging)
        return (
            clone(base)
            .set_params(**params)
            .fit(
                train[["formula", task]].dropna(),
                X_val=val[["formula", task]].dropna(),
                checkpoint_dir=folder(task, arm + ("_cv" if judging else "")),
                resume=resume,
                init_from=start,
            )
        )

    judging = judge is not None
    shared_model(judging)
    result = FineTuneResult(shared=shared_models[judging])
    for task in tasks:
        val_part = val[["formula", task]].dropna()
        if len(val_part) == 0:
            raise InvalidParameterError(
                f"no validation labels for {task!r}; the gate cannot compare"
            )
        tuned = task_model(task, "fine_tuned", judging)
        alone = None
        if gate:
            say(f"{task}: training alone for the gate")
            alone = task_model(task, "alone", judging)
        chosen, decision = gate_decision("fine_tuned", tuned, alone, val_part, task)
        if judging:  # the judges decided; the chosen arm trains on every training row
            say(f"{task}: retraining {decision['chosen'].replace('_', '-')}")
            chosen = task_model(task, decision["chosen"], False)
            decision.update(
                gate_folds=int(gate_folds), val_mae_kept=validation_mae(chosen, val_part, task)
            )
            if decision["chosen"] == "fine_tuned":
                result.shared = shared_models[False]
        result.models[task] = chosen
        result.decisions[task] = decision
    return result
