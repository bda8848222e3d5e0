"""One name per calibration method, and calibrators rebuilt from their saved dicts.

Every calibrator has ``fit(y, mean, std)``, ``interval(mean, std, coverage)``, ``std(mean,
std)`` (the recalibrated, Gaussian-equivalent spread) and ``to_dict()``; the dict's
``"kind"`` names the method.
"""

from __future__ import annotations

from matlattice.errors import InvalidParameterError
from matlattice.uncertainty.conformal import SplitConformal
from matlattice.uncertainty.recalibrate import IsotonicRecalibration, VarianceScaling

__all__ = ["CALIBRATIONS", "Calibrator", "calibrator_from_dict", "make_calibrator"]

Calibrator = VarianceScaling | IsotonicRecalibration | SplitConformal

CALIBRATIONS = ("variance_scaling", "isotonic", "conformal", "conformal_normalised")


def make_calibrator(kind: str) -> Calibrator:
    """A fresh, unfitted calibrator of one of :data:`CALIBRATIONS`."""
    if kind == "variance_scaling":
        return VarianceScaling()
    if kind == "isotonic":
        return IsotonicRecalibration()
    if kind in ("conformal", "conformal_normalised"):
        return SplitConformal(normalised=kind == "conformal_normalised")
    raise InvalidParameterError(f"calibration {kind!r}; expected one of {CALIBRATIONS}")


def calibrator_from_dict(state: dict) -> Calibrator:
    """The fitted calibrator a ``to_dict()`` describes."""
    kind = state.get("kind")
    if kind not in CALIBRATIONS:
        raise InvalidParameterError(f"unknown calibration kind {kind!r} in a saved model")
    return type(make_calibrator(kind)).from_dict(state)
