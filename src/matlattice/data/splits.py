"""Train/val/test splits that never put one composition on both sides.

Every splitter assigns whole *groups* (a composition, a chemical system, a feature cluster) to
a part, so a reduced formula can never sit in both train and test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError

__all__ = [
    "PARTS",
    "chemsys_split",
    "cluster_split",
    "group_kfold",
    "group_split",
    "random_split",
]

PARTS = ("train", "val", "test")


def _check_fractions(fractions: tuple[float, float, float]) -> np.ndarray:
    arr = np.asarray(fractions, dtype=float)
    if arr.shape != (3,) or (arr < 0).any() or not np.isclose(arr.sum(), 1.0):
        raise InvalidParameterError(
            f"fractions={fractions!r}; expected three non-negative numbers (train, val, test) "
            "summing to 1"
        )
    return arr


def group_split(
    groups: np.ndarray | pd.Series,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    seed: int = 0,
) -> np.ndarray:
    """Assign whole groups to train/val/test at random, close to the row ``fractions``.

    Parameters
    ----------
    groups : array of shape (n,)
        Group label of each row (rows of one group always land in one part).
    fractions : (train, val, test), default (0.8, 0.1, 0.1)
        Target share of rows in each part.
    seed : int, default 0

    Returns
    -------
    ndarray of str, shape (n,)
        ``"train"``, ``"val"`` or ``"test"`` per row.
    """
    target = _check_fractions(fractions)
    codes, uniques = pd.factorize(np.asarray(groups, dtype=object))
    sizes = np.bincount(codes, minlength=len(uniques))
    order = np.random.default_rng(seed).permutation(len(uniques))
    cum = np.cumsum(sizes[order]) / max(len(codes), 1)
    # a group goes to the part its cumulative mid-point falls in
    mid = cum - sizes[order] / (2 * max(len(codes), 1))
    bounds = np.cumsum(target)[:-1]
    part_of_group = np.empty(len(uniques), dtype=np.int64)
    part_of_group[order] = np.searchsorted(bounds, mid, side="right")
    return np.asarray(PARTS, dtype=object)[part_of_group[codes]]


def random_split(
    keys: np.ndarray | pd.Series,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    seed: int = 0,
) -> np.ndarray:
    """Seeded random split at the composition level (``keys``: composition keys)."""
    return group_split(keys, fractions, seed=seed)


def chemsys_split(
    chemsys: np.ndarray | pd.Series,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    seed: int = 0,
) -> np.ndarray:
    """Split by chemical system: no chemical system (e.g. ``"Fe-O"``) in two parts."""
    return group_split(chemsys, fractions, seed=seed)


def cluster_split(
    features: np.ndarray,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    n_clusters: int = 10,
    seed: int = 0,
) -> np.ndarray:
    """Leave-cluster-out split for extrapolation: k-means on standardised features.

    Whole clusters are held out, so val and test lie in regions of feature space that
    training never saw. Identical compositions have identical features, hence one cluster.

    Parameters
    ----------
    features : array of shape (n, m)
        Composition features (e.g. Magpie statistics); NaN is replaced by the column mean.
    n_clusters : int, default 10
    """
    from sklearn.cluster import KMeans  # ~1 s of imports (scipy.stats): only when clustering
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(features, dtype=float)
    if x.ndim != 2 or len(x) < n_clusters:
        raise InvalidParameterError(
            f"features of shape {x.shape}; need a 2-d array with at least n_clusters="
            f"{n_clusters} rows"
        )
    col_mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)
    x = np.where(np.isfinite(x), x, np.nan_to_num(col_mean))
    x = StandardScaler().fit_transform(x)
    labels = KMeans(n_clusters=n_clusters, n_init=4, random_state=seed).fit_predict(x)
    return group_split(labels, fractions, seed=seed)


def group_kfold(groups: np.ndarray | pd.Series, n_folds: int = 5, *, seed: int = 0) -> np.ndarray:
    """Fold index (0..n_folds-1) per row, whole groups per fold, folds of near-equal size."""
    if n_folds < 2:
        raise InvalidParameterError(f"n_folds={n_folds}; need at least 2")
    codes, uniques = pd.factorize(np.asarray(groups, dtype=object))
    sizes = np.bincount(codes, minlength=len(uniques))
    order = np.random.default_rng(seed).permutation(len(uniques))
    fold_of_group = np.empty(len(uniques), dtype=np.int64)
    load = np.zeros(n_folds)
    for g in order[np.argsort(-sizes[order], kind="stable")]:  # largest groups first
        k = int(np.argmin(load))
        fold_of_group[g] = k
        load[k] += sizes[g]
    return fold_of_group[codes]
