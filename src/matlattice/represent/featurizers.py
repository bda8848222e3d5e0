"""scikit-learn transformers over :mod:`matlattice.represent.composition_stats`.

Kept apart from the statistics because importing ``sklearn.base`` costs ~0.7 s of CPU (it
imports scipy.stats): a caller that needs only the numbers (``matlattice featurize``) skips it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from matlattice.composition import SYMBOLS
from matlattice.errors import NotFittedError
from matlattice.represent.composition_stats import (
    MAGPIE_STATS,
    as_fractions,
    check_stats_options,
    element_table_stat_names,
    element_table_stats,
    table_values,
)
from matlattice.represent.element_tables import load_element_table

__all__ = ["ElementStatsFeaturizer", "FractionFeaturizer"]


class ElementStatsFeaturizer(TransformerMixin, BaseEstimator):
    """Composition-weighted statistics of an element table (Magpie-style features).

    Parameters
    ----------
    table : str, default "magpie"
        An ``elementembeddings`` table (see :data:`~matlattice.represent.ELEMENT_TABLES`).
    stats : tuple of str, default ("min", "max", "range", "mean", "avg_dev", "mode")
        Statistics to compute, any of :data:`~matlattice.represent.STATS`; the default is
        matminer's Magpie preset.
    missing : {"raise", "nan", "mean"}, default "raise"
        What to do with an element the table lacks: raise :class:`MissingElementError`
        naming it, give NaN features for that formula, or use the table's mean vector.

    Attributes
    ----------
    element_table_ : ElementTable
    table_values_ : ndarray of shape (103, p)
        The table's values with the ``missing`` rule applied.
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
        check_stats_options(self.stats, self.missing)
        self.element_table_ = load_element_table(self.table)
        self.table_values_ = table_values(self.element_table_, self.missing)
        self.feature_names_out_ = element_table_stat_names(self.element_table_, self.stats)
        self.n_features_in_ = 1
        return self

    def transform(self, X: object) -> np.ndarray:
        """Features of shape (n, p * len(stats)) for n formulas (list, Series or frame)."""
        if not hasattr(self, "element_table_"):
            raise NotFittedError("ElementStatsFeaturizer is not fitted; call fit first")
        return element_table_stats(X, self.element_table_, self.stats, missing=self.missing)

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
