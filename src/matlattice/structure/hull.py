"""Formation energies and distances to the convex hull.

:func:`formation_energies` turns energies per atom into formation energies per atom against
elemental references (``E_f = E - sum_i x_i mu_i``, ``x_i`` the atomic fractions).
:func:`hull_distances` places each formation energy against the convex hull of the *other*
known phases of its chemical system (pymatgen's ``PhaseDiagram``, every element at zero):
positive above the hull, negative below it (the candidate would be a new stable phase). The
composition's own entry is left out of its competitors, so a known compound is judged
against its neighbours rather than against its own reference value.

:func:`known_phases` gives the competitors: every composition of the reference data within a
chemical system with its lowest formation energy per atom. The default reference data is
Matbench's ``mp_e_form`` (Materials Project DFT formation energies, GGA/GGA+U with MP's
corrections); with energies from a potential, the hull is then the one Matbench Discovery
uses (predicted energies against a DFT hull); with
:func:`~matlattice.structure.references.phase_energies` the known phases are relaxed by the
same potential instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
import pandas as pd

from matlattice.composition.hull import HullReference
from matlattice.errors import InvalidParameterError, MissingElementError

__all__ = ["REFERENCE_DATA", "formation_energies", "hull_distances", "known_phases"]

REFERENCE_DATA = "matbench_mp_e_form"


@cache
def _reference_table(data: str) -> tuple[pd.DataFrame, object]:
    """``formula`` (as given) and ``formation_energy_per_atom`` of every row of the reference
    data, and which elements each row holds (a sparse boolean ``(rows, 103)`` matrix)."""
    from matlattice.composition import parse_formulas
    from matlattice.data import load_dataset

    dataset = load_dataset(data)
    frame, label = dataset.frame, dataset.info.properties[0].name
    table = pd.DataFrame(
        {"formula": frame["formula"].to_numpy(), "formation_energy_per_atom": frame[label]}
    ).reset_index(drop=True)
    present = (parse_formulas(table["formula"].tolist()).fractions > 0).astype(np.int8)
    return table, present.tocsr()


def known_phases(elements: Iterable[str], data: str = REFERENCE_DATA) -> pd.DataFrame:
    """Every composition of ``data`` made only of ``elements`` (elements themselves
    excluded: they sit at zero), one row each (``formula`` reduced, ``chemsys``) with its
    lowest formation energy per atom."""
    from pymatgen.core import Composition

    from matlattice.composition import SYMBOLS

    table, present = _reference_table(data)
    outside = np.isin(np.array(SYMBOLS), list(set(elements)), invert=True).astype(np.int8)
    n_elements = np.asarray(present.sum(axis=1)).ravel()
    n_outside = present @ outside
    rows = table[(n_elements > 1) & (n_outside == 0)]
    reduced = [Composition(f).reduced_formula for f in rows["formula"]]
    found = (
        pd.DataFrame({"formula": pd.Series(reduced, dtype=str),
                      "formation_energy_per_atom": rows["formation_energy_per_atom"].to_numpy()})
        .groupby("formula", as_index=False)["formation_energy_per_atom"].min()
    )  # fmt: skip
    systems = ["-".join(sorted(map(str, Composition(f)))) for f in found["formula"]]
    found["chemsys"] = pd.Series(systems, dtype=str, index=found.index)
    return found


def formation_energies(
    formulas: Sequence[str], energies: Sequence[float], references: dict[str, float]
) -> np.ndarray:
    """Formation energy per atom of each formula from its energy per atom (module docstring);
    refuses a formula with an element missing from ``references``."""
    from pymatgen.core import Composition

    out = np.empty(len(formulas))
    for i, (formula, energy) in enumerate(zip(formulas, energies, strict=True)):
        fractions = Composition(formula).fractional_composition
        missing = [str(e) for e in fractions if str(e) not in references]
        if missing:
            raise MissingElementError(f"{formula}: no elemental reference energy for {missing}")
        out[i] = energy - sum(x * references[str(e)] for e, x in fractions.items())
    return out


def hull_distances(
    formulas: Sequence[str], formation: Sequence[float], competitors: pd.DataFrame
) -> np.ndarray:
    """Signed distance (eV/atom) of each formation energy to the hull of ``competitors``
    (``formula``, ``formation_energy_per_atom``) in its chemical system, its own composition
    left out of the competitors (module docstring)."""
    from pymatgen.core import Composition

    formation = np.asarray(formation, dtype=float)
    if len(formulas) != len(formation):
        raise InvalidParameterError(f"{len(formulas)} formulas but {len(formation)} energies")
    reduced = np.array([Composition(f).reduced_formula for f in formulas], dtype=object)
    known = [Composition(f) for f in competitors["formula"]]
    names = np.array([c.reduced_formula for c in known], dtype=object)
    systems = [frozenset(map(str, c)) for c in known]
    out = np.full(len(formulas), np.nan)
    for formula in set(reduced):
        rows = np.flatnonzero(reduced == formula)
        elements = sorted(str(e) for e in Composition(formula))
        # the competitors of its chemical system (sub-systems included), itself left out
        keep = [n != formula and s <= set(elements) for n, s in zip(names, systems, strict=True)]
        others = competitors.loc[keep, ["formula", "formation_energy_per_atom"]]
        table = pd.concat([pd.DataFrame({"formula": elements, "formation_energy_per_atom": 0.0}),
                           others])  # fmt: skip
        reference = HullReference(table["formula"].tolist(), table["formation_energy_per_atom"])
        out[rows] = formation[rows] - reference.hull_energy([formula])[0]
    return out
