"""Open-ended candidates: new compositions made from the best measured ones.

A generator is any callable ``generator(parents, n, rng) -> list[str]`` (``parents``: the
measured formulas, best first). :class:`SubstitutionGenerator` is the built-in one: each
child swaps one element of a parent for another element of the same periodic-table group
(Na -> K, O -> S) or moves one element's amount by one formula unit, and, by default, only
children with a charge-balanced assignment of common oxidation states are kept
(pymatgen's ``Composition.oxi_state_guesses``). The inverse-design issue plugs its
generators in through the same interface.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

__all__ = ["SubstitutionGenerator", "new_candidates", "unseen"]


@cache
def _group_peers(symbol: str) -> tuple[str, ...]:
    """Elements of the same group as ``symbol`` (Z <= 83, no noble gases)."""
    from pymatgen.core import Element

    group = Element(symbol).group
    return tuple(
        e.symbol
        for e in Element
        if e.Z <= 83 and e.group == group and e.symbol != symbol and group != 18
    )


@lru_cache(maxsize=4096)
def _balanced(formula: str) -> bool:
    from pymatgen.core import Composition

    try:
        return bool(Composition(formula).oxi_state_guesses(max_sites=-20))
    except ValueError:
        return False


class SubstitutionGenerator:
    """Children of the best measured compositions (see the module docstring).

    Parameters
    ----------
    top : parents drawn from the ``top`` best measured formulas
    charge_balanced : keep only children with a charge-balanced oxidation-state guess
    max_tries : attempts per requested child before giving up (returns fewer)
    """

    def __init__(self, top: int = 10, charge_balanced: bool = True, max_tries: int = 50):
        self.top = top
        self.charge_balanced = charge_balanced
        self.max_tries = max_tries

    def _child(self, parent: str, rng: np.random.Generator) -> str | None:
        from pymatgen.core import Composition

        amounts = Composition(parent).get_el_amt_dict()
        elements = list(amounts)
        element = elements[rng.integers(len(elements))]
        if rng.random() < 0.5:  # substitute within the group
            peers = [p for p in _group_peers(element) if p not in amounts]
            if not peers:
                return None
            amounts[peers[rng.integers(len(peers))]] = amounts.pop(element)
        else:  # move one amount by a formula unit
            amounts[element] = amounts[element] + (1 if rng.random() < 0.5 else -1)
            if amounts[element] <= 0:
                return None
        child = Composition(amounts).reduced_formula
        return child

    def __call__(self, parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        """Up to ``n`` distinct children (not among ``parents``)."""
        from pymatgen.core import Composition

        pool = parents[: self.top]
        if not pool:
            return []
        seen = {Composition(p).reduced_formula for p in parents}
        children: list[str] = []
        for _ in range(n * self.max_tries):
            if len(children) >= n:
                break
            child = self._child(pool[rng.integers(len(pool))], rng)
            if child is None or child in seen:
                continue
            seen.add(child)
            if self.charge_balanced and not _balanced(child):
                continue
            children.append(child)
        return children


def new_candidates(
    generator, measured, goal: str, n: int, rng: np.random.Generator, pool: list[str]
) -> list[str]:
    """Up to ``n`` children of the ``measured`` formulas (a frame with ``formula, value``,
    handed to ``generator`` best first for ``goal``) whose composition is not in ``pool``
    (``NaCl`` and ``Na1Cl1`` are one composition), each once."""
    from matlattice.composition import formula_keys

    parents = measured.sort_values("value", ascending=goal == "min")["formula"].tolist()
    children = generator(parents, n, rng)
    return unseen(children, set(formula_keys(pool))) if children else []


def unseen(formulas: list[str], known_keys: set[str], n: int | None = None) -> list[str]:
    """The first ``n`` (default all) of ``formulas`` whose composition key is neither in
    ``known_keys`` nor repeated, in order; unparsable ones left out."""
    from matlattice.composition import composition_keys, parse_formulas

    if not len(formulas):
        return []
    keys = composition_keys(parse_formulas(list(formulas), errors="report").fractions)
    out: dict[str, None] = {}
    seen = set(known_keys)
    for formula, key in zip(formulas, keys, strict=True):
        if key and key not in seen:
            seen.add(key)
            out[formula] = None
            if n is not None and len(out) == n:
                break
    return list(out)
