"""A planted chemistry for testing designers: element families whose members substitute for
one another in a few stoichiometries, and a property with known per-element contributions.

Five cation families and three anion families; nine prototypes, each a (cation family,
anion family, amounts) triple, such as ``AX2`` for the titanium family with the chalcogens.
A compound a prototype allows exists with a set probability, so every world misses some
compounds its chemistry allows: the ones a designer should propose. The truth is known: a
design test hides chemical systems and checks the designer finds their best compounds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ANIONS", "CATIONS", "PROTOTYPES", "planted_chemistry", "planted_oracle"]

CATIONS = [
    ["Ti", "Zr", "Hf", "Ce", "Th"],
    ["V", "Nb", "Ta", "Cr", "Mo", "W"],
    ["Mg", "Ca", "Sr", "Ba", "Zn", "Cd"],
    ["Al", "Ga", "In", "Sc", "Y", "La"],
    ["Li", "Na", "K", "Rb", "Cs"],
]
ANIONS = [["O", "S", "Se", "Te"], ["N", "P", "As"], ["F", "Cl", "Br", "I"]]
#: (cation family, anion family, cation amount, anion amount): the planted stoichiometries
PROTOTYPES = [
    (0, 0, 1, 2), (1, 1, 1, 1), (2, 0, 1, 1), (3, 1, 1, 1), (2, 2, 1, 2), (3, 0, 2, 3),
    (4, 2, 1, 1), (4, 0, 2, 1), (3, 2, 1, 3),
]  # fmt: skip


def planted_chemistry(seed: int, existence: float = 0.7) -> pd.DataFrame:
    """``formula`` and ``y``: every compound a prototype allows exists with probability
    ``existence``; its ``y`` is the sum of its two elements' random contributions plus
    noise of 0.1 (the contributions are standard normal)."""
    rng = np.random.default_rng(seed)
    contribution = _contributions(rng)
    rows = []
    for cat, an, m, n in PROTOTYPES:
        for a in CATIONS[cat]:
            for x in ANIONS[an]:
                if rng.random() < existence:
                    value = contribution[a] + contribution[x] + 0.1 * rng.normal()
                    rows.append((f"{a}{m}{x}{n}", value))
    return pd.DataFrame(rows, columns=["formula", "y"])


def _contributions(rng: np.random.Generator) -> dict[str, float]:
    return {e: rng.normal() for family in CATIONS + ANIONS for e in family}


def planted_oracle(seed: int):
    """``oracle(formulas) -> frame of formula, value``: the noiseless planted property of
    world ``seed`` for any composition of planted elements (the sum of its elements'
    contributions, as :func:`planted_chemistry` draws them); NaN for any other element."""
    from pymatgen.core import Composition

    contribution = _contributions(np.random.default_rng(seed))

    def oracle(formulas: list[str]) -> pd.DataFrame:
        values = [
            sum(contribution.get(str(e), np.nan) for e in Composition(f).elements) for f in formulas
        ]
        return pd.DataFrame({"formula": list(formulas), "value": values})

    return oracle
