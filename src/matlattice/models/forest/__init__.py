"""The random-forest reference peer (``MultiTaskForest``) and its array form for saving."""

from matlattice.models.forest.arrays import ForestArrays, forest_to_arrays
from matlattice.models.forest.estimator import MultiTaskForest

__all__ = ["ForestArrays", "MultiTaskForest", "forest_to_arrays"]
