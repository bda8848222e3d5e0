"""Per-task target scaling: robust centring and scaling, with a log option for skewed data.

``scaled = (f(y) - median) / scale`` where ``f`` is the identity or ``log10(y)``. Scaling
keeps tiny units (thermal expansion, ~5e-5 1/K) and huge ones (moduli, ~100 GPa) alike at order
one. Two scales (``spread``):

- ``"iqr"``: the interquartile range / 1.349 (the standard deviation for normal data);
  outliers do not set it, but it collapses when more than half the labels share one value:
  magnetic moments of the materials with elastic data in ``mp`` are 70 % within 1e-3 muB of
  zero, their IQR scale is 7.5e-4 muB and the scaled labels average |z| ~ 1800, so a model
  sharing its encoder with them must serve outputs three orders of magnitude apart.
- ``"mean_abs_dev"``: the mean absolute deviation from the median, i.e. the L1 loss of the
  constant median prediction, so every task's scaled labels average |z| = 1 and each task's
  L1 loss starts at 1 whatever its distribution; linear, not quadratic, in outliers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from matlattice.errors import InvalidParameterError

__all__ = ["RANGE_MARGIN", "SPREADS", "TRANSFORMS", "TargetScaler", "choose_transform"]

RANGE_MARGIN = 0.5  # predictions may leave the training range by half its width, no more
SPREADS = ("iqr", "mean_abs_dev")
TRANSFORMS = ("auto", "none", "log")  # per-task target transform; auto: log for skewed > 0


def choose_transform(y: np.ndarray) -> str:
    """``"log"`` for positive data whose 5-95 % range spans a decade with a right skew.

    L1 on log targets still estimates the conditional median (log is monotone), so the
    transform keeps MAE-optimal predictions while evening out the scale of skewed tasks.
    """
    y = y[np.isfinite(y)]
    if len(y) < 10 or (y <= 0).mean() > 0.0:
        return "none"
    q05, q50, q95 = np.percentile(y, [5, 50, 95])
    if q05 > 0 and q95 / q05 > 10 and (q95 - q50) > 2 * (q50 - q05):
        return "log"
    return "none"


@dataclass(frozen=True)
class TargetScaler:
    """Scaling of one task's targets; JSON-serialisable (``asdict``).

    Attributes
    ----------
    transform : {"none", "log"}
    center, scale : float, in transformed units
    task : {"regression", "classification"} (classification targets are not scaled)
    low, high : float or None, in transformed units: the training range widened by
        ``RANGE_MARGIN`` of its width on each side. :meth:`inverse` clips to it, so a wild
        network output cannot become 1e200 W/(m K) through ``10**t``; None (files written
        before the guard) clips nothing.
    """

    transform: str = "none"
    center: float = 0.0
    scale: float = 1.0
    task: str = "regression"
    low: float | None = None
    high: float | None = None

    @classmethod
    def fit(
        cls,
        y: np.ndarray,
        *,
        task: str = "regression",
        transform: str = "auto",
        spread: str = "iqr",
    ) -> TargetScaler:
        """Scaling of ``y`` (NaN ignored); ``spread`` sets the scale (module docstring)."""
        if spread not in SPREADS:
            raise InvalidParameterError(f"spread={spread!r}; expected one of {SPREADS}")
        y = np.asarray(y, dtype=float)
        y = y[np.isfinite(y)]
        if task == "classification":
            return cls(task=task)
        if transform == "auto":
            transform = choose_transform(y)
        if transform not in TRANSFORMS[1:]:
            raise InvalidParameterError(
                f"transform={transform!r}; expected 'auto', 'none' or 'log'"
            )
        if transform == "log" and (y <= 0).any():
            raise InvalidParameterError("transform='log' needs strictly positive targets")
        t = np.log10(y) if transform == "log" else y
        center = float(np.median(t))
        if spread == "iqr":
            q1, q3 = np.percentile(t, [25, 75])
            scale = float((q3 - q1) / 1.349)
        else:
            scale = float(np.mean(np.abs(t - center))) if len(t) else 0.0
        scale = scale or float(np.std(t)) or 1.0
        width = float(t.max() - t.min()) if len(t) else 0.0
        low = float(t.min()) - RANGE_MARGIN * width if len(t) else None
        high = float(t.max()) + RANGE_MARGIN * width if len(t) else None
        return cls(transform=transform, center=center, scale=scale, task=task, low=low, high=high)

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Targets -> scaled units (NaN stays NaN)."""
        if self.task == "classification":
            return np.asarray(y, dtype=float)
        y = np.asarray(y, dtype=float)
        t = np.log10(np.where(y > 0, y, np.nan)) if self.transform == "log" else y
        return (t - self.center) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Scaled units -> targets."""
        if self.task == "classification":
            return np.asarray(z, dtype=float)
        t = np.asarray(z, dtype=float) * self.scale + self.center
        if self.low is not None and self.high is not None:
            t = np.clip(t, self.low, self.high)
        return 10.0**t if self.transform == "log" else t

    def inverse_std(self, z: np.ndarray, z_std: np.ndarray) -> np.ndarray:
        """A spread in scaled units around ``z`` -> target units (delta method: the slope of
        :meth:`inverse` at ``z`` times ``z_std``)."""
        z_std = np.asarray(z_std, dtype=float)
        if self.task == "classification":
            return z_std
        slope = self.scale * (np.log(10.0) * self.inverse(z) if self.transform == "log" else 1.0)
        return np.abs(slope) * z_std

    def to_dict(self) -> dict:
        return asdict(self)
