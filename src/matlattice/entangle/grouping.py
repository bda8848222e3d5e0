"""Task groups from the lattice: correlation clustering of one weight matrix, and the
consensus of it over redrawn weights, so that a pair is split only when the split is
reproducible.

:func:`weight_draws` redraws the combined weight :data:`~matlattice.entangle.intervals.N_DRAWS`
times from the spread of each measure: the per-epoch measures (gradient cosine, affinity) by a
block bootstrap over epochs, the label dependence by the Fisher-z sampling spread of a
correlation on the co-labelled rows, the transfer gain from its interval; the head alignment,
a property of the one trained model, stays as measured. :func:`consensus_groups` clusters each draw
(:func:`steering_groups`) and then clusters the share of draws in which each pair shared a
group, at one half: two properties end in one group when most draws put them there.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import norm

from matlattice.entangle.intervals import CONFIDENCE, N_DRAWS, epoch_draws
from matlattice.entangle.measures import CouplingMeasures
from matlattice.entangle.risk_gates import GATES

__all__ = ["consensus_groups", "correlation_clusters", "steering_groups", "weight_draws"]


def steering_groups(tasks: list[str], weight: np.ndarray, cut: np.ndarray) -> list[list[str]]:
    """The training groups of one weight matrix: a partition maximising
    ``sum over same-group pairs of (w_st - tau)`` (correlation clustering) on the symmetrised
    weight, where ``tau = max(group_weight_floor, median off-diagonal weight)``: two properties
    attract when they couple more than the floor and more than the lattice's typical pair,
    and repel otherwise; a pair
    cut by a risk gate never shares a group. The lattice's own groups are the consensus of
    this over redrawn weights (:func:`~matlattice.entangle.consensus.consensus_groups`).
    """
    n = len(tasks)
    sym = 0.5 * (weight + weight.T)
    off = ~np.eye(n, dtype=bool)
    finite = sym[off & np.isfinite(sym)]
    tau = max(GATES["group_weight_floor"], float(np.median(finite))) if finite.size else np.inf
    score = np.where(np.isfinite(sym), sym, 0.0) - tau
    return correlation_clusters(tasks, np.where(cut, -np.inf, score))


def correlation_clusters(tasks: list[str], score: np.ndarray) -> list[list[str]]:
    """The partition of ``tasks`` maximising the summed pair ``score`` inside groups (positive:
    attract, negative: repel, ``-inf``: never together). Greedy and deterministic: start from
    singletons, repeatedly merge the two groups with the largest positive gain, then move
    single properties while that raises the objective."""
    n = len(tasks)
    score = np.array(score, dtype=float)
    np.fill_diagonal(score, 0.0)

    def gain(a: list[int], b: list[int]) -> float:
        return float(score[np.ix_(a, b)].sum()) if a and b else 0.0

    groups: list[list[int]] = [[i] for i in range(n)]
    while True:
        best, pair = 0.0, None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                g = gain(groups[i], groups[j])
                if g > best + 1e-12:
                    best, pair = g, (i, j)
        if pair is None:
            break
        i, j = pair
        groups[i] = sorted(groups[i] + groups[j])
        del groups[j]
    moved = True
    while moved:
        moved = False
        for t in range(n):
            home = next(k for k, g in enumerate(groups) if t in g)
            rest = [x for x in groups[home] if x != t]
            here = gain([t], rest)
            options = [(gain([t], g), k) for k, g in enumerate(groups) if k != home]
            options.append((0.0, -1))  # alone
            value, target = max(options)
            if value > here + 1e-12:
                groups[home] = rest
                if target == -1:
                    groups.append([t])
                else:
                    groups[target] = sorted(groups[target] + [t])
                groups = [g for g in groups if g]
                moved = True
    named = [[tasks[i] for i in g] for g in groups]
    return sorted(named, key=lambda g: tasks.index(g[0]))


def weight_draws(m: CouplingMeasures, rng: np.random.Generator) -> np.ndarray:
    """``(N_DRAWS, T, T)`` combined weights, each from one redraw of the measures."""
    cosines = epoch_draws(m.gradient_trajectory, rng)
    affinities = epoch_draws(m.affinity_trajectory, rng)
    dependence = m.label_dependence
    if dependence is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.arctanh(np.clip(dependence, 0.0, 0.999999))
            spread = 1.0 / np.sqrt(np.maximum(m.data_count - 3.0, 1.0))
    draws = []
    for k in range(N_DRAWS):
        changes = {"gradient_cosine": cosines[k], "affinity": affinities[k]}
        if dependence is not None:
            changes["label_dependence"] = np.tanh(z + spread * rng.standard_normal(z.shape))
        if m.transfer_gain is not None and m.transfer_high is not None:
            se = (m.transfer_high - m.transfer_gain) / norm.ppf(CONFIDENCE)
            noise = np.nan_to_num(se, nan=0.0) * rng.standard_normal(se.shape)
            changes["transfer_gain"] = m.transfer_gain + noise
        draws.append(dataclasses.replace(m, **changes).weight())
    return np.stack(draws)


def consensus_groups(
    tasks: list[str], draws: np.ndarray, cut: np.ndarray
) -> tuple[list[list[str]], np.ndarray]:
    """``(groups, together)``: ``together[s, t]`` is the share of the weight ``draws`` whose
    groups put ``s`` and ``t`` together; the groups cluster it at one half. A pair under a
    cutting gate never shares a group."""
    index = {t: i for i, t in enumerate(tasks)}
    together = np.zeros((len(tasks), len(tasks)))
    for weight in draws:
        for group in steering_groups(tasks, weight, cut):
            members = [index[t] for t in group]
            together[np.ix_(members, members)] += 1.0
    together /= len(draws)
    np.fill_diagonal(together, 1.0)
    return correlation_clusters(tasks, np.where(cut, -np.inf, together - 0.5)), together
