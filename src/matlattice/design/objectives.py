"""What a design aims at, and how sure the model is that a candidate gets there.

A :class:`DesignTarget` is one property with a goal: ``max`` or ``min`` (meeting it means
beating the ``share`` best of the known labels: the top 5 % by default, so "high bulk
modulus" has a number a candidate can be judged against) or a window ``LO,HI``. Written as
``bulk_modulus:max``, ``thermal_conductivity:min`` or ``band_gap:1.1,1.7``
(:func:`parse_target`).

:func:`meet_probability` is the model's probability that a candidate meets every target:
from the predictive mean and spread per target (a Gaussian), and with several targets from
their joint predictive covariance (``predict_cov``, by Monte Carlo), not the product of the
marginals, because coupled properties miss or meet together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from matlattice.errors import InvalidParameterError

__all__ = ["DesignTarget", "meet_probability", "parse_target"]

GOALS = ("max", "min", "window")


@dataclass(frozen=True)
class DesignTarget:
    """One property's goal (module docstring); ``low``/``high`` bound the values that meet
    it (one of them infinite for ``max``/``min`` once :meth:`resolve` has set it)."""

    property: str
    goal: str
    low: float = -math.inf
    high: float = math.inf
    share: float = 0.05

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise InvalidParameterError(f"goal={self.goal!r}; expected one of {GOALS}")
        if not 0.0 < self.share < 1.0:
            raise InvalidParameterError(f"share={self.share}; expected a value in (0, 1)")
        if not self.low <= self.high:
            raise InvalidParameterError(
                f"{self.property}: window {self.low},{self.high} is empty; write LO,HI with LO < HI"
            )

    def resolve(self, labels: np.ndarray) -> DesignTarget:
        """The target with its bound set from the known ``labels`` (``max``: at least their
        ``1 - share`` quantile; ``min``: at most their ``share`` quantile); a window as is."""
        values = np.asarray(labels, dtype=float)
        values = values[np.isfinite(values)]
        if self.goal == "window":
            return self
        if not len(values):
            raise InvalidParameterError(
                f"{self.property}: no labelled values to set the {self.goal} target from"
            )
        if self.goal == "max":
            bound = float(np.quantile(values, 1.0 - self.share))
            return DesignTarget(self.property, "max", bound, math.inf, self.share)
        bound = float(np.quantile(values, self.share))
        return DesignTarget(self.property, "min", -math.inf, bound, self.share)

    def met(self, values: np.ndarray) -> np.ndarray:
        """Whether each value meets the target."""
        values = np.asarray(values, dtype=float)
        return (values >= self.low) & (values <= self.high)

    def describe(self) -> str:
        if self.goal == "window":
            return f"{self.property} in [{self.low:g}, {self.high:g}]"
        if self.goal == "max":
            return f"{self.property} >= {self.low:.4g} (top {self.share:.0%} of the known)"
        return f"{self.property} <= {self.high:.4g} (bottom {self.share:.0%} of the known)"


def parse_target(text: str, share: float = 0.05) -> DesignTarget:
    """``"bulk_modulus:max"``, ``"kappa:min"`` or ``"band_gap:1.1,1.7"``."""
    name, sep, goal = str(text).rpartition(":")
    if not sep or not name or not goal:
        raise InvalidParameterError(
            f"target {text!r}; write PROPERTY:max, PROPERTY:min or PROPERTY:LO,HI"
        )
    if goal in ("max", "min"):
        return DesignTarget(name, goal, share=share)
    try:
        low, high = (float(v) for v in goal.split(","))
    except ValueError:
        raise InvalidParameterError(
            f"target {text!r}: {goal!r} is not max, min or a window LO,HI of two numbers"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InvalidParameterError(f"target {text!r}: the window's bounds must be finite")
    return DesignTarget(name, "window", low, high, share)


def meet_probability(
    targets: list[DesignTarget],
    mean: np.ndarray,
    std: np.ndarray | None = None,
    cov: np.ndarray | None = None,
    *,
    draws: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """``(n,)`` probability that each candidate meets every target, under a Gaussian with
    ``mean`` ``(n, t)`` and either the marginal ``std`` ``(n, t)`` (one target, or targets
    taken as independent) or the joint covariance ``cov`` ``(n, t, t)``."""
    mean = np.asarray(mean, dtype=float).reshape(len(mean), -1)
    if mean.shape[1] != len(targets):
        raise InvalidParameterError(f"mean has {mean.shape[1]} columns for {len(targets)} targets")
    low = np.array([t.low for t in targets])
    high = np.array([t.high for t in targets])
    if cov is None or len(targets) == 1:
        if std is None:
            if cov is None:
                raise InvalidParameterError("meet_probability needs std or cov")
            std = np.sqrt(np.diagonal(np.asarray(cov, dtype=float), axis1=1, axis2=2))
        spread = np.maximum(np.asarray(std, dtype=float).reshape(mean.shape), 1e-12)
        inside = norm.cdf((high - mean) / spread) - norm.cdf((low - mean) / spread)
        return np.clip(inside, 0.0, 1.0).prod(axis=1)
    rng = np.random.default_rng(seed)
    cov = np.asarray(cov, dtype=float) + 1e-12 * np.eye(len(targets))
    factors = np.linalg.cholesky(cov)  # (n, t, t)
    noise = rng.standard_normal((draws, len(targets)))
    samples = mean[None] + np.einsum("nij,dj->dni", factors, noise)  # (draws, n, t)
    inside = ((samples >= low) & (samples <= high)).all(axis=2)
    return inside.mean(axis=0)
