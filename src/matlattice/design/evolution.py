"""Evolutionary composition search scored by a property model.

:class:`EvolutionarySearch` starts from the best ``population`` parents and, each
generation, makes children by the moves of :mod:`~matlattice.design.moves` (substitution on
Pettifor's scale, stoichiometry shifts, crossover), keeps those that pass the constraints
(:func:`~matlattice.design.constraints.check_compositions`) and are neither known nor seen,
scores them with ``score(formulas) -> array`` (higher is better: a model's mean, or its mean
minus a multiple of its uncertainty), and carries the best ``population`` of parents and
children forward, at most ``per_system`` from one chemical system (seed 000's candidate
diversity regulation). It returns the best ``n`` children it scored, under the same cap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from matlattice.composition.hull import formula_systems
from matlattice.design.constraints import DesignConstraints, check_compositions
from matlattice.design.moves import crossover, integer_amounts, shift, substitute, written
from matlattice.errors import InvalidParameterError

__all__ = ["EvolutionarySearch", "capped_best", "formula_systems"]

MOVES = ("substitute", "shift", "crossover")


def capped_best(formulas: Sequence[str], scores: np.ndarray, k: int, per_system: int) -> list[str]:
    """The ``k`` best ``formulas`` by ``scores``, at most ``per_system`` per chemical system."""
    taken: Counter = Counter()
    out = []
    systems = formula_systems(formulas)
    for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        system = systems[i]
        if taken[system] < per_system and np.isfinite(scores[i]):
            taken[system] += 1
            out.append(formulas[i])
            if len(out) == k:
                break
    return out


class EvolutionarySearch:
    """The evolutionary designer (module docstring); ``generator(parents, n, rng)``.

    Parameters
    ----------
    score : ``score(formulas) -> (n,) array``, higher is better
    constraints : the checks every child must pass
    population : parents carried from one generation to the next
    generations : rounds of children
    children : children tried per generation (fewer survive the checks)
    per_system : cap per chemical system, in the population and in the result
    progress : hears ``"generation g/G: best s"``
    """

    def __init__(
        self,
        score: Callable[[list[str]], np.ndarray],
        constraints: DesignConstraints | None = None,
        population: int = 200,
        generations: int = 8,
        children: int = 2000,
        per_system: int = 5,
        progress: Callable[[str], None] | None = None,
    ):
        if min(population, generations, children, per_system) < 1:
            raise InvalidParameterError(
                f"population={population}, generations={generations}, children={children}, "
                f"per_system={per_system}: each must be at least 1"
            )
        self.score = score
        self.constraints = constraints or DesignConstraints()
        self.population = population
        self.generations = generations
        self.children = children
        self.per_system = per_system
        self.progress = progress

    def _child(self, population: list[dict], rng: np.random.Generator) -> dict | None:
        first = population[rng.integers(len(population))]
        move = MOVES[rng.integers(len(MOVES))]
        if move == "substitute":
            return substitute(first, rng, allowed=self.constraints.element_ok)
        if move == "shift":
            return shift(first, rng)
        return crossover(first, population[rng.integers(len(population))], rng)

    def _new_children(self, population: list[str], seen: set[str], rng) -> list[str]:
        amounts = [dict(a) for a in map(integer_amounts, population) if a]
        made = {}
        for _ in range(self.children):
            child = self._child(amounts, rng)
            if child:
                formula = written(child)
                if formula not in seen:
                    made[formula] = None
        if not made:
            return []
        checked = check_compositions(list(made), self.constraints)
        return checked.loc[checked["passes"], "formula"].tolist()

    def __call__(self, parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        known = {written(dict(a)) for a in map(integer_amounts, parents) if a}
        population = [p for p in parents if integer_amounts(p)][: self.population]
        if not population:
            return []
        pop_scores = np.asarray(self.score(population), dtype=float)
        found: dict[str, float] = {}
        for generation in range(self.generations):
            children = self._new_children(population, known | set(found), rng)
            if children:
                child_scores = np.asarray(self.score(children), dtype=float)
                found.update(zip(children, child_scores.tolist(), strict=True))
                pool = population + children
                scores = np.concatenate([pop_scores, child_scores])
                population = capped_best(pool, scores, self.population, self.per_system)
                pop_scores = scores[[pool.index(f) for f in population]]
            if self.progress is not None:
                best = max(found.values()) if found else float("nan")
                self.progress(f"generation {generation + 1}/{self.generations}: best {best:.4g}")
        names = list(found)
        return capped_best(names, np.array([found[f] for f in names]), n, self.per_system)
