"""Decision thresholds of binary classifiers, chosen on held-out rows.

A classifier's hard label is ``probability >= threshold``. ``"half"`` keeps 0.5; ``"balanced"``
picks, per task, the threshold that maximises the balanced accuracy (the mean of the true
positive and true negative rates, Matbench's classification score) on rows the model did not
train on: the forest's out-of-bag probabilities, the network's validation part. On an
imbalanced task the 0.5 cut favours the larger class; the balanced cut does not.
"""

from __future__ import annotations

import numpy as np

from matlattice.errors import InvalidParameterError

__all__ = ["DECISION_THRESHOLDS", "balanced_threshold", "check_decision_threshold"]

DECISION_THRESHOLDS = ("half", "balanced")


def check_decision_threshold(value: str) -> None:
    if value not in DECISION_THRESHOLDS:
        raise InvalidParameterError(
            f"decision_threshold={value!r}; expected one of {DECISION_THRESHOLDS}"
        )


def balanced_threshold(labels: np.ndarray, proba: np.ndarray) -> float:
    """The cut in ``[0, 1]`` maximising balanced accuracy of ``proba >= cut`` against the 0/1
    ``labels`` (rows with a NaN in either are left out); midway between neighbouring
    probabilities, the one nearest 0.5 among equals. 0.5 when one class is absent."""
    keep = ~(np.isnan(labels) | np.isnan(proba))
    labels, proba = labels[keep].astype(int), proba[keep]
    positives, negatives = int(labels.sum()), int((1 - labels).sum())
    if positives == 0 or negatives == 0:
        return 0.5
    values = np.unique(proba)
    cuts = np.concatenate([[values[0]], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-9]])
    order = np.sort(proba[labels == 1]), np.sort(proba[labels == 0])
    # true positive rate: positives at or above the cut; true negative rate: negatives below
    tpr = 1 - np.searchsorted(order[0], cuts, side="left") / positives
    tnr = np.searchsorted(order[1], cuts, side="left") / negatives
    score = (tpr + tnr) / 2
    best = np.flatnonzero(np.isclose(score, score.max()))
    return float(np.clip(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]], 0.0, 1.0))
