"""The baseline generators: data-mined ion exchange (the peer) and random valid enumeration."""

from __future__ import annotations

import numpy as np

from matlattice.design.constraints import DesignConstraints, check_compositions
from matlattice.design.enumeration import RandomEnumeration
from matlattice.design.substitution import IonExchange


def test_ion_exchange_makes_charge_balanced_children_of_likely_substitutions():
    children = IonExchange(top=3)(["MgO", "NaCl", "MgAl2O4"], 40, np.random.default_rng(0))
    assert len(children) == 40 and len(set(children)) == 40
    assert {"CaO", "ZnO", "KCl", "NaBr"} <= set(children)  # the textbook exchanges
    assert not {"MgO", "NaCl", "MgAl2O4"} & set(children)
    assert check_compositions(children)["chemistry"].all()


def test_ion_exchange_skips_parents_without_ions():
    assert IonExchange()(["Fe3Al", "Cu"], 10, np.random.default_rng(0)) == []


def test_random_enumeration_is_valid_new_and_reproducible():
    parents = ["MgO", "NaCl", "MgAl2O4", "SrTiO3", "LiFePO4"]
    rules = DesignConstraints(max_atoms=12)
    one = RandomEnumeration(constraints=rules)(parents, 50, np.random.default_rng(3))
    two = RandomEnumeration(constraints=rules)(parents, 50, np.random.default_rng(3))
    assert one == two and len(set(one)) == 50
    checked = check_compositions(one, rules)
    assert checked["passes"].all()
    pool = {"Mg", "O", "Na", "Cl", "Al", "Sr", "Ti", "Li", "Fe", "P"}
    assert all(set(check_compositions([c]).iloc[0]["reduced"]) for c in one)
    from pymatgen.core import Composition

    assert all({e.symbol for e in Composition(c).elements} <= pool for c in one)
