"""The plausibility checks every designed composition goes through (seed 000's thermodynamic
plausibility constraints and screening validations, the composition-level part).

:class:`DesignConstraints` holds the rules; :func:`check_compositions` applies them and
returns one row per formula with a column per check, so that each candidate carries which
checks it passed:

- ``chemistry``: SMACT's validity (``smact.screening.smact_validity``): some assignment of
  the elements' known oxidation states is charge neutral and its cations are less
  electronegative than its anions (Pauling test); a composition of metals only passes as an
  alloy;
- ``elements``: every element allowed (``allow``, when given) and none denied (``deny``);
- ``size``: ``min_elements``-``max_elements`` elements and at most ``max_atoms`` atoms in
  the reduced formula unit;
- ``supply``: with ``max_hhi`` set, the mass-weighted Herfindahl-Hirschman index of the
  elements' world production (pymatgen's ``HHIModel``, data of Gaultois et al., Chem. Mater.
  2013) is at most ``max_hhi`` (above 2,500 counts as highly concentrated supply; an
  element without data fails); without ``max_hhi`` every composition passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.errors import InvalidFormulaError, InvalidParameterError

__all__ = [
    "CHECKS",
    "DesignConstraints",
    "check_compositions",
    "chemically_valid",
    "supply_hhi",
]

#: The check columns of :func:`check_compositions`, in order.
CHECKS = ("chemistry", "elements", "size", "supply")


@dataclass(frozen=True)
class DesignConstraints:
    """What a designed composition must satisfy (module docstring)."""

    max_atoms: int = 20
    min_elements: int = 2
    max_elements: int = 4
    allow: frozenset[str] | None = None
    deny: frozenset[str] = field(default_factory=frozenset)
    chemistry: bool = True
    max_hhi: float | None = None

    def __post_init__(self) -> None:
        if self.max_hhi is not None and not 0 < self.max_hhi <= 10_000:
            raise InvalidParameterError(
                f"max_hhi={self.max_hhi}; the index runs from 0 to 10,000 (2,500: highly "
                "concentrated supply)"
            )
        if self.max_atoms < 1:
            raise InvalidParameterError(f"max_atoms={self.max_atoms} must be at least 1")
        if not 1 <= self.min_elements <= self.max_elements:
            raise InvalidParameterError(
                f"min_elements={self.min_elements}, max_elements={self.max_elements}: "
                "need 1 <= min_elements <= max_elements"
            )
        for name in ("allow", "deny"):
            unknown = sorted(set(getattr(self, name) or ()) - set(SYMBOLS))
            if unknown:
                raise InvalidParameterError(f"{name} names unknown elements: {unknown}")

    def element_ok(self, symbol: str) -> bool:
        """Whether ``symbol`` may appear in a candidate."""
        return symbol not in self.deny and (self.allow is None or symbol in self.allow)


@lru_cache(maxsize=200_000)
def chemically_valid(reduced_formula: str) -> bool:
    """SMACT's charge-neutrality and electronegativity test, alloys allowed, on the integer
    formula unit (``Os0.67W1.33`` is judged as ``OsW2``: SMACT divides by the amounts'
    greatest common divisor, which fractional amounts make zero)."""
    from pymatgen.core import Composition
    from smact.screening import smact_validity

    try:
        integer, _ = Composition(reduced_formula).get_integer_formula_and_factor(max_denominator=10)
        return bool(smact_validity(integer, use_pauling_test=True, include_alloys=True))
    except (ValueError, KeyError, TypeError, ZeroDivisionError):  # no data for an element
        return False


@lru_cache(maxsize=200_000)
def supply_hhi(reduced_formula: str) -> float:
    """Production HHI of a composition (module docstring); NaN when an element has no data."""
    value = _hhi_model().get_hhi_production(reduced_formula)
    return float("nan") if value is None else float(value)


@lru_cache(maxsize=1)
def _hhi_model():
    from pymatgen.analysis.hhi import HHIModel

    return HHIModel()


def _reduced(formula: str):
    from pymatgen.core import Composition

    return Composition(formula).reduced_composition


def check_compositions(
    formulas: Sequence[str] | Iterable[str], constraints: DesignConstraints | None = None
) -> pd.DataFrame:
    """One row per formula: ``formula``, ``reduced`` (pymatgen's reduced formula),
    ``n_elements``, ``atoms`` (per reduced formula unit), one boolean column per check in
    :data:`CHECKS` and ``passes`` (all of them). A formula that does not parse is refused
    by name (:class:`~matlattice.errors.InvalidFormulaError`), never checked as something
    else."""
    rules = constraints or DesignConstraints()
    formulas = list(formulas)
    faults = parse_formulas(formulas, errors="report").faults if formulas else ()
    if faults:
        row, formula, fault = faults[0]
        raise InvalidFormulaError(
            formula, f"{fault} (row {row} of {len(formulas)}; {len(faults)} invalid in all)"
        )
    rows = []
    for formula in formulas:
        reduced = _reduced(formula)
        symbols = [e.symbol for e in reduced.elements]
        atoms = reduced.num_atoms
        rows.append(
            {
                "formula": formula,
                "reduced": reduced.reduced_formula,
                "n_elements": len(symbols),
                "atoms": atoms,
                "chemistry": (not rules.chemistry) or chemically_valid(reduced.reduced_formula),
                "elements": all(rules.element_ok(s) for s in symbols),
                "size": rules.min_elements <= len(symbols) <= rules.max_elements
                and atoms <= rules.max_atoms + 1e-9,
                "supply": rules.max_hhi is None
                or supply_hhi(reduced.reduced_formula) <= rules.max_hhi,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["formula", "reduced", "n_elements", "atoms", *CHECKS]
    ).astype({c: bool for c in CHECKS})
    frame["passes"] = frame[list(CHECKS)].all(axis=1)
    return frame
