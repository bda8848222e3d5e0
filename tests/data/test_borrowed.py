"""Borrowed properties: another dataset's columns merged per composition, nothing leaking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matlattice.composition import composition_keys, parse_formulas
from matlattice.data.borrowed import borrow_properties, parse_borrow_spec


def _keys(formulas) -> np.ndarray:
    return composition_keys(parse_formulas(list(formulas)).fractions)


@pytest.fixture
def run_and_other(tmp_path):
    run = pd.DataFrame(
        {
            "formula": ["NaCl", "KCl", "Fe2O3", "MgO", "Al2O3", "SiO2"],
            "y": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0],
            "_part": ["train", "train", "val", "train", "test", "test"],
        }
    )
    other = pd.DataFrame(
        {  # Cl1Na1 is NaCl written otherwise; LiF, CaO, ZnO only the other dataset has
            "formula": ["Cl1Na1", "Fe4O6", "Al2O3", "LiF", "CaO", "ZnO"],
            "a": [10.0, 30.0, 50.0, 70.0, 80.0, np.nan],
            "b": [np.nan, 3.5, np.nan, np.nan, 8.5, 9.5],
        }
    )
    path = tmp_path / "other.csv"
    other.to_csv(path, index=False)
    return run, path


def test_borrowed_labels_sit_on_their_compositions_and_new_ones_only_train(run_and_other):
    run, path = run_and_other
    out, columns, report = borrow_properties(run, [str(path)], own="run")

    assert columns == ["other:a", "other:b"]
    assert out.iloc[: len(run)][["formula", "y", "_part"]].equals(run)  # run rows untouched
    by_key = dict(zip(_keys(out["formula"]), out.to_dict("records"), strict=True))
    nacl, fe2o3, al2o3 = (by_key[k] for k in _keys(["NaCl", "Fe2O3", "Al2O3"]))
    assert (nacl["other:a"], fe2o3["other:a"], fe2o3["other:b"]) == (10.0, 30.0, 3.5)
    assert al2o3["_part"] == "test"  # a test composition's borrowed label stays on its test row
    new = out.iloc[len(run) :]
    assert sorted(_keys(new["formula"])) == sorted(_keys(["LiF", "CaO", "ZnO"]))
    assert (new["_part"] == "train").all() and new["y"].isna().all()
    assert new.set_index("formula").loc["CaO", ["other:a", "other:b"]].tolist() == [80.0, 8.5]
    assert report["other:a"] == {"labels": 5, "shared_compositions": 3, "new_compositions": 2}
    assert report["other:b"] == {"labels": 3, "shared_compositions": 1, "new_compositions": 2}
    assert (
        not out[[c for c in out.columns if c.startswith("other:")]]
        .isna()
        .all(axis=1)
        .iloc[len(run) :]
        .any()
    )  # every new row carries a borrowed label

    capped, _, capped_report = borrow_properties(run, [f"{path}:a@2"], own="run", seed=3)
    assert capped_report["other:a"]["labels"] == 2 and capped["other:a"].notna().sum() == 2
    folds = run.drop(columns="_part").assign(fold=[0, 1, 2, 0, 1, 2])
    out_folds, _, _ = borrow_properties(folds, [f"{path}:b"], own="run")
    assert (out_folds["fold"].iloc[len(run) :] == -1).all()  # in every fold's training part


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{path}:c", "has no regression property 'c'"),
        ("{path}:a@0", "is not a positive integer"),
        ("{path}:", "expected 'dataset[:property][@rows]'"),
        ("{path}", "is the run's own dataset"),
    ],
)
def test_bad_borrow_specs_are_refused_by_name(run_and_other, spec, message):
    run, path = run_and_other
    own = str(path) if message.startswith("is the run") else "run"
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        borrow_properties(run, [spec.format(path=path)], own=own)
    with pytest.raises(ValueError, match="no _part or fold"):
        borrow_properties(run.drop(columns="_part"), [str(path)], own="run")


def test_borrow_spec_parts():
    assert parse_borrow_spec("oqmd:formation_enthalpy@60000") == (
        "oqmd",
        "formation_enthalpy",
        60000,
    )
    assert parse_borrow_spec("aflow") == ("aflow", None, None)
