"""How fast a campaign finds the best candidates of a pool whose labels are hidden.

- discovery curve: the share of the pool's top ``top`` fraction (default 1 %) found after
  each measurement;
- measurements to find half of them; the acceleration factor against random choice, whose
  expected curve after ``n`` of ``N`` measurements is ``n / N`` (so half the top needs about
  ``N / 2``);
- enhancement at a budget: the share found over the random expectation ``budget / N``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "beyond_pool_metrics",
    "campaign_metrics",
    "cost_metrics",
    "discovery_curve",
    "top_set",
]


def top_set(pool_values: dict[str, float], goal: str = "max", top: float = 0.01) -> set[str]:
    """The formulas of the best ``top`` fraction of the pool (at least one), ties included:
    every material as good as the ``k``-th best is in it, so a property with many equal best
    values (44 % of ``mp`` compositions have ``e_hull = 0``) gives a larger set rather than
    an arbitrary pick among equals."""
    names = np.array(list(pool_values))
    values = np.array([pool_values[n] for n in names], dtype=float)
    k = max(1, round(top * len(values)))
    oriented = values if goal == "max" else -values
    threshold = np.sort(oriented)[::-1][k - 1]
    return set(names[oriented >= threshold].tolist())


def discovery_curve(measured: list[str], best: set[str]) -> np.ndarray:
    """``(len(measured),)`` share of ``best`` found after each measurement, in order."""
    hits = np.cumsum([f in best for f in measured])
    return hits / max(len(best), 1)


def campaign_metrics(measured: list[str], best: set[str], pool_size: int) -> dict:
    """Curve, measurements to half the top set, acceleration and enhancement factors."""
    curve = discovery_curve(measured, best)
    reached = np.flatnonzero(curve >= 0.5)
    to_half = int(reached[0]) + 1 if len(reached) else None
    random_to_half = 0.5 * pool_size
    budget = len(measured)
    return {
        "curve": [[i + 1, float(v)] for i, v in enumerate(curve)],
        "measurements_to_half_top": to_half,
        "acceleration_factor": random_to_half / to_half if to_half else None,
        "enhancement_at_budget": float(curve[-1] / (budget / pool_size)) if budget else None,
        "found_at_budget": float(curve[-1]) if budget else 0.0,
    }


def cost_metrics(
    history: list[tuple[str, str, float]],
    best: set[str],
    pool_size: int,
    main_cost: float,
    budget: int,
) -> dict:
    """:func:`campaign_metrics` of a two-fidelity campaign on a cost axis.

    ``history``: ``(formula, fidelity, cumulative cost)`` of every result in order; a best
    material counts as found when measured at ``"main"``. Step ``k`` of the curve (``1..budget``)
    is the share found once ``k * main_cost`` has been spent, so the numbers compare with
    single-fidelity campaigns of ``budget`` main measurements.
    """
    found_at = sorted(c for f, fid, c in history if fid == "main" and f in best)
    spend = main_cost * np.arange(1, budget + 1)
    hits = np.searchsorted(np.asarray(found_at, dtype=float), spend + 1e-9, side="right")
    curve = hits / max(len(best), 1)
    reached = np.flatnonzero(curve >= 0.5)
    to_half = int(reached[0]) + 1 if len(reached) else None
    return {
        "curve": [[i + 1, float(v)] for i, v in enumerate(curve)],
        "measurements_to_half_top": to_half,
        "acceleration_factor": 0.5 * pool_size / to_half if to_half else None,
        "enhancement_at_budget": float(curve[-1] / (budget / pool_size)) if budget else None,
        "found_at_budget": float(curve[-1]) if budget else 0.0,
    }


def beyond_pool_metrics(
    results: dict[str, float],
    unmeasurable: int,
    pool: dict[str, float],
    goal: str,
    top: float,
    held: set[str] = frozenset(),
) -> dict:
    """What an open-ended campaign found outside the pool it was given.

    ``results``: measured formula -> value; ``pool``: the given pool's hidden labels;
    ``held``: measured formulas of held-out chemical systems. ``beyond_top``: measured
    compositions not in the pool that are as good as the pool's top ``top`` fraction (of
    them ``held_out_top`` in held-out systems); ``best_gain``: how far the best measured
    value lies beyond the pool's best, in the goal's direction (negative: short of it);
    ``generated``: measured compositions not in the pool; ``unmeasurable``: proposals the
    oracle could not measure (each used one measurement)."""
    sign = 1.0 if goal == "max" else -1.0
    values = sign * np.array(list(pool.values()), dtype=float)
    k = max(1, round(top * len(values)))
    threshold = np.sort(values)[::-1][k - 1]
    outside = {f: sign * v for f, v in results.items() if f not in pool}
    beyond = {f for f, v in outside.items() if v >= threshold}
    best = max((sign * v for v in results.values()), default=np.nan)
    return {
        "generated": len(outside),
        "beyond_top": len(beyond),
        "held_out_top": len(beyond & set(held)),
        "best_gain": float(best - values.max()),
        "unmeasurable": int(unmeasurable),
    }
