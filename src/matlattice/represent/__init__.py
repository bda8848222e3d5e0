"""Representations of compositions: element tables and composition featurisers."""

from matlattice.represent.composition_stats import (
    MAGPIE_STATS,
    STATS,
    ElementStatsFeaturizer,
    FractionFeaturizer,
    element_stats,
)
from matlattice.represent.element_tables import ELEMENT_TABLES, ElementTable, load_element_table

__all__ = [
    "ELEMENT_TABLES",
    "MAGPIE_STATS",
    "STATS",
    "ElementStatsFeaturizer",
    "ElementTable",
    "FractionFeaturizer",
    "element_stats",
    "load_element_table",
]
