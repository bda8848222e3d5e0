"""Acquisition functions: which candidate to measure next.

Every function scores a pool of candidates from the model's predictive mean and spread
(``(n,)`` arrays in the property's unit); higher is better. ``goal="max"`` looks for high
values, ``"min"`` for low ones (scores are computed on the negated property). The seed 001
rule (its eq. 1) is :func:`ucb`: ``x* = argmax mu + alpha sigma``.

:data:`ACQUISITIONS` is the registry a campaign reads: name -> :class:`Acquisition` (its
scorer, what it needs, how it fills a batch); :func:`acquisition_named` is the one place a
name is checked, and Thompson sampling (one posterior draw per pick) lives in its entry.

References: expected improvement (Jones, Schonlau and Welch 1998), probability of
improvement (Kushner 1964), upper confidence bound (Srinivas et al. 2010), Thompson sampling
(Thompson 1933; one ensemble member or posterior draw per pick).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy.stats import norm

from matlattice.errors import InvalidParameterError

__all__ = [
    "ACQUISITIONS",
    "UCB_ALPHA",
    "Acquisition",
    "acquisition_named",
    "best_so_far",
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


@dataclass(frozen=True)
class _Inputs:
    """What a scorer may read: ``mean``/``std`` ``(n,)``, ``draws`` ``(k, n)`` or None."""

    mean: np.ndarray
    std: np.ndarray | None
    goal: str
    best: float | None
    draws: np.ndarray | None
    window: tuple[float, float] | None
    alpha: float
    rng: np.random.Generator


_NEEDS = {
    "spread": "the predictive spread std (n,)",
    "best": "the best value measured so far",
    "draws": "draws (k, n), e.g. ensemble members",
    "window": "window=(lo, hi)",
}


@dataclass(frozen=True)
class Acquisition:
    """One entry of :data:`ACQUISITIONS`: how it scores candidates and what it needs.

    Parameters
    ----------
    name : the key in :data:`ACQUISITIONS`
    scorer : scores ``(n,)`` from the inputs (higher is better)
    needs : what the scorer reads beside the mean: ``"spread"`` (``std``), ``"best"`` (the
        best measured value), ``"draws"`` (``(k, n)`` posterior draws), ``"window"``
    uses_model : False for random choice (no surrogate is fitted)
    per_pick : a batch takes one posterior draw per pick (Thompson sampling) instead of the
        top scores
    weighted : feasibility multiplies its non-negative scores (EI, PI, window) instead of
        masking the infeasible candidates

    >>> ACQUISITIONS["ucb"].needs
    frozenset({'spread'})
    """

    name: str
    scorer: Callable[[_Inputs], np.ndarray]
    needs: frozenset[str] = frozenset()
    uses_model: bool = True
    per_pick: bool = False
    weighted: bool = False

    def missing(self, need: str) -> str:
        """The message for a call without ``need``."""
        return f"acquisition {self.name!r} needs {_NEEDS[need]}"

    def score(
        self,
        mean: np.ndarray,
        std: np.ndarray | None = None,
        *,
        goal: str = "max",
        best: float | None = None,
        draws: np.ndarray | None = None,
        window: tuple[float, float] | None = None,
        alpha: float = UCB_ALPHA,
        feasibility: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """``(n,)`` scores of the candidates (see :func:`score`)."""
        given = {"spread": std, "best": best, "draws": draws, "window": window}
        for need in sorted(self.needs):
            if given[need] is None:
                raise InvalidParameterError(self.missing(need))
        rng = rng if rng is not None else np.random.default_rng(0)
        mean = np.asarray(mean, dtype=float)
        out = self.scorer(_Inputs(mean, std, goal, best, draws, window, alpha, rng))
        if feasibility is not None:
            feasibility = np.asarray(feasibility, dtype=float)
            out = out * feasibility if self.weighted else np.where(feasibility >= 0.5, out, -np.inf)
        return out

    def select(
        self,
        scores: np.ndarray,
        n: int,
        *,
        draws: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
        goal: str = "max",
        embedding: np.ndarray | None = None,
        seed: int = 0,
    ) -> np.ndarray:
        """Indices of a batch of ``n``: one posterior draw per pick for Thompson sampling
        (:func:`thompson_batch`), else the top scores (:func:`select_batch`, diverse with an
        ``embedding`` ``(m, d)``)."""
        if self.per_pick:
            if draws is None:
                raise InvalidParameterError(self.missing("draws"))
            rng = rng if rng is not None else np.random.default_rng(0)
            return thompson_batch(draws, n, rng, goal=goal)
        return select_batch(scores, n, embedding=embedding, seed=seed)


ACQUISITIONS: Mapping[str, Acquisition] = MappingProxyType(
    {
        a.name: a
        for a in (
            Acquisition("random", lambda q: random_scores(len(q.mean), q.rng), uses_model=False),
            Acquisition("greedy", lambda q: greedy(q.mean, goal=q.goal)),
            Acquisition(
                "ucb",
                lambda q: ucb(q.mean, q.std, alpha=q.alpha, goal=q.goal),
                needs=frozenset({"spread"}),
            ),
            Acquisition(
                "ei",
                lambda q: expected_improvement(q.mean, q.std, q.best, goal=q.goal),
                needs=frozenset({"spread", "best"}),
                weighted=True,
            ),
            Acquisition(
                "pi",
                lambda q: probability_of_improvement(q.mean, q.std, q.best, goal=q.goal),
                needs=frozenset({"spread", "best"}),
                weighted=True,
            ),
            Acquisition(
                "thompson",
                lambda q: thompson(q.draws, q.rng, goal=q.goal),
                needs=frozenset({"draws"}),
                per_pick=True,
            ),
            Acquisition(
                "explore", lambda q: max_spread(q.mean, q.std), needs=frozenset({"spread"})
            ),
            Acquisition(
                "window",
                lambda q: window_probability(q.mean, q.std, *q.window),
                needs=frozenset({"spread", "window"}),
                weighted=True,
            ),
        )
    }
)
"""The registry: acquisition name -> :class:`Acquisition`."""


def acquisition_named(name: str) -> Acquisition:
    """The registry's entry for ``name``: the one place an acquisition name is checked."""
    try:
        return ACQUISITIONS[name]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"unknown acquisition {name!r}; expected one of {', '.join(ACQUISITIONS)}"
        ) from None


def best_so_far(values: np.ndarray, goal: str) -> float:
    """The best of the measured ``values`` ``(n,)`` for ``goal`` (``"max"`` or ``"min"``)."""
    values = _oriented(values, goal)
    return float(values.max() if goal == "max" else -values.max())


def score(
    name: str,
    mean: np.ndarray,
    std: np.ndarray | None = None,
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
    and is a hard mask (infeasible < 0.5 last) for the others.

    >>> score("ucb", [1.0, 0.8], [0.0, 0.2], alpha=2.0)
    array([1. , 1.2])
    """
    return acquisition_named(name).score(
        mean,
        std,
        goal=goal,
        best=best,
        draws=draws,
        window=window,
        alpha=alpha,
        feasibility=feasibility,
        rng=rng,
    )


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
