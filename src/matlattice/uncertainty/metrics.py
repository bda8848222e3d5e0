"""Uncertainty metrics for one property: accuracy, calibration, sharpness and ranking.

Definitions follow the Uncertainty Toolbox (Chung et al. 2021, arXiv:2109.10254) and the
error-based calibration of Levi et al. (2022, Sensors 22, 5540) / Scalia et al. (2020, J. Chem.
Inf. Model. 60, 2697). Every function takes 1-d arrays of targets ``y``, predicted means and
predicted standard deviations (or interval bounds), in the property's own unit; NaN targets
are ignored (a material without that label).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfinv
from scipy.stats import norm, spearmanr

__all__ = [
    "COVERAGE_LEVELS",
    "calibration_curve",
    "error_calibration_curve",
    "gaussian_nll",
    "interval_coverage",
    "miscalibration_area",
    "spread_error_spearman",
    "uncertainty_report",
]

COVERAGE_LEVELS = (0.5, 0.8, 0.9, 0.95)


def _labelled(*arrays: np.ndarray) -> list[np.ndarray]:
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    ok = np.isfinite(arrays[0])
    return [a[ok] for a in arrays]


def gaussian_nll(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Mean negative log-likelihood of ``y`` under ``N(mean, std^2)`` (nats per material)."""
    y, mean, std = _labelled(y, mean, std)
    std = np.maximum(std, 1e-12)
    return float(np.mean(0.5 * np.log(2 * np.pi * std**2) + 0.5 * ((y - mean) / std) ** 2))


def calibration_curve(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, n_levels: int = 99
) -> tuple[np.ndarray, np.ndarray]:
    """``(expected, observed)``: for each level p in (0, 1), the share of targets inside the
    Gaussian central interval ``mean ± z_p std`` that should hold a share p."""
    y, mean, std = _labelled(y, mean, std)
    levels = np.linspace(0.01, 0.99, n_levels)
    if len(y) == 0:
        return levels, np.full(n_levels, np.nan)
    z = np.abs(y - mean) / np.maximum(std, 1e-12)  # (n,)
    half_widths = np.sqrt(2.0) * erfinv(levels)
    return levels, (z[None, :] <= half_widths[:, None]).mean(axis=1)


def miscalibration_area(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, n_levels: int = 99
) -> float:
    """Mean absolute gap between observed and expected coverage of the central intervals
    over ``n_levels`` levels: the area between the calibration curve and the diagonal
    (0: calibrated, 0.5: useless). Zero std counts as an empty interval."""
    expected, observed = calibration_curve(y, mean, std, n_levels)
    return float(np.mean(np.abs(observed - expected)))


def interval_coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """``(share of targets inside [lo, hi], mean width hi - lo)``: coverage and sharpness."""
    y, lo, hi = _labelled(y, lo, hi)
    if len(y) == 0:
        return float("nan"), float("nan")
    return float(np.mean((y >= lo) & (y <= hi))), float(np.mean(hi - lo))


def spread_error_spearman(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Spearman rank correlation of ``|y - mean|`` with ``std``: does the spread rank errors?"""
    y, mean, std = _labelled(y, mean, std)
    if len(y) < 3 or np.ptp(std) == 0:
        return float("nan")
    return float(spearmanr(np.abs(y - mean), std).statistic)


def error_calibration_curve(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """``(rmv, rmse)`` per bin of equal counts sorted by ``std``: root mean predicted variance
    against the root mean squared error of the bin (calibrated: ``rmse == rmv``)."""
    y, mean, std = _labelled(y, mean, std)
    bins = np.array_split(np.argsort(std, kind="stable"), min(n_bins, max(len(y), 1)))
    bins = [b for b in bins if len(b)]
    rmv = np.array([np.sqrt(np.mean(std[b] ** 2)) for b in bins])
    rmse = np.array([np.sqrt(np.mean((y[b] - mean[b]) ** 2)) for b in bins])
    return rmv, rmse


def uncertainty_report(
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    intervals: dict[float, tuple[np.ndarray, np.ndarray]] | None = None,
    levels: tuple[float, ...] = COVERAGE_LEVELS,
) -> dict:
    """Every metric of one property as a JSON-ready dict.

    ``intervals`` maps a nominal coverage to ``(lo, hi)`` arrays (e.g. conformal ones); levels
    not given there use the Gaussian interval ``mean ± z std``.
    """
    y, mean, std = (np.asarray(a, dtype=float) for a in (y, mean, std))
    err = y - mean
    ok = np.isfinite(y)
    coverage, width = {}, {}
    for level in levels:
        if intervals and level in intervals:
            lo, hi = intervals[level]
        else:
            z = norm.ppf(0.5 + level / 2)
            lo, hi = mean - z * std, mean + z * std
        coverage[str(level)], width[str(level)] = interval_coverage(y, lo, hi)
    rmv, rmse = error_calibration_curve(y, mean, std)
    return {
        "n": int(ok.sum()),
        "mae": float(np.mean(np.abs(err[ok]))) if ok.any() else float("nan"),
        "rmse": float(np.sqrt(np.mean(err[ok] ** 2))) if ok.any() else float("nan"),
        "nll": gaussian_nll(y, mean, std),
        "miscalibration_area": miscalibration_area(y, mean, std),
        "coverage": coverage,
        "interval_width": width,
        "spearman_error_spread": spread_error_spearman(y, mean, std),
        "error_calibration": {"rmv": rmv.tolist(), "rmse": rmse.tolist()},
    }
