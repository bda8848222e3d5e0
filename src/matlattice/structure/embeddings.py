"""Structure embeddings: what a pretrained potential has learnt about a crystal, as numbers.

Seed 000's foundation embedding models read structure. CHGNet sums the atom features of its
last interaction layer into one 64-number crystal feature per structure; divided by the
number of atoms it is a per-atom mean that a supercell leaves unchanged.
:func:`crystal_features` returns it for any structures, and
:func:`composition_structure_features` for formulas, by way of the lowest-energy structure
the structure stage finds for each (so a composition with no listed structure still gets
one). A formula the stage cannot give a crystal gets a row of NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["CRYSTAL_FEATURES", "composition_structure_features", "crystal_features"]

#: Width of CHGNet 0.3.0's crystal feature.
CRYSTAL_FEATURES = 64


def crystal_features(structures: Sequence, *, device: str = "cpu", batch_size: int = 16):
    """``(n, 64)`` CHGNet crystal features (per atom) of pymatgen ``structures``."""
    from matlattice.structure.potentials import CHGNetPotential

    if not len(structures):
        return np.empty((0, CRYSTAL_FEATURES))
    model = CHGNetPotential(device, batch_size).model
    out = model.predict_structure(list(structures), task="e", return_crystal_feas=True,
                                  batch_size=batch_size)  # fmt: skip
    out = [out] if isinstance(out, dict) else out
    return np.stack([np.asarray(p["crystal_fea"], dtype=float) / len(s)
                     for p, s in zip(out, structures, strict=True)])  # fmt: skip


def composition_structure_features(
    formulas: Sequence[str],
    potential,
    *,
    checkpoint: Path | None = None,
    device: str = "cpu",
    **search,
) -> tuple[np.ndarray, list]:
    """``(n, 64)`` crystal features of each formula's lowest relaxed structure (found by
    :func:`~matlattice.structure.search.search_structures` with ``potential`` and ``search``
    settings) and those structures (None where no crystal came out: a NaN row)."""
    from matlattice.structure.candidates import crystal_refusal
    from matlattice.structure.search import search_structures

    limit = search.get("max_atoms", 24)
    ready = [f for f in dict.fromkeys(formulas) if not crystal_refusal(f, limit)]
    found = search_structures(ready, potential, checkpoint=checkpoint, **search)
    best = {f.formula: f.structure for f in found if f.rank == 1 and np.isfinite(f.energy_per_atom)}
    structures = [best.get(f) for f in formulas]
    rows = [i for i, s in enumerate(structures) if s is not None]
    features = np.full((len(formulas), CRYSTAL_FEATURES), np.nan)
    if rows:
        features[rows] = crystal_features([structures[i] for i in rows], device=device)
    return features, structures
