"""A cheap, exact stand-in potential for the structure stage: ASE's effective-medium theory
(EMT; Cu, Ag, Au, Ni, Pd, Pt, Al), so searches, checkpoints and runs are tested in seconds."""

from __future__ import annotations

import numpy as np
import pytest


class EMTPotential:
    """ASE's EMT behind the :class:`~matlattice.structure.potentials.Potential` protocol."""

    name = "emt"
    mp2020_corrected = True

    def __init__(self):
        self.calls = 0

    def predict(self, structures):
        from ase.calculators.emt import EMT
        from pymatgen.io.ase import AseAtomsAdaptor

        self.calls += 1
        out = []
        for structure in structures:
            atoms = AseAtomsAdaptor.get_atoms(structure)
            atoms.calc = EMT()
            xx, yy, zz, yz, xz, xy = atoms.get_stress()
            stress = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
            out.append({"energy": atoms.get_potential_energy() / len(atoms),
                        "forces": atoms.get_forces(), "stress": stress})  # fmt: skip
        return out


@pytest.fixture
def emt():
    return EMTPotential()


@pytest.fixture
def structure_cache(tmp_path, monkeypatch):
    """A fresh cache for reference energies."""
    monkeypatch.setenv("MATLATTICE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
