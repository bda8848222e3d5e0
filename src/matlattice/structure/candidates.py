"""Candidate crystal structures for a composition: prototypes and random symmetric crystals.

:func:`candidate_structures` gives, for one formula,

- every decoration of the prototype library that fits it (:mod:`.prototypes`);
- ``n_random`` random symmetric crystals from pyxtal: the number of formula units ``Z``
  drawn from 1 up to ``max_atoms`` atoms in the conventional cell, the space group drawn
  with the frequency it has among Materials Project structures of that many atoms in the
  conventional cell (pyxtal's ``database/spg_num_wps_mp.csv``); pyxtal places the atoms on
  Wyckoff positions of that group (a draw it cannot place is drawn again, at most
  ``max_tries`` times per structure);

and removes duplicates by pymatgen's ``StructureMatcher`` (first kept: prototypes before
random ones). Every draw is seeded.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.errors import InvalidParameterError
from matlattice.structure.prototypes import decorate, first_guess_volume, integer_amounts

__all__ = ["Candidate", "candidate_structures", "crystal_refusal", "spacegroup_frequencies"]


@cache
def spacegroup_frequencies() -> pd.DataFrame:
    """``spg, n_atoms, count``: how often each space group occurs among Materials Project
    structures with ``n_atoms`` atoms in the conventional cell (pyxtal's table)."""
    from importlib.resources import files

    table = pd.read_csv(files("pyxtal") / "database" / "spg_num_wps_mp.csv")
    return table.groupby(["spg", "n_atoms"], as_index=False)["count"].sum()


def crystal_refusal(formula: str, max_atoms: int) -> str:
    """Why ``formula`` cannot be given a candidate crystal ('' when it can): it does not
    parse, its amounts are not integers, or its formula unit has over ``max_atoms`` atoms."""
    faults = parse_formulas([formula], errors="report").faults
    if faults:
        return f"does not parse: {faults[0][2]}"
    amounts = integer_amounts(formula)
    if not amounts or any(not isinstance(a, int) for a in amounts.values()):
        return f"a crystal needs integer amounts; got {amounts}"
    if sum(amounts.values()) > max_atoms:
        return f"{sum(amounts.values())} atoms per formula unit, over max_atoms={max_atoms}"
    return ""


class Candidate:
    """One candidate: its ``source`` (a prototype name or ``"random"``), ``structure``
    (pymatgen) and ``spacegroup`` as built (relaxation may change it)."""

    __slots__ = ("source", "spacegroup", "structure")

    def __init__(self, source: str, structure, spacegroup: int):
        self.source, self.structure, self.spacegroup = source, structure, spacegroup

    def __repr__(self) -> str:
        return f"Candidate({self.source}, {self.structure.formula}, spg {self.spacegroup})"


def _random_one(amounts: dict[str, int], max_atoms: int, rng: np.random.Generator, tries: int):
    """One pyxtal crystal (or None after ``tries`` failed draws) and its space group."""
    from pyxtal import pyxtal

    unit = sum(amounts.values())
    table = spacegroup_frequencies()
    for _ in range(tries):
        z = int(rng.integers(1, max(1, max_atoms // unit) + 1))
        rows = table[table["n_atoms"] == z * unit]
        if rows.empty:
            continue
        weights = rows["count"].to_numpy(float)
        group = int(rows["spg"].to_numpy()[rng.choice(len(rows), p=weights / weights.sum())])
        crystal = pyxtal()
        try:
            crystal.from_random(
                3, group, list(amounts), [z * a for a in amounts.values()],
                random_state=int(rng.integers(2**31)),
            )  # fmt: skip
        except Exception:  # pyxtal raises several types when a group cannot hold the atoms
            continue
        if crystal.valid:
            structure = crystal.to_pymatgen()
            structure.scale_lattice(first_guess_volume(structure))
            return structure, group
    return None, None


def candidate_structures(
    formula: str,
    n_random: int = 10,
    *,
    max_atoms: int = 24,
    prototypes: bool = True,
    seed: int = 0,
    max_tries: int = 20,
) -> list[Candidate]:
    """Distinct candidate structures of ``formula`` (module docstring)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.core import Composition

    refusal = crystal_refusal(formula, max_atoms)
    if refusal:
        raise InvalidParameterError(f"formula {formula!r}: {refusal}")
    amounts = integer_amounts(formula)
    found = [Candidate(n, s, s.get_space_group_info()[1]) for n, s in decorate(formula)]
    found = found if prototypes else []
    rng = np.random.default_rng([seed, *map(ord, Composition(amounts).alphabetical_formula)])
    for _ in range(n_random):
        structure, group = _random_one(amounts, max_atoms, rng, max_tries)
        if structure is not None:
            found.append(Candidate("random", structure, group))
    matcher = StructureMatcher()
    kept: list[Candidate] = []
    for candidate in found:
        if not any(matcher.fit(candidate.structure, k.structure) for k in kept):
            kept.append(candidate)
    return kept
