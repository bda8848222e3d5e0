"""Composition-weighted statistics of element tables, and fractional one-hot vectors.

All statistics are computed at once over the non-zero entries of the sparse fraction matrix:
one gather of the element table per entry and segment reductions per formula.
For a composition with atomic fractions ``w_i`` and element values ``x_i``:

- ``mean``    = sum_i w_i x_i
- ``avg_dev`` = sum_i w_i |x_i - mean|          (matminer's "avg_dev")
- ``std``     = sqrt(sum_i w_i (x_i - mean)^2)
- ``min``, ``max``, ``range`` = max - min       (over the elements present)
- ``mode``    = x of the element with the largest fraction (ties, within ``np.isclose``
  tolerances as in matminer: the smallest x)

Pure functions, without scikit-learn (whose import costs ~0.7 s of CPU); the scikit-learn
transformers that wrap them live in :mod:`matlattice.represent.featurizers`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.composition.elements import N_ELEMENTS
from matlattice.errors import InvalidParameterError, MissingElementError
from matlattice.represent.element_tables import ElementTable

__all__ = [
    "MAGPIE_STATS",
    "MISSING_RULES",
    "STATS",
    "as_fractions",
    "element_stats",
    "element_table_stat_names",
    "element_table_stats",
]

STATS = ("mean", "avg_dev", "std", "min", "max", "range", "mode")
#: The statistics of matminer's ``ElementProperty.from_preset("magpie")``, in its order.
MAGPIE_STATS = ("min", "max", "range", "mean", "avg_dev", "mode")
MISSING_RULES = ("raise", "nan", "mean")  # what to do with an element the table lacks


def as_fractions(X: object) -> sp.csr_matrix:
    """Fractions matrix (n, 103) from formulas, a frame with a ``formula`` column, or a matrix.

    Raises :class:`~matlattice.errors.InvalidFormulaError` for the first invalid formula.
    """
    if sp.issparse(X):
        return sp.csr_matrix(X)
    if isinstance(X, pd.DataFrame):
        if "formula" not in X.columns:
            raise InvalidParameterError(
                f"a DataFrame input needs a 'formula' column; it has {list(X.columns)}"
            )
        X = X["formula"]
    if isinstance(X, str):
        raise InvalidParameterError(f"expected a list of formulas, got the single string {X!r}")
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 1:
            raise InvalidParameterError(f"expected formulas of shape (n,) or (n, 1); got {X.shape}")
        X = X[:, 0]
    return parse_formulas(
        X if isinstance(X, Sequence | np.ndarray | pd.Series) else list(X)
    ).fractions


def element_stats(
    fractions: sp.csr_matrix,
    table: np.ndarray,
    stats: Sequence[str] = MAGPIE_STATS,
    *,
    order: str = "feature",
) -> np.ndarray:
    """Composition-weighted statistics of an element table.

    Parameters
    ----------
    fractions : csr_matrix of shape (n, 103)
        Atomic fractions, rows summing to 1 (every row must have an element).
    table : ndarray of shape (103, p)
        Element vectors; row ``Z - 1`` for element Z.
    stats : sequence of str
        Any of :data:`STATS`.
    order : {"feature", "stat"}
        Column order: ``"feature"`` = for each table column all stats (matminer's order),
        ``"stat"`` = for each stat all table columns.

    Returns
    -------
    ndarray of shape (n, p * len(stats)), float64
    """
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise InvalidParameterError(f"unknown statistics {unknown}; choose from {STATS}")
    f = sp.csr_matrix(fractions)
    f.sort_indices()
    n, p = f.shape[0], table.shape[1]
    counts = np.diff(f.indptr)
    if n and (counts == 0).any():
        raise InvalidParameterError(
            f"row {int(np.argmin(counts))} of the fraction matrix has no element"
        )
    starts = f.indptr[:-1]
    # (n, nnz) indicator: summing per-entry values per formula is one sparse product
    segment = sp.csr_matrix((np.ones(f.nnz), np.arange(f.nnz), f.indptr), shape=(n, f.nnz))
    w = f.data[:, None]  # (nnz, 1) fraction of each entry
    x = table[f.indices]  # (nnz, p) element vector of each entry
    out: dict[str, np.ndarray] = {}
    mean = np.asarray(f @ table) if n else np.zeros((0, p))  # (n, p)
    out["mean"] = mean
    if n and ("avg_dev" in stats or "std" in stats):
        dev = x - mean[np.repeat(np.arange(n), counts)]
        if "avg_dev" in stats:
            out["avg_dev"] = segment @ (w * np.abs(dev))
        if "std" in stats:
            out["std"] = np.sqrt(segment @ (w * dev * dev))
    if n and {"min", "max", "range"} & set(stats):
        lo = _segment_reduce(np.minimum, x, starts, counts)
        hi = _segment_reduce(np.maximum, x, starts, counts)
        out["min"], out["max"], out["range"] = lo, hi, hi - lo
    if n and "mode" in stats:
        top = _segment_reduce(np.maximum, f.data, starts, counts)
        # ties as in matminer: fractions within np.isclose of the largest count as tied
        is_top = np.isclose(f.data, np.repeat(top, counts))
        out["mode"] = _segment_reduce(
            np.minimum, np.where(is_top[:, None], x, np.inf), starts, counts
        )
    blocks = [out.get(s, np.zeros((n, table.shape[1]))) for s in stats]
    stacked = np.stack(blocks, axis=2 if order == "feature" else 1)  # (n, p, s) or (n, s, p)
    return stacked.reshape(n, len(stats) * table.shape[1])  # explicit: n may be 0


def _segment_reduce(
    ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """``ufunc``-reduce consecutive segments of ``values`` (segment i: ``counts[i]`` entries).

    Loops over the position inside a segment (at most the largest number of elements in one
    formula, ~10), each step vectorised over all formulas; faster than ``ufunc.reduceat``.
    """
    result = values[starts].copy()
    for j in range(1, int(counts.max(initial=1))):
        rows = np.flatnonzero(counts > j)
        result[rows] = ufunc(result[rows], values[starts[rows] + j])
    return result


def element_table_stats(
    X: object,
    table: ElementTable,
    stats: Sequence[str] = MAGPIE_STATS,
    *,
    missing: str = "raise",
) -> np.ndarray:
    """Composition-weighted statistics of an element table, for formulas (parse + statistics).

    The function behind :class:`~matlattice.represent.ElementStatsFeaturizer`.

    Parameters
    ----------
    X : sequence of str of shape (n,), DataFrame with a ``formula`` column, or sparse (n, 103)
        Formulas, or their atomic fractions.
    table : ElementTable
        From :func:`~matlattice.represent.load_element_table`.
    stats : sequence of str, default ("min", "max", "range", "mean", "avg_dev", "mode")
        Any of :data:`STATS`; the default is matminer's Magpie preset.
    missing : {"raise", "nan", "mean"}, default "raise"
        What to do with an element the table lacks: raise :class:`MissingElementError` naming
        it, give NaN features for that formula, or use the table's mean vector.

    Returns
    -------
    ndarray of shape (n, p * len(stats)), float64
        For each table column all statistics; names from :func:`element_table_stat_names`.

    Examples
    --------
    >>> from matlattice.represent import load_element_table
    >>> element_table_stats(["NaCl", "Fe2O3"], load_element_table("magpie")).shape
    (2, 132)
    """
    check_stats_options(stats, missing)
    fractions = as_fractions(X)
    values = table_values(table, missing)
    present = np.zeros(N_ELEMENTS, dtype=bool)
    present[np.unique(fractions.indices)] = True
    lacking = present & ~table.available if missing != "mean" else np.zeros_like(present)
    features = element_stats(fractions, values, stats)
    if lacking.any():
        bad_rows = np.flatnonzero(
            np.asarray(fractions[:, np.flatnonzero(lacking)].sum(axis=1)).ravel() > 0
        )
        if missing == "raise":
            row = int(bad_rows[0])
            symbols = [SYMBOLS[z] for z in fractions[row].indices if lacking[z]]
            raise MissingElementError(
                f"element table {table.name!r} has no vector for {', '.join(symbols)} "
                f"(row {row}; {len(bad_rows)} formulas affected); choose another table or "
                "missing='nan' or 'mean'"
            )
        features[bad_rows] = np.nan
    return features


def element_table_stat_names(
    table: ElementTable, stats: Sequence[str] = MAGPIE_STATS
) -> np.ndarray:
    """Names of :func:`element_table_stats`' columns, ``"{table}_{stat}_{label}"``, (p * s,)."""
    return np.array(
        [f"{table.name}_{stat}_{label}" for label in table.labels for stat in stats],
        dtype=object,
    )


def table_values(table: ElementTable, missing: str = "raise") -> np.ndarray:
    """The table's values (103, p) with ``missing="mean"`` applied: absent rows = column means."""
    values = table.values.copy()
    if missing == "mean":
        values[~table.available] = np.nanmean(values[table.available], axis=0)
    return values


def check_stats_options(stats: Sequence[str], missing: str) -> None:
    """Raise :class:`InvalidParameterError` for unknown ``stats`` or ``missing`` values."""
    if missing not in MISSING_RULES:
        raise InvalidParameterError(f"missing={missing!r}; expected 'raise', 'nan' or 'mean'")
    unknown = [s for s in stats if s not in STATS]
    if unknown or not stats:
        raise InvalidParameterError(f"stats={stats!r}; choose a non-empty subset of {STATS}")
