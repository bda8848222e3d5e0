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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.composition.elements import N_ELEMENTS
from matlattice.errors import InvalidParameterError, MissingElementError, NotFittedError
from matlattice.represent.element_tables import load_element_table

__all__ = [
    "MAGPIE_STATS",
    "MISSING_RULES",
    "STATS",
    "ElementStatsFeaturizer",
    "FractionFeaturizer",
    "as_fractions",
    "element_stats",
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
    return stacked.reshape(n, -1)


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


class ElementStatsFeaturizer(TransformerMixin, BaseEstimator):
    """Composition-weighted statistics of an element table (Magpie-style features).

    Parameters
    ----------
    table : str, default "magpie"
        An ``elementembeddings`` table (see :data:`~matlattice.represent.ELEMENT_TABLES`).
    stats : tuple of str, default ("min", "max", "range", "mean", "avg_dev", "mode")
        Statistics to compute, any of :data:`STATS`; the default is matminer's Magpie preset.
    missing : {"raise", "nan", "mean"}, default "raise"
        What to do with an element the table lacks: raise :class:`MissingElementError`
        naming it, give NaN features for that formula, or use the table's mean vector.

    Attributes
    ----------
    table_values_ : ndarray of shape (103, p)
    feature_names_out_ : ndarray of str, shape (p * len(stats),)

    Examples
    --------
    >>> X = ElementStatsFeaturizer("magpie").fit_transform(["NaCl", "Fe2O3"])
    >>> X.shape
    (2, 132)
    """

    def __init__(
        self,
        table: str = "magpie",
        *,
        stats: tuple[str, ...] = MAGPIE_STATS,
        missing: str = "raise",
    ) -> None:
        self.table = table
        self.stats = stats
        self.missing = missing

    def fit(self, X: object = None, y: object = None) -> ElementStatsFeaturizer:
        """Load the element table (``X`` is not used; featurisation needs no fitting)."""
        if self.missing not in MISSING_RULES:
            raise InvalidParameterError(
                f"missing={self.missing!r}; expected 'raise', 'nan' or 'mean'"
            )
        unknown = [s for s in self.stats if s not in STATS]
        if unknown or not self.stats:
            raise InvalidParameterError(
                f"stats={self.stats!r}; choose a non-empty subset of {STATS}"
            )
        element_table = load_element_table(self.table)
        values = element_table.values.copy()
        self.available_ = element_table.available
        if self.missing == "mean":
            values[~self.available_] = np.nanmean(values[self.available_], axis=0)
        self.table_values_ = values
        self.feature_names_out_ = np.array(
            [
                f"{self.table}_{stat}_{label}"
                for label in element_table.labels
                for stat in self.stats
            ],
            dtype=object,
        )
        self.n_features_in_ = 1
        return self

    def transform(self, X: object) -> np.ndarray:
        """Features of shape (n, p * len(stats)) for n formulas (list, Series or frame)."""
        if not hasattr(self, "table_values_"):
            raise NotFittedError("ElementStatsFeaturizer is not fitted; call fit first")
        fractions = as_fractions(X)
        present = np.zeros(N_ELEMENTS, dtype=bool)
        present[np.unique(fractions.indices)] = True
        lacking = present & ~self.available_ if self.missing != "mean" else np.zeros_like(present)
        features = element_stats(fractions, self.table_values_, self.stats)
        if lacking.any():
            bad_rows = np.flatnonzero(
                np.asarray(fractions[:, np.flatnonzero(lacking)].sum(axis=1)).ravel() > 0
            )
            if self.missing == "raise":
                row = int(bad_rows[0])
                symbols = [SYMBOLS[z] for z in fractions[row].indices if lacking[z]]
                raise MissingElementError(
                    f"element table {self.table!r} has no vector for {', '.join(symbols)} "
                    f"(row {row}; {len(bad_rows)} formulas affected); choose another table or "
                    "missing='nan' or 'mean'"
                )
            features[bad_rows] = np.nan
        return features

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        if not hasattr(self, "feature_names_out_"):
            raise NotFittedError("ElementStatsFeaturizer is not fitted; call fit first")
        return self.feature_names_out_.copy()


class FractionFeaturizer(TransformerMixin, BaseEstimator):
    """Fractional one-hot encoding: the atomic fraction of each element Z = 1..103.

    Examples
    --------
    >>> FractionFeaturizer().fit_transform(["NaCl"])[0, [10, 16]]
    array([0.5, 0.5])
    """

    def __init__(self, *, sparse_output: bool = False) -> None:
        self.sparse_output = sparse_output

    def fit(self, X: object = None, y: object = None) -> FractionFeaturizer:
        self.n_features_in_ = 1
        self.feature_names_out_ = np.array([f"frac_{s}" for s in SYMBOLS], dtype=object)
        return self

    def transform(self, X: object):
        """Fractions of shape (n, 103), dense unless ``sparse_output``."""
        if not hasattr(self, "feature_names_out_"):
            raise NotFittedError("FractionFeaturizer is not fitted; call fit first")
        fractions = as_fractions(X)
        return fractions if self.sparse_output else fractions.toarray()

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array([f"frac_{s}" for s in SYMBOLS], dtype=object)
