"""Materials Project 2020 energy corrections for potentials trained on raw DFT energies.

A hull from Materials Project formation energies uses MP's corrected energies (the
``MaterialsProject2020Compatibility`` scheme: fitted anion corrections for oxides, halides,
chalcogenides, nitrides, hydrides..., and the GGA/GGA+U mixing correction for the transition
metals MP runs with a Hubbard U in oxides and fluorides). CHGNet was trained on the
corrected energies; SevenNet-0 on the raw ones (its NaCl formation energy is -1.81 eV/atom
against MP's corrected -2.03: the Cl correction of -0.307 eV/atom). Before a raw potential's
energies meet a corrected hull, :func:`mp2020_corrections` gives the correction per atom of
each structure, with the Hubbard U values MP uses (the scheme refuses a mixture it cannot
correct: NaN then, never a silent zero).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cache

import numpy as np

__all__ = ["mp2020_corrections"]


@cache
def _compatibility():
    from pymatgen.entries.compatibility import MaterialsProject2020Compatibility

    return MaterialsProject2020Compatibility(check_potcar=False)


def _entry(item):
    """A zero-energy entry of a structure (or a composition) with MP's run parameters."""
    from pymatgen.core import Composition, Structure
    from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

    composition = item.composition if isinstance(item, Structure) else Composition(item)
    elements = {str(e) for e in composition}
    anion = "O" if "O" in elements else "F" if "F" in elements else None
    table = _compatibility().u_settings.get(anion, {}) if anion else {}
    hubbards = {e: table[e] for e in elements if e in table}
    parameters = {"run_type": "GGA+U" if hubbards else "GGA", "hubbards": hubbards}
    if isinstance(item, Structure):
        return ComputedStructureEntry(item, 0.0, parameters=parameters)
    return ComputedEntry(composition, 0.0, parameters=parameters)


def mp2020_corrections(items: Sequence) -> np.ndarray:
    """MP2020 energy correction (eV/atom, to add) of each structure or formula (module
    docstring); NaN where the scheme excludes the entry."""
    out = np.full(len(items), np.nan)
    compatibility = _compatibility()
    for i, item in enumerate(items):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # oxidation-state guesses, peroxide detection
            entry = compatibility.process_entry(_entry(item))
        if entry is not None:
            out[i] = entry.correction_per_atom
    return out
