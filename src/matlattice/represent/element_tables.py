"""Element tables (one vector per element) from ``elementembeddings``, as (103, p) arrays.

The tables are read straight from the data files that ``elementembeddings`` ships, the way
``elementembeddings.core.Embedding.load_data`` reads them (0.8), without importing
``elementembeddings.core``: that module imports umap, pynndescent and numba, which costs about
1 s per process and ~16 s on a fresh install (empty numba cache), against ~10 ms for the files.
``elementembeddings.core`` remains the fallback for a table whose file is not where 0.8 keeps
it; ``tests/represent/test_element_tables.py`` checks that both give identical tables.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

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
    read = _read_data_file(name)
    if read is None:
        log.debug("element table %r: no data file found; loading it via elementembeddings", name)
        read = _load_with_core(name)
    vectors, labels = read
    dim = len(next(iter(vectors.values())))
    values = np.full((N_ELEMENTS, dim), np.nan)
    for symbol, vector in vectors.items():
        index = SYMBOL_TO_INDEX.get(symbol)
        if index is not None:
            values[index] = np.asarray(vector, dtype=float)
    values.setflags(write=False)
    if labels is None or len(labels) != dim:
        labels = [f"dim_{i}" for i in range(dim)]
    labels = [f"dim_{label}" if str(label).isdigit() else str(label) for label in labels]
    return ElementTable(name=name, values=values, labels=tuple(labels))


_Vectors = tuple[dict[str, np.ndarray], list | None]  # symbol -> vector (p,), feature labels


def _read_data_file(name: str) -> _Vectors | None:
    """The table ``name`` read from elementembeddings' data files; None if the file is absent.

    Follows ``Embedding.load_data`` of elementembeddings 0.8: a CSV has an ``element`` column
    and one column per feature (read by ``pandas.read_csv``, as there, so the floats parse
    identically); a JSON maps a symbol to a vector (megnet16's ``"Null"`` row dropped) or to
    an integer position, which becomes a one-hot vector over the elements listed.
    """
    from elementembeddings.utils.config import DEFAULT_ELEMENT_EMBEDDINGS  # dicts, no imports

    data = files("elementembeddings") / "data"
    file_name = DEFAULT_ELEMENT_EMBEDDINGS.get(name, "")
    path = data / "element_representations" / file_name
    if not file_name.endswith((".csv", ".json")) or not path.is_file():
        return None
    if file_name.endswith(".csv"):
        import pandas as pd

        with path.open() as stream:
            frame = pd.read_csv(stream)
        symbols = list(frame.pop("element"))
        return dict(zip(symbols, frame.to_numpy(), strict=True)), list(frame.columns)
    raw = json.loads(path.read_text())
    if "megnet" in file_name:
        raw.pop("Null", None)
    if all(isinstance(vector, list) for vector in raw.values()):
        return {symbol: np.asarray(vector) for symbol, vector in raw.items()}, None
    # a position per element (mod_petti, atomic): one-hot over the known elements, in order
    known = (data / "element_data" / "ordered_periodic.txt").read_text().split()
    known = set(known[:103] if name == "mod_petti" else known[:118])
    positions = {s: k for s, k in sorted(raw.items(), key=lambda item: item[1]) if s in known}
    one_hot = np.eye(len(positions))
    return {symbol: one_hot[k] for symbol, k in positions.items()}, list(positions)


def _load_with_core(name: str) -> _Vectors:
    """The table through ``elementembeddings.core`` (imports umap, pynndescent and numba)."""
    from elementembeddings.core import Embedding

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedding = Embedding.load_data(name)
    return embedding.embeddings, getattr(embedding, "feature_labels", None)
