"""Datasets: registry, fetch and cache, loaders, audit, splits.

The public names load on first use (PEP 562): ``from matlattice.data import REGISTRY`` reads
the registry without importing pandas, scipy or the loaders.
"""

from typing import TYPE_CHECKING

from matlattice.runtime.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from matlattice.data.dataset import DUPLICATE_RULES, Dataset, LoadReport, load_dataset
    from matlattice.data.fetch import SOURCES, cache_root, fetch_source, is_cached
    from matlattice.data.registry import (
        REGISTRY,
        DatasetInfo,
        PropertyInfo,
        dataset_info,
        list_datasets,
    )

# public name -> the module that defines it, imported on first access
_LAZY = {
    **dict.fromkeys(("DUPLICATE_RULES", "Dataset", "LoadReport", "load_dataset"), "dataset"),
    **dict.fromkeys(("SOURCES", "cache_root", "fetch_source", "is_cached"), "fetch"),
    **dict.fromkeys(
        ("REGISTRY", "DatasetInfo", "PropertyInfo", "dataset_info", "list_datasets"), "registry"
    ),
}

__all__ = [
    "DUPLICATE_RULES",
    "REGISTRY",
    "SOURCES",
    "Dataset",
    "DatasetInfo",
    "LoadReport",
    "PropertyInfo",
    "cache_root",
    "dataset_info",
    "fetch_source",
    "is_cached",
    "list_datasets",
    "load_dataset",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
