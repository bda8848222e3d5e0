"""Common crystal prototypes, written from their published Wyckoff positions, decorated by a
composition where its formula fits.

Each :class:`Prototype` names its space group, its sites as (role, Wyckoff letter,
fractional coordinates of one representative), the amount of each role per formula unit and
a lattice shape (cubic, hexagonal with c/a, tetragonal with c/a, rhombohedral in the
hexagonal setting). :func:`decorate` gives every structure of every prototype whose role
amounts match the reduced formula (each assignment of elements to roles with the right
amounts), scaled to a first-guess volume from the elements' atomic radii (relaxation sets the
true one). The sites of each prototype are expanded over its space group once (pymatgen's
``SpaceGroup.get_orbit``, as ``Structure.from_spacegroup`` does; building a ``SpaceGroup``
takes ~0.9 s, so it is cached per prototype).

Sources of the positions: the standard descriptions of the structure types (e.g. the
AFLOW library of crystallographic prototypes, Mehl et al., Comput. Mater. Sci. 2017).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import permutations

import numpy as np

__all__ = ["PROTOTYPES", "Prototype", "decorate"]


@dataclass(frozen=True)
class Prototype:
    """One structure type (module docstring)."""

    name: str
    spacegroup: int
    sites: tuple[tuple[str, str, tuple[float, float, float]], ...]  # (role, letter, xyz)
    amounts: tuple[tuple[str, int], ...]  # (role, amount per formula unit)
    shape: str = "cubic"  # cubic | hexagonal | tetragonal | rhombohedral
    c_over_a: float = 1.0

    def lattice(self, a: float):
        from pymatgen.core import Lattice

        if self.shape == "cubic":
            return Lattice.cubic(a)
        if self.shape == "tetragonal":
            return Lattice.tetragonal(a, a * self.c_over_a)
        return Lattice.hexagonal(a, a * self.c_over_a)  # hexagonal, rhombohedral (hex. setting)


_Q, _H = 0.25, 0.5
PROTOTYPES: tuple[Prototype, ...] = (
    Prototype("fcc", 225, (("A", "4a", (0, 0, 0)),), (("A", 1),)),
    Prototype("bcc", 229, (("A", "2a", (0, 0, 0)),), (("A", 1),)),
    Prototype("hcp", 194, (("A", "2c", (1 / 3, 2 / 3, _Q)),), (("A", 1),), "hexagonal", 1.633),
    Prototype("diamond", 227, (("A", "8a", (0, 0, 0)),), (("A", 1),)),  # origin choice 1
    Prototype("rocksalt", 225, (("A", "4a", (0, 0, 0)), ("B", "4b", (_H, _H, _H))),
              (("A", 1), ("B", 1))),
    Prototype("CsCl", 221, (("A", "1a", (0, 0, 0)), ("B", "1b", (_H, _H, _H))),
              (("A", 1), ("B", 1))),
    Prototype("zincblende", 216, (("A", "4a", (0, 0, 0)), ("B", "4c", (_Q, _Q, _Q))),
              (("A", 1), ("B", 1))),
    Prototype("wurtzite", 186, (("A", "2b", (1 / 3, 2 / 3, 0)),
                                ("B", "2b", (1 / 3, 2 / 3, 0.375))),
              (("A", 1), ("B", 1)), "hexagonal", 1.633),
    Prototype("NiAs", 194, (("A", "2a", (0, 0, 0)), ("B", "2c", (1 / 3, 2 / 3, _Q))),
              (("A", 1), ("B", 1)), "hexagonal", 1.39),
    Prototype("fluorite", 225, (("A", "4a", (0, 0, 0)), ("B", "8c", (_Q, _Q, _Q))),
              (("A", 1), ("B", 2))),
    Prototype("rutile", 136, (("A", "2a", (0, 0, 0)), ("B", "4f", (0.305, 0.305, 0))),
              (("A", 1), ("B", 2)), "tetragonal", 0.644),
    Prototype("CdI2", 164, (("A", "1a", (0, 0, 0)), ("B", "2d", (1 / 3, 2 / 3, _Q))),
              (("A", 1), ("B", 2)), "hexagonal", 1.6),
    Prototype("corundum", 167, (("A", "12c", (0, 0, 0.352)), ("B", "18e", (0.306, 0, _Q))),
              (("A", 2), ("B", 3)), "rhombohedral", 2.73),
    Prototype("Cu3Au", 221, (("A", "1a", (0, 0, 0)), ("B", "3c", (0, _H, _H))),
              (("A", 1), ("B", 3))),
    Prototype("A15", 223, (("A", "2a", (0, 0, 0)), ("B", "6c", (_Q, 0, _H))),
              (("A", 1), ("B", 3))),
    Prototype("perovskite", 221, (("A", "1b", (_H, _H, _H)), ("B", "1a", (0, 0, 0)),
                                  ("X", "3d", (_H, 0, 0))),
              (("A", 1), ("B", 1), ("X", 3))),
    Prototype("spinel", 227, (("A", "8a", (0, 0, 0)), ("B", "16d", (0.625, 0.625, 0.625)),
                              ("X", "32e", (0.3875, 0.3875, 0.3875))),  # origin choice 1
              (("A", 1), ("B", 2), ("X", 4))),
    Prototype("Heusler", 225, (("X", "8c", (_Q, _Q, _Q)), ("Y", "4a", (0, 0, 0)),
                               ("Z", "4b", (_H, _H, _H))),
              (("X", 2), ("Y", 1), ("Z", 1))),
    Prototype("half-Heusler", 216, (("X", "4c", (_Q, _Q, _Q)), ("Y", "4a", (0, 0, 0)),
                                    ("Z", "4b", (_H, _H, _H))),
              (("X", 1), ("Y", 1), ("Z", 1))),
)  # fmt: skip


def _assignments(prototype: Prototype, amounts: dict[str, int]) -> Iterator[dict[str, str]]:
    """Each ``{role: element}`` whose role amounts equal the reduced formula's amounts."""
    roles = [r for r, _ in prototype.amounts]
    wanted = dict(prototype.amounts)
    if len(roles) != len(amounts):
        return
    for elements in permutations(sorted(amounts), len(roles)):
        if all(amounts[e] == wanted[r] for r, e in zip(roles, elements, strict=True)):
            yield dict(zip(roles, elements, strict=True))


def integer_amounts(formula: str) -> dict[str, float]:
    """The formula's amounts divided by their greatest common divisor (``{"Cl": 1}`` for Cl2,
    where pymatgen's reduced formula keeps the molecule); non-integer amounts as given."""
    from math import gcd

    from pymatgen.core import Composition

    amounts = {str(e): a for e, a in Composition(formula).items()}
    if all(abs(a - round(a)) < 1e-6 and round(a) > 0 for a in amounts.values()):
        divisor = 0
        for a in amounts.values():
            divisor = gcd(divisor, round(a))
        return {e: round(a) // divisor for e, a in amounts.items()}
    return amounts


#: Elements whose elemental solids are molecular (H2, N2, O2, halogens, noble gases): their
#: molecules sit van der Waals radii apart, so their first guess uses that radius.
MOLECULAR = frozenset({"H", "N", "O", "F", "Cl", "Br", "I", "He", "Ne", "Ar", "Kr", "Xe"})


def first_guess_volume(structure) -> float:
    """Sum of the atoms' spheres (pymatgen's atomic radii; van der Waals radii for an
    elemental solid of a ``MOLECULAR`` element) over a packing fraction of 0.5."""
    elements = {site.specie.symbol for site in structure}
    if len(elements) == 1 and elements <= MOLECULAR:
        radius = float(structure[0].specie.van_der_waals_radius)
        return float(len(structure) * 4.0 / 3.0 * np.pi * radius**3 / 0.5)
    radii = [float(site.specie.atomic_radius or 1.5) for site in structure]
    return float(sum(4.0 / 3.0 * np.pi * r**3 for r in radii) / 0.5)


@cache
def _orbit_sites(prototype: Prototype) -> tuple[tuple[str, np.ndarray], ...]:
    """``(role, fractional coordinates)`` of every site of the prototype's unit cell."""
    from pymatgen.symmetry.groups import SpaceGroup

    group = SpaceGroup.from_int_number(prototype.spacegroup)
    return tuple(
        (role, coords)
        for role, _, xyz in prototype.sites
        for coords in group.get_orbit(np.asarray(xyz, dtype=float), tol=1e-5)
    )


def decorate(formula: str) -> list[tuple[str, object]]:
    """``(prototype name, Structure)`` for every prototype and element assignment that fits
    the reduced formula of ``formula``, each scaled to :func:`first_guess_volume`."""
    from pymatgen.core import Structure

    amounts = integer_amounts(formula)
    if any(not isinstance(a, int) for a in amounts.values()):
        return []
    out = []
    for prototype in PROTOTYPES:
        for roles in _assignments(prototype, amounts):
            sites = _orbit_sites(prototype)
            structure = Structure(
                prototype.lattice(5.0), [roles[role] for role, _ in sites], [c for _, c in sites]
            )
            structure.scale_lattice(first_guess_volume(structure))
            out.append((prototype.name, structure))
    return out
