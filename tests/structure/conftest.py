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


@pytest.fixture(scope="session")
def emt_references(tmp_path_factory):
    """Element and phase energies relaxed by EMT in this test session, by kind."""
    return tmp_path_factory.mktemp("emt_references")


@pytest.fixture
def warm_structure_cache(structure_cache, emt_references):
    """A fresh cache that already holds the EMT reference energies earlier tests relaxed.

    Every stand-in (``emt``, ``emt-chgnet``, ...) is the same EMT, so their reference energies
    are the same numbers: the relaxations behind them are paid once per session instead of
    once per test and name. Tests of the caching itself take the cold ``structure_cache``."""
    import json
    import shutil

    folder = structure_cache / "structure"
    folder.mkdir(parents=True, exist_ok=True)
    names = ("emt", "emt-chgnet", "emt-sevennet")
    for kind in ("elements", "phases"):
        shared = emt_references / f"{kind}.json"
        if shared.is_file():
            for name in names:
                shutil.copy(shared, folder / f"{kind}-{name}.json")
    yield structure_cache
    for kind in ("elements", "phases"):
        merged = {}
        for path in [emt_references / f"{kind}.json", *folder.glob(f"{kind}-emt*.json")]:
            if path.is_file():
                merged.update(json.loads(path.read_text()))
        (emt_references / f"{kind}.json").write_text(json.dumps(merged))
