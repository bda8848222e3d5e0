"""Conformal prediction intervals for one property (finite-sample coverage guarantees).

- :class:`SplitConformal` (Vovk et al. 2005; Lei et al. 2018): on a calibration set not used
  in training, the conformity score is ``|y - mean|`` (``normalised=False``) or
  ``|y - mean| / std`` (``normalised=True``, intervals that widen with the predicted spread);
  the interval of coverage ``c`` is ``mean -+ q std`` with ``q`` the
  ``ceil((n + 1) c) / n`` empirical quantile of the scores. Coverage is at least ``c`` for
  exchangeable data.
- :func:`cv_plus_interval` (Barber et al. 2021, CV+ / jackknife+ when every fold holds one
  row): from K models each trained without fold k, their predictions for the new rows and the
  out-of-fold absolute residuals of the training rows, the interval is the
  ``floor(alpha (n + 1))``-th smallest of ``mu_{-k(i)}(x) - R_i`` and the
  ``ceil((1 - alpha)(n + 1))``-th smallest of ``mu_{-k(i)}(x) + R_i``; coverage is at least
  ``1 - 2 alpha``.
"""

from __future__ import annotations

import math

import numpy as np

from matlattice.errors import InvalidParameterError, NotFittedError

__all__ = ["SplitConformal", "conformal_quantile", "cv_plus_interval"]


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The ``ceil((n + 1) coverage)``-th smallest score (``inf`` when n is too small)."""
    if not 0 < coverage < 1:
        raise InvalidParameterError(f"coverage={coverage!r}; expected a value in (0, 1)")
    scores = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil((len(scores) + 1) * coverage)
    return float(scores[rank - 1]) if rank <= len(scores) else float("inf")


class SplitConformal:
    """Split conformal intervals of one property, optionally normalised by the spread."""

    def __init__(self, normalised: bool = True) -> None:
        self.normalised = normalised

    def fit(self, y, mean, std=None) -> SplitConformal:
        """Conformity scores on the calibration rows (NaN targets skipped)."""
        y, mean = np.asarray(y, dtype=float), np.asarray(mean, dtype=float)
        residual = np.abs(y - mean)
        if self.normalised:
            if std is None:
                raise InvalidParameterError("normalised conformal needs the predicted std")
            residual = residual / np.maximum(np.asarray(std, dtype=float), 1e-12)
        self.scores_ = np.sort(residual[np.isfinite(residual)])
        if len(self.scores_) == 0:
            raise InvalidParameterError("no labelled calibration rows")
        return self

    def interval(self, mean, std=None, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of nominal ``coverage`` for new predictions."""
        if not hasattr(self, "scores_"):
            raise NotFittedError("SplitConformal is not fitted; call fit first")
        q = conformal_quantile(self.scores_, coverage)
        mean = np.asarray(mean, dtype=float)
        half = q * np.asarray(std, dtype=float) if self.normalised else np.full_like(mean, q)
        return mean - half, mean + half

    def to_dict(self) -> dict:
        return {
            "kind": "conformal_normalised" if self.normalised else "conformal",
            "scores": self.scores_.tolist(),
        }

    @classmethod
    def from_dict(cls, state: dict) -> SplitConformal:
        out = cls(normalised=state["kind"] == "conformal_normalised")
        out.scores_ = np.asarray(state["scores"], dtype=float)
        return out

    def std(self, mean, std=None) -> np.ndarray:
        """The Gaussian-equivalent spread: half the 68.3 % interval's width."""
        lo, hi = self.interval(mean, std, coverage=0.6827)
        return (hi - lo) / 2


def cv_plus_interval(
    fold_predictions: np.ndarray,
    fold_of_row: np.ndarray,
    oof_residuals: np.ndarray,
    coverage: float = 0.9,
    *,
    chunk_bytes: int = 64 * 2**20,
) -> tuple[np.ndarray, np.ndarray]:
    """CV+ interval of nominal ``coverage`` (guaranteed ``>= 2 coverage - 1``).

    Parameters
    ----------
    fold_predictions : ``(K, m)`` predictions of the K fold models for the m new rows
    fold_of_row : ``(n,)`` fold index of every training row (the model that did not see it)
    oof_residuals : ``(n,)`` ``|y_i - mu_{-k(i)}(x_i)|`` of the training rows
    """
    fold_predictions = np.asarray(fold_predictions, dtype=float)
    fold_of_row = np.asarray(fold_of_row, dtype=int)
    residuals = np.asarray(oof_residuals, dtype=float)
    ok = np.isfinite(residuals)
    fold_of_row, residuals = fold_of_row[ok], residuals[ok]
    n = len(residuals)
    alpha = 1.0 - coverage
    m = fold_predictions.shape[1]
    low_rank = math.floor(alpha * (n + 1))
    high_rank = math.ceil((1 - alpha) * (n + 1))
    lo, hi = np.full(m, -np.inf), np.full(m, np.inf)
    step = max(1, chunk_bytes // max(8 * n, 1))
    for start in range(0, m, step):  # (n, chunk) at a time: bounded memory
        mu = fold_predictions[fold_of_row, start : start + step]  # model blind to row i
        if low_rank >= 1:
            lo[start : start + step] = np.partition(mu - residuals[:, None], low_rank - 1, axis=0)[
                low_rank - 1
            ]
        if high_rank <= n:
            hi[start : start + step] = np.partition(mu + residuals[:, None], high_rank - 1, axis=0)[
                high_rank - 1
            ]
    return lo, hi
