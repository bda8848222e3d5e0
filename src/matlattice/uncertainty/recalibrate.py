"""Recalibration of a predicted spread, fitted on validation data of one property.

- :class:`VarianceScaling` (Levi et al. 2022): one factor ``s`` with ``std' = s std``; the
  maximum-likelihood ``s^2`` under a Gaussian is the mean squared z-score.
- :class:`IsotonicRecalibration` (Kuleshov, Fenner and Ermon 2018): the predicted Gaussian
  CDF level of each validation target, ``p = Phi((y - mean) / std)``, is mapped by an
  isotonic regression onto its empirical frequency; an interval of coverage ``c`` is then
  read between the levels whose recalibrated values are ``(1 -+ c) / 2``. ``std`` returns
  the width of the recalibrated 68.3 % interval over two, the Gaussian-equivalent spread.

Both follow the scikit-learn pattern: ``fit(y, mean, std)`` then apply to new predictions.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression

from matlattice.errors import NotFittedError

__all__ = ["IsotonicRecalibration", "VarianceScaling", "recalibrator"]

ONE_SIGMA = float(norm.cdf(1.0) - norm.cdf(-1.0))  # 0.6827


def _checked(y, mean, std) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, mean, std = (np.asarray(a, dtype=float).ravel() for a in (y, mean, std))
    if not len(y) == len(mean) == len(std):
        raise ValueError(f"y, mean and std differ in length: {len(y)}, {len(mean)}, {len(std)}")
    ok = np.isfinite(y) & np.isfinite(mean) & np.isfinite(std)
    if ok.sum() < 2:
        raise ValueError(f"recalibration needs at least 2 labelled rows; got {int(ok.sum())}")
    if (std[ok] < 0).any():
        raise ValueError("std has negative values")
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


class IsotonicRecalibration:
    """Kuleshov et al. (2018) isotonic recalibration of the predicted Gaussian CDF."""

    _grid = np.linspace(1e-4, 1 - 1e-4, 2001)

    def fit(self, y, mean, std) -> IsotonicRecalibration:
        y, mean, std = _checked(y, mean, std)
        levels = norm.cdf((y - mean) / std)
        empirical = np.searchsorted(np.sort(levels), levels, side="right") / len(levels)
        self.isotonic_ = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(
            levels, empirical
        )
        self.curve_ = self.isotonic_.predict(self._grid)  # recalibrated value per raw level
        return self

    def _raw_level(self, target: float) -> float:
        """The raw CDF level whose recalibrated value is ``target`` (monotone inverse)."""
        if not hasattr(self, "curve_"):
            raise NotFittedError("IsotonicRecalibration is not fitted; call fit first")
        index = np.searchsorted(self.curve_, target, side="left")
        return float(self._grid[min(index, len(self._grid) - 1)])

    def interval(self, mean, std, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        lo_level = self._raw_level(0.5 - coverage / 2)
        hi_level = self._raw_level(0.5 + coverage / 2)
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        return mean + norm.ppf(lo_level) * std, mean + norm.ppf(hi_level) * std

    def std(self, mean, std) -> np.ndarray:
        lo, hi = self.interval(mean, std, ONE_SIGMA)
        return (hi - lo) / 2

    def to_dict(self) -> dict:
        return {
            "kind": "isotonic",
            "x": self.isotonic_.X_thresholds_.tolist(),
            "y": self.isotonic_.y_thresholds_.tolist(),
        }


def recalibrator(kind: str) -> VarianceScaling | IsotonicRecalibration:
    """A fresh recalibrator: ``"variance_scaling"`` or ``"isotonic"``."""
    kinds = {"variance_scaling": VarianceScaling, "isotonic": IsotonicRecalibration}
    if kind not in kinds:
        raise ValueError(f"recalibration {kind!r}; expected one of {sorted(kinds)}")
    return kinds[kind]()
