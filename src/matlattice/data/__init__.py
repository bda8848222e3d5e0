"""Datasets: registry, fetch and cache, loaders, audit, splits."""

from matlattice.data.dataset import DUPLICATE_RULES, Dataset, LoadReport, load_dataset
from matlattice.data.fetch import SOURCES, cache_root, fetch_source, is_cached
from matlattice.data.registry import (
    REGISTRY,
    DatasetInfo,
    PropertyInfo,
    dataset_info,
    list_datasets,
)

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
