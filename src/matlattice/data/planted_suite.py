"""A suite of planted multi-task sets with random structure: the lattice's exam.

:func:`planted_tasks` (one fixed layout) proved the lattice on the seeds it was built with.
A diagnostic is trusted only once it holds on draws it was not tuned on, so
:func:`planted_set` draws the layout itself from its seed:

- 2-4 **groups** of 2-5 properties; a group owns two hidden factors ``(a, b)`` and each of its
  members reads them through a different nonlinear readout (drawn from :data:`READOUTS`,
  whose labels are nearly uncorrelated with one another: |Spearman| <= 0.18 on Gaussian
  factors), so the group shares information without sharing label correlation;
- **scarce** members: in about half of the groups one member keeps its label on only 5-20 %
  of the materials;
- 1-2 **independent** properties, each on a factor of its own;
- 1-2 exact **duplicates** and 0-2 **trivial transforms** (``2x + 1`` or ``exp(x / 2)`` of a
  member: rank correlation 1), the artefacts the pathological gates must catch;
- **label noise** of 2-20 % of a standard deviation on every standardised property.

Property names are ``p00, p01, ...`` in a shuffled order, so that neither a name nor a
column position tells the structure. The factors come from real formulas as in
:mod:`matlattice.data.synthetic_tasks`. Everything is drawn from ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.data.synthetic import rotated_descriptors
from matlattice.data.synthetic_tasks import gaussian_ranks
from matlattice.errors import InvalidParameterError

__all__ = ["READOUTS", "PlantedSet", "planted_set"]

READOUTS = {
    "product": lambda a, b: a * b,
    "square_difference": lambda a, b: (a**2 - b**2) / np.sqrt(2.0),
    "shifted_sine": lambda a, b: a + 0.5 * np.sin(2.0 * b),
    "signed_magnitude": lambda a, b: b * np.abs(a),
    "cosine_product": lambda a, b: np.cos(1.5 * a) * b,
    "ring": lambda a, b: np.sin(a**2 + b**2),
}
TRANSFORMS = {"affine": lambda x: 2.0 * x + 1.0, "exponential": lambda x: np.exp(x / 2.0)}


@dataclass(frozen=True)
class PlantedSet:
    """One draw of the suite.

    Attributes
    ----------
    frame : ``formula`` and one column per property (NaN = unlabelled)
    groups : the planted groups of genuine properties (independent ones alone), by name
    artefacts : ``{artefact: (original, kind)}``, kind ``"duplicate"`` or ``"trivial_transform"``
    scarce : the scarce properties
    readouts : ``{property: readout or transform name}``
    seed : the draw's seed
    """

    frame: pd.DataFrame
    groups: list[list[str]]
    artefacts: dict[str, tuple[str, str]]
    scarce: list[str]
    readouts: dict[str, str]
    seed: int

    @property
    def tasks(self) -> list[str]:
        return [c for c in self.frame.columns if c != "formula"]

    @property
    def genuine(self) -> list[str]:
        """The properties the groups cover (every task but the artefacts)."""
        return [t for t in self.tasks if t not in self.artefacts]

    def group_labels(self) -> dict[str, int]:
        """The planted group index of every genuine property."""
        return {t: g for g, members in enumerate(self.groups) for t in members}

    def within_pairs(self) -> set[frozenset[str]]:
        """Unordered pairs of genuine properties planted in one group."""
        return {frozenset((s, t)) for g in self.groups for s in g for t in g if s < t}


def _layout(rng: np.random.Generator) -> dict:
    """The random structure of one draw (sizes, readouts, scarcity, artefacts, noise)."""
    n_groups = int(rng.integers(2, 5))
    sizes = [int(rng.integers(2, 6)) for _ in range(n_groups)]
    names = list(READOUTS)
    readouts = [[names[i] for i in rng.choice(len(names), size, replace=False)] for size in sizes]
    scarce = [int(rng.integers(size)) if rng.random() < 0.5 else None for size in sizes]
    return {
        "readouts": readouts,
        "scarce": scarce,
        "scarce_fraction": [float(rng.uniform(0.05, 0.2)) for _ in sizes],
        "n_independent": int(rng.integers(1, 3)),
        "n_duplicates": int(rng.integers(1, 3)),
        "n_transforms": int(rng.integers(0, 3)),
        "noise": float(rng.uniform(0.02, 0.2)),
    }


def _genuine_columns(factors, layout, rng) -> tuple[dict, list[list[str]], dict, list[str]]:
    """Group members and independent properties, standardised with noise; provisional names."""
    columns, groups, readouts, scarce = {}, [], {}, []
    n_rows = len(factors)
    for g, (chosen, sparse) in enumerate(zip(layout["readouts"], layout["scarce"], strict=True)):
        a, b = factors[:, 2 * g], factors[:, 2 * g + 1]
        members = []
        for j, readout in enumerate(chosen):
            name = f"g{g}_{j}"
            columns[name] = READOUTS[readout](a, b)
            readouts[name] = readout
            members.append(name)
        if sparse is not None:
            scarce.append((members[sparse], layout["scarce_fraction"][g]))
        groups.append(members)
    first_free = 2 * len(layout["readouts"])
    for k in range(layout["n_independent"]):
        e = factors[:, first_free + k]
        name = f"indep{k}"
        columns[name] = e + 0.5 * np.sin(2.0 * e)
        readouts[name] = "independent"
        groups.append([name])
    for name, values in columns.items():
        values = (values - values.mean()) / values.std()
        columns[name] = values + layout["noise"] * rng.standard_normal(n_rows)
    for name, fraction in scarce:
        columns[name][rng.random(n_rows) >= fraction] = np.nan
    return columns, groups, readouts, [name for name, _ in scarce]


def _artefact_columns(columns, groups, layout, rng) -> dict[str, tuple[str, str]]:
    """Add duplicates and trivial transforms of group members to ``columns``."""
    members = [t for g in groups if len(g) > 1 for t in g]
    artefacts = {}
    for k in range(layout["n_duplicates"]):
        original = members[int(rng.integers(len(members)))]
        columns[f"dup{k}"] = columns[original].copy()
        artefacts[f"dup{k}"] = (original, "duplicate")
    for k in range(layout["n_transforms"]):
        original = members[int(rng.integers(len(members)))]
        kind = list(TRANSFORMS)[int(rng.integers(len(TRANSFORMS)))]
        columns[f"trans{k}"] = TRANSFORMS[kind](columns[original])
        artefacts[f"trans{k}"] = (original, "trivial_transform")
    return artefacts


def planted_set(formulas: Sequence[str], seed: int) -> PlantedSet:
    """Draw one planted multi-task set over real ``formulas`` (more than 14) from ``seed``."""
    formulas = list(formulas)
    fractions = parse_formulas(formulas).fractions
    if fractions.shape[0] <= 14:
        raise InvalidParameterError(f"{len(formulas)} formulas; need more than 14")
    rng = np.random.default_rng(seed)
    layout = _layout(rng)
    n_factors = 2 * len(layout["readouts"]) + layout["n_independent"]
    factors = gaussian_ranks(rotated_descriptors(fractions, n_factors, rng))
    columns, groups, readouts, scarce = _genuine_columns(factors, layout, rng)
    artefacts = _artefact_columns(columns, groups, layout, rng)
    order = list(columns)
    shuffled = [order[i] for i in rng.permutation(len(order))]
    rename = {old: f"p{k:02d}" for k, old in enumerate(shuffled)}
    frame = pd.DataFrame({rename[c]: columns[c] for c in shuffled})
    frame.insert(0, "formula", formulas)
    return PlantedSet(
        frame=frame,
        groups=[sorted(rename[t] for t in g) for g in groups],
        artefacts={rename[a]: (rename[o], kind) for a, (o, kind) in artefacts.items()},
        scarce=sorted(rename[t] for t in scarce),
        readouts={rename[t]: r for t, r in readouts.items()}
        | {rename[a]: kind for a, (_, kind) in artefacts.items()},
        seed=int(seed),
    )
