"""Fidelity measures: how much of a reference survives in a compressed representation.

All functions take plain arrays: ``(n, d)`` representations with one row per material, and
``(n,)`` targets, predictions and standard deviations.
"""

from __future__ import annotations

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score, root_mean_squared_error
from sklearn.neighbors import NearestNeighbors

from matlattice.errors import InvalidParameterError
from matlattice.uncertainty.metrics import miscalibration_area

__all__ = [
    "knn_overlap",
    "linear_cka",
    "miscalibration_area",
    "neighbourhood_scores",
    "normalised_fidelity",
    "per_sample_knn_overlap",
    "predictive_scores",
]


def _neighbours(x: np.ndarray, k: int) -> np.ndarray:
    """``(n, k)`` indices of each row's k nearest other rows (Euclidean)."""
    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
    idx = nn.kneighbors(x, return_distance=False)
    # drop the point itself (ties at distance 0 may put it second: remove by value)
    out = np.empty((len(x), k), dtype=np.int64)
    for_rows = np.arange(len(x))[:, None]
    not_self = idx != for_rows
    first_k = np.cumsum(not_self, axis=1) <= k
    keep = not_self & first_k
    out[:] = idx[keep].reshape(len(x), k)
    return out


def per_sample_knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> np.ndarray:
    """Fraction of each material's k nearest neighbours shared by representations a and b.

    Returns ``(n,)`` values in [0, 1]; 1 means the same k neighbours in both spaces.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) != len(b):
        raise InvalidParameterError(
            f"representations have {len(a)} and {len(b)} rows; expected the same"
        )
    if not 0 < k < len(a):
        raise InvalidParameterError(f"k={k}; expected 0 < k < {len(a)} (the number of materials)")
    both = np.sort(np.hstack([_neighbours(a, k), _neighbours(b, k)]), axis=1)  # (n, 2k)
    # each list has distinct entries, so every equal adjacent pair is one shared neighbour
    return (both[:, 1:] == both[:, :-1]).sum(axis=1) / k


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean k-nearest-neighbour overlap between two representations of the same materials."""
    return float(per_sample_knn_overlap(a, b, k).mean())


def linear_cka(a: np.ndarray, b: np.ndarray) -> float:
    """Linear centred kernel alignment (Kornblith et al. 2019) between ``(n, p)`` and ``(n, q)``.

    1 when b is an orthogonal transform and isotropic scaling of a; 0 when their centred
    Gram matrices are orthogonal. Invariant to the widths p and q.
    """
    a = np.asarray(a, dtype=float) - np.mean(a, axis=0)
    b = np.asarray(b, dtype=float) - np.mean(b, axis=0)
    cross = np.linalg.norm(a.T @ b) ** 2
    norm = np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)
    return float(cross / norm) if norm > 0 else 0.0


def neighbourhood_scores(reference: np.ndarray, compressed: np.ndarray, k: int = 10) -> dict:
    """k-NN overlap and sklearn trustworthiness of ``compressed`` against ``reference``."""
    return {
        "knn_overlap": knn_overlap(reference, compressed, k),
        "trustworthiness": float(trustworthiness(reference, compressed, n_neighbors=k)),
    }


def predictive_scores(y: np.ndarray, pred: np.ndarray, *, classification: bool = False) -> dict:
    """Test scores of one property, ignoring NaN targets.

    Regression: ``{"mae", "rmse", "r2"}``; classification (``pred`` = probability of class 1):
    ``{"roc_auc"}``.
    """
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    ok = ~np.isnan(y)
    y, pred = y[ok], pred[ok]
    if classification:
        if len(np.unique(y)) < 2:
            return {"roc_auc": float("nan")}
        return {"roc_auc": float(roc_auc_score(y, pred))}
    return {
        "mae": float(mean_absolute_error(y, pred)),
        "rmse": float(root_mean_squared_error(y, pred)),
        "r2": float(r2_score(y, pred)),
    }


def normalised_fidelity(score: float, floor: float, ceiling: float) -> float:
    """Where ``score`` lies between a floor (fidelity 0) and a ceiling (fidelity 1), clipped.

    For an error (MAE) the floor is the mean predictor's error and the ceiling the widest
    model's; for ROC-AUC the floor is 0.5. Returns NaN when floor equals ceiling.
    """
    if not np.isfinite(score) or floor == ceiling:
        return float("nan")
    return float(np.clip((score - floor) / (ceiling - floor), 0.0, 1.0))
