"""Fractions agree with pymatgen on real formulas of every bundled dataset (a sample here;
bench/parser_agreement.py checks all 528,485 distinct strings)."""

import numpy as np
import pytest
from pymatgen.core import Composition

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.data import list_datasets
from matlattice.data.dataset import load_records


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in list_datasets() if not n.startswith("crabnet:")])
def test_sample_agrees_with_pymatgen(name):
    _, records = load_records(name)
    strings = records["formula"].astype(str).unique()
    rng = np.random.default_rng(0)
    sample = rng.choice(strings, size=min(300, len(strings)), replace=False).tolist()
    fractions = parse_formulas(sample).fractions
    for i, formula in enumerate(sample):
        ref = Composition(formula).fractional_composition
        row = fractions[i]
        ours = {SYMBOLS[j]: v for j, v in zip(row.indices, row.data, strict=True)}
        assert set(ours) == {el.symbol for el in ref}, formula
        for el, v in ref.items():
            assert abs(ours[el.symbol] - v) < 1e-9, formula
