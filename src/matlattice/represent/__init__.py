"""Representations of compositions: element tables and composition featurisers.

The public names load on first use (PEP 562), so ``matlattice featurize`` reads an element
table and computes statistics without importing scikit-learn (the transformers need it).
"""

from typing import TYPE_CHECKING

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


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'matlattice.represent' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"matlattice.represent.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
