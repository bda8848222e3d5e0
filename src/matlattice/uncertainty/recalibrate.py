"""Recalibration of a predicted spread, fitted on validation data of one property.

- :class:`VarianceScaling` (Levi et al. 2022): one factor ``s`` with ``std' = s std``; the
  maximum-likelihood ``s^2`` under a Gaussian is the mean squared z-score.
- :class:`IsotonicRecalibration` (Kuleshov, Fenner and Ermon 2018): the predicted Gaussian
  CDF level of each validation target, ``p = Phi((y - mean) / std)``, is mapped by an
  isotonic regression onto its empirical frequency; an interval of coverage ``c`` is then
  read between the z-scores whose recalibrated levels are ``(1 -+ c) / 2``. ``std`` returns
  the width of the recalibrated 68.3 % interval over two, the Gaussian-equivalent spread.

Both follow the scikit-learn pattern: ``fit(y, mean, std)`` then apply to new predictions.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression

from matlattice.errors import InvalidParameterError, NotFittedError

__all__ = ["IsotonicRecalibration", "VarianceScaling"]

ONE_SIGMA = float(norm.cdf(1.0) - norm.cdf(-1.0))  # 0.6827


def _checked(y, mean, std) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, mean, std = (np.asarray(a, dtype=float).ravel() for a in (y, mean, std))
    if not len(y) == len(mean) == len(std):
        raise InvalidParameterError(
            f"y, mean and std differ in length: {len(y)}, {len(mean)}, {len(std)}"
        )
    ok = np.isfinite(y) & np.isfinite(mean) & np.isfinite(std)
    if ok.sum() < 2:
        raise InvalidParameterError(
            f"recalibration needs at least 2 labelled rows; got {int(ok.sum())}"
        )
    if (std[ok] < 0).any():
        raise InvalidParameterError("std has negative values")
    return y[ok], mean[ok], np.maximum(std[ok], 1e-12)


class VarianceScaling:
    """``std' = factor_ * std`` with the Gaussian maximum-likelihood factor."""

    def fit(self, y, mean, std) -> VarianceScaling:
        y, mean, std = _checked(y, mean, std)
        self.factor_ = float(np.sqrt(np.mean(((y - mean) / std) ** 2)))
        return self

    def std(self, mean, std) -> np.ndarray:
        if not hasattr(self, "factor_"):
            raise NotFittedError("VarianceScaling is not fitted; call fit first")
        return self.factor_ * np.asarray(std, dtype=float)

    def interval(self, mean, std, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        half = norm.ppf(0.5 + coverage / 2) * self.std(mean, std)
        mean = np.asarray(mean, dtype=float)
        return mean - half, mean + half

    def to_dict(self) -> dict:
        return {"kind": "variance_scaling", "factor": self.factor_}

    @classmethod
    def from_dict(cls, state: dict) -> VarianceScaling:
        out = cls()
        out.factor_ = float(state["factor"])
        return out


class IsotonicRecalibration:
    """Kuleshov et al. (2018) isotonic recalibration of the predicted Gaussian CDF.

    Isotonic regression depends only on the order of its inputs, so the map is fitted on the
    z-scores ``(y - mean) / std`` themselves rather than on ``Phi(z)``: the same fitted
    values, but no loss of resolution where ``Phi`` saturates (a strongly overconfident
    spread puts most levels within 1e-8 of 0 or 1).
    """

    def fit(self, y, mean, std) -> IsotonicRecalibration:
        y, mean, std = _checked(y, mean, std)
        z = (y - mean) / std
        empirical = np.searchsorted(np.sort(z), z, side="right") / len(z)
        isotonic = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(z, empirical)
        self.knots_ = (isotonic.X_thresholds_, isotonic.y_thresholds_)
        return self

    def _z(self, target: float) -> float:
        """The z-score whose recalibrated CDF first reaches ``target`` (clamped to the data)."""
        if not hasattr(self, "knots_"):
            raise NotFittedError("IsotonicRecalibration is not fitted; call fit first")
        z, level = self.knots_
        index = int(np.searchsorted(level, target, side="left"))
        if index == 0:
            return float(z[0])
        if index >= len(z):
            return float(z[-1])
        span = level[index] - level[index - 1]
        share = (target - level[index - 1]) / span if span > 0 else 1.0
        return float(z[index - 1] + share * (z[index] - z[index - 1]))

    def interval(self, mean, std, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        return mean + self._z(0.5 - coverage / 2) * std, mean + self._z(0.5 + coverage / 2) * std

    def std(self, mean, std) -> np.ndarray:
        lo, hi = self.interval(mean, std, ONE_SIGMA)
        return (hi - lo) / 2

    def to_dict(self) -> dict:
        return {"kind": "isotonic", "x": self.knots_[0].tolist(), "y": self.knots_[1].tolist()}

    @classmethod
    def from_dict(cls, state: dict) -> IsotonicRecalibration:
        out = cls()
        out.knots_ = (np.asarray(state["x"], dtype=float), np.asarray(state["y"], dtype=float))
        return out
