"""Choosing a width: Pareto front, knee, the threshold rule and the adaptive widening loop.

The adaptive loop is seed 000's recursive fidelity accrual (its eq. 2) made concrete: from a
narrow start the embedding is widened one grid step at a time while the fidelity it gains,
weighted by ``alpha``, exceeds ``beta`` times the compression cost it adds. The cost of a step
is its relative growth in stored bytes per material, ``(d_new - d_old) / d_old`` (1 for a
doubling), so ``beta`` reads as "fidelity a doubling must buy": with the defaults
``alpha = 1, beta = 0.01`` a doubling must gain at least 0.01 of normalised fidelity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from matlattice.errors import InvalidParameterError

__all__ = ["adaptive_width", "knee_dim", "pareto_front", "recommended_dim"]

DEFAULT_ALPHA = 1.0
DEFAULT_BETA = 0.01
DEFAULT_THRESHOLD = 0.97


def pareto_front(costs: Sequence[float], fidelities: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats (lower or equal cost and higher or equal
    fidelity, one of them strictly), sorted by cost."""
    costs, fidelities = np.asarray(costs, float), np.asarray(fidelities, float)
    front = []
    for i in range(len(costs)):
        dominated = (
            (costs <= costs[i])
            & (fidelities >= fidelities[i])
            & ((costs < costs[i]) | (fidelities > fidelities[i]))
        )
        if not dominated.any() and np.isfinite(fidelities[i]):
            front.append(i)
    return sorted(front, key=lambda i: costs[i])


def knee_dim(
    dims: Sequence[int], fidelities: Sequence[float], sensitivity: float = 0.5
) -> int | None:
    """The knee of fidelity against log2(width) (Kneedle, via ``kneed``): where widening
    stops paying. ``None`` when the curve has no knee (e.g. flat).

    ``sensitivity`` is Kneedle's S; below kneed's default of 1 because width grids are short
    (5-8 points) and a knee near the widest end must still be found.
    """
    from kneed import KneeLocator

    dims = np.asarray(dims, dtype=float)
    fid = np.asarray(fidelities, dtype=float)
    ok = np.isfinite(fid)
    if ok.sum() < 3:
        return None
    # the best fidelity reached so far: a concave, increasing curve for Kneedle
    running = np.maximum.accumulate(fid[ok])
    locator = KneeLocator(
        np.log2(dims[ok]),
        running,
        S=sensitivity,
        curve="concave",
        direction="increasing",
        online=True,
    )
    return None if locator.knee is None else round(float(2**locator.knee))


def recommended_dim(
    dims: Sequence[int], fidelities: Sequence[float], threshold: float = DEFAULT_THRESHOLD
) -> int:
    """The smallest width whose fidelity is at least ``threshold`` times the widest's.

    ``fidelities`` are mean normalised predictive fidelities (the widest has 1 by construction
    when normalised against it).
    """
    if not 0 < threshold <= 1:
        raise InvalidParameterError(f"threshold={threshold!r}; expected a value in (0, 1]")
    order = np.argsort(dims)
    dims = np.asarray(dims)[order]
    fid = np.asarray(fidelities, dtype=float)[order]
    target = threshold * fid[-1]
    for d, f in zip(dims, fid, strict=True):
        if np.isfinite(f) and f >= target:
            return int(d)
    return int(dims[-1])


def adaptive_width(
    evaluate: Callable[[int], float],
    dims: Sequence[int],
    *,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
) -> tuple[int, list[dict]]:
    """Widen from the narrowest width while ``alpha * gain > beta * added cost``.

    Parameters
    ----------
    evaluate : width -> fidelity in [0, 1] (called lazily, only for widths the loop visits)
    dims : the grid of widths, visited in increasing order

    Returns
    -------
    (chosen width, path): the path lists every visited step as ``{"d", "fidelity", "gain",
    "cost", "accepted"}`` (``gain``/``cost`` relative to the previous accepted width).
    """
    if alpha <= 0 or beta < 0:
        raise InvalidParameterError(f"alpha={alpha!r}, beta={beta!r}; need alpha > 0 and beta >= 0")
    grid = sorted({int(d) for d in dims})
    if not grid or grid[0] < 1:
        raise InvalidParameterError(f"dims={list(dims)!r}; need positive widths")
    current, fidelity = grid[0], float(evaluate(grid[0]))
    path = [{"d": current, "fidelity": fidelity, "gain": None, "cost": None, "accepted": True}]
    for d in grid[1:]:
        f = float(evaluate(d))
        gain = f - fidelity
        cost = (d - current) / current
        accepted = bool(alpha * gain > beta * cost)
        path.append({"d": d, "fidelity": f, "gain": gain, "cost": cost, "accepted": accepted})
        if not accepted:
            break
        current, fidelity = d, f
    return current, path
