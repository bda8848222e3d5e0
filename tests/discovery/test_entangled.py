"""The lattice picks the coupled property: strongest ungated edge, optionally among the cheap."""

import pytest

from matlattice.discovery.entangled import coupled_property
from matlattice.errors import MatlatticeError

LATTICE = {
    "tasks": ["bulk", "shear", "energy", "gap", "copy"],
    "edges": [
        {"source": "bulk", "target": "shear", "weight": 0.54, "gated": False},
        {"source": "energy", "target": "bulk", "weight": 0.25, "gated": False},
        {"source": "bulk", "target": "energy", "weight": 0.24, "gated": False},
        {"source": "gap", "target": "bulk", "weight": 0.11, "gated": False},
        {"source": "copy", "target": "bulk", "weight": 0.99, "gated": True},
        {"source": "shear", "target": "gap", "weight": 0.9, "gated": False},
    ],
}


def test_strongest_ungated_neighbour_wins():
    assert coupled_property(LATTICE, "bulk") == ("shear", 0.54)  # the gated copy is skipped
    assert coupled_property(LATTICE, "bulk", among=["energy", "gap"]) == ("energy", 0.25)
    with pytest.raises(MatlatticeError, match="'density' is not a property"):
        coupled_property(LATTICE, "density")
    with pytest.raises(MatlatticeError, match="no ungated edge"):
        coupled_property(LATTICE, "bulk", among=["copy"])
