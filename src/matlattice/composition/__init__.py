"""Chemical formulas -> atomic-fraction matrices (elements 1-103), vectorised and validated."""

from matlattice.composition.elements import N_ELEMENTS, SYMBOLS
from matlattice.composition.keys import chemical_systems, composition_keys, formula_keys
from matlattice.composition.parser import FormulaBatch, parse_formula, parse_formulas
from matlattice.errors import InvalidFormulaError

__all__ = [
    "N_ELEMENTS",
    "SYMBOLS",
    "FormulaBatch",
    "InvalidFormulaError",
    "chemical_systems",
    "composition_keys",
    "formula_keys",
    "parse_formula",
    "parse_formulas",
]
