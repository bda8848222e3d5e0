"""Random chemically valid compositions: the floor every designer must clear.

:class:`RandomEnumeration` draws compositions over an element pool (by default the elements
of the parents handed in, so it searches the same chemistry as the others): a number of
elements as often as it occurs among the parents, elements uniformly from the pool, small
integer amounts, kept when SMACT's charge-neutrality and electronegativity test passes
(:func:`~matlattice.design.constraints.chemically_valid`) and the constraints' size and
element rules hold.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from matlattice.design.constraints import DesignConstraints, chemically_valid

__all__ = ["RandomEnumeration"]


def _elements(formula: str) -> list[str]:
    from pymatgen.core import Composition

    return [e.symbol for e in Composition(formula).elements]


class RandomEnumeration:
    """Random valid compositions (module docstring); ``generator(parents, n, rng)``.

    Parameters
    ----------
    elements : the element pool; None: the parents' elements
    constraints : size and element rules (SMACT's test always applies)
    max_amount : largest integer amount of one element before reduction
    max_tries : draws per requested composition before giving up (returns fewer)
    """

    def __init__(
        self,
        elements: list[str] | None = None,
        constraints: DesignConstraints | None = None,
        max_amount: int = 8,
        max_tries: int = 200,
    ):
        self.elements = elements
        self.constraints = constraints or DesignConstraints()
        self.max_amount = int(max_amount)
        self.max_tries = int(max_tries)

    def __call__(self, parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        from pymatgen.core import Composition

        rules = self.constraints
        per_parent = [_elements(p) for p in parents]
        pool = sorted(
            e
            for e in set(self.elements or [e for p in per_parent for e in p])
            if rules.element_ok(e)
        )
        sizes = Counter(
            len(p) for p in per_parent if rules.min_elements <= len(p) <= rules.max_elements
        )
        if not pool or not sizes:
            return []
        counts = np.array(sorted(sizes))
        weights = np.array([sizes[c] for c in counts], dtype=float)
        found: dict[str, None] = {}
        for _ in range(n * self.max_tries):
            if len(found) >= n:
                break
            k = int(rng.choice(counts, p=weights / weights.sum()))
            if k > len(pool):
                continue
            chosen = rng.choice(pool, size=k, replace=False)
            amounts = rng.integers(1, self.max_amount + 1, size=k)
            composition = Composition(dict(zip(chosen.tolist(), amounts.tolist(), strict=True)))
            reduced = composition.reduced_composition
            if reduced.num_atoms > rules.max_atoms:
                continue
            formula = reduced.reduced_formula
            if formula not in found and chemically_valid(formula):
                found[formula] = None
        return list(found)
