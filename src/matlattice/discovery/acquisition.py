"""Acquisition functions: which candidate to measure next.

Every function scores a pool of candidates from the model's predictive mean and spread
(``(n,)`` arrays in the property's unit); higher is better. ``goal="max"`` looks for high
values, ``"min"`` for low ones (scores are computed on the negated property). The seed 001
rule (its eq. 1) is :func:`ucb`: ``x* = argmax mu + alpha sigma``.

References: expected improvement (Jones, Schonlau and Welch 1998), probability of
improvement (Kushner 1964), upper confidence bound (Srinivas et al. 2010), Thompson sampling
(Thompson 1933; one ensemble member or posterior draw per pick).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from matlattice.errors import InvalidParameterError

__all__ = [
    "ACQUISITIONS",
    "UCB_ALPHA",
    "expected_improvement",
    "greedy",
    "max_spread",
    "probability_of_improvement",
    "random_scores",
    "score",
    "select_batch",
    "thompson",
    "thompson_batch",
    "ucb",
    "window_probability",
]

UCB_ALPHA = 2.0  # default exploration weight: mean + 2 sigma, an optimistic ~97.7 % bound
_EPS = 1e-12


def _oriented(mean: np.ndarray, goal: str) -> np.ndarray:
    if goal not in ("max", "min"):
        raise InvalidParameterError(f"goal={goal!r}; expected 'max' or 'min'")
    mean = np.asarray(mean, dtype=float)
    return mean if goal == "max" else -mean


def greedy(mean, std=None, *, goal: str = "max") -> np.ndarray:
    """Pure exploitation: the predicted value itself."""
    return _oriented(mean, goal)


def ucb(mean, std, *, alpha: float = UCB_ALPHA, goal: str = "max") -> np.ndarray:
    """``mu + alpha sigma`` (seed 001, eq. 1); ``alpha = 0`` is greedy."""
    return _oriented(mean, goal) + alpha * np.asarray(std, dtype=float)


def max_spread(mean, std, *, goal: str = "max") -> np.ndarray:
    """Pure exploration: the predictive spread."""
    return np.asarray(std, dtype=float).copy()


def expected_improvement(mean, std, best: float, *, xi: float = 0.0, goal: str = "max"):
    """``E[max(y - best - xi, 0)]`` under ``N(mu, sigma^2)`` (``best`` in the property's unit;
    for ``goal="min"`` improvement means going below ``best``)."""
    mu = _oriented(mean, goal)
    target = (best if goal == "max" else -best) + xi
    sigma = np.maximum(np.asarray(std, dtype=float), _EPS)
    z = (mu - target) / sigma
    return (mu - target) * norm.cdf(z) + sigma * norm.pdf(z)


def probability_of_improvement(mean, std, best: float, *, xi: float = 0.0, goal: str = "max"):
    """``P(y > best + xi)`` under ``N(mu, sigma^2)`` (below ``best`` for ``goal="min"``)."""
    mu = _oriented(mean, goal)
    target = (best if goal == "max" else -best) + xi
    return norm.cdf((mu - target) / np.maximum(np.asarray(std, dtype=float), _EPS))


def window_probability(mean, std, lo: float, hi: float) -> np.ndarray:
    """``P(lo <= y <= hi)`` under ``N(mu, sigma^2)``: a target window (e.g. a band gap)."""
    if not lo < hi:
        raise InvalidParameterError(f"window [{lo}, {hi}] is empty")
    mu = np.asarray(mean, dtype=float)
    sigma = np.maximum(np.asarray(std, dtype=float), _EPS)
    return norm.cdf((hi - mu) / sigma) - norm.cdf((lo - mu) / sigma)


def thompson(draws: np.ndarray, rng: np.random.Generator, *, goal: str = "max") -> np.ndarray:
    """One posterior draw per call: ``draws`` is ``(k, n)`` (e.g. the ensemble members'
    predictions); a random row is the score."""
    draws = np.asarray(draws, dtype=float)
    return _oriented(draws[rng.integers(len(draws))], goal)


def thompson_batch(
    draws: np.ndarray, n: int, rng: np.random.Generator, *, goal: str = "max"
) -> np.ndarray:
    """``n`` distinct candidates, one posterior draw per pick: pick ``j`` takes the best
    candidate not yet chosen under a randomly chosen row of ``draws`` ``(k, m)``."""
    draws = np.asarray(draws, dtype=float)
    n = min(int(n), draws.shape[1])
    taken = np.zeros(draws.shape[1], dtype=bool)
    picks = []
    for _ in range(n):
        row = np.where(taken, -np.inf, _oriented(draws[rng.integers(len(draws))], goal))
        best = int(np.argmax(row))
        taken[best] = True
        picks.append(best)
    return np.array(picks, dtype=int)


def random_scores(n: int, rng: np.random.Generator) -> np.ndarray:
    """The random baseline: i.i.d. uniform scores."""
    return rng.random(n)


ACQUISITIONS = ("random", "greedy", "ucb", "ei", "pi", "thompson", "explore", "window")


def score(
    name: str,
    mean: np.ndarray,
    std: np.ndarray,
    *,
    goal: str = "max",
    best: float | None = None,
    draws: np.ndarray | None = None,
    window: tuple[float, float] | None = None,
    alpha: float = UCB_ALPHA,
    feasibility: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Scores of one of :data:`ACQUISITIONS` for every candidate; ``feasibility`` (``(n,)``
    probabilities that a constraint holds) multiplies non-negative scores (EI, PI, window)
    and is a hard mask (infeasible < 0.5 last) for the others."""
    rng = rng if rng is not None else np.random.default_rng(0)
    mean = np.asarray(mean, dtype=float)
    if name == "random":
        out = random_scores(len(mean), rng)
    elif name == "greedy":
        out = greedy(mean, goal=goal)
    elif name == "ucb":
        out = ucb(mean, std, alpha=alpha, goal=goal)
    elif name in ("ei", "pi"):
        if best is None:
            raise InvalidParameterError(
                f"acquisition {name!r} needs the best value measured so far"
            )
        fn = expected_improvement if name == "ei" else probability_of_improvement
        out = fn(mean, std, best, goal=goal)
    elif name == "thompson":
        if draws is None:
            raise InvalidParameterError(
                "acquisition 'thompson' needs draws (k, n), e.g. ensemble members"
            )
        out = thompson(draws, rng, goal=goal)
    elif name == "explore":
        out = max_spread(mean, std)
    elif name == "window":
        if window is None:
            raise InvalidParameterError("acquisition 'window' needs window=(lo, hi)")
        out = window_probability(mean, std, *window)
    else:
        raise InvalidParameterError(f"acquisition {name!r}; expected one of {ACQUISITIONS}")
    if feasibility is not None:
        feasibility = np.asarray(feasibility, dtype=float)
        if name in ("ei", "pi", "window"):
            out = out * feasibility
        else:
            out = np.where(feasibility >= 0.5, out, -np.inf)
    return out


def select_batch(
    scores: np.ndarray,
    n: int,
    *,
    embedding: np.ndarray | None = None,
    n_clusters: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Indices of ``n`` candidates: the top scores, or with ``embedding`` (``(m, d)``) a
    diverse batch: k-means on the embedding into ``n_clusters`` (default ``n``) clusters and
    the best candidate of each cluster in turn, so a batch does not spend every measurement
    on near-duplicates."""
    scores = np.asarray(scores, dtype=float)
    n = min(int(n), len(scores))
    order = np.argsort(-scores, kind="stable")
    if embedding is None or n <= 1:
        return order[:n]
    from sklearn.cluster import KMeans

    k = min(n_clusters or n, len(scores))
    labels = KMeans(k, n_init=3, random_state=seed).fit_predict(np.asarray(embedding))
    chosen: list[int] = []
    taken = np.zeros(len(scores), dtype=bool)
    while len(chosen) < n:
        seen: set[int] = set()
        for i in order:  # one per cluster per round, best clusters first
            if not taken[i] and labels[i] not in seen:
                seen.add(labels[i])
                chosen.append(int(i))
                taken[i] = True
                if len(chosen) == n:
                    break
    return np.asarray(chosen)
