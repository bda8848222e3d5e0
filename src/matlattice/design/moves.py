"""The moves of discrete composition search: element substitution between chemically similar
elements, stoichiometry shifts, and crossover of two parents.

Compositions travel as ``{element: integer amount}`` (the reduced integer formula unit).
Similarity is Pettifor's chemical scale (pymatgen's ``Element.mendeleev_no``): elements a few
places apart on it substitute for one another in known structures far more often than
elements far apart (Pettifor 1984; Glawe et al. 2016), so :func:`substitute` draws the new
element at a distance of 1-``reach`` places, closer ones likelier.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

__all__ = [
    "crossover",
    "integer_amounts",
    "nearest_integer_formula",
    "shift",
    "substitute",
    "written",
]

#: Elements a search may place: up to Bi, no noble gases, no Tc or Pm (no stable isotope).
_EXCLUDED = {"He", "Ne", "Ar", "Kr", "Xe", "Tc", "Pm"}


@cache
def _scale() -> tuple[list[str], dict[str, int]]:
    """Placeable elements sorted by Mendeleev number, and each one's position."""
    from pymatgen.core import Element

    placeable = [e for e in Element if e.Z <= 83 and e.symbol not in _EXCLUDED and e.mendeleev_no]
    ordered = [e.symbol for e in sorted(placeable, key=lambda e: e.mendeleev_no)]
    return ordered, {s: i for i, s in enumerate(ordered)}


@lru_cache(maxsize=100_000)
def integer_amounts(formula: str, max_denominator: int = 10) -> tuple[tuple[str, int], ...] | None:
    """The reduced integer formula unit of ``formula`` as ``((element, amount), ...)``, or
    None when it does not parse."""
    from pymatgen.core import Composition

    try:
        integer, _ = Composition(formula).get_integer_formula_and_factor(
            max_denominator=max_denominator
        )
        amounts = Composition(integer).get_el_amt_dict()
    except (ValueError, KeyError):
        return None
    return tuple((e, round(a)) for e, a in sorted(amounts.items()))


def written(amounts: dict[str, float]) -> str:
    """One flat spelling per composition: the reduced formula unit, elements in pymatgen's
    electronegativity order, amounts of one left out (``MgAl2O4``, never ``Mg(AlO2)2``)."""
    from pymatgen.core import Composition

    tokens = Composition(amounts).reduced_composition.formula.split()
    return "".join(t[:-1] if t.endswith("1") and not t[-2].isdigit() else t for t in tokens)


def substitute(
    amounts: dict[str, int], rng: np.random.Generator, allowed=None, reach: int = 4
) -> dict[str, int] | None:
    """Replace one element by one 1-``reach`` places away on Pettifor's scale (weight
    ``1 / distance``), not already present and ``allowed(symbol)``; None if none fits."""
    order, position = _scale()
    old = str(rng.choice(sorted(amounts)))
    if old not in position:
        return None
    options, weights = [], []
    for step in range(-reach, reach + 1):
        k = position[old] + step
        if step and 0 <= k < len(order):
            new = order[k]
            if new not in amounts and (allowed is None or allowed(new)):
                options.append(new)
                weights.append(1.0 / abs(step))
    if not options:
        return None
    new = str(rng.choice(options, p=np.array(weights) / sum(weights)))
    child = dict(amounts)
    child[new] = child.pop(old)
    return child


def shift(amounts: dict[str, int], rng: np.random.Generator) -> dict[str, int] | None:
    """Raise or lower one element's amount by one (never below one)."""
    element = str(rng.choice(sorted(amounts)))
    step = int(rng.choice([-1, 1]))
    if amounts[element] + step < 1:
        step = 1
    child = dict(amounts)
    child[element] += step
    return child


def crossover(
    first: dict[str, int], second: dict[str, int], rng: np.random.Generator
) -> dict[str, int] | None:
    """The first parent with one of its elements replaced by one of the second's (with the
    second's amount); None when the second brings nothing new."""
    new = sorted(set(second) - set(first))
    if not new:
        return None
    incoming = str(rng.choice(new))
    outgoing = str(rng.choice(sorted(first)))
    child = {e: a for e, a in first.items() if e != outgoing}
    child[incoming] = second[incoming]
    return child


def nearest_integer_formula(
    fractions: dict[str, float], max_atoms: int = 20, tolerance: float = 0.0
) -> dict[str, int] | None:
    """The integer formula unit of at most ``max_atoms`` atoms whose atomic fractions lie
    nearest ``fractions`` (L1), every element kept at one atom at least; the smaller unit
    at equal distance. With ``tolerance`` > 0, the smallest unit within that L1 distance
    wins over a nearer, larger one (real compounds favour small units: 0.48/0.52 is ``AB``,
    not ``A12B13``). None when the elements alone exceed ``max_atoms``."""
    symbols = sorted(fractions)
    target = np.array([fractions[s] for s in symbols], dtype=float)
    target = target / target.sum()
    best, best_error = None, np.inf
    for total in range(len(symbols), max_atoms + 1):
        amounts = np.maximum(np.rint(target * total), 1).astype(int)
        error = float(np.abs(amounts / amounts.sum() - target).sum())
        if error < best_error - 1e-9 and amounts.sum() <= max_atoms:
            best, best_error = amounts, error
            if error <= tolerance:
                break
    return None if best is None else dict(zip(symbols, best.tolist(), strict=True))
