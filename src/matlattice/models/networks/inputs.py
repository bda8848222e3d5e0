"""Model inputs built from compositions: padded element tokens or standardised features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from matlattice.represent import ElementStatsFeaturizer, load_element_table

__all__ = ["FeatureStandardizer", "element_matrix", "element_tokens"]


def element_tokens(fractions: sp.csr_matrix, max_elements: int | None = None):
    """Padded element tokens of a CSR fraction matrix.

    Returns
    -------
    elements : ``(n, k)`` int64 tensor of column indices (``Z - 1``; 0 at padding)
    amounts : ``(n, k)`` float32 tensor of atomic fractions (0 at padding)
    """
    f = sp.csr_matrix(fractions)
    f.sort_indices()
    counts = np.diff(f.indptr)
    k = int(max(counts.max(initial=1), max_elements or 0))
    rows = np.repeat(np.arange(f.shape[0]), counts)
    pos = np.arange(f.nnz) - f.indptr[rows]
    elements = np.zeros((f.shape[0], k), dtype=np.int64)
    amounts = np.zeros((f.shape[0], k), dtype=np.float32)
    elements[rows, pos] = f.indices
    amounts[rows, pos] = f.data
    return torch.from_numpy(elements), torch.from_numpy(amounts)


def element_matrix(table: str) -> torch.Tensor:
    """``(103, p)`` element vectors of an ``elementembeddings`` table, standardised per column;
    elements the table lacks get zeros (the column mean after standardisation)."""
    values = np.array(load_element_table(table).values)
    available = ~np.isnan(values).all(axis=1)
    mean = values[available].mean(axis=0)
    std = values[available].std(axis=0)
    std[std == 0] = 1.0
    scaled = (values - mean) / std
    scaled[~available] = 0.0
    return torch.from_numpy(np.nan_to_num(scaled).astype(np.float32))


@dataclass(frozen=True)
class FeatureStandardizer:
    """Composition features (element-table statistics) standardised with training statistics.

    ``low``/``high`` are the per-feature extremes of the standardised training features (the
    training box). A feature that is almost constant in training (a magnetic-moment minimum
    that only Fe-Co-Ni alloys make non-zero, say) has a tiny standard deviation, so a new
    material can sit 1e5 standard deviations out and drive the network to absurd outputs;
    :meth:`transform` clips new materials to the box (training itself sees raw values).
    """

    table: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    low: tuple[float, ...] | None = None
    high: tuple[float, ...] | None = None

    @classmethod
    def fit(cls, fractions: sp.csr_matrix, table: str = "magpie") -> FeatureStandardizer:
        x = _raw_features(fractions, table)
        mean = np.nanmean(x, axis=0)
        std = np.nanstd(x, axis=0)
        std[~(std > 0)] = 1.0
        z = np.nan_to_num((x - mean) / std, nan=0.0, posinf=0.0, neginf=0.0)
        return cls(
            table,
            tuple(map(float, mean)),
            tuple(map(float, std)),
            tuple(map(float, z.min(axis=0))),
            tuple(map(float, z.max(axis=0))),
        )

    def transform(self, fractions: sp.csr_matrix, *, clip: bool = True) -> torch.Tensor:
        """``(n, m)`` float32 tensor; NaN features become 0 (the training mean); with ``clip``
        each feature is held inside the training box (a no-op for the training rows)."""
        x = (_raw_features(fractions, self.table) - np.asarray(self.mean)) / np.asarray(self.std)
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        if clip and self.low is not None and self.high is not None:
            x = np.clip(x, np.asarray(self.low), np.asarray(self.high))
        return torch.from_numpy(x.astype(np.float32))


def _raw_features(fractions: sp.csr_matrix, table: str) -> np.ndarray:
    featurizer = ElementStatsFeaturizer(
        table, stats=("mean", "avg_dev", "min", "max", "mode"), missing="mean"
    )
    return featurizer.fit().transform(fractions)
