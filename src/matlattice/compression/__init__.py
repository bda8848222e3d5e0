"""Compression-fidelity (seed 000, EDL): what survives as embeddings shrink, and which width
to use."""

from matlattice.compression.choose import adaptive_width, knee_dim, pareto_front, recommended_dim
from matlattice.compression.metrics import (
    knn_overlap,
    linear_cka,
    miscalibration_area,
    normalised_fidelity,
    per_sample_knn_overlap,
    predictive_scores,
)
from matlattice.compression.sweep import FidelityResult, chemical_family, fidelity_sweep
from matlattice.compression.width import fit_width
from matlattice.runtime.executor import LocalExecutor, RayExecutor, get_executor

__all__ = [
    "FidelityResult",
    "LocalExecutor",
    "RayExecutor",
    "adaptive_width",
    "chemical_family",
    "fidelity_sweep",
    "fit_width",
    "get_executor",
    "knee_dim",
    "knn_overlap",
    "linear_cka",
    "miscalibration_area",
    "normalised_fidelity",
    "pareto_front",
    "per_sample_knn_overlap",
    "predictive_scores",
    "recommended_dim",
]
