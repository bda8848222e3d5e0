"""Several objectives at once: Pareto fronts, dominated hypervolume, ParEGO scalarisation.

Objectives are oriented so that larger is better (a ``"min"`` objective is negated) before any
of these functions see them.

ParEGO (Knowles 2006) turns a multi-objective search into a sequence of single-objective ones:
every iteration draws a weight vector ``lambda`` uniformly from the simplex, scales each
objective to [0, 1] over the measured materials, and scores a material by the augmented
Chebyshev cost ``max_j lambda_j c_j + rho sum_j lambda_j c_j`` with ``c_j = 1 - g_j`` the
scaled shortfall; the surrogate is fitted to minus that cost and any single-objective
acquisition (EI, UCB...) picks the next batch. Varying ``lambda`` spreads the batches along
the front.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError

__all__ = [
    "hypervolume_2d",
    "hypervolume_curve",
    "parego_frame",
    "parego_values",
    "pareto_mask",
    "simplex_weights",
]

PAREGO_RHO = 0.05  # weight of the linear term of the augmented Chebyshev cost (Knowles 2006)


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: rows of ``points`` ``(n, m)`` not dominated by any other row
    (maximisation; a row equal to another is kept)."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2:
        raise InvalidParameterError(f"points must be (n, m); got shape {points.shape}")
    geq = (points[:, None, :] >= points[None, :, :]).all(axis=2)  # j >= i everywhere
    gt = (points[:, None, :] > points[None, :, :]).any(axis=2)
    dominated = (geq & gt).any(axis=0)  # some j dominates i
    return ~dominated


def hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """Area dominated by ``points`` ``(n, 2)`` and bounded below by ``reference`` ``(2,)``
    (maximisation; points not above the reference in both objectives add nothing)."""
    points = np.asarray(points, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise InvalidParameterError(
            f"hypervolume_2d needs (n, 2) points; got shape {points.shape} "
            "(more than two objectives are not implemented)"
        )
    above = points[(points > reference).all(axis=1)]
    if not len(above):
        return 0.0
    front = above[pareto_mask(above)]
    front = front[np.argsort(-front[:, 0], kind="stable")]  # x descending, so y ascending
    area, y_floor = 0.0, reference[1]
    for x, y in front:
        if y > y_floor:
            area += (x - reference[0]) * (y - y_floor)
            y_floor = y
    return float(area)


def simplex_weights(n_objectives: int, rng: np.random.Generator) -> np.ndarray:
    """One weight vector drawn uniformly from the simplex (``Dirichlet(1, ..., 1)``)."""
    return rng.dirichlet(np.ones(n_objectives))


def parego_values(measured: np.ndarray, weights: np.ndarray, rho: float = PAREGO_RHO) -> np.ndarray:
    """``(n,)`` ParEGO values (higher is better) of measured objectives ``(n, m)``.

    Each objective is min-max scaled over the rows (a constant objective scales to 1), the
    shortfalls ``c = 1 - g`` weighted, and the augmented Chebyshev cost negated.
    """
    measured = np.asarray(measured, dtype=float)
    lo, hi = measured.min(axis=0), measured.max(axis=0)
    scaled = np.where(hi > lo, (measured - lo) / np.where(hi > lo, hi - lo, 1.0), 1.0)
    cost = 1.0 - scaled
    weighted = cost * np.asarray(weights, dtype=float)
    return -(weighted.max(axis=1) + rho * weighted.sum(axis=1))


def parego_frame(
    measured: pd.DataFrame, objectives: Mapping[str, str], rng: np.random.Generator
) -> tuple[pd.DataFrame, str]:
    """The measured objectives (one column each, goal ``"max"`` or ``"min"``) scalarised
    with fresh ParEGO weights: ``formula, value`` and a note naming the weights."""
    oriented = np.column_stack(
        [measured[k].to_numpy(float) * (1 if g == "max" else -1) for k, g in objectives.items()]
    )
    weights = simplex_weights(len(objectives), rng)
    values = parego_values(oriented, weights)
    note = "; ParEGO weights " + ", ".join(
        f"{k} {w:.2f}" for k, w in zip(objectives, weights, strict=True)
    )
    return pd.DataFrame({"formula": measured["formula"], "value": values}), note


def hypervolume_curve(measured: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``(n,)`` share of the pool's dominated hypervolume reached after each of the ``n``
    measured rows ``(n, 2)`` (in order), both oriented to maximisation; objectives are
    scaled to [0, 1] over the pool ``(N, 2)``, whose worst corner is the reference point."""
    pool = np.asarray(pool, dtype=float)
    lo, span = pool.min(axis=0), np.ptp(pool, axis=0)
    span = np.where(span > 0, span, 1.0)

    def scale(x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - lo) / span

    reference = np.full(2, -1e-9)  # just below the worst corner: its points count
    total = hypervolume_2d(scale(pool), reference)
    points = scale(measured)
    return np.array(
        [hypervolume_2d(points[: i + 1], reference) / total for i in range(len(points))]
    )
