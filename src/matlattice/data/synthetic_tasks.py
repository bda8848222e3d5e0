"""Planted multi-task data: groups of properties that share hidden factors, and known artefacts.

The generator is how the entanglement lattice is proved right. Its truth is known: which
properties share factors (the groups), which shares nothing (the independent property), which
is scarce (labelled on a small fraction of materials) and which is an artefact (an exact copy).

How the data are made, for real formulas:

1. **Factors.** The 14 composition descriptors of :mod:`matlattice.data.synthetic` are whitened
   and rotated; each of the ``2 * n_groups + 1`` columns is mapped through its ranks to a
   standard normal (so factors are symmetric about 0 and nearly independent). Group ``g`` owns
   two factors ``(a, b)``; the independent property owns one factor ``e``.
2. **Readouts.** Inside a group the properties read the *same* two factors through *different*
   nonlinear functions, chosen so that their labels are nearly uncorrelated although they need
   the same information: ``a * b``, ``(a^2 - b^2) / sqrt(2)``, ``a + 0.5 sin(2b)`` and, for the
   scarce property, ``b |a|``. A plain label-correlation matrix sees almost nothing inside a
   group; a model that must learn the factors does.
3. **The others.** The independent property is ``e + 0.5 sin(2e)``. The scarce property (a
   readout of group 0) keeps its label on ``sparse_fraction`` of the materials (NaN elsewhere).
   The duplicate is an exact copy of the first property of the last group.

Every property is standardised, then ``noise`` standard deviations of Gaussian noise are added
(the duplicate copies its original after the noise, so it stays exact). Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import rankdata

from matlattice.composition import parse_formulas
from matlattice.data.synthetic import rotated_descriptors
from matlattice.errors import InvalidParameterError

__all__ = ["PlantedTasks", "gaussian_ranks", "planted_tasks"]

_READOUTS = (
    lambda a, b: a * b,
    lambda a, b: (a**2 - b**2) / np.sqrt(2.0),
    lambda a, b: a + 0.5 * np.sin(2.0 * b),
)


@dataclass(frozen=True)
class PlantedTasks:
    """Output of :func:`planted_tasks`.

    Attributes
    ----------
    frame : DataFrame with ``formula`` and one column per property (NaN = unlabelled)
    groups : the planted groups, each a list of property names; the scarce property is in
        group 0, the duplicate in the last group, the independent property in a group alone
    independent : the property that shares no factor
    sparse : the scarce property
    duplicate : ``(copy, original)``, an exact duplicate pair
    factors : ``(n, 2 * n_groups + 1)`` the hidden factors
    """

    frame: pd.DataFrame
    groups: list[list[str]]
    independent: str
    sparse: str
    duplicate: tuple[str, str]
    factors: np.ndarray

    @property
    def tasks(self) -> list[str]:
        return [c for c in self.frame.columns if c != "formula"]

    def group_of(self) -> dict[str, int]:
        """Planted group index of every property."""
        return {task: g for g, members in enumerate(self.groups) for task in members}


def gaussian_ranks(x: np.ndarray) -> np.ndarray:
    """Map each column through its ranks to a standard normal (``(n, k)`` -> ``(n, k)``)."""
    ranks = rankdata(x, axis=0)
    return ndtri(ranks / (len(x) + 1))


def planted_tasks(
    formulas: Sequence[str],
    n_groups: int = 2,
    group_size: int = 3,
    *,
    sparse_fraction: float = 0.05,
    noise: float = 0.05,
    seed: int = 0,
) -> PlantedTasks:
    """Multi-task properties of real ``formulas`` with planted groups and artefacts.

    Parameters
    ----------
    formulas : real formulas (more than 14; invalid ones raise ``InvalidFormulaError``)
    n_groups : groups of properties sharing two hidden factors each (1..6)
    group_size : properties per group (1..3), besides the scarce property and the duplicate
    sparse_fraction : fraction of materials that keep a label of the scarce property (0, 1]
    noise : Gaussian noise on each standardised property, in standard deviations (>= 0)
    seed : seeds the rotation of the descriptors, the noise and the scarce labels

    Returns
    -------
    :class:`PlantedTasks` with ``n_groups * group_size + 3`` properties: ``g{i}_{j}`` (group
    ``i``, readout ``j``), ``g0_sparse``, ``g{last}_copy`` and ``indep``; unitless.
    """
    if not 1 <= int(n_groups) <= 6:
        raise InvalidParameterError(f"n_groups={n_groups!r}; expected 1..6")
    if not 1 <= int(group_size) <= len(_READOUTS):
        raise InvalidParameterError(f"group_size={group_size!r}; expected 1..{len(_READOUTS)}")
    if not 0 < sparse_fraction <= 1:
        raise InvalidParameterError(
            f"sparse_fraction={sparse_fraction!r}; expected a value in (0, 1]"
        )
    if noise < 0:
        raise InvalidParameterError(f"noise={noise!r}; must be >= 0")
    formulas = list(formulas)
    fractions = parse_formulas(formulas).fractions
    if fractions.shape[0] <= 14:
        raise InvalidParameterError(f"{len(formulas)} formulas; need more than 14")
    rng = np.random.default_rng(seed)
    n_factors = 2 * int(n_groups) + 1
    factors = gaussian_ranks(rotated_descriptors(fractions, n_factors, rng))  # (n, k)

    columns: dict[str, np.ndarray] = {}
    groups: list[list[str]] = []
    for g in range(int(n_groups)):
        a, b = factors[:, 2 * g], factors[:, 2 * g + 1]
        names = []
        for j in range(int(group_size)):
            columns[f"g{g}_{j}"] = _READOUTS[j](a, b)
            names.append(f"g{g}_{j}")
        groups.append(names)
    a, b = factors[:, 0], factors[:, 1]
    columns["g0_sparse"] = b * np.abs(a)
    e = factors[:, -1]
    columns["indep"] = e + 0.5 * np.sin(2.0 * e)
    for name, values in columns.items():
        values = (values - values.mean()) / values.std()
        columns[name] = values + noise * rng.standard_normal(len(values))
    scarce = rng.random(len(formulas)) >= sparse_fraction
    columns["g0_sparse"][scarce] = np.nan
    last = int(n_groups) - 1
    original = f"g{last}_0"
    copy = f"g{last}_copy"
    columns[copy] = columns[original].copy()
    groups[0].append("g0_sparse")
    groups[last].append(copy)
    groups.append(["indep"])

    frame = pd.DataFrame(columns)
    frame.insert(0, "formula", formulas)
    return PlantedTasks(frame, groups, "indep", "g0_sparse", (copy, original), factors)
