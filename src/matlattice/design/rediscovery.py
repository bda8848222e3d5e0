"""Rediscovery on held-out chemical systems: the test that a designer proposes materials
nobody listed.

Every composition of a seeded share of the chemical systems is hidden
(:func:`~matlattice.data.parts.hold_out_systems`); a designer sees the rest and proposes;
the hidden compositions that meet the target are what it should find, by exact composition
(:func:`rediscovery_recall`). A proposal that is a training composition does not count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matlattice.composition import composition_keys, parse_formulas
from matlattice.data.parts import hold_out_systems
from matlattice.errors import InvalidParameterError

__all__ = ["candidate_keys", "hold_out_systems", "rediscovery_recall"]


def candidate_keys(formulas: Sequence[str]) -> np.ndarray:
    """Composition keys of candidate formulas (``""`` for one that does not parse)."""
    if not len(formulas):
        return np.array([], dtype=object)
    return composition_keys(parse_formulas(list(formulas), errors="report").fractions)


def rediscovery_recall(
    candidates: Sequence[str], targets: set[str], ks: Sequence[int] = (100, 1000)
) -> dict[str, float | int]:
    """``recall@k`` (share of the target keys among the first ``k`` candidates) and
    ``found@k`` (their count) for each ``k``; candidates counted once, in order."""
    if not targets:
        raise InvalidParameterError("no target compositions to rediscover")
    keys = list(dict.fromkeys(k for k in candidate_keys(candidates) if k))
    out: dict[str, float | int] = {"targets": len(targets)}
    for k in ks:
        found = len(targets.intersection(keys[:k]))
        out[f"found@{k}"] = found
        out[f"recall@{k}"] = found / len(targets)
    return out
