"""Joint uncertainty across properties: correlations and the probability that several
targets hold at once, from a predictive mean and covariance per material.

The covariance comes from :meth:`~matlattice.models.LatticeRegressor.predict_cov` (the spread
of the ensemble members across properties). Treating the predictive distribution as a
multivariate Gaussian, :func:`joint_probability` gives ``P(lower_t <= y_t <= upper_t for every
t)``; with independent marginals that is the product of the per-property probabilities,
which is what a model that ignores the coupling would report.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import multivariate_normal, norm

from matlattice.errors import InvalidParameterError

__all__ = ["correlation_from_covariance", "joint_probability"]


def correlation_from_covariance(cov: np.ndarray) -> np.ndarray:
    """``(..., t, t)`` correlations (NaN where a variance is zero)."""
    cov = np.asarray(cov, dtype=float)
    std = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / (std[..., :, None] * std[..., None, :])


def joint_probability(
    mean: np.ndarray,
    cov: np.ndarray,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    *,
    independent: bool = False,
) -> np.ndarray:
    """``(n,)`` probability that every property lies in its window.

    Parameters
    ----------
    mean : ``(n, t)`` predictive means
    cov : ``(n, t, t)`` predictive covariances
    lower, upper : ``(t,)`` bounds per property (``-inf``/``inf`` for one-sided goals; default
        unbounded)
    independent : ignore the off-diagonal covariance (product of the marginals)
    """
    mean, cov = np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
    n, t = mean.shape
    if cov.shape != (n, t, t):
        raise InvalidParameterError(f"cov has shape {cov.shape}; expected {(n, t, t)}")
    lower = np.full(t, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    upper = np.full(t, np.inf) if upper is None else np.asarray(upper, dtype=float)
    if lower.shape != (t,) or upper.shape != (t,) or np.any(lower > upper):
        raise InvalidParameterError(
            f"lower {lower} and upper {upper} must be ({t},) with lower <= upper"
        )
    std = np.sqrt(np.maximum(np.diagonal(cov, axis1=1, axis2=2), 1e-300))  # (n, t)
    marginal = norm.cdf((upper - mean) / std) - norm.cdf((lower - mean) / std)
    if independent or t == 1:
        return marginal.prod(axis=1)
    out = np.empty(n)
    jitter = 1e-12 * np.eye(t)
    for i in range(n):
        dist = multivariate_normal(
            mean[i], cov[i] + jitter * max(cov[i].trace(), 1e-300), allow_singular=True
        )
        out[i] = dist.cdf(upper, lower_limit=lower)
    return np.clip(out, 0.0, 1.0)
