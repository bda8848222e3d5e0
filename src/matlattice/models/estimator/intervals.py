"""Intervals, covariance and calibration of a fitted regressor: a mixin of
:class:`~matlattice.models.LatticeRegressor` that works on its ensemble predictions."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from matlattice.errors import InvalidParameterError
from matlattice.uncertainty.calibrators import make_calibrator
from matlattice.uncertainty.conformal import cv_plus_interval

__all__ = ["MC_SAMPLES", "PredictiveUncertainty"]

#: Monte Carlo dropout passes a single, uncalibrated model's intervals take their spread from.
MC_SAMPLES = 30


class PredictiveUncertainty:
    """``predict_interval``, ``predict_cov`` and ``calibrate``; needs the host's ``predict``,
    ``_member_values``, ``_shape`` and ``tasks_``."""

    def predict_interval(
        self, X: object, coverage: float = 0.9, *, mc_samples: int = 0, method: str = "auto"
    ):
        """``(lo, hi)`` of nominal ``coverage`` per material and task (shapes as
        :meth:`predict`).

        ``method="auto"``: from the fitted calibration (:meth:`calibrate`) when there is one,
        else CV+ when the model has CV members, else the Gaussian interval ``mean -+ z std``
        of the raw spread; ``"cv_plus"``: CV+
        intervals of a model fitted with ``cv_members=True`` (member k trained without fold
        k; guaranteed coverage ``>= 2 coverage - 1``, typically about ``coverage``).
        A single model has no ensemble spread: uncalibrated, it takes its spread from
        :data:`MC_SAMPLES` Monte Carlo dropout passes, and without dropout it refuses.
        :meth:`interval_source` says which applies.
        """
        if not 0 < coverage < 1:
            raise InvalidParameterError(f"coverage={coverage!r}; expected a value in (0, 1)")
        mc_samples = self._interval_mc_samples(mc_samples)
        has_cv = getattr(self, "cv_residuals_", None) is not None
        if method == "auto" and has_cv and not getattr(self, "calibrators_", None):
            method = "cv_plus"
        if method == "cv_plus":
            if not has_cv:
                raise InvalidParameterError(
                    "method='cv_plus' needs a model fitted with cv_members=True"
                )
            values = self._member_values(X)  # (K, n, t)
            bounds = [
                cv_plus_interval(values[:, :, j], self.cv_fold_, self.cv_residuals_[:, j], coverage)
                for j in range(len(self.tasks_))
            ]
            return self._shape(
                np.column_stack([b[0] for b in bounds]), np.column_stack([b[1] for b in bounds])
            )
        if method != "auto":
            raise InvalidParameterError(f"method={method!r}; expected 'auto' or 'cv_plus'")
        mean, std = self.predict(X, return_std=True, mc_samples=mc_samples, calibrated=False)
        mean, std = mean.reshape(len(mean), -1), std.reshape(len(std), -1)
        if getattr(self, "calibrators_", None):
            bounds = [
                c.interval(mean[:, j], std[:, j], coverage) for j, c in enumerate(self.calibrators_)
            ]
            lo = np.column_stack([b[0] for b in bounds])
            hi = np.column_stack([b[1] for b in bounds])
        else:
            half = norm.ppf(0.5 + coverage / 2) * std
            lo, hi = mean - half, mean + half
        return self._shape(lo, hi)

    def _single_uncalibrated(self) -> bool:
        return (
            int(self.ensemble) == 1
            and not getattr(self, "calibrators_", None)
            and getattr(self, "cv_residuals_", None) is None
        )

    def _interval_mc_samples(self, mc_samples: int) -> int:
        """The dropout passes an interval needs: ``mc_samples``, or for a single uncalibrated
        model :data:`MC_SAMPLES`; refuses a single model with neither dropout nor calibration,
        whose intervals would have zero width."""
        if mc_samples or not self._single_uncalibrated():
            return mc_samples
        if self.dropout > 0:
            return MC_SAMPLES
        raise InvalidParameterError(
            "a single model without dropout has no spread, so its intervals would have zero "
            "width; intervals need an ensemble (ensemble >= 2), CV members, dropout > 0 (MC "
            "dropout) or a calibrated model (`matlattice calibrate RUN --method conformal`)"
        )

    def interval_source(self, mc_samples: int = 0) -> str:
        """Where :meth:`predict_interval` takes its width from, in words."""
        if getattr(self, "calibrators_", None):
            return f"{self.calibrators_[0].to_dict()['kind']} calibration"
        if getattr(self, "cv_residuals_", None) is not None:
            return "CV+ from the cross-validation members' out-of-fold residuals"
        passes = self._interval_mc_samples(mc_samples)
        spread = f"{int(self.ensemble)} members' spread" if int(self.ensemble) > 1 else ""
        dropout = f"{passes} MC dropout passes" if passes else ""
        return (
            " and ".join(p for p in (spread, dropout) if p)
            + ", uncalibrated (Gaussian); `matlattice calibrate RUN` calibrates it"
        )

    def predict_cov(self, X: object, *, mc_samples: int = 0) -> np.ndarray:
        """``(n, n_tasks, n_tasks)`` predictive covariance between the properties of each
        material over the ensemble members (and MC dropout passes), in target units: how
        errors of coupled properties move together. Uncalibrated."""
        values = self._member_values(X, mc_samples)  # (k, n, t)
        centred = values - values.mean(axis=0, keepdims=True)
        return np.einsum("kni,knj->nij", centred, centred) / values.shape[0]

    def calibrate(self, X: object, y: object = None, method: str = "isotonic"):
        """Fit one calibrator per task on held-out data (never the training rows).

        ``method``: ``"variance_scaling"``, ``"isotonic"`` (recalibrate the spread) or
        ``"conformal"`` / ``"conformal_normalised"`` (split conformal intervals, absolute or
        scaled by the spread). Afterwards :meth:`predict` returns the recalibrated spread and
        :meth:`predict_interval` the calibrated intervals; the calibration is saved with the
        model.
        """
        from matlattice.models.estimator.inference import targets_frame  # the host's input parsing

        formulas, targets = targets_frame(X, y)
        targets = targets[self.tasks_] if set(self.tasks_) <= set(targets.columns) else targets
        truth = targets.to_numpy(dtype=float).reshape(len(targets), -1)
        if truth.shape[1] != len(self.tasks_):
            raise InvalidParameterError(
                f"calibration targets have {truth.shape[1]} columns; expected {self.tasks_}"
            )
        mean, std = self.predict(formulas, return_std=True, calibrated=False)
        mean, std = mean.reshape(truth.shape), std.reshape(truth.shape)
        self.calibrators_ = [
            make_calibrator(method).fit(truth[:, j], mean[:, j], std[:, j])
            for j in range(len(self.tasks_))
        ]
        return self
