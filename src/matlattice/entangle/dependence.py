"""Label dependence: how much two properties' labels tell about each other, linear or not.

Two properties that read the same hidden factors through different nonlinear functions can
have a rank correlation near zero and still determine each other closely (``a * b`` and
``a**2 - b**2`` of Gaussian factors: Spearman 0, mutual information large). The Spearman
:func:`~matlattice.entangle.coupling.data_coupling` misses this; the mutual information does
not. :func:`label_dependence` estimates, on the co-labelled rows of each pair, the mutual
information ``I`` of the two label ranks with the Kraskov-Stoegbauer-Grassberger k-nearest-
neighbour estimator (scikit-learn's ``mutual_info_regression``), subtracts the mean of the
same estimate on label-permuted rows (its bias at that row count), and reports Linfoot's
informational coefficient of correlation ``r_I = sqrt(1 - exp(-2 I))`` in [0, 1]: the
absolute correlation a Gaussian pair with the same information would have, so it reads on
the scale of ``|rho|`` and equals it for Gaussian labels.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_regression

__all__ = ["MAX_ROWS", "NULL_PERMUTATIONS", "informational_correlation", "label_dependence"]

#: Co-labelled rows used per pair (a seeded sample above this): the estimate's spread at
#: 2,000 rows is already far below the gaps it has to resolve.
MAX_ROWS = 2000
#: Label permutations whose mean estimate is the bias subtracted from each pair.
NULL_PERMUTATIONS = 4
#: Neighbours of the KSG estimator: more than scikit-learn's 3, which leaves independent
#: pairs of 800 rows at an informational correlation up to 0.36 (0.18 with 10).
NEIGHBOURS = 10


def informational_correlation(mutual_information: np.ndarray) -> np.ndarray:
    """Linfoot's ``sqrt(1 - exp(-2 I))`` of a mutual information in nats (clipped at 0)."""
    information = np.clip(np.asarray(mutual_information, dtype=float), 0.0, None)
    return np.sqrt(1.0 - np.exp(-2.0 * information))


def _pair_information(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
    """Bias-corrected KSG mutual information of two label vectors (their ranks)."""
    seed = int(rng.integers(2**31 - 1))
    rank_x = pd.Series(x).rank().to_numpy()[:, None]
    rank_y = pd.Series(y).rank().to_numpy()

    def estimate(target: np.ndarray) -> float:
        return float(
            mutual_info_regression(rank_x, target, n_neighbors=NEIGHBOURS, random_state=seed)[0]
        )

    null = np.mean([estimate(rng.permutation(rank_y)) for _ in range(NULL_PERMUTATIONS)])
    return estimate(rank_y) - null


def label_dependence(labels: pd.DataFrame, min_count: int = 20, seed: int = 0) -> np.ndarray:
    """``(T, T)`` informational correlation of every pair of label columns (module
    docstring), symmetric; NaN on the diagonal and where fewer than ``min_count`` rows carry
    both labels."""
    values = labels.to_numpy(dtype=float)
    n_tasks = values.shape[1]
    out = np.full((n_tasks, n_tasks), np.nan)
    rng = np.random.default_rng(seed)
    for s, t in itertools.combinations(range(n_tasks), 2):
        rows = np.flatnonzero(np.isfinite(values[:, s]) & np.isfinite(values[:, t]))
        if rows.size < max(min_count, NEIGHBOURS + 2):
            continue
        if rows.size > MAX_ROWS:
            rows = np.sort(rng.choice(rows, MAX_ROWS, replace=False))
        information = _pair_information(values[rows, s], values[rows, t], rng)
        out[s, t] = out[t, s] = float(informational_correlation(information))
    return out
