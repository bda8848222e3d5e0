"""Intervals for the lattice's measures, so that a gate fires on evidence, not on noise.

- :func:`gain_interval`: the transfer gain of a pair from one or more paired runs (``t``
  alone and ``t`` trained with ``s``, same seed, same validation rows). Its spread has two
  sources: the validation rows (a paired bootstrap over rows) and the training seed (the
  spread of the per-run gains, once there are two runs or more).
- :func:`epoch_draws`: means over epochs of a per-epoch measure (gradient cosine,
  affinity), redrawn by a moving-block bootstrap over the epochs (neighbouring epochs are
  alike, so blocks of about ``sqrt(E)`` epochs are kept whole).

Bounds are one-sided at :data:`CONFIDENCE`: a gate fires when the bound on the side of the
decision clears its tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student

__all__ = ["CONFIDENCE", "N_DRAWS", "draw_bounds", "epoch_draws", "gain_interval"]

#: One-sided confidence a gate's evidence must clear.
CONFIDENCE = 0.95
#: Bootstrap draws behind every interval and the group consensus.
N_DRAWS = 200


def gain_interval(
    alone: np.ndarray, paired: np.ndarray, rng: np.random.Generator
) -> tuple[float, float, float]:
    """``(gain, low, high)`` of ``1 - MAE(paired) / MAE(alone)`` from ``(R, n)`` absolute
    errors of ``R`` runs on the same ``n`` validation rows (NaN rows are dropped); the bounds
    are one-sided at :data:`CONFIDENCE` each. With one run only the rows' spread is known."""
    alone, paired = np.atleast_2d(alone), np.atleast_2d(paired)
    rows = np.isfinite(alone).all(axis=0) & np.isfinite(paired).all(axis=0)
    alone, paired = alone[:, rows], paired[:, rows]
    if rows.sum() < 2 or not (alone.mean(axis=1) > 0).all():
        return float("nan"), float("nan"), float("nan")
    per_run = 1.0 - paired.mean(axis=1) / alone.mean(axis=1)
    gain = float(per_run.mean())
    picks = rng.integers(0, rows.sum(), size=(N_DRAWS, int(rows.sum())))
    redrawn = 1.0 - paired[:, picks].mean(axis=2) / alone[:, picks].mean(axis=2)  # (R, B)
    variance = float(redrawn.mean(axis=0).var(ddof=1))
    runs = len(per_run)
    if runs >= 2:
        variance += float(per_run.var(ddof=1)) / runs
        q = float(student.ppf(CONFIDENCE, df=runs - 1))
    else:
        q = float(norm.ppf(CONFIDENCE))
    half = q * np.sqrt(variance)
    return gain, gain - half, gain + half


def epoch_draws(trajectory: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(N_DRAWS, T, T)`` means over epochs of an ``(E, T, T)`` per-epoch measure, each over
    a moving-block bootstrap of the epochs (NaN entries are ignored)."""
    epochs = len(trajectory)
    if epochs == 0:
        return np.full((N_DRAWS, *trajectory.shape[1:]), np.nan)
    block = max(round(np.sqrt(epochs)), 1)
    n_blocks = int(np.ceil(epochs / block))
    starts = rng.integers(0, epochs - block + 1, size=(N_DRAWS, n_blocks))
    index = (starts[:, :, None] + np.arange(block)).reshape(N_DRAWS, -1)[:, :epochs]
    picked = trajectory[index]  # (B, E, T, T)
    finite = np.isfinite(picked)
    total = np.where(finite, picked, 0.0).sum(axis=1)
    count = finite.sum(axis=1)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def draw_bounds(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise one-sided bounds at :data:`CONFIDENCE` of ``(N, ...)`` draws."""
    with warnings.catch_warnings():  # an all-NaN entry (the diagonal) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanpercentile(draws, 100 * (1 - CONFIDENCE), axis=0)
        high = np.nanpercentile(draws, 100 * CONFIDENCE, axis=0)
    return low, high
