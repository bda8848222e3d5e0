"""Models: the random-forest reference peer (encoders with a bottleneck come next)."""

from matlattice.models.forest import MultiTaskForest
from matlattice.models.forest_arrays import ForestArrays, forest_to_arrays

__all__ = ["ForestArrays", "MultiTaskForest", "forest_to_arrays"]
