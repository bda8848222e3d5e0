"""A forest's uncertainty that can be trusted: its out-of-bag rows.

Each tree of a bagged forest never saw about a third of the training rows. Averaging only the
trees that did not see a row gives its out-of-bag prediction and spread, an honest held-out
estimate for every training row at no extra training cost. The forest trains on train + val
(it selects nothing), so its val rows are not held out: calibration reads the out-of-bag
triplets ``(y, mean, std)`` instead.
"""

from __future__ import annotations

import numpy as np

from matlattice.errors import InvalidParameterError
from matlattice.uncertainty.calibrators import make_calibrator

__all__ = ["calibrate_on_out_of_bag", "out_of_bag", "out_of_bag_proba"]

#: Out-of-bag rows a calibration needs at least.
MIN_OOB_ROWS = 10


def out_of_bag(forest, features: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(3, n)``: the target, and the mean and standard deviation over the trees that did not
    draw each row (NaN where every tree drew it), for a fitted scikit-learn bagged regressor
    ``forest`` and the ``features``/``target`` it was fitted on. One pass per tree, O(n)
    memory."""
    n = len(target)
    total, squares, count = np.zeros(n), np.zeros(n), np.zeros(n)
    for tree, drawn in zip(forest.estimators_, forest.estimators_samples_, strict=True):
        held_out = np.bincount(drawn, minlength=n) == 0
        if held_out.any():
            values = tree.predict(features[held_out])
            total[held_out] += values
            squares[held_out] += values**2
            count[held_out] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        std = np.sqrt(np.maximum(np.where(count > 1, squares / count - mean**2, np.nan), 0.0))
    return np.vstack([np.asarray(target, dtype=float), mean, std])


def out_of_bag_proba(forest, features: np.ndarray) -> np.ndarray:
    """``(n,)`` mean probability of class 1 over the trees that did not draw each row (NaN
    where every tree drew it), for a fitted scikit-learn bagged binary classifier."""
    n = features.shape[0]
    column = list(forest.classes_).index(1)
    total, count = np.zeros(n), np.zeros(n)
    for tree, drawn in zip(forest.estimators_, forest.estimators_samples_, strict=True):
        held_out = np.bincount(drawn, minlength=n) == 0
        if held_out.any():
            total[held_out] += tree.predict_proba(features[held_out])[:, column]
            count[held_out] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def calibrate_on_out_of_bag(oob: np.ndarray, method: str, task: str):
    """A calibrator of ``method`` fitted on the out-of-bag triplets ``oob`` of one task."""
    usable = np.isfinite(oob).all(axis=0)
    if usable.sum() < MIN_OOB_ROWS:
        raise InvalidParameterError(
            f"task {task!r} has {int(usable.sum())} out-of-bag rows; a calibration needs at "
            f"least {MIN_OOB_ROWS} (more training rows or trees)"
        )
    y, mean, std = oob[:, usable]
    return make_calibrator(method).fit(y, mean, std)
