import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition

from matlattice.composition import (
    SYMBOLS,
    InvalidFormulaError,
    composition_keys,
    parse_formula,
    parse_formulas,
)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("Fe2O3", {"Fe": 0.4, "O": 0.6}),
        ("Sr(AlH)2", {"Sr": 0.2, "Al": 0.4, "H": 0.4}),
        ("Ca[OH]2", {"Ca": 0.2, "O": 0.4, "H": 0.4}),
        ("Mg((OH)2)3", {"Mg": 1 / 13, "O": 6 / 13, "H": 6 / 13}),
        ("K6S6", {"K": 0.5, "S": 0.5}),
        ("Mo3Nb1", {"Mo": 0.75, "Nb": 0.25}),
        ("Al0.4C0.2Ta0.6", {"Al": 1 / 3, "C": 1 / 6, "Ta": 0.5}),
        ("CuSO4·5H2O", {"Cu": 1 / 21, "S": 1 / 21, "O": 9 / 21, "H": 10 / 21}),
        ("CuSO4*5H2O", {"Cu": 1 / 21, "S": 1 / 21, "O": 9 / 21, "H": 10 / 21}),
        ("Fe2 O3", {"Fe": 0.4, "O": 0.6}),
        ("  NaCl ", {"Na": 0.5, "Cl": 0.5}),
        ("H2O(H)2", {"H": 0.8, "O": 0.2}),
        ("Fe.5Ni.5", {"Fe": 0.5, "Ni": 0.5}),
        ("Lr{No}", {"Lr": 0.5, "No": 0.5}),
    ],
)
def test_known_compositions(formula, expected):
    got = parse_formula(formula)
    assert set(got) == set(expected)
    for symbol, fraction in expected.items():
        assert got[symbol] == pytest.approx(fraction, abs=1e-12)


def test_steels_style_decimals():
    formula = (
        "Fe0.620C0.000953Mn0.000521Si0.00102Cr0.000110Ni0.192Mo0.0176V0.000112"
        "Nb0.0000616Co0.146Al0.00318Ti0.0185"
    )
    got = parse_formula(formula)
    theirs = Composition(formula).fractional_composition
    assert len(got) == 12
    for el, frac in theirs.items():
        assert got[el.symbol] == pytest.approx(frac, abs=1e-12)


@pytest.mark.parametrize(
    ("formula", "fault"),
    [
        ("Xx2", "unknown element symbol 'Xx'"),
        ("Uue", "unknown element symbol 'Uue'"),
        ("Og", "unknown element symbol 'Og'"),  # Z = 118 is outside 1-103
        ("", "empty formula"),
        ("   ", "empty formula"),
        (None, "missing value"),
        (float("nan"), "missing value"),
        (3, "not a string"),
        ("Fe(O", "is never closed"),
        ("FeO)", "closes nothing"),
        ("(Fe]2", "mismatched brackets"),
        ("Fe()", "empty brackets"),
        ("Fe-1O", "unexpected character '-'"),
        ("Fe0", "element 'Fe' has amount zero"),
        ("Fe0O3", "element 'Fe' has amount zero"),  # never silently {'O': 1}
        ("(FeO)0.0Ni", "element 'Fe' has amount zero"),
        ("H" + "9" * 400, "element 'H' is too large"),  # never an empty composition
        ("(NaCl1e3)", "lowercase letter 'e'"),
        ("Fe2.5.1", "malformed number '2.5.1'"),
        ("2Fe", "amount '2' does not follow"),
        ("fe", "lowercase letter 'f'"),
        ("Fe\nO", "line break"),
        ("CuSO4·", "empty hydrate part"),
        ("Fé2", "unexpected character 'é'"),
    ],
)
def test_invalid_formulas_name_the_fault(formula, fault):
    with pytest.raises(InvalidFormulaError) as info:
        parse_formula(formula)
    assert fault in str(info.value)
    assert info.value.formula is formula or (isinstance(formula, float) and math.isnan(formula))
    assert isinstance(info.value, ValueError)


def test_batch_report_keeps_valid_rows():
    batch = parse_formulas(["NaCl", "Xx", None, "Fe2O3", "Fe)"], errors="report")
    assert batch.valid.tolist() == [True, False, False, True, False]
    assert [row for row, _, _ in batch.faults] == [1, 2, 4]
    dense = batch.fractions.toarray()
    assert dense.shape == (5, 103)
    np.testing.assert_allclose(dense.sum(axis=1), [1, 0, 0, 1, 0])
    assert dense[3, SYMBOLS.index("O")] == pytest.approx(0.6)
    report = batch.report()
    assert list(report.columns) == ["row", "formula", "fault"]


def test_batch_raise_names_first_bad_formula():
    with pytest.raises(InvalidFormulaError, match="'Qq'"):
        parse_formulas(["NaCl", "Qq", "Zz"])


def test_empty_batch():
    batch = parse_formulas([])
    assert batch.fractions.shape == (0, 103)


def test_same_composition_same_key():
    keys = composition_keys(parse_formulas(["Al2C1Ta3", "Al0.4C0.2Ta0.6", "TaAlC"]).fractions)
    assert keys[0] == keys[1] != keys[2]


# --- property-based ------------------------------------------------------------------------
_alphabet = st.sampled_from(list("HeFONaClCuSrTa()[]{}0123456789.·* -xqZé\t"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=_alphabet, max_size=14), min_size=1, max_size=8))
def test_fuzz_only_parses_or_raises_invalid_formula(strings):
    batch = parse_formulas(strings, errors="report")
    sums = np.asarray(batch.fractions.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums[batch.valid], 1.0, atol=1e-9)
    assert (sums[~batch.valid] == 0).all()
    for s, ok in zip(strings, batch.valid, strict=True):
        if ok:
            assert parse_formula(s)  # the single-formula path agrees
        else:
            with pytest.raises(InvalidFormulaError):
                parse_formula(s)


_element = st.sampled_from(SYMBOLS)
_amount = st.integers(min_value=1, max_value=40)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(_element, _amount, min_size=1, max_size=6),
    st.integers(min_value=2, max_value=9),
)
def test_scaling_and_format_round_trip(composition, factor):
    formula = "".join(f"{el}{n}" for el, n in composition.items())
    scaled = "".join(f"{el}{n * factor}" for el, n in composition.items())
    grouped = f"({formula}){factor}"
    a, b, c = (parse_formula(f) for f in (formula, scaled, grouped))
    total = sum(composition.values())
    for el, n in composition.items():
        assert a[el] == pytest.approx(n / total, abs=1e-12)
        assert b[el] == pytest.approx(a[el], abs=1e-12)
        assert c[el] == pytest.approx(a[el], abs=1e-12)
    # format the parsed fractions and parse again
    again = parse_formula("".join(f"{el}{frac!r}" for el, frac in a.items()))
    for el in a:
        assert again[el] == pytest.approx(a[el], abs=1e-12)
