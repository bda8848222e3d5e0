"""Which borrowed properties (another dataset's, :mod:`matlattice.data.borrowed`) a property
learns beside: the data coupling of the two on their co-labelled training compositions.

The pairwise transfer trainings that choose helpers inside a dataset
(:func:`~matlattice.entangle.lattice.recommend_helpers`) cost two trainings per ordered
pair; a dataset borrowed whole (AFLOW's seven properties beside MP's five) would add 70. The
data coupling costs nothing, and the negative-transfer gate
(:mod:`~matlattice.multitask.gate`) judges each property's model beside its partners against
the property alone, so a partner that correlates but does not help is still not kept.

A borrowed column whose labels equal the property's on many shared compositions is not
another property but the same data under another name (a copy of the same database); it is
never a partner, since a gain from it would be a gain in data, not in transfer. Labels that
both sit at the property's most common value do not count as equal: a floor that every
database shares (the zero band gap of a metal, the zero moment of a non-magnet) says
nothing about copying.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BORROW", "borrowed_partners"]

#: ``min_coupling``: the smallest |Spearman rho| on co-labelled compositions;
#: ``min_count``: the fewest co-labelled compositions that measure it;
#: ``copy_identical``: the share of co-labelled compositions with equal labels (away from a
#: shared floor) from which the borrowed column counts as a copy of the property;
#: ``max_partners``: the most partners kept.
BORROW = {"min_coupling": 0.2, "min_count": 50, "copy_identical": 0.1, "max_partners": 2}


def _copied_fraction(labels: np.ndarray, borrowed: np.ndarray) -> float:
    """Share of co-labelled rows with equal labels, leaving out the rows where both sit at
    the property's most common value (a shared floor such as a zero band gap)."""
    values, counts = np.unique(labels, return_counts=True)
    mode = values[np.argmax(counts)]
    floor = np.isclose(labels, mode, rtol=1e-6, atol=1e-12) & np.isclose(
        borrowed, mode, rtol=1e-6, atol=1e-12
    )
    rest = ~floor
    if not rest.any():
        return 0.0
    return float(np.isclose(labels[rest], borrowed[rest], rtol=1e-6, atol=1e-12).mean())


def borrowed_partners(
    train: pd.DataFrame,
    tasks: list[str],
    borrowed: list[str],
    *,
    min_coupling: float | None = None,
) -> tuple[dict[str, list[str]], dict[str, dict[str, dict]]]:
    """Per property of ``tasks``, the ``borrowed`` columns it learns beside: the
    ``BORROW["max_partners"]`` most strongly coupled, strongest first.

    Parameters
    ----------
    train : training rows with ``tasks`` and ``borrowed`` columns (NaN = unlabelled)
    min_coupling : defaults to ``BORROW["min_coupling"]``

    Returns
    -------
    (partners, evidence) : ``{task: [column, ...]}`` (tasks without a partner left out);
        ``{task: {column: {"spearman", "count", "identical_fraction", "partner"}}}`` for every
        pair, chosen or not (``identical_fraction`` leaves out the rows at a shared floor)
    """
    min_rho = BORROW["min_coupling"] if min_coupling is None else float(min_coupling)
    partners: dict[str, list[str]] = {}
    evidence: dict[str, dict[str, dict]] = {}
    for task in tasks:
        ranked = []
        evidence[task] = {}
        for column in borrowed:
            both = train[[task, column]].dropna()
            count = len(both)
            rho, same = np.nan, np.nan
            if count >= BORROW["min_count"]:
                rho = float(both[task].corr(both[column], method="spearman"))
                same = _copied_fraction(both[task].to_numpy(), both[column].to_numpy())
            chosen = bool(
                np.isfinite(rho) and abs(rho) >= min_rho and same < BORROW["copy_identical"]
            )
            evidence[task][column] = {
                "spearman": rho,
                "count": count,
                "identical_fraction": same,
                "partner": chosen,
            }
            if chosen:
                ranked.append((-abs(rho), column))
        if ranked:
            partners[task] = [column for _, column in sorted(ranked)[: BORROW["max_partners"]]]
    return partners, evidence
