"""Cases 4, 7 and 8 of issue 21: formulas survive reading, ragged rows are refused by line,
every dropped row is counted and listed, and no command is a silent no-op."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import RF, cli
from matlattice.composition import parse_formula
from matlattice.data.synthetic import COMMON_FORMULAS as FORMULAS
from matlattice.data.user_files import read_table
from matlattice.errors import DataFormatError, InvalidFormulaError


def test_a_trailing_comma_on_one_row_is_refused_by_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("formula,band_gap\nNaCl,5.0\nKCl,6.0,\nLiF\n\nMgO,7.0\n")
    with pytest.raises(
        DataFormatError, match=r"header has 2 fields but line 3 has 3, line 4 has 1"
    ):
        read_table(path)


@pytest.mark.parametrize("text", ["NaN", "None", "NA", "null", "N/A", "nan"])
def test_na_like_formulas_are_read_as_written(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(f"formula,band_gap\n{text},1.0\nNaCl,5.0\n")
    assert read_table(path)["formula"].tolist() == [text, "NaCl"]


def test_predict_keeps_sodium_nitride_and_names_the_blank_row(tmp_path):
    table = tmp_path / "a.csv"
    pd.DataFrame({"formula": FORMULAS, "band_gap": range(len(FORMULAS))}).to_csv(table, index=False)
    run = tmp_path / "R"
    cli("fit", table, *RF, "--out", run)
    new = tmp_path / "new.csv"
    new.write_text('formula\nNaN\n""\nNaCl\n')
    cli("predict", run, new, "--output", tmp_path / "p.csv")
    out = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert out["formula"].tolist() == ["NaN", "", "NaCl"]
    assert out["band_gap"].iloc[0] != "" and out["band_gap"].iloc[1] == ""
    assert out["fault"].iloc[1] != "" and out["fault"].iloc[0] == ""


def test_fit_prints_and_lists_every_value_it_drops(tmp_path):
    bad = ["Xx3", "Fe0O3", "", "Na(Cl", "Q2"]
    frame = pd.DataFrame(
        {
            "formula": FORMULAS + bad,
            "band_gap": range(len(FORMULAS) + len(bad)),
            "density": [1.5 + k % 7 for k in range(len(FORMULAS) + len(bad))],
        }
    )
    table = tmp_path / "a.csv"
    frame.to_csv(table, index=False)
    said = cli("fit", table, *RF, "--out", tmp_path / "R")
    assert "10 labelled values were removed while loading (10 invalid formula)" in said
    rejected = pd.read_csv(tmp_path / "R" / "rejected.csv", keep_default_na=False)
    assert sorted(set(rejected["formula"])) == sorted(bad)
    assert set(rejected["property"]) == {"band_gap", "density"}


def test_featurize_names_the_row_of_a_bad_formula(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("formula\nNaCl\nFe2O3\nXx3\nGaN\n")
    refused = cli("featurize", path, "--output", tmp_path / "o.csv", ok=False)
    assert "'Xx3'" in refused and "row 2 of 4" in refused


def test_zero_epochs_is_refused(tmp_path):
    assert "--epochs" in cli("fit", "x.csv", "--model", "mlp", "--epochs", "0", ok=False)


@pytest.mark.parametrize("formula", ["Fe0O3", "(FeO)0", "H" + "9" * 400])
def test_zero_and_overflowing_amounts_are_invalid(formula):
    with pytest.raises(InvalidFormulaError):
        parse_formula(formula)
