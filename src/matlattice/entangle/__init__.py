"""Property entanglement lattice (seed 002, PEL): measure, classify, gate and steer the coupling
between properties learned through one shared embedding."""

from matlattice.entangle.coupling import (
    data_coupling,
    gradient_cosines,
    head_activation_cka,
    head_alignment,
    lookahead_affinity,
    task_gradients,
)
from matlattice.entangle.dependence import label_dependence
from matlattice.entangle.lattice import (
    GATES,
    REGIME_THRESHOLDS,
    Lattice,
    build_lattice,
    classify_regime,
)
from matlattice.entangle.measures import MEASURE_WEIGHTS, CouplingMeasures
from matlattice.entangle.monitor import CouplingMonitor
from matlattice.entangle.pipeline import EntanglementResult, entanglement_lattice
from matlattice.entangle.transfer import transfer_gains

__all__ = [
    "GATES",
    "MEASURE_WEIGHTS",
    "REGIME_THRESHOLDS",
    "CouplingMeasures",
    "CouplingMonitor",
    "EntanglementResult",
    "Lattice",
    "build_lattice",
    "classify_regime",
    "data_coupling",
    "entanglement_lattice",
    "gradient_cosines",
    "head_activation_cka",
    "head_alignment",
    "label_dependence",
    "lookahead_affinity",
    "task_gradients",
    "transfer_gains",
]
