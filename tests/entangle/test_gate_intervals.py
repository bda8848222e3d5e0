"""The intervals behind the gates hold their confidence on planted draws, and the group
consensus splits a pair only when most redrawn weights split it."""

from __future__ import annotations

import numpy as np

from matlattice.entangle.grouping import consensus_groups
from matlattice.entangle.intervals import CONFIDENCE, draw_bounds, epoch_draws, gain_interval


def _runs(rng, gain: float, runs: int, rows: int = 300, seed_sd: float = 0.04):
    """``(alone, paired)`` absolute errors of ``runs`` paired runs whose true gain is
    ``gain``, each run off by a seed effect of ``seed_sd``."""
    base = np.abs(rng.standard_normal(rows))
    alone = np.stack([base * (1 + seed_sd * rng.standard_normal()) for _ in range(runs)])
    paired = np.stack(
        [
            base * (1 - gain) * (1 + seed_sd * rng.standard_normal())
            + 0.2 * np.abs(rng.standard_normal(rows))
            - 0.2 * np.sqrt(2 / np.pi)
            for _ in range(runs)
        ]
    )
    return alone, np.abs(paired)


def test_the_gain_bounds_hold_their_confidence_over_many_draws():
    rng = np.random.default_rng(0)
    misses_high, misses_low, trials = 0, 0, 300
    for _ in range(trials):
        truth = rng.uniform(-0.2, 0.2)
        alone, paired = _runs(rng, truth, runs=4)
        realised = 1 - paired.mean() / alone.mean()  # the gain these rows would show forever
        _, low, high = gain_interval(alone, paired, rng)
        misses_high += high < realised - 0.01
        misses_low += low > realised + 0.01
    assert misses_high / trials <= 1 - CONFIDENCE + 0.03
    assert misses_low / trials <= 1 - CONFIDENCE + 0.03


def test_one_run_cannot_see_the_seed_and_more_runs_narrow_the_interval():
    rng = np.random.default_rng(1)
    alone, paired = _runs(rng, -0.08, runs=4)
    _, low4, high4 = gain_interval(alone, paired, rng)
    _, low2, high2 = gain_interval(alone[:2], paired[:2], rng)
    assert high4 - low4 < high2 - low2  # two runs: a t quantile with one degree of freedom


def test_epoch_draws_centre_on_the_mean_and_cover_it():
    rng = np.random.default_rng(2)
    trajectory = 0.3 + 0.1 * rng.standard_normal((40, 3, 3))
    draws = epoch_draws(trajectory, rng)
    low, high = draw_bounds(draws)
    mean = trajectory.mean(axis=0)
    assert draws.shape == (200, 3, 3)
    assert (low < mean).all() and (mean < high).all()


def test_consensus_splits_a_pair_only_when_most_draws_split_it():
    tasks = ["a", "b", "c", "d"]
    rng = np.random.default_rng(3)
    draws = []
    for k in range(200):
        w = np.full((4, 4), 0.05)
        w[0, 1] = w[1, 0] = 0.8  # a-b: always strong
        w[2, 3] = w[3, 2] = 0.8 if k % 10 < 7 else 0.02  # c-d: strong in 70 % of the draws
        w[0, 2] = w[2, 0] = 0.8 if k % 10 < 3 else 0.02  # a-c: strong in 30 %
        draws.append(w + 0.001 * rng.standard_normal((4, 4)))
    free = np.zeros((4, 4), dtype=bool)
    groups, together = consensus_groups(tasks, np.stack(draws), free)
    assert groups == [["a", "b"], ["c", "d"]]
    assert together[2, 3] > 0.6 and together[0, 2] < 0.4
    cut = free.copy()
    cut[0, 1] = cut[1, 0] = True  # a gate keeps a and b apart whatever the draws say
    groups, _ = consensus_groups(tasks, np.stack(draws), cut)
    assert ["a", "b"] not in groups
