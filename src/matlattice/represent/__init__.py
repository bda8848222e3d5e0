"""Representations of compositions: element tables and composition featurisers.

The public names load on first use (PEP 562), so ``matlattice featurize`` reads an element
table and computes statistics without importing scikit-learn (the transformers need it).
"""

from typing import TYPE_CHECKING

from matlattice.runtime.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from matlattice.represent.composition_stats import (
        MAGPIE_STATS,
        STATS,
        element_stats,
        element_table_stat_names,
        element_table_stats,
    )
    from matlattice.represent.element_tables import (
        ELEMENT_TABLES,
        ElementTable,
        load_element_table,
    )
    from matlattice.represent.featurizers import ElementStatsFeaturizer, FractionFeaturizer

# public name -> the module that defines it, imported on first access
_LAZY = {
    **dict.fromkeys(
        (
            "MAGPIE_STATS",
            "STATS",
            "element_stats",
            "element_table_stat_names",
            "element_table_stats",
        ),
        "composition_stats",
    ),
    **dict.fromkeys(("ELEMENT_TABLES", "ElementTable", "load_element_table"), "element_tables"),
    **dict.fromkeys(("ElementStatsFeaturizer", "FractionFeaturizer"), "featurizers"),
}

__all__ = [
    "ELEMENT_TABLES",
    "MAGPIE_STATS",
    "STATS",
    "ElementStatsFeaturizer",
    "ElementTable",
    "FractionFeaturizer",
    "element_stats",
    "element_table_stat_names",
    "element_table_stats",
    "load_element_table",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
