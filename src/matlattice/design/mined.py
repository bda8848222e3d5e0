"""Element substitution mined from the data in hand: which element replaces which in the
compositions a dataset already holds.

Two known compositions that differ by exactly one element at the same amount (``VC`` and
``NbC``; ``Ir3Nb`` and ``Rh3Nb``) witness that the two elements substitute for one another
in that stoichiometry. :class:`SubstitutionTable` counts these witnesses over the known
compositions and turns them into ``P(new | old)``: of all substitutions that replace
``old``, the share that brings in ``new`` (the data-mined idea of Hautier et al., Inorg.
Chem. 2011, taken from the user's own data instead of the ICSD's ionic structures, so
intermetallics, borides and carbides, which carry no oxidation states, are covered too).

:meth:`SubstitutionTable.plausibility` rates any composition by its best single
substitution from a known composition; :class:`MinedSubstitution` is the generator: every
single substitution of the best parents that the table has seen.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd

from matlattice.design.moves import integer_amounts, written
from matlattice.errors import InvalidParameterError

__all__ = ["MinedSubstitution", "SubstitutionTable"]

Amounts = tuple[tuple[str, int], ...]


def _slots(amounts: Amounts):
    """``((rest, amount), element)`` for each element: the composition with that element's
    place left open."""
    for i, (element, amount) in enumerate(amounts):
        yield (amounts[:i] + amounts[i + 1 :], amount), element


class SubstitutionTable:
    """Counts of single-element substitutions among known compositions (module docstring).

    Build with :meth:`mine`; ``probability(old, new)`` is ``count(old -> new) /
    (count(old -> anything) + 1)``; ``pairs`` holds the counts.
    """

    def __init__(self, pairs: Counter, slots: dict):
        self.pairs = pairs
        self._slots = slots
        self._out: Counter = Counter()
        for (old, _), count in pairs.items():
            self._out[old] += count
        self._partners: dict[str, list[str]] = defaultdict(list)
        for old, new in sorted(pairs):
            self._partners[old].append(new)

    @classmethod
    def mine(cls, formulas: Sequence[str]) -> SubstitutionTable:
        """The table of ``formulas`` (unparsable ones are skipped)."""
        slots: dict[tuple, set[str]] = defaultdict(set)
        for amounts in map(integer_amounts, formulas):
            if amounts:
                for slot, element in _slots(amounts):
                    slots[slot].add(element)
        pairs: Counter = Counter()
        for elements in slots.values():
            for old in elements:
                for new in elements:
                    if old != new:
                        pairs[(old, new)] += 1
        if not pairs:
            raise InvalidParameterError(
                f"no two of the {len(formulas)} known compositions differ by one element at "
                "the same amount, so there is no substitution to learn from; mined "
                "substitution needs a dataset of related compositions"
            )
        return cls(pairs, dict(slots))

    def probability(self, old: str, new: str) -> float:
        """``count(old -> new) / (count(old -> anything) + 1)``: the one pseudo-count keeps
        an element seen replaced once from claiming certainty."""
        return self.pairs.get((old, new), 0) / (self._out.get(old, 0) + 1)

    def partners(self, old: str) -> list[str]:
        """The elements seen replacing ``old``."""
        return self._partners.get(old, [])

    def plausibility(self, formulas: Sequence[str], floor: float = 1e-4) -> np.ndarray:
        """Per formula, the largest ``P(new | old)`` over the known compositions it is one
        substitution away from (``old`` the known element, ``new`` the formula's); ``floor``
        when it has no such neighbour (or does not parse); 1 for a known composition."""
        out = np.full(len(formulas), float(floor))
        for row, amounts in enumerate(map(integer_amounts, formulas)):
            if not amounts:
                continue
            best = 0.0
            for slot, new in _slots(amounts):
                known = self._slots.get(slot, ())
                if new in known:
                    best = 1.0
                    break
                best = max([best, *(self.probability(old, new) for old in known)])
            out[row] = max(best, floor)
        return out


class MinedSubstitution:
    """Every single substitution the table has seen, applied to the best parents;
    ``generator(parents, n, rng)``.

    Parameters
    ----------
    parent_share : share of the parents handed in (best first) that are substituted
    table : a mined :class:`SubstitutionTable`; None: mined from the parents themselves
    """

    def __init__(self, parent_share: float = 0.25, table: SubstitutionTable | None = None):
        if not 0.0 < parent_share <= 1.0:
            raise InvalidParameterError(f"parent_share={parent_share}; expected (0, 1]")
        self.parent_share = float(parent_share)
        self.table = table

    def propose(self, parents: Sequence[str]) -> pd.DataFrame:
        """``formula``, ``parent`` and ``prior`` (the substitution's probability, the best
        over the parents that give the same child) of every child that is not a parent,
        most probable first."""
        table = self.table or SubstitutionTable.mine(parents)
        known = {written(dict(a)) for a in map(integer_amounts, parents) if a}
        best: dict[str, tuple[float, str]] = {}
        used = parents[: max(1, round(self.parent_share * len(parents)))]
        for parent in used:
            amounts = integer_amounts(parent)
            if not amounts:
                continue
            present = dict(amounts)
            for old, amount in amounts:
                for new in table.partners(old):
                    if new in present:
                        continue
                    child = {e: a for e, a in amounts if e != old} | {new: amount}
                    formula = written(child)
                    p = table.probability(old, new)
                    if formula not in known and p > best.get(formula, (0.0, ""))[0]:
                        best[formula] = (p, parent)
        frame = pd.DataFrame(
            [(f, parent, p) for f, (p, parent) in best.items()],
            columns=["formula", "parent", "prior"],
        )
        return frame.sort_values("prior", ascending=False, kind="stable").reset_index(drop=True)

    def __call__(self, parents: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
        return self.propose(list(parents))["formula"].head(n).tolist()
