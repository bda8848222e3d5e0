"""Inverse design (seed 000's generative traversal, seed 001's hierarchical inverse design,
seed 002's lattice as feasible manifold): propose compositions nobody listed, check them,
rank them, and prove it by rediscovery of held-out chemical systems.

A generator is any callable ``generator(parents, n, rng) -> list[str]`` (``parents``: known
formulas, best first), the protocol of :mod:`matlattice.discovery.generators`.
"""

from matlattice.design.closed_loop import campaign_generator
from matlattice.design.constraints import CHECKS, DesignConstraints, check_compositions
from matlattice.design.designer import Designer, model_predictor
from matlattice.design.enumeration import RandomEnumeration
from matlattice.design.mined import MinedSubstitution, SubstitutionTable
from matlattice.design.objectives import DesignTarget, meet_probability, parse_target
from matlattice.design.rediscovery import hold_out_systems, rediscovery_recall
from matlattice.design.substitution import IonExchange

__all__ = [
    "CHECKS",
    "DesignConstraints",
    "DesignTarget",
    "Designer",
    "IonExchange",
    "MinedSubstitution",
    "RandomEnumeration",
    "SubstitutionTable",
    "campaign_generator",
    "check_compositions",
    "hold_out_systems",
    "meet_probability",
    "model_predictor",
    "parse_target",
    "rediscovery_recall",
]
