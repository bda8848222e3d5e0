"""Batched relaxation with CHGNet: rock salt NaCl relaxes to its experimental volume
(within 5 %) and lies below the CsCl structure; batches and one-at-a-time agree."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.errors import InvalidParameterError
from matlattice.structure.potentials import CHGNetPotential
from matlattice.structure.prototypes import decorate
from matlattice.structure.relax import relax_batch


@pytest.fixture(scope="module")
def potential():
    return CHGNetPotential(batch_size=8)


@pytest.mark.slow
def test_rock_salt_is_the_ground_state_of_nacl_at_its_volume(potential):
    built = dict(decorate("NaCl"))
    structures = [built["rocksalt"], built["CsCl"]]
    together = relax_batch(structures, potential, fmax=0.05, steps=150)
    rocksalt, cscl = together
    assert rocksalt.converged and cscl.converged
    assert rocksalt.energy < cscl.energy  # eV/atom
    volume = rocksalt.structure.volume / len(rocksalt.structure)
    assert abs(volume / 22.4 - 1) < 0.05  # a = 5.64 A: 22.4 A^3/atom
    assert rocksalt.structure.get_space_group_info()[1] == 225
    alone = relax_batch([built["rocksalt"]], CHGNetPotential(batch_size=1), fmax=0.05, steps=150)
    assert np.isclose(alone[0].energy, rocksalt.energy, atol=1e-4)


def test_bad_settings_are_refused():
    with pytest.raises(InvalidParameterError, match="fmax"):
        relax_batch([], CHGNetPotential(), fmax=0.0)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        CHGNetPotential(batch_size=0)


@pytest.mark.slow
def test_sevennet_agrees_on_rock_salt_and_batches_like_single_calls():
    from matlattice.structure.potentials import SevenNetPotential

    built = dict(decorate("NaCl"))
    structures = [built["rocksalt"], built["CsCl"], built["zincblende"]]
    together = SevenNetPotential(batch_size=8).predict(structures)
    alone = [SevenNetPotential(batch_size=1).predict([s])[0] for s in structures]
    for a, b in zip(together, alone, strict=True):
        assert np.isclose(a["energy"], b["energy"], atol=1e-5)
        assert np.allclose(a["forces"], b["forces"], atol=1e-4)
        assert np.allclose(a["stress"], b["stress"], atol=1e-5)
    rocksalt, cscl = relax_batch(structures[:2], SevenNetPotential(), steps=150)
    assert rocksalt.energy < cscl.energy
    assert abs(rocksalt.structure.volume / len(rocksalt.structure) / 22.4 - 1) < 0.05


def test_unknown_potentials_and_devices_are_refused():
    from matlattice.structure.potentials import load_potential

    with pytest.raises(InvalidParameterError, match="mace"):
        load_potential("mace")
    with pytest.raises(InvalidParameterError, match="device"):
        load_potential("chgnet", device="tpu")


@pytest.mark.slow
def test_chgnet_gives_no_energy_to_a_blown_apart_cell_and_keeps_the_others():
    """CHGNet refuses a structure with an atom that has no neighbour within 6 Å; in a batch
    that one gets NaN (relax_batch stops it) and the others their prediction, unchanged."""
    from pymatgen.core import Lattice, Structure

    from matlattice.structure.potentials import CHGNetPotential

    salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])  # fmt: skip
    apart = Structure(Lattice.cubic(14.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    potential = CHGNetPotential(batch_size=4)
    alone = potential.predict([salt])[0]
    both = potential.predict([salt, apart])
    assert both[0]["energy"] == pytest.approx(alone["energy"], abs=1e-6)
    assert np.isnan(both[1]["energy"]) and np.isnan(both[1]["forces"]).all()
