"""Reference energies relaxed by the same potential, cached per potential.

- :func:`element_energies`: the energy per atom of each element's lowest relaxed structure
  (the elemental prototypes fcc, bcc, hcp and diamond plus random crystals, so molecular
  solids such as O2 or N2 are found by the random search), the zero of formation energies;
- :func:`phase_energies`: the lowest energy per atom of each known phase (a formula of the
  reference data) found the same way, the competitors of a hull made of one potential's
  energies.

Both are cached in ``<cache>/structure/<kind>-<potential>.json`` (``<cache>`` is
:func:`~matlattice.data.fetch.cache_root`) with the search settings of each entry; an entry
searched with other settings is searched again, never reused.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

from matlattice.data.fetch import cache_root
from matlattice.runtime.files import atomic_write_json, read_json
from matlattice.structure.potentials import Potential
from matlattice.structure.search import search_structures

__all__ = ["element_energies", "phase_energies"]

log = logging.getLogger(__name__)


def _cache_path(kind: str, potential: Potential, cache_dir: Path | None) -> Path:
    return Path(cache_dir or cache_root() / "structure") / f"{kind}-{potential.name}.json"


def _lowest(
    formulas: list[str], potential: Potential, settings: dict, kind: str, cache_dir: Path | None
) -> dict[str, dict]:
    """``{formula: {"energy_per_atom", "spacegroup", "source", "settings"}}``: the lowest
    relaxed structure of each formula, searched only where the cache lacks it."""
    path = _cache_path(kind, potential, cache_dir)
    cached = read_json(path) if path.is_file() else {}
    missing = [f for f in formulas if (cached.get(f) or {}).get("settings") != settings]
    if missing:
        log.info("%s: relaxing %d %s with %s", kind, len(missing), "formulas", potential.name)
        found = search_structures(missing, potential, **settings)
        fresh = {
            f.formula: {"energy_per_atom": f.energy_per_atom, "spacegroup": f.spacegroup,
                        "source": f.source, "settings": settings}
            for f in found if f.rank == 1 and math.isfinite(f.energy_per_atom)
        }  # fmt: skip
        latest = read_json(path) if path.is_file() else {}  # another process may have added
        cached = {**latest, **fresh}
        atomic_write_json(path, cached)
    return {f: cached[f] for f in formulas if f in cached}


def element_energies(
    elements: Iterable[str],
    potential: Potential,
    *,
    n_random: int = 8,
    seed: int = 0,
    fmax: float = 0.05,
    steps: int = 300,
    cache_dir: Path | None = None,
) -> dict[str, float]:
    """``{element: eV/atom}`` of each element's lowest relaxed structure (module docstring)."""
    settings = {"n_random": n_random, "seed": seed, "fmax": fmax, "steps": steps,
                "max_atoms": 8}  # fmt: skip
    found = _lowest(sorted(set(elements)), potential, settings, "elements", cache_dir)
    return {e: row["energy_per_atom"] for e, row in found.items()}


def phase_energies(
    formulas: Iterable[str],
    potential: Potential,
    *,
    n_random: int = 6,
    seed: int = 0,
    fmax: float = 0.05,
    steps: int = 300,
    max_atoms: int = 24,
    cache_dir: Path | None = None,
) -> dict[str, float]:
    """``{reduced formula: eV/atom}`` of each known phase's lowest relaxed structure; a
    formula with more atoms per formula unit than ``max_atoms`` is left out (and logged)."""
    from pymatgen.core import Composition

    reduced = sorted({Composition(f).reduced_formula for f in formulas})
    fits = [f for f in reduced if Composition(f).num_atoms <= max_atoms]
    if len(fits) < len(reduced):
        log.warning("%d known phases have over %d atoms per formula unit and are left out of "
                    "the hull: %s", len(reduced) - len(fits), max_atoms,
                    sorted(set(reduced) - set(fits)))  # fmt: skip
    settings = {"n_random": n_random, "seed": seed, "fmax": fmax, "steps": steps,
                "max_atoms": max_atoms}  # fmt: skip
    found = _lowest(fits, potential, settings, "phases", cache_dir)
    return {f: row["energy_per_atom"] for f, row in found.items()}
