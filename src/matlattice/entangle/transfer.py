"""Pairwise transfer gain with an interval: each property trained alone, and with each other.

``gain[s, t] = 1 - e_t(with s) / e_t(alone)`` where ``e`` is the validation MAE: positive when
learning ``s`` beside ``t`` through one shared embedding helps ``t``, negative (negative
transfer) when it hurts. One training of a small network varies by several per cent from seed
to seed, so a single run cannot tell a 5 % loss from noise. The first round trains every
property alone and every pair once (``T + T (T - 1) / 2`` jobs); then only the pairs whose gain
could be a negative transfer (below ``-tolerance``) are trained again with new seeds, round by
round, until the interval of :func:`~matlattice.entangle.intervals.gain_interval` settles the
question (its upper bound below ``-tolerance``: negative transfer; its lower bound above it:
not) or :data:`MAX_RUNS` runs are spent. Every job runs behind the executor interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from matlattice.entangle.intervals import gain_interval
from matlattice.runtime.executor import get_executor

__all__ = ["MAX_RUNS", "SubsetJob", "TransferEvidence", "fit_subset", "transfer_gains"]

#: Most runs (seeds) a pair's gain gets before its gate is decided as "not shown".
MAX_RUNS = 4


@dataclass(frozen=True)
class SubsetJob:
    """One training on a subset of the tasks with one seed (picklable for worker processes)."""

    tasks: tuple[str, ...]
    train: pd.DataFrame
    val: pd.DataFrame
    params: dict
    run: int = 0


def fit_subset(job: SubsetJob) -> dict[str, np.ndarray]:
    """Train a hard-sharing model on ``job.tasks`` (seed offset by the run, early stopping per
    task); per task, the absolute error on every validation row (NaN where unlabelled)."""
    from matlattice.models import LatticeRegressor

    columns = ["formula", *job.tasks]
    train = job.train[columns].dropna(subset=list(job.tasks), how="all")
    # each property is judged at its own best epoch: stopping on the pair's mean loss would let
    # the partner's overfitting end the training early, a loss that is not a transfer
    params = {
        **job.params,
        "random_state": int(job.params.get("random_state", 0)) + job.run,
        "early_stopping": "per_task",
    }
    model = LatticeRegressor(**params).fit(train, X_val=job.val[columns])
    pred = model.predict(job.val["formula"].tolist()).reshape(len(job.val), -1)
    return {
        task: np.abs(pred[:, k] - job.val[task].to_numpy(dtype=float))
        for k, task in enumerate(job.tasks)
    }


@dataclass
class TransferEvidence:
    """What the pairwise trainings measured, all ``(T, T)`` with ``[s, t]``: from ``s`` into
    ``t`` (``alone`` is ``(T,)``).

    ``gain`` is the mean over runs; ``low`` and ``high`` its one-sided bounds; ``runs`` how
    many paired runs it rests on; ``alone`` and ``pair`` the first run's MAEs; ``trainings``
    the number of trainings spent in all.
    """

    gain: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: np.ndarray
    alone: np.ndarray
    pair: np.ndarray
    trainings: int


def _undecided(i, j, gain, low, high, runs, tolerance) -> bool:
    """Whether pair ``(i, j)`` might be a negative transfer that its runs cannot yet settle:
    its gain is below half the tolerance, and it rests on one run (the seed's spread is
    unknown) or its interval still straddles ``-tolerance``."""
    if not gain[i, j] < -tolerance / 2:
        return False
    return runs[i, j] < 2 or low[i, j] < -tolerance <= high[i, j]


def _jobs(subsets, run, train, val, params) -> list[SubsetJob]:
    return [SubsetJob(tuple(s), train, val, dict(params), run) for s in subsets]


def transfer_gains(
    train: pd.DataFrame,
    val: pd.DataFrame,
    tasks: list[str],
    params: dict,
    *,
    tolerance: float,
    executor: str = "local",
    n_jobs: int = 1,
    seed: int = 0,
    min_runs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> TransferEvidence:
    """Measure every pair's gain with an interval (module docstring); ``params`` are
    :class:`~matlattice.models.LatticeRegressor` settings, ``tolerance`` the negative-transfer
    tolerance the repeats decide against, ``min_runs`` the runs every pair gets whatever its
    gain (for studies of the gains themselves; at most :data:`MAX_RUNS`),
    ``progress(done, total)`` hears each training."""
    pool = get_executor(executor, n_jobs)
    index = {t: i for i, t in enumerate(tasks)}
    errors: dict[tuple[tuple[str, ...], int], dict[str, np.ndarray]] = {}
    subsets = [(t,) for t in tasks] + list(combinations(tasks, 2))
    for job, result in zip(
        first := _jobs(subsets, 0, train, val, params),
        pool.map(fit_subset, first, progress=progress),
        strict=True,
    ):
        errors[(job.tasks, 0)] = result
    rng = np.random.default_rng(seed)
    n = len(tasks)
    gain, low, high = (np.full((n, n), np.nan) for _ in range(3))
    runs = np.zeros((n, n), dtype=int)

    def settle(s: str, t: str) -> None:
        i, j, pair = index[s], index[t], tuple(sorted((s, t), key=index.get))
        k = runs[i, j] = sum((pair, r) in errors for r in range(MAX_RUNS))
        alone = np.stack([errors[((t,), r)][t] for r in range(k)])
        paired = np.stack([errors[(pair, r)][t] for r in range(k)])
        gain[i, j], low[i, j], high[i, j] = gain_interval(alone, paired, rng)

    for s, t in ((s, t) for s in tasks for t in tasks if s != t):
        settle(s, t)
    for run in range(1, MAX_RUNS):
        open_pairs = [
            (s, t) for s in tasks for t in tasks
            if s != t and (
                run < min_runs or _undecided(index[s], index[t], gain, low, high, runs, tolerance)
            )
        ]  # fmt: skip
        if not open_pairs:
            break
        needed = sorted({(t,) for _, t in open_pairs} | {
            tuple(sorted(p, key=index.get)) for p in open_pairs
        })  # fmt: skip
        jobs = _jobs(needed, run, train, val, params)
        for job, result in zip(jobs, pool.map(fit_subset, jobs, progress=progress), strict=True):
            errors[(job.tasks, run)] = result
        for s, t in open_pairs:
            settle(s, t)
    alone_mae = np.array([np.nanmean(errors[((t,), 0)][t]) for t in tasks])
    pair_mae = np.full((n, n), np.nan)
    for a, b in combinations(tasks, 2):
        pair_mae[index[b], index[a]] = np.nanmean(errors[((a, b), 0)][a])
        pair_mae[index[a], index[b]] = np.nanmean(errors[((a, b), 0)][b])
    return TransferEvidence(gain, low, high, runs, alone_mae, pair_mae, len(errors))
