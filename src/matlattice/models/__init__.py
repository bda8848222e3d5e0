"""Models: learned embeddings with a bottleneck (attention / MLP encoders) and the
random-forest reference peer."""

from matlattice.models.encoders import AttentionEncoder, MLPEncoder, MultiTaskNet
from matlattice.models.forest import MultiTaskForest
from matlattice.models.forest_arrays import ForestArrays, forest_to_arrays
from matlattice.models.lattice import LatticeClassifier, LatticeRegressor
from matlattice.models.scaling import TargetScaler
from matlattice.models.training import TrainConfig, TrainingMonitor, train_network

__all__ = [
    "AttentionEncoder",
    "ForestArrays",
    "LatticeClassifier",
    "LatticeRegressor",
    "MLPEncoder",
    "MultiTaskForest",
    "MultiTaskNet",
    "TargetScaler",
    "TrainConfig",
    "TrainingMonitor",
    "forest_to_arrays",
    "train_network",
]
