"""Data-mined ion exchange: new compositions from the best known ones by the substitutions
that crystal chemistry makes most often (Hautier et al., Inorg. Chem. 2011; the peer that
Szymanski and Bartel, Mater. Horiz. 2025, found to yield more stable new materials than
generative crystal models).

:class:`IonExchange` takes the parents best first, assigns each its most likely oxidation
states (pymatgen's ``oxi_state_guesses``), asks pymatgen's ``SubstitutionPredictor`` (the
ICSD-mined pair probabilities that ship with pymatgen) for the likely ion substitutions of
that set of ions, applies each to the parent's stoichiometry, keeps the charge-balanced
results that are not parents, and returns the children ranked by the substitution's
probability times a parent-rank weight (a child of the best parent first at equal
probability).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache, lru_cache

import numpy as np

from matlattice.design.moves import written

__all__ = ["IonExchange"]


@cache
def _predictor(threshold: float):
    from pymatgen.analysis.structure_prediction.substitution_probability import (
        SubstitutionPredictor,
    )

    return SubstitutionPredictor(threshold=threshold)


@lru_cache(maxsize=20_000)
def _ions(formula: str) -> tuple[tuple[str, float, float], ...] | None:
    """``((element, oxidation state, amount), ...)`` of the most likely charge-balanced
    assignment of ``formula``, or None when there is none (an alloy, a non-balanced one)."""
    from pymatgen.core import Composition

    try:
        composition = Composition(formula).reduced_composition
        guesses = composition.oxi_state_guesses(max_sites=-20)
    except ValueError:
        return None
    if not guesses:
        return None
    states = guesses[0]
    return tuple((str(e), float(states[str(e)]), float(a)) for e, a in composition.items())


@lru_cache(maxsize=20_000)
def _substitutions(ions: tuple[tuple[str, float], ...], threshold: float) -> tuple:
    """``((probability, {(old element, old state): (new element, new state)}), ...)``."""
    from pymatgen.core import Species

    species = [Species(e, round(s)) for e, s in ions]
    try:
        predictions = _predictor(threshold).list_prediction(species)
    except ValueError:  # an ion the mined table does not know (a metal at 0, a rare state)
        return ()
    out = []
    for prediction in predictions:
        mapping = {
            (str(old.element), float(old.oxi_state)): (str(new.element), float(new.oxi_state))
            for new, old in prediction["substitutions"].items()
        }
        out.append((float(prediction["probability"]), mapping))
    return tuple(out)


@lru_cache(maxsize=8)
def _reduced_formulas(formulas: tuple[str, ...]) -> frozenset[str]:
    """Each parsable formula as :func:`~matlattice.design.moves.written` spells it."""
    from pymatgen.core import Composition

    out = set()
    for formula in formulas:
        try:
            out.add(written(Composition(formula).get_el_amt_dict()))
        except ValueError:
            continue
    return frozenset(out)


def _child(ions, mapping) -> str | None:
    """The composition of ``ions`` after ``mapping``; None unless charge balanced and
    different from the parent."""
    amounts: dict[str, float] = defaultdict(float)
    charge = 0.0
    changed = False
    for element, state, amount in ions:
        new_element, new_state = mapping.get((element, state), (element, state))
        changed |= new_element != element
        amounts[new_element] += amount
        charge += new_state * amount
    if not changed or abs(charge) > 1e-6:
        return None
    return written(amounts)


class IonExchange:
    """The ion-exchange generator (module docstring); ``generator(parents, n, rng)``.

    Parameters
    ----------
    top : parents used, from the head of the list handed in (best first)
    threshold : the smallest substitution probability pymatgen's predictor considers
    parent_decay : weight ``parent_decay ** rank`` of a parent's children in the ranking
    """

    def __init__(self, top: int = 50, threshold: float = 1e-3, parent_decay: float = 0.98):
        self.top = int(top)
        self.threshold = float(threshold)
        self.parent_decay = float(parent_decay)

    def __call__(self, parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        scores: dict[str, float] = {}
        for rank, parent in enumerate(parents[: self.top]):
            ions = _ions(parent)
            if ions is None:
                continue
            weight = self.parent_decay**rank
            key = tuple(sorted({(e, s) for e, s, _ in ions}))
            for probability, mapping in _substitutions(key, self.threshold):
                child = _child(ions, mapping)
                if child is not None:
                    scores[child] = max(scores.get(child, 0.0), probability * weight)
        ranked = sorted(scores, key=lambda c: -scores[c])
        return [c for c in ranked if c not in _reduced_formulas(tuple(parents))][:n]
