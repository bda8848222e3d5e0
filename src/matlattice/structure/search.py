"""Structure search: candidates of many formulas relaxed together, checkpointed.

:func:`search_structures` builds the candidates of every formula
(:func:`~matlattice.structure.candidates.candidate_structures`), relaxes all of them with one
potential in chunks of ``chunk`` structures (each chunk one :func:`relax_batch` call, so a
model call holds structures of several formulas) and returns one :class:`Found` per relaxed
structure, ranked within its formula by energy per atom (rank 1 lowest), each marked with
the lower-ranked structure it matches after relaxation, if any (``same_as``). A structure whose
atoms collapsed onto each other during relaxation (:func:`collapsed`) or whose energy fell
below ``FLOOR_EV`` (a potential's artefact, not a phase) keeps its row with a NaN energy,
unconverged, ranked last.

With ``checkpoint`` (a folder), each finished chunk is written there as JSON (the relaxed
structure as pymatgen's dictionary, never a pickle) before the next one starts; a search
started again with the same folder reads the chunks already done and relaxes only the
rest, after checking that each saved row is the candidate it expects at that place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matlattice.errors import CheckpointMismatchError, InvalidParameterError
from matlattice.runtime.files import atomic_write_json, read_json
from matlattice.structure.candidates import Candidate, candidate_structures
from matlattice.structure.potentials import Potential
from matlattice.structure.relax import VOLUME_RANGE, relax_batch

__all__ = [
    "Found",
    "as_found",
    "collapsed",
    "search_structures",
    "spacegroup_of",
    "with_corrections",
]

log = logging.getLogger(__name__)


@dataclass
class Found:
    """One relaxed candidate: ``formula`` (as asked), ``source`` (prototype or ``random``),
    ``built_spacegroup`` (before relaxation), the relaxed ``structure`` and its
    ``spacegroup`` (spglib, symprec 0.1 Å), ``energy_per_atom`` (eV/atom), ``converged``,
    ``steps``, ``fmax`` (eV/Å left), ``energy_start`` (eV/atom before relaxing), the
    ``potential``'s name, ``rank`` within its formula, ``same_as``: the rank of a
    lower-energy structure of the formula it matches after relaxation (0: none), and
    ``energy_correction``: the MP2020 correction (eV/atom) a potential trained on raw DFT
    energies needs (0 for a potential on the corrected scale; NaN where the scheme excludes
    the structure). Ranks follow ``energy_per_atom + energy_correction``: the correction of
    an oxide depends on its structure (peroxide and superoxide O-O bonds)."""

    formula: str
    source: str
    built_spacegroup: int
    structure: object
    spacegroup: int
    energy_per_atom: float
    converged: bool
    steps: int
    fmax: float
    energy_start: float
    potential: str
    rank: int = 0
    same_as: int = 0
    energy_correction: float = 0.0

    @property
    def ranking_energy(self) -> float:
        """The energy per atom on Materials Project's corrected scale (the ranking key)."""
        return self.energy_per_atom + self.energy_correction

    def to_json(self) -> dict:
        row = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "structure"}
        return {**row, "structure": self.structure.as_dict()}

    @classmethod
    def from_json(cls, row: dict) -> Found:
        from pymatgen.core import Structure

        return cls(**{**row, "structure": Structure.from_dict(row["structure"])})


def spacegroup_of(structure) -> int:
    try:
        return int(structure.get_space_group_info(symprec=0.1)[1])
    except Exception:  # spglib fails on badly distorted cells: report P1
        return 1


#: Atoms closer than this share of the sum of their atomic radii have collapsed onto each
#: other (the shortest real bonds, N2 or C2H2, are about 0.85 of it), and no phase lies
#: below ``FLOOR_EV`` eV/atom (the lowest Materials Project energies are near -13): past
#: either, a relaxation has fallen into a potential's artefact, thousands of eV/atom deep.
COLLAPSE_RATIO = 0.7
FLOOR_EV = -20.0


def collapsed(structure) -> bool:
    """Whether the cell has shrunk below ``VOLUME_RANGE[0]`` per atom, or two atoms
    (periodic images included) sit closer than ``COLLAPSE_RATIO`` times the sum of their
    atomic radii (pymatgen's ``atomic_radius``, 1.5 Å where unknown)."""
    if structure.volume / len(structure) < VOLUME_RANGE[0]:  # a neighbour list would explode
        return True
    radii = np.array([float(site.specie.atomic_radius or 1.5) for site in structure])
    centres, neighbours, _, distances = structure.get_neighbor_list(
        COLLAPSE_RATIO * 2 * radii.max()
    )
    return bool((distances < COLLAPSE_RATIO * (radii[centres] + radii[neighbours])).any())


def _unphysical(energy: float, structure) -> bool:
    return energy < FLOOR_EV or collapsed(structure)


def as_found(formula: str, source: str, built: int, relaxed, potential: str) -> Found:
    """A :class:`Found` from one :class:`~matlattice.structure.relax.Relaxed` (collapsed
    structures get a NaN energy, unconverged)."""
    energy, converged = float(relaxed.energy), bool(relaxed.converged)
    if np.isfinite(energy) and _unphysical(energy, relaxed.structure):
        energy, converged = float("nan"), False
    start = float(relaxed.trajectory[0]) if relaxed.trajectory else float("nan")
    structure = relaxed.structure
    return Found(formula, source, int(built), structure, spacegroup_of(structure), energy,
                 converged, int(relaxed.steps), float(relaxed.fmax), start, potential)  # fmt: skip


def _relax_chunk(
    chunk: list[tuple[str, Candidate]], potential: Potential, fmax: float, steps: int
) -> list[Found]:
    relaxed = relax_batch([c.structure for _, c in chunk], potential, fmax=fmax, steps=steps)
    return [as_found(formula, c.source, c.spacegroup, r, potential.name)
            for (formula, c), r in zip(chunk, relaxed, strict=True)]  # fmt: skip


def _saved_chunk(path: Path, expected: list[tuple[str, Candidate]]) -> list[Found] | None:
    if not path.is_file():
        return None
    rows = [Found.from_json(row) for row in read_json(path)]
    for row in rows:  # judged again: a chunk may come from before a check was added
        if np.isfinite(row.energy_per_atom) and _unphysical(row.energy_per_atom, row.structure):
            row.energy_per_atom, row.converged = float("nan"), False
    wanted = [(f, c.source, int(c.spacegroup)) for f, c in expected]
    if [(r.formula, r.source, r.built_spacegroup) for r in rows] != wanted:
        raise CheckpointMismatchError(
            f"{path} holds other candidates than this search builds (other formulas, seed or "
            "settings); resume with the original settings or start afresh"
        )
    return rows


def search_structures(
    formulas: Sequence[str],
    potential: Potential,
    *,
    n_random: int = 10,
    max_atoms: int = 24,
    prototypes: bool = True,
    seed: int = 0,
    fmax: float = 0.05,
    steps: int = 300,
    chunk: int = 32,
    checkpoint: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Found]:
    """Relaxed candidates of every formula (module docstring), ranked per formula."""
    if chunk < 1:
        raise InvalidParameterError(f"chunk={chunk}; expected >= 1")
    work: list[tuple[str, Candidate]] = []
    for formula in formulas:
        built = candidate_structures(
            formula, n_random, max_atoms=max_atoms, prototypes=prototypes, seed=seed
        )
        work.extend((formula, c) for c in built)
    found: list[Found] = []
    for start in range(0, len(work), chunk):
        part = work[start : start + chunk]
        path = Path(checkpoint) / f"relaxed-{start // chunk:05d}.json" if checkpoint else None
        rows = _saved_chunk(path, part) if path else None
        if rows is None:
            rows = _relax_chunk(part, potential, fmax, steps)
            if path:
                atomic_write_json(path, [r.to_json() for r in rows])
        found.extend(rows)
        if progress:
            progress(len(found), len(work))
    return _ranked(with_corrections(found, potential))


def with_corrections(found: list[Found], potential: Potential) -> list[Found]:
    """``found`` with each structure's ``energy_correction`` set: MP2020's for a potential
    trained on raw energies (:mod:`~matlattice.structure.corrections`), else 0."""
    from matlattice.structure.corrections import mp2020_corrections

    corrections = (np.zeros(len(found)) if potential.mp2020_corrected
                   else mp2020_corrections([f.structure for f in found]))  # fmt: skip
    for f, correction in zip(found, corrections, strict=True):
        f.energy_correction = float(correction)
    return found


#: Relaxed structures of one formula closer than this in energy (eV/atom) are compared by
#: pymatgen's StructureMatcher; a match is the same minimum reached twice.
SAME_ENERGY = 0.01


def _rank_key(row: Found) -> tuple:
    """Energy on the corrected scale first; a structure the correction scheme excludes
    after those, by its own energy; a failed relaxation last."""
    corrected = np.isfinite(row.ranking_energy)
    own = row.ranking_energy if corrected else row.energy_per_atom
    return (not np.isfinite(row.energy_per_atom), not corrected, own)


def _ranked(found: list[Found]) -> list[Found]:
    from pymatgen.analysis.structure_matcher import StructureMatcher

    matcher = StructureMatcher()
    by_formula: dict[str, list[Found]] = {}
    for f in found:
        by_formula.setdefault(f.formula, []).append(f)
    out = []
    for rows in by_formula.values():
        rows.sort(key=_rank_key)
        for rank, row in enumerate(rows, 1):
            row.rank, row.same_as = rank, 0
            for kept in rows[: rank - 1]:
                if (kept.same_as == 0 and np.isfinite(row.ranking_energy)
                        and row.ranking_energy - kept.ranking_energy < SAME_ENERGY
                        and matcher.fit(row.structure, kept.structure)):  # fmt: skip
                    row.same_as = kept.rank
                    break
        out.extend(rows)
    return out
