"""Element tables (one vector per element) from ``elementembeddings``, as (103, p) arrays."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from matlattice.composition.elements import N_ELEMENTS, SYMBOL_TO_INDEX, SYMBOLS
from matlattice.errors import InvalidParameterError

__all__ = ["ELEMENT_TABLES", "ElementTable", "load_element_table"]

log = logging.getLogger(__name__)

#: Names accepted by :func:`load_element_table` (the ``elementembeddings`` 0.8 tables).
ELEMENT_TABLES: tuple[str, ...] = (
    "magpie",
    "magpie_sc",
    "mat2vec",
    "matscholar",
    "megnet16",
    "mod_petti",
    "oliynyk",
    "oliynyk_sc",
    "skipatom",
    "atomic",
    "crystallm",
    "xenonpy",
    "cgnf",
    "mace_mp0",
    "sevennet",
    "orb_v2",
    "chgnet",
    "matscibert",
    "chemeleon",
    "random_200",
)


@dataclass(frozen=True)
class ElementTable:
    """A vector per element for elements Z = 1..103.

    Attributes
    ----------
    name : str
    values : ndarray of shape (103, p)
        Row ``Z - 1`` holds element Z; rows of elements the table lacks are NaN.
    labels : tuple of str, length p
        Feature names (``"Number"``, ``"MeltingT"``, ...) or ``"dim_0"``... for embeddings.
    """

    name: str
    values: np.ndarray
    labels: tuple[str, ...]

    @property
    def available(self) -> np.ndarray:
        """Boolean mask of shape (103,): which elements have a vector."""
        return ~np.isnan(self.values).all(axis=1)

    @property
    def missing_symbols(self) -> tuple[str, ...]:
        return tuple(s for s, ok in zip(SYMBOLS, self.available, strict=True) if not ok)


@lru_cache(maxsize=32)
def load_element_table(name: str) -> ElementTable:
    """Load an element table by name (see :data:`ELEMENT_TABLES`), cached per process.

    Examples
    --------
    >>> t = load_element_table("magpie")
    >>> t.values.shape, t.labels[:2]
    ((103, 22), ('Number', 'MendeleevNumber'))
    """
    if name not in ELEMENT_TABLES:
        raise InvalidParameterError(
            f"unknown element table {name!r}; choose from {', '.join(ELEMENT_TABLES)}"
        )
    from elementembeddings.core import Embedding  # heavy import, only when needed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedding = Embedding.load_data(name)
    vectors = embedding.embeddings
    dim = int(embedding.dim)
    values = np.full((N_ELEMENTS, dim), np.nan)
    for symbol, vector in vectors.items():
        index = SYMBOL_TO_INDEX.get(symbol)
        if index is not None:
            values[index] = np.asarray(vector, dtype=float)
    labels = getattr(embedding, "feature_labels", None)
    if labels is None or len(labels) != dim:
        labels = [f"dim_{i}" for i in range(dim)]
    values.setflags(write=False)
    labels = [f"dim_{label}" if str(label).isdigit() else str(label) for label in labels]
    return ElementTable(name=name, values=values, labels=tuple(labels))
