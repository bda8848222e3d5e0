"""Prototypes built from their Wyckoff positions have the space group and formula they
claim; candidate structures of a composition are distinct and cover the prototypes that fit."""

from __future__ import annotations

import pytest

from matlattice.errors import InvalidParameterError
from matlattice.structure.candidates import candidate_structures, spacegroup_frequencies
from matlattice.structure.prototypes import PROTOTYPES, decorate

KNOWN = {  # formula -> (prototype, space group number)
    "NaCl": ("rocksalt", 225), "CsCl": ("CsCl", 221), "ZnS": ("zincblende", 216),
    "GaN": ("wurtzite", 186), "NiAs": ("NiAs", 194), "CaF2": ("fluorite", 225),
    "TiO2": ("rutile", 136), "CdI2": ("CdI2", 164), "Al2O3": ("corundum", 167),
    "Cu3Au": ("Cu3Au", 221), "Nb3Sn": ("A15", 223), "SrTiO3": ("perovskite", 221),
    "MgAl2O4": ("spinel", 227), "Cu2MnAl": ("Heusler", 225), "TiNiSn": ("half-Heusler", 216),
    "Cu": ("fcc", 225), "W": ("bcc", 229), "Mg": ("hcp", 194), "Si": ("diamond", 227),
}  # fmt: skip


@pytest.mark.parametrize("formula", sorted(KNOWN))
def test_each_prototype_has_its_space_group_and_formula(formula):
    name, group = KNOWN[formula]
    built = [s for n, s in decorate(formula) if n == name]
    assert built, f"{name} does not fit {formula}"
    matches = [s for s in built if s.composition.reduced_formula == formula or
               s.composition.reduced_composition.almost_equals(
                   s.composition.reduced_composition.__class__(formula))]  # fmt: skip
    assert matches
    assert any(s.get_space_group_info()[1] == group for s in matches)
    for s in matches:  # no two atoms on top of each other
        distances = s.distance_matrix[s.distance_matrix > 0]
        assert distances.min() > 1.0


def test_every_prototype_is_exercised_and_odd_formulas_fit_none():
    assert {name for name, _ in KNOWN.values()} == {p.name for p in PROTOTYPES}
    assert decorate("Fe0.5Ni0.5") == [] and decorate("Li7La3Zr2O12") == []


@pytest.mark.slow
def test_candidates_are_distinct_and_seeded():
    from pymatgen.analysis.structure_matcher import StructureMatcher

    first = candidate_structures("TiO2", n_random=4, seed=1)
    again = candidate_structures("TiO2", n_random=4, seed=1)
    assert [c.source for c in first][:3] == ["fluorite", "rutile", "CdI2"]
    assert [c.spacegroup for c in first] == [c.spacegroup for c in again]
    matcher = StructureMatcher()
    for i, a in enumerate(first):
        assert a.structure.composition.reduced_formula == "TiO2"
        assert not any(matcher.fit(a.structure, b.structure) for b in first[i + 1 :])


def test_space_groups_are_drawn_from_the_materials_project_table():
    table = spacegroup_frequencies()
    assert table["count"].sum() > 80_000  # pyxtal's table of MP structures
    four = table[table["n_atoms"] == 4].set_index("spg")["count"]
    assert four.idxmax() == 221  # cubic four-atom cells (Cu3Au-like) lead


@pytest.mark.parametrize("bad", ["Xq2", "Fe0.5Ni0.5", "Li20O11Cl31"])
def test_bad_formulas_are_refused_by_name(bad):
    with pytest.raises(InvalidParameterError, match="formula"):
        candidate_structures(bad, n_random=1, max_atoms=24)
