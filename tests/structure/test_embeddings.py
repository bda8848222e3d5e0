"""CHGNet crystal features: per atom (a supercell is the same crystal), sensitive to the
structure (a strained cell differs), and a formula without a crystal gets a NaN row."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.structure.embeddings import (
    CRYSTAL_FEATURES,
    composition_structure_features,
    crystal_features,
)


@pytest.mark.slow
def test_crystal_features_are_per_atom_and_see_the_structure():
    from pymatgen.core import Lattice, Structure

    salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])  # fmt: skip
    supercell = salt.copy()
    supercell.make_supercell([2, 1, 1])
    strained = salt.copy()
    strained.scale_lattice(salt.volume * 1.3)
    features = crystal_features([salt, supercell, strained])
    assert features.shape == (3, CRYSTAL_FEATURES)
    assert np.allclose(features[0], features[1], atol=1e-4)
    assert np.abs(features[0] - features[2]).max() > 0.05
    assert crystal_features([]).shape == (0, CRYSTAL_FEATURES)


@pytest.mark.slow
def test_formulas_get_the_features_of_their_lowest_structure(emt, structure_cache):
    features, structures = composition_structure_features(["Cu3Au", "Cu2.5Au"], emt,
                                                          n_random=1, seed=0)  # fmt: skip
    assert structures[1] is None and np.isnan(features[1]).all()
    assert np.allclose(features[0], crystal_features([structures[0]])[0])
    assert structures[0].composition.reduced_formula == "Cu3Au"
