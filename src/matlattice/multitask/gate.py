"""The negative-transfer gate: a multi-task model serves a property only if it predicts that
property better than the property's model trained alone.

Two errors can decide. The default is the MAE on the validation part, which also chose each
model's stopping epoch, so it reads low for the model with more epochs to choose from, and
on a 10 % part it resolves only differences of several per cent. Models fitted with
cross-validation members (``cv_members=True``: member k never sees the compositions of fold
k) carry their out-of-fold residuals on every training row, and then the gate compares the
out-of-fold MAE: the whole training part, and no row scored by a member that saw it or that
stopped on it. Fold membership is a seeded hash of the composition
(:func:`~matlattice.models.estimator.members.composition_folds`), so both arms hold out the same
compositions, and when both were fitted on the same labelled rows in the same order (a
property alone and beside partners, from one frame) the comparison is paired row by row and
comes with a bootstrap interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error

from matlattice.errors import InvalidParameterError

__all__ = [
    "gate_decision",
    "gate_metric",
    "judging_params",
    "out_of_fold_mae",
    "out_of_fold_residuals",
    "paired_gain_interval",
    "validation_mae",
]


def validation_mae(model, val: pd.DataFrame, task: str) -> float:
    """MAE of ``model``'s prediction of ``task`` on the labelled rows of ``val`` (task unit)."""
    rows = val[["formula", task]].dropna()
    pred = model.predict(rows["formula"].tolist()).reshape(len(rows), -1)
    return float(mean_absolute_error(rows[task], pred[:, model.tasks_.index(task)]))


def out_of_fold_residuals(model, task: str) -> np.ndarray:
    """``(n_labelled,)`` out-of-fold absolute errors of ``task`` on the model's labelled
    training rows, in training order (task unit); the model must have ``cv_members=True``."""
    if getattr(model, "cv_residuals_", None) is None:
        raise InvalidParameterError(
            f"no out-of-fold residuals for {task!r}: fit with cv_members=True"
        )
    residuals = model.cv_residuals_[:, model.tasks_.index(task)]
    labelled = residuals[~np.isnan(residuals)]
    if len(labelled) == 0:
        raise InvalidParameterError(f"no labelled training rows of {task!r} to score out of fold")
    return labelled


def out_of_fold_mae(model, task: str) -> float:
    """Mean out-of-fold absolute error of ``task`` over the model's labelled training rows."""
    return float(out_of_fold_residuals(model, task).mean())


def paired_gain_interval(
    candidate: np.ndarray, alone: np.ndarray, *, level: float = 0.9, n_boot: int = 1000, seed=0
) -> tuple[float, float]:
    """Bootstrap interval of the gain ``1 - mean(candidate) / mean(alone)`` of two arms'
    absolute errors on the same rows (``(n,)`` each, paired), rows resampled together.

    The interval covers the sampling of rows only; the arms' training randomness (another
    seed) is not in it.
    """
    candidate, alone = np.asarray(candidate, float), np.asarray(alone, float)
    if candidate.shape != alone.shape or candidate.ndim != 1 or len(candidate) == 0:
        raise InvalidParameterError(
            f"paired errors need equal 1-d shapes; got {candidate.shape}, {alone.shape}"
        )
    rng = np.random.default_rng(seed)
    gains = np.empty(n_boot)
    for b in range(n_boot):
        rows = rng.integers(0, len(alone), len(alone))
        gains[b] = 1 - candidate[rows].mean() / alone[rows].mean()
    tail = (1 - level) / 2
    return float(np.quantile(gains, tail)), float(np.quantile(gains, 1 - tail))


def judging_params(base, gate_folds: int) -> dict | None:
    """Settings of the models that judge the arms: with ``gate_folds = k >= 2``, k
    cross-validation members each (whose out-of-fold errors the gate reads; the chosen arm
    is then retrained with ``base``'s own settings), None when the gate reads the arms
    themselves (``gate_folds = 0``, or a ``base`` that has CV members of its own)."""
    if gate_folds == 0 or (gate_folds > 1 and getattr(base, "cv_members", False)):
        return None
    if gate_folds < 2:
        raise InvalidParameterError(
            f"gate_folds={gate_folds!r}; expected 0 (validation gate) or >= 2"
        )
    return {"cv_members": True, "ensemble": int(gate_folds)}


def gate_metric(model) -> str:
    """``"out_of_fold"`` for a model with cross-validation members, else ``"validation"``."""
    return "out_of_fold" if getattr(model, "cv_residuals_", None) is not None else "validation"


def gate_decision(arm: str, candidate, alone, val: pd.DataFrame, task: str) -> tuple[object, dict]:
    """The model that serves ``task`` and the record of the choice.

    Parameters
    ----------
    arm : name of the multi-task arm (``"fine_tuned"``, ``"with_helpers"``)
    candidate : the fitted multi-task model of ``task``
    alone : the fitted model of ``task`` trained alone, or None for no gate (the candidate
        is kept)
    val : frame with ``formula`` and ``task`` (the validation part)

    Returns
    -------
    The chosen model, and a dict with ``val_mae_<arm>`` (and ``val_mae_alone``); when both
    arms have CV members also ``oof_mae_<arm>`` / ``oof_mae_alone`` and, if their labelled
    training rows are as many (the callers here fit both arms from one frame, in its
    order, which pairs them), ``oof_gain_ci90`` (:func:`paired_gain_interval`); ``gate_on``
    (the error that decided: ``"validation"`` or ``"out_of_fold"``); ``chosen`` (``arm`` or
    ``"alone"``); ``val_gain`` (and ``oof_gain``): the share of the alone model's error that
    the candidate removes (None without a gate).
    """
    decision: dict = {f"val_mae_{arm}": validation_mae(candidate, val, task)}
    if alone is None:
        decision.update(chosen=arm, val_gain=None)
        return candidate, decision
    decision["val_mae_alone"] = validation_mae(alone, val, task)
    out_of_fold = gate_metric(candidate) == gate_metric(alone) == "out_of_fold"
    prefixes = ["val", "oof"] if out_of_fold else ["val"]
    if out_of_fold:
        paired = out_of_fold_residuals(candidate, task), out_of_fold_residuals(alone, task)
        decision[f"oof_mae_{arm}"], decision["oof_mae_alone"] = (float(r.mean()) for r in paired)
        if len(paired[0]) == len(paired[1]):
            decision["oof_gain_ci90"] = list(paired_gain_interval(*paired))
    for prefix in prefixes:
        ref = decision[f"{prefix}_mae_alone"]
        gain = 1 - decision[f"{prefix}_mae_{arm}"] / ref if ref > 0 else None
        decision[f"{prefix}_gain"] = None if gain is None else float(gain)
    keep_alone = decision[f"{prefixes[-1]}_mae_alone"] <= decision[f"{prefixes[-1]}_mae_{arm}"]
    decision["gate_on"] = "out_of_fold" if out_of_fold else "validation"
    decision["chosen"] = "alone" if keep_alone else arm
    return (alone if keep_alone else candidate), decision
