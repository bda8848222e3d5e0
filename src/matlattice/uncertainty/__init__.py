"""Uncertainty you can act on: metrics, recalibration of a spread, conformal intervals.

- :mod:`~matlattice.uncertainty.metrics`: NLL, miscalibration area, coverage and width of
  intervals, Spearman of error against spread, error-based calibration curve.
- :mod:`~matlattice.uncertainty.recalibrate`: variance scaling and isotonic recalibration
  fitted on validation data.
- :mod:`~matlattice.uncertainty.conformal`: split conformal (absolute or normalised by the
  spread) and CV+ intervals.
"""

from matlattice.uncertainty.metrics import (
    COVERAGE_LEVELS,
    calibration_curve,
    error_calibration_curve,
    gaussian_nll,
    interval_coverage,
    miscalibration_area,
    spread_error_spearman,
    uncertainty_report,
)

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
