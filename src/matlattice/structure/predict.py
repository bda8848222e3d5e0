"""From formulas to ranked, relaxed structures with their stability.

:func:`predict_structures` searches structures for every formula
(:func:`~matlattice.structure.search.search_structures`), then gives each relaxed structure
its formation energy per atom against elemental references relaxed by the same potential
(:func:`~matlattice.structure.references.element_energies`; a potential trained on raw DFT
energies gets Materials Project's 2020 corrections first, ``energy_correction``,
:mod:`~matlattice.structure.corrections`) and its signed distance to the
convex hull of the known phases of its chemical system (``hull``):

- ``"dft"`` (default): the known phases' DFT formation energies from the reference data
  (Materials Project), the convention of Matbench Discovery;
- ``"potential"``: the known phases relaxed by the same potential (every energy from one
  model; costs a structure search per known phase, cached); a known phase too large to
  search or whose every structure failed is left out of the hull, which makes the hull
  distances of its chemical system too low: ``hull_missing`` names those phases per row;
- ``"none"``: no hull distance.

:func:`second_opinion` relaxes the best structures again with another potential, starting
from the first potential's result, and reports both energies and whether the two agree on
the lowest structure of each formula.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError
from matlattice.structure.corrections import mp2020_corrections
from matlattice.structure.hull import (
    REFERENCE_DATA,
    formation_energies,
    hull_distances,
    known_phases,
)
from matlattice.structure.potentials import Potential
from matlattice.structure.references import element_energies, phase_energies
from matlattice.structure.relax import relax_batch
from matlattice.structure.search import Found, as_found, search_structures, with_corrections

log = logging.getLogger(__name__)

__all__ = ["HULLS", "predict_structures", "second_opinion", "stability_table"]

HULLS = ("dft", "potential", "none")
COLUMNS = ["formula", "rank", "same_as", "source", "spacegroup", "built_spacegroup",
           "energy_per_atom", "formation_energy_per_atom", "e_above_hull", "volume_per_atom",
           "converged", "steps", "fmax", "potential", "energy_correction"]  # fmt: skip


def _competitors(
    elements: set[str], potential: Potential, hull: str, refs: dict
) -> tuple[pd.DataFrame, list[str]]:
    """The hull's phases (``formula``, ``formation_energy_per_atom``) and the known phases
    left out of it (a ``potential`` hull: too large to search, or every structure failed)."""
    from pymatgen.core import Composition

    known = known_phases(elements, REFERENCE_DATA)
    if hull == "dft" or known.empty:
        return known, []
    energies = phase_energies(known["formula"], potential)
    formulas = sorted(energies)
    corrected = np.array([energies[f] for f in formulas])
    if not potential.mp2020_corrected:
        corrected = corrected + mp2020_corrections(formulas)
    formation = formation_energies(formulas, corrected, refs)
    missing = sorted({Composition(f).reduced_formula for f in known["formula"]} - set(energies))
    if missing:
        log.warning("%d known phases are missing from the %s hull: %s", len(missing),
                    potential.name, missing)  # fmt: skip
    return pd.DataFrame({"formula": formulas, "formation_energy_per_atom": formation}), missing


def _missing_in_system(formulas: pd.Series, missing: list[str]) -> list[str]:
    """Per formula, the missing phases of its chemical system (space-separated)."""
    from pymatgen.core import Composition

    systems = [(m, {str(e) for e in Composition(m)}) for m in missing]
    out = []
    for formula in formulas:
        own = {str(e) for e in Composition(formula)}
        out.append(" ".join(m for m, elements in systems if elements <= own))
    return out


def stability_table(
    found: Sequence[Found], potential: Potential, hull: str = "dft"
) -> pd.DataFrame:
    """One row per relaxed structure (``COLUMNS``) with formation energy and hull distance."""
    from pymatgen.core import Composition

    if hull not in HULLS:
        raise InvalidParameterError(f"hull={hull!r}; expected one of {HULLS}")
    table = pd.DataFrame(
        [{**{k: getattr(f, k) for k in COLUMNS if hasattr(f, k)},
          "volume_per_atom": f.structure.volume / len(f.structure)} for f in found],
        columns=COLUMNS,
    )  # fmt: skip
    elements = {str(e) for f in table["formula"] for e in Composition(f)}
    refs = element_energies(elements, potential)
    table["formation_energy_per_atom"] = formation_energies(
        table["formula"], table["energy_per_atom"] + table["energy_correction"], refs
    )
    if hull != "none" and len(table):
        competitors, missing = _competitors(elements, potential, hull, refs)
        table["e_above_hull"] = hull_distances(
            table["formula"].tolist(), table["formation_energy_per_atom"], competitors
        )
        if hull == "potential":  # a hull without a phase is too low: say which
            table["hull_missing"] = _missing_in_system(table["formula"], missing)
    return table.astype({"e_above_hull": float})


def predict_structures(
    formulas: Sequence[str],
    potential: Potential,
    *,
    hull: str = "dft",
    checkpoint: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    **search,
) -> tuple[pd.DataFrame, list[Found]]:
    """The stability table and the relaxed structures of every formula (module docstring);
    ``search`` goes to :func:`search_structures` (``n_random``, ``prototypes``, ``max_atoms``,
    ``seed``, ``fmax``, ``steps``, ``chunk``)."""
    if hull not in HULLS:
        raise InvalidParameterError(f"hull={hull!r}; expected one of {HULLS}")
    found = search_structures(formulas, potential, checkpoint=checkpoint, progress=progress,
                              **search)  # fmt: skip
    return stability_table(found, potential, hull), found


def second_opinion(
    found: Sequence[Found], potential: Potential, *, top: int = 3, hull: str = "dft",
    fmax: float = 0.05, steps: int = 300,
) -> pd.DataFrame:  # fmt: skip
    """The ``top`` best distinct structures of each formula (``same_as`` 0; ``found`` ranked
    as :func:`search_structures` gives it) relaxed again by ``potential`` from where the first
    potential left them: ``formula``, ``first_rank`` (the first potential's) and this
    potential's ``energy_per_atom``, ``formation_energy_per_atom``, ``e_above_hull``,
    ``spacegroup`` and ``rank``; ``agrees`` marks formulas whose rank-1 structure is the same
    under both."""
    best = []
    for f in found:  # the ``top`` best distinct structures of each formula
        if f.same_as == 0 and sum(b.formula == f.formula for b in best) < top:
            best.append(f)
    relaxed = relax_batch([f.structure for f in best], potential, fmax=fmax, steps=steps)
    again = with_corrections([as_found(f.formula, f.source, f.spacegroup, r, potential.name)
                              for f, r in zip(best, relaxed, strict=True)], potential)  # fmt: skip
    for f, first in zip(again, best, strict=True):
        f.rank = first.rank
    table = stability_table(again, potential, hull)
    table["first_rank"] = table.pop("rank")
    # a structure the second potential stopped (no energy) ranks last, never first
    ranking = table["energy_per_atom"] + table["energy_correction"]  # MP2020 scale
    table["rank"] = (ranking.groupby(table["formula"])
                     .rank(method="first", na_option="bottom").astype(int))  # fmt: skip
    finite = np.isfinite(ranking.to_numpy(float))
    lowest = table[(table["rank"] == 1) & finite].set_index("formula")["first_rank"]
    table["agrees"] = table["formula"].map(lowest == 1)  # NaN: no finite second energy
    return table
