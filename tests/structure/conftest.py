"""A cheap, exact stand-in potential for the structure stage: ASE's effective-medium theory
(EMT; Cu, Ag, Au, Ni, Pd, Pt, Al), so searches, checkpoints and runs are tested in seconds."""

from __future__ import annotations

import contextlib
import fcntl

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


@contextlib.contextmanager
def _merge_lock(folder):
    """Wait for, then hold, the lock of the shared references (one worker at a time)."""
    with open(folder / "merge.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def emt_references(tmp_path_factory, worker_id):
    """Element and phase energies relaxed by EMT in this test session, by kind; one folder for
    all xdist workers of the session (their base folders share a parent)."""
    if worker_id == "master":
        return tmp_path_factory.mktemp("emt_references")
    shared = tmp_path_factory.getbasetemp().parent / "emt_references"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture
def warm_structure_cache(structure_cache, emt_references, monkeypatch):
    """A fresh cache that already holds the EMT reference energies earlier tests relaxed.

    Every stand-in (``emt``, ``emt-chgnet``, ...) is the same EMT, so their reference energies
    are the same numbers: all names read and write one file per kind, and the relaxations
    behind them are paid once per session (all workers) instead of once per test and name.
    Tests of the caching itself take the cold ``structure_cache``."""
    import json
    import shutil

    import matlattice.structure.references as references

    folder = structure_cache / "structure"
    folder.mkdir(parents=True, exist_ok=True)
    with _merge_lock(emt_references):
        for kind in ("elements", "phases"):
            if (emt_references / f"{kind}-emt.json").is_file():
                shutil.copy(emt_references / f"{kind}-emt.json", folder / f"{kind}-emt.json")
    monkeypatch.setattr(references, "_cache_path", lambda kind, *_: folder / f"{kind}-emt.json")
    yield structure_cache
    with _merge_lock(emt_references):  # workers merge one at a time
        for kind in ("elements", "phases"):
            merged = {}
            for path in (emt_references / f"{kind}-emt.json", folder / f"{kind}-emt.json"):
                if path.is_file():
                    merged.update(json.loads(path.read_text()))
            (emt_references / f"{kind}-emt.json").write_text(json.dumps(merged))
