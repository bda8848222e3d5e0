"""Pairwise transfer gain: each property trained alone, and with each other property.

``gain[s, t] = (e_t(alone) - e_t(with s)) / e_t(alone)`` where ``e`` is the validation MAE:
positive when learning ``s`` beside ``t`` through one shared embedding helps ``t``, negative
(negative transfer) when it hurts. ``T`` single-task and ``T (T - 1) / 2`` two-task trainings
are independent jobs run behind the executor interface (local processes or Ray).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from matlattice.runtime.executor import get_executor

__all__ = ["SubsetJob", "fit_subset", "transfer_gains"]


@dataclass(frozen=True)
class SubsetJob:
    """One training on a subset of the tasks (picklable for worker processes)."""

    tasks: tuple[str, ...]
    train: pd.DataFrame
    val: pd.DataFrame
    params: dict


def fit_subset(job: SubsetJob) -> dict[str, float]:
    """Train a hard-sharing model on ``job.tasks``; validation MAE per task."""
    from matlattice.models import LatticeRegressor

    columns = ["formula", *job.tasks]
    train = job.train[columns].dropna(subset=list(job.tasks), how="all")
    val = job.val[columns].dropna(subset=list(job.tasks), how="all")
    model = LatticeRegressor(**job.params).fit(train, X_val=val)
    pred = model.predict(val["formula"].tolist()).reshape(len(val), -1)
    out = {}
    for k, task in enumerate(job.tasks):
        y = val[task].to_numpy(dtype=float)
        ok = np.isfinite(y)
        out[task] = float(np.mean(np.abs(pred[ok, k] - y[ok]))) if ok.any() else float("nan")
    return out


def transfer_gains(
    train: pd.DataFrame,
    val: pd.DataFrame,
    tasks: list[str],
    params: dict,
    *,
    executor: str = "local",
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(gain, alone, pair)``: ``(T, T)`` gains, ``(T,)`` alone MAEs, ``(T, T)`` MAE of ``t``
    trained with ``s`` (``pair[s, t]``). ``params`` are :class:`LatticeRegressor` settings;
    ``progress(done, total)`` hears each finished training."""
    subsets = [(t,) for t in tasks] + list(combinations(tasks, 2))
    jobs = [SubsetJob(tuple(s), train, val, dict(params)) for s in subsets]
    results = get_executor(executor, n_jobs).map(fit_subset, jobs, progress=progress)
    index = {t: i for i, t in enumerate(tasks)}
    n = len(tasks)
    alone = np.full(n, np.nan)
    pair = np.full((n, n), np.nan)
    for subset, errors in zip(subsets, results, strict=True):
        if len(subset) == 1:
            alone[index[subset[0]]] = errors[subset[0]]
        else:
            a, b = subset
            pair[index[b], index[a]] = errors[a]  # a's error when trained with b
            pair[index[a], index[b]] = errors[b]
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = (alone[None, :] - pair) / alone[None, :]
    np.fill_diagonal(gain, np.nan)
    return gain, alone, pair
