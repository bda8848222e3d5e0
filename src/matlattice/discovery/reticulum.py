"""The feedback reticulum of seed 000 (its eq. 3): residuals of new measurements, spread to
nearby candidates through a kernel over the embedding, correct predictions at once, before
the model is retrained.

With ``m`` told materials at embeddings ``z_i`` whose measured values differ from the
model's predictions by ``r_i = y_i - mu(z_i)``, the corrected prediction of a candidate ``z``
is

``mu'(z) = mu(z) + gamma * sum_i k_i r_i / (prior + sum_i k_i)``,
``k_i = exp(-|z - z_i|^2 / (2 width^2))``

``gamma`` (sensitivity to discrepancies, 0..1) scales the correction; ``prior`` is the weight
of "no correction", so a candidate far from every told material (all ``k_i`` near 0) keeps
its prediction, and one right next to a told material moves most of the way to that
material's residual (``1 / (1 + prior)`` of it with one told neighbour at distance 0).
``width`` defaults to the median distance between told materials and their nearest told
neighbour (set at :meth:`fit`): the spacing of the measurements.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError, NotFittedError

__all__ = ["FeedbackReticulum", "reticulum_correct"]


class FeedbackReticulum:
    """Kernel residual correction between retrains (see the module docstring)."""

    def __init__(self, gamma: float = 1.0, width: float | None = None, prior: float = 0.1):
        if not 0 <= gamma <= 1:
            raise InvalidParameterError(f"gamma={gamma!r}; expected a value in [0, 1]")
        if width is not None and not width > 0:
            raise InvalidParameterError(f"width={width!r}; expected a positive kernel width")
        self.gamma = gamma
        self.width = width
        self.prior = prior

    def fit(self, told: np.ndarray, residuals: np.ndarray):
        """``told``: ``(m, d)`` embeddings of measured materials; ``residuals``: ``(m,)``
        measured minus predicted (the model that will be corrected)."""
        told = np.asarray(told, dtype=float)
        residuals = np.asarray(residuals, dtype=float)
        if told.ndim != 2 or len(told) != len(residuals):
            raise InvalidParameterError(
                f"told {told.shape} and residuals {residuals.shape} do not match"
            )
        self.told_, self.residuals_ = told, residuals
        self.width_ = self.width or self._median_spacing(told)
        return self

    @staticmethod
    def _median_spacing(told: np.ndarray) -> float:
        if len(told) < 2:
            return 1.0
        sq = ((told[:, None, :] - told[None, :, :]) ** 2).sum(axis=2)
        np.fill_diagonal(sq, np.inf)
        nearest = np.sqrt(sq.min(axis=1))
        nearest = nearest[np.isfinite(nearest) & (nearest > 0)]
        return float(np.median(nearest)) if len(nearest) else 1.0

    def correction(self, z: np.ndarray) -> np.ndarray:
        """``(n,)`` additive correction for candidates at embeddings ``z`` ``(n, d)``."""
        if not hasattr(self, "told_"):
            raise NotFittedError("FeedbackReticulum is not fitted; call fit first")
        if len(self.told_) == 0:
            return np.zeros(len(z))
        z = np.asarray(z, dtype=float)
        sq = ((z[:, None, :] - self.told_[None, :, :]) ** 2).sum(axis=2)  # (n, m)
        k = np.exp(-sq / (2 * self.width_**2))
        return self.gamma * (k @ self.residuals_) / (self.prior + k.sum(axis=1))

    def correct(self, z: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """``mean`` corrected by the residuals of the told materials."""
        return np.asarray(mean, dtype=float) + self.correction(z)


def reticulum_correct(model, new: pd.DataFrame, candidates: list[str], mean, gamma: float):
    """Candidate means corrected by the residuals of results the model has not seen."""
    from matlattice.discovery.surrogates import embedding

    told = new["formula"].tolist()
    predicted = np.asarray(model.predict(told), dtype=float).reshape(-1)
    z = embedding(model, told + list(candidates))
    reticulum = FeedbackReticulum(gamma=gamma).fit(
        z[: len(told)], new["value"].to_numpy() - predicted
    )
    return reticulum.correct(z[len(told) :], mean)
