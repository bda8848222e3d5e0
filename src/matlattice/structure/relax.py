"""Relaxation oracles: a machine-learned potential relaxes many structures at once.

:func:`relax_batch` relaxes atoms and cell of every structure together with any
:class:`~matlattice.structure.potentials.Potential`: each step asks the potential once for
all structures not yet converged, and moves each one by FIRE (Bitzek et al., PRL 2006,
with ASE's default parameters) on the generalized coordinates of ASE's
``FrechetCellFilter`` (positions and the log of the cell deformation),
until its largest generalized force is below ``fmax`` or ``steps`` are spent. A structure
whose prediction or coordinates stop being finite, or whose volume per atom leaves
``VOLUME_RANGE`` or changes by more than a factor ``VOLUME_CHANGE`` from its start, is
stopped there, unconverged, with a NaN energy.
``batch_size=1`` is the one-at-a-time baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matlattice.errors import InvalidParameterError
from matlattice.structure.potentials import Potential

__all__ = ["VOLUME_CHANGE", "VOLUME_RANGE", "Relaxed", "relax_batch"]

#: ASE's FIRE defaults: time step, largest step (Å), largest time step, steps before the
#: time step grows, its growth and decay, the mixing parameter and its decay.
#: Volumes per atom (Å^3) a relaxation may visit: the densest solids hold about 5.7, and a
#: cell far outside this range has collapsed or come apart (and a tiny one would make the
#: potential's neighbour list explode in memory).
VOLUME_RANGE = (2.0, 500.0)
#: How far a relaxation may shrink or swell a cell from where it started (volume ratio): a
#: structure a potential squeezes below a third of its start has collapsed, and on the way
#: its neighbour lists (and the potential's memory) grow with the density.
VOLUME_CHANGE = 3.0

FIRE = {"dt": 0.1, "maxstep": 0.2, "dtmax": 1.0, "nmin": 5, "finc": 1.1, "fdec": 0.5,
        "astart": 0.1, "fa": 0.99}  # fmt: skip


@dataclass
class Relaxed:
    """A relaxed structure: ``energy`` (eV/atom), ``converged``, ``steps`` and the largest
    generalized force left (``fmax``, eV/Å)."""

    structure: object
    energy: float
    converged: bool
    steps: int
    fmax: float
    trajectory: list[float] = field(default_factory=list)  # energy per atom per step


class _Fire:
    """FIRE state of one structure (ASE's algorithm on generalized coordinates)."""

    def __init__(self):
        self.v = None
        self.dt, self.a, self.n = FIRE["dt"], FIRE["astart"], 0

    def step(self, r: np.ndarray, f: np.ndarray) -> np.ndarray:
        if self.v is None:
            self.v = np.zeros_like(r)
        else:
            vf = float(np.vdot(f, self.v))
            if vf > 0.0:
                norm_f = np.sqrt(np.vdot(f, f))
                self.v = (1 - self.a) * self.v + self.a * f / max(norm_f, 1e-12) * np.sqrt(
                    np.vdot(self.v, self.v)
                )
                if self.n > FIRE["nmin"]:
                    self.dt = min(self.dt * FIRE["finc"], FIRE["dtmax"])
                    self.a *= FIRE["fa"]
                self.n += 1
            else:
                self.v[:] = 0.0
                self.a, self.dt, self.n = FIRE["astart"], self.dt * FIRE["fdec"], 0
        self.v += self.dt * f
        dr = self.dt * self.v
        norm = np.sqrt(np.vdot(dr, dr))
        if norm > FIRE["maxstep"]:
            dr *= FIRE["maxstep"] / norm
        return r + dr


def relax_batch(
    structures: Sequence, potential: Potential, *, fmax: float = 0.05, steps: int = 300
) -> list[Relaxed]:
    """Relax every structure (module docstring); the results in input order."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.filters import FrechetCellFilter
    from pymatgen.io.ase import AseAtomsAdaptor

    if fmax <= 0 or steps < 1:
        raise InvalidParameterError(f"fmax={fmax}, steps={steps}; expected fmax > 0, steps >= 1")
    atoms = [AseAtomsAdaptor.get_atoms(s) for s in structures]
    starts = [_volume_per_atom(a) for a in atoms]
    filters = [FrechetCellFilter(a) for a in atoms]
    fire = [_Fire() for _ in atoms]
    done: list[Relaxed | None] = [None] * len(atoms)
    energies: list[list[float]] = [[] for _ in atoms]
    for step in range(steps + 1):
        for i in [i for i, d in enumerate(done) if d is None and not _sane(atoms[i], starts[i])]:
            # collapsed or blown apart: the potential is far off its data, stop, no energy
            done[i] = Relaxed(AseAtomsAdaptor.get_structure(atoms[i]), float("nan"), False,
                              step, float("inf"), energies[i])  # fmt: skip
        active = [i for i, d in enumerate(done) if d is None]
        if not active:
            break
        current = [AseAtomsAdaptor.get_structure(atoms[i]) for i in active]
        for i, prediction, structure in zip(
            active, potential.predict(current), current, strict=True
        ):
            if not _finite(prediction):  # the potential broke down: stop, no energy
                done[i] = Relaxed(structure, float("nan"), False, step, float("inf"), energies[i])
                continue
            atoms[i].calc = SinglePointCalculator(
                atoms[i], energy=prediction["energy"] * len(atoms[i]),
                forces=prediction["forces"], stress=_voigt(prediction["stress"]),
            )  # fmt: skip
            energies[i].append(prediction["energy"])
            forces = filters[i].get_forces()
            largest = float(np.sqrt((forces**2).sum(axis=1)).max())
            if largest < fmax or step == steps:
                done[i] = Relaxed(structure, prediction["energy"], largest < fmax, step,
                                  largest, energies[i])  # fmt: skip
                continue
            filters[i].set_positions(fire[i].step(filters[i].get_positions(), forces))
    return done


def _volume_per_atom(atoms) -> float:
    return abs(float(np.linalg.det(atoms.cell[:]))) / len(atoms)


def _sane(atoms, start: float) -> bool:
    """Finite coordinates, a volume per atom within ``VOLUME_RANGE`` and within a factor
    ``VOLUME_CHANGE`` of ``start``."""
    if not (np.isfinite(atoms.positions).all() and np.isfinite(atoms.cell[:]).all()):
        return False
    volume = _volume_per_atom(atoms)
    return (VOLUME_RANGE[0] <= volume <= VOLUME_RANGE[1]
            and start / VOLUME_CHANGE <= volume <= start * VOLUME_CHANGE)  # fmt: skip


def _finite(prediction: dict) -> bool:
    """Whether the prediction holds only finite numbers."""
    return bool(np.isfinite(prediction["energy"]) and np.isfinite(prediction["forces"]).all()
                and np.isfinite(prediction["stress"]).all())  # fmt: skip


def _voigt(stress: np.ndarray) -> np.ndarray:
    """A 3x3 stress as ASE's Voigt 6-vector (xx, yy, zz, yz, xz, xy)."""
    s = np.asarray(stress, dtype=float).reshape(3, 3)
    return np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
