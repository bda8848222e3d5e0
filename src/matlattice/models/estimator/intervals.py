"""Intervals, covariance and calibration of a fitted regressor: a mixin of
:class:`~matlattice.models.LatticeRegressor` that works on its ensemble predictions."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from matlattice.errors import InvalidParameterError
from matlattice.uncertainty.calibrators import make_calibrator
from matlattice.uncertainty.conformal import cv_plus_interval

__all__ = ["PredictiveUncertainty"]


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
        """
        if not 0 < coverage < 1:
            raise InvalidParameterError(f"coverage={coverage!r}; expected a value in (0, 1)")
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
