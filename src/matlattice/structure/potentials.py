"""Pretrained interatomic potentials behind one protocol, each predicting many structures
per model call.

A :class:`Potential` has a ``name`` and ``predict(structures)``: per structure the energy
per atom (eV/atom), the forces (eV/Å) and the stress (ASE's sign convention, eV/Å³).

- :class:`CHGNetPotential`: CHGNet 0.3.0, pretrained on MPtrj (weights inside the ``chgnet``
  wheel). The default: cheap.
- :class:`SevenNetPotential`: SevenNet-0 (``7net-0``; weights inside the ``sevenn`` wheel),
  or ``7net-l3i5``; the second opinion and the more expensive fidelity. Structures are
  turned into SevenNet's graphs and collated into one torch-geometric batch per call.

:func:`load_potential` builds one by name; both work on ``"cpu"`` and ``"cuda"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from matlattice.errors import InvalidParameterError

__all__ = [
    "POTENTIALS",
    "POTENTIAL_NAMES",
    "CHGNetPotential",
    "Potential",
    "SevenNetPotential",
    "load_potential",
]


class Potential(Protocol):
    """What relaxes: a name and batched predictions."""

    name: str
    #: whether its energies are on Materials Project's corrected (MP2020) scale
    mp2020_corrected: bool

    def predict(self, structures: Sequence) -> list[dict]:
        """Per structure ``{"energy": eV/atom, "forces": (n, 3) eV/Å, "stress": (3, 3)
        eV/Å³}``."""


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise InvalidParameterError(f"batch_size={batch_size}; expected >= 1")


def _check_device(device: str) -> None:
    import torch

    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise InvalidParameterError(f"device={device!r}; expected 'cpu' or 'cuda'")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidParameterError(f"device={device!r} but torch sees no CUDA device")


class CHGNetPotential:
    """CHGNet 0.3.0 (module docstring). ``batch_size``: structures per model call."""

    name = "chgnet"
    mp2020_corrected = True  # trained on MPtrj's corrected energies

    def __init__(self, device: str = "cpu", batch_size: int = 16):
        _check_batch_size(batch_size)
        _check_device(device)
        self.device, self.batch_size = device, batch_size
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from chgnet.model import CHGNet

            self._model = CHGNet.load(verbose=False, use_device=self.device)
        return self._model

    def predict(self, structures: Sequence) -> list[dict]:
        """Energy, forces, stress of each structure; a structure CHGNet refuses (an atom with
        no neighbour within its 6 Å cutoff: a cell blown apart) gets NaN, the others their
        prediction."""
        from ase.units import GPa

        if not len(structures):
            return []
        try:
            out = self.model.predict_structure(list(structures), task="efs",
                                               batch_size=self.batch_size)  # fmt: skip
        except ValueError as error:
            if "isolated atom" not in str(error):
                raise
            out = [self._one(s) for s in structures]
        out = [out] if isinstance(out, dict) else out
        return [
            {"energy": float(p["e"]), "forces": np.asarray(p["f"], dtype=float),
             "stress": np.asarray(p["s"], dtype=float) * GPa}
            for p in out
        ]  # fmt: skip

    def _one(self, structure) -> dict:
        """CHGNet's raw prediction of one structure; NaN where it refuses it."""
        try:
            return self.model.predict_structure(structure, task="efs")
        except ValueError as error:
            if "isolated atom" not in str(error):
                raise
            return {"e": np.nan, "f": np.full((len(structure), 3), np.nan),
                    "s": np.full((3, 3), np.nan)}  # fmt: skip


class SevenNetPotential:
    """SevenNet (module docstring). ``model``: ``"7net-0"`` or ``"7net-l3i5"``."""

    MODELS = ("7net-0", "7net-l3i5")
    mp2020_corrected = False  # trained on MPtrj's raw DFT energies

    def __init__(self, device: str = "cpu", batch_size: int = 16, model: str = "7net-0"):
        _check_batch_size(batch_size)
        _check_device(device)
        if model not in self.MODELS:
            raise InvalidParameterError(f"SevenNet model {model!r}; expected one of {self.MODELS}")
        self.device, self.batch_size, self.checkpoint = device, batch_size, model
        self.name = "sevennet" if model == "7net-0" else f"sevennet-{model.split('-')[1]}"
        self._model = None

    @property
    def model(self):
        if self._model is None:
            import warnings

            from sevenn import util

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "no tensor-product accelerator" notices
                model = util.load_checkpoint(self.checkpoint).build_model()
            model.set_is_batch_data(True)
            self._model = model.to(self.device).eval()
        return self._model

    def _graphs(self, structures: Sequence) -> list:
        from pymatgen.io.ase import AseAtomsAdaptor
        from sevenn.atom_graph_data import AtomGraphData
        from sevenn.train.dataload import unlabeled_atoms_to_graph

        known = set(self.model.type_map)
        graphs = []
        for structure in structures:
            unknown = {s.Z for s in structure.species} - known
            if unknown:
                raise InvalidParameterError(
                    f"{structure.composition.reduced_formula}: SevenNet has no parameters "
                    f"for atomic number(s) {sorted(unknown)}"
                )
            atoms = AseAtomsAdaptor.get_atoms(structure)
            graph = unlabeled_atoms_to_graph(atoms, self.model.cutoff, with_shift=False)
            graphs.append(AtomGraphData.from_numpy_dict(graph))
        return graphs

    def predict(self, structures: Sequence) -> list[dict]:
        import sevenn._keys as key
        from torch_geometric.data import Batch

        out: list[dict] = []
        for start in range(0, len(structures), self.batch_size):
            chunk = structures[start : start + self.batch_size]
            result = self.model(Batch.from_data_list(self._graphs(chunk)).to(self.device))
            sizes = result[key.NUM_ATOMS].tolist()
            energies = result[key.PRED_TOTAL_ENERGY].detach().cpu().numpy()
            forces = np.split(result[key.PRED_FORCE].detach().cpu().numpy(), np.cumsum(sizes)[:-1])
            stresses = -result[key.PRED_STRESS].detach().cpu().numpy()  # xx yy zz xy yz zx
            for n, energy, force, s in zip(sizes, energies, forces, stresses, strict=True):
                tensor = np.array([[s[0], s[3], s[5]], [s[3], s[1], s[4]], [s[5], s[4], s[2]]])
                out.append({"energy": float(energy) / n, "forces": force.astype(float),
                            "stress": tensor.astype(float)})  # fmt: skip
        return out


POTENTIALS = {"chgnet": CHGNetPotential, "sevennet": SevenNetPotential}
POTENTIAL_NAMES = ("chgnet", "sevennet", "sevennet-l3i5")


def load_potential(name: str, device: str = "cpu", batch_size: int = 16) -> Potential:
    """The potential called ``name`` (``chgnet``, ``sevennet`` or ``sevennet-l3i5``)."""
    if name == "sevennet-l3i5":
        return SevenNetPotential(device, batch_size, model="7net-l3i5")
    if name not in POTENTIALS:
        raise InvalidParameterError(f"potential {name!r}; expected one of {POTENTIAL_NAMES}")
    return POTENTIALS[name](device, batch_size)
