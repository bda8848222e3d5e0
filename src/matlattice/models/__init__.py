"""Models: learned embeddings with a bottleneck (attention / MLP encoders) and the
random-forest reference peer."""

from matlattice.models.estimator.regressor import LatticeClassifier, LatticeRegressor
from matlattice.models.estimator.scaling import TargetScaler
from matlattice.models.forest.arrays import ForestArrays, forest_to_arrays
from matlattice.models.forest.estimator import MultiTaskForest
from matlattice.models.networks.encoders import AttentionEncoder, MLPEncoder, MultiTaskNet
from matlattice.models.networks.training import TrainConfig, TrainingMonitor, train_network

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
