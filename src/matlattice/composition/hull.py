"""The convex hull of known phases: formation energies (eV/atom, the elements at zero) per
chemical system, and the hull's energy at any composition.

:class:`HullReference` holds known formation energies and gives, for any composition, the
energy of the hull of the known phases in its chemical system at that composition
(pymatgen's ``PhaseDiagram`` over the known compositions whose elements lie in the system).
A composition's distance above the hull is its formation energy less that hull energy. A
hull built from known phases alone is an upper bound of the true hull, so a composition
below it would be a new stable phase; its distance is then negative.

Used by design (a predicted formation energy against the hull: ``--stable``) and by the
structure stage (a relaxed structure's formation energy against it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import norm

from matlattice.composition.keys import chemical_systems
from matlattice.composition.parser import parse_formulas
from matlattice.errors import InvalidParameterError

__all__ = ["PLAUSIBLE_EV", "HullReference", "formula_systems"]


def formula_systems(formulas: Sequence[str]) -> np.ndarray:
    """``"Fe-O"`` per formula: its elements, alphabetically (``""`` for one that does not
    parse)."""
    if not len(formulas):
        return np.array([], dtype=object)
    return chemical_systems(parse_formulas(list(formulas), errors="report").fractions)


#: Formation energies beyond this many eV/atom are not physical (OQMD holds a few such
#: entries); they are left out of the hull.
PLAUSIBLE_EV = 5.0


class HullReference:
    """Known formation energies and the hulls they span (module docstring)."""

    def __init__(self, formulas: Sequence[str], energies: Sequence[float]):
        from pymatgen.core import Composition

        energies = np.asarray(energies, dtype=float)
        if len(formulas) != len(energies):
            raise InvalidParameterError(
                f"{len(formulas)} formulas but {len(energies)} formation energies"
            )
        keep = np.isfinite(energies) & (np.abs(energies) <= PLAUSIBLE_EV)
        self.left_out = int((~keep).sum())
        self._by_system: dict[frozenset, list] = defaultdict(list)
        for formula, energy in zip(np.asarray(formulas)[keep], energies[keep], strict=True):
            composition = Composition(formula)
            system = frozenset(str(e) for e in composition.elements)
            self._by_system[system].append((composition, float(energy)))
        if not self._by_system:
            raise InvalidParameterError(
                "no formation energy within +-5 eV/atom to build a convex hull from"
            )

    def _entries(self, system: frozenset) -> list:
        from pymatgen.analysis.phase_diagram import PDEntry
        from pymatgen.core import Composition

        entries = [PDEntry(Composition(e), 0.0) for e in sorted(system)]
        for size in range(1, len(system) + 1):
            for subset in combinations(sorted(system), size):
                for composition, energy in self._by_system.get(frozenset(subset), ()):
                    entries.append(PDEntry(composition, energy * composition.num_atoms))
        return entries

    def hull_energy(self, formulas: Sequence[str]) -> np.ndarray:
        """Per formula, the known hull's formation energy (eV/atom) at its composition."""
        from pymatgen.analysis.phase_diagram import PhaseDiagram
        from pymatgen.core import Composition

        out = np.full(len(formulas), np.nan)
        systems = formula_systems(formulas)
        for system in set(systems):
            if not system:
                continue
            rows = np.flatnonzero(systems == system)
            diagram = PhaseDiagram(self._entries(frozenset(system.split("-"))))
            for row in rows:
                out[row] = diagram.get_hull_energy_per_atom(Composition(formulas[row]))
        return out

    def stability(
        self, formulas: Sequence[str], mean: np.ndarray, std: np.ndarray, within: float = 0.1
    ) -> pd.DataFrame:
        """``e_above_hull`` (predicted formation energy less the hull's), its spread and
        ``p_stable``, the probability that it is at most ``within`` eV/atom."""
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        distance = mean - self.hull_energy(formulas)
        p_stable = norm.cdf((within - distance) / np.maximum(std, 1e-9))
        return pd.DataFrame(
            {"e_above_hull": distance, "e_above_hull_std": std, "p_stable": p_stable}
        )
