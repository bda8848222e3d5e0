"""Structure search: candidates of many formulas relaxed together, checkpointed.

:func:`search_structures` builds the candidates of every formula
(:func:`~matlattice.structure.candidates.candidate_structures`), relaxes all of them with one
potential in chunks of ``chunk`` structures (each chunk one :func:`relax_batch` call, so a
model call holds structures of several formulas) and returns one :class:`Found` per relaxed
structure, ranked within its formula by energy per atom (rank 1 lowest).

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

from matlattice.errors import CheckpointMismatchError, InvalidParameterError
from matlattice.runtime.files import atomic_write_json, read_json
from matlattice.structure.candidates import Candidate, candidate_structures
from matlattice.structure.potentials import Potential
from matlattice.structure.relax import relax_batch

__all__ = ["Found", "search_structures"]

log = logging.getLogger(__name__)


@dataclass
class Found:
    """One relaxed candidate: ``formula`` (as asked), ``source`` (prototype or ``random``),
    ``built_spacegroup`` (before relaxation), the relaxed ``structure`` and its
    ``spacegroup`` (spglib, symprec 0.1 Å), ``energy_per_atom`` (eV/atom), ``converged``,
    ``steps``, ``fmax`` (eV/Å left), ``energy_start`` (eV/atom before relaxing), the
    ``potential``'s name and ``rank`` within its formula."""

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

    def to_json(self) -> dict:
        row = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "structure"}
        return {**row, "structure": self.structure.as_dict()}

    @classmethod
    def from_json(cls, row: dict) -> Found:
        from pymatgen.core import Structure

        return cls(**{**row, "structure": Structure.from_dict(row["structure"])})


def _spacegroup(structure) -> int:
    try:
        return int(structure.get_space_group_info(symprec=0.1)[1])
    except Exception:  # spglib fails on badly distorted cells: report P1
        return 1


def _relax_chunk(
    chunk: list[tuple[str, Candidate]], potential: Potential, fmax: float, steps: int
) -> list[Found]:
    relaxed = relax_batch([c.structure for _, c in chunk], potential, fmax=fmax, steps=steps)
    return [
        Found(formula, c.source, int(c.spacegroup), r.structure, _spacegroup(r.structure),
              float(r.energy), bool(r.converged), int(r.steps), float(r.fmax),
              float(r.trajectory[0]), potential.name)
        for (formula, c), r in zip(chunk, relaxed, strict=True)
    ]  # fmt: skip


def _saved_chunk(path: Path, expected: list[tuple[str, Candidate]]) -> list[Found] | None:
    if not path.is_file():
        return None
    rows = [Found.from_json(row) for row in read_json(path)]
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
    return _ranked(found)


def _ranked(found: list[Found]) -> list[Found]:
    by_formula: dict[str, list[Found]] = {}
    for f in found:
        by_formula.setdefault(f.formula, []).append(f)
    out = []
    for rows in by_formula.values():
        rows.sort(key=lambda r: r.energy_per_atom)
        for rank, row in enumerate(rows, 1):
            row.rank = rank
        out.extend(rows)
    return out
