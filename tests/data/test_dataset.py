import numpy as np
import pandas as pd
import pytest

from matlattice.composition import composition_keys, parse_formulas
from matlattice.data import load_dataset
from matlattice.errors import DataFormatError


def _keys(frame):
    return composition_keys(parse_formulas(frame["formula"].tolist()).fractions)


def _assert_no_leak(frame):
    keys = pd.Series(_keys(frame))
    parts = frame["split"].to_numpy()
    for a, b in (("train", "test"), ("train", "val"), ("val", "test")):
        assert not set(keys[parts == a]) & set(keys[parts == b])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["oqmd", "aflow", "mp", "critexam", "transport"])
def test_merged_datasets_one_row_per_composition_and_no_leak(name):
    ds = load_dataset(name)
    keys = _keys(ds.frame)
    assert len(set(keys)) == len(keys)
    assert (
        ds.frame["composition_key"].to_numpy() == keys
    ).all()  # computed once at load, travels along
    _assert_no_leak(ds.frame)
    assert set(ds.frame["split"]) == {"train", "val", "test"}
    assert 0.75 < (ds.frame["split"] == "train").mean() < 0.85
    assert list(ds.frame.columns[1 : 1 + len(ds.properties)]) == ds.properties


def test_merged_sizes_match_the_files(aflow, mp):
    # 27.7k unique aflow formulas; Al2C1Ta3 and Al0.4C0.2Ta0.6 are one composition
    assert 27_500 < len(aflow) < 27_700
    assert aflow.frame[aflow.properties].notna().all(axis=1).sum() > 4_800
    assert 56_500 < len(mp) < 56_800


@pytest.mark.slow
def test_transport_has_ten_properties_and_keeps_mp_ids():
    ds = load_dataset("transport")
    assert len(ds.properties) == 10
    assert ds.report.n_records == 47_737 * 10
    assert ds.frame["entry_id"].str.startswith("mp-").all()
    assert 34_000 < len(ds) < 34_700


def test_crabnet_official_split_has_no_leak_and_reports_moves():
    ds = load_dataset("crabnet:aflow__Egap")
    _assert_no_leak(ds.frame)
    counts = ds.frame["split"].value_counts()
    assert counts["train"] > 19_000 and counts["test"] > 4_000
    assert ds.report.summary()["records_removed_by_split_priority"] >= 1


def test_official_matbench_fold_sizes():
    expected = {
        "matbench_expt_gap": [921, 921, 921, 921, 920],
        "matbench_steels": [63, 63, 62, 62, 62],
        "matbench_glass": [1136] * 5,
        "matbench_expt_is_metal": [985, 984, 984, 984, 984],
    }
    for name, sizes in expected.items():
        ds = load_dataset(name)
        assert ds.frame["fold"].value_counts().sort_index().tolist() == sizes
        train, test = ds.fold(0)
        assert len(train) + len(test) == len(ds)


def test_official_folds_keep_official_rows_and_report_their_leaks():
    ds = load_dataset("matbench_expt_gap")
    assert ds.frame["entry_id"].iloc[7] == "mb-expt-gap-0008"
    assert (ds.frame["composition_key"].to_numpy() == _keys(ds.frame)).all()
    assert len(ds.report.split_leaks) == 2  # the official folds put 2 compositions in two folds
    with pytest.raises(ValueError, match="duplicates='keep'"):
        load_dataset("matbench_expt_gap", duplicates="mean")


def test_structure_task_view_is_merged_and_folded_without_leaks():
    ds = load_dataset("matbench_phonons")
    keys = _keys(ds.frame)
    assert len(set(keys)) == len(keys) < 1265
    assert ds.frame["fold"].nunique() == 5


def test_user_file_duplicate_rules(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame(
        {
            "formula": ["NaCl", "Na1Cl1", "KBr", "KBr", "Xx2", "LiF"],
            "gap": [5.0, 7.0, 4.0, 4.0, 1.0, np.nan],
            "metal": [0, 0, 0, 1, 1, 0],
        }
    ).to_csv(path, index=False)
    ds = load_dataset(path)
    assert ds.properties == ["gap", "metal"]
    assert ds.info.property("metal").task == "classification"
    frame = ds.frame.set_index("formula")
    assert frame.loc["NaCl", "gap"] == 6.0  # mean of two spellings of one composition
    assert frame.loc["KBr", "metal"] == 0  # majority vote, tie -> first record
    assert len(ds.report.invalid) == 2 and set(ds.report.invalid["formula"]) == {"Xx2"}
    first = load_dataset(path, duplicates="first").frame.set_index("formula")
    assert first.loc["NaCl", "gap"] == 5.0
    dropped = load_dataset(path, duplicates="drop").frame.set_index("formula")
    assert np.isnan(dropped.loc["NaCl", "gap"])
    assert dropped.loc["KBr", "gap"] == 4.0
    conflicts = ds.report.duplicates
    assert set(conflicts["property"]) == {"gap", "metal"}


def test_user_file_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"composition": ["NaCl"], "y": [1.0]}).to_csv(bad, index=False)
    with pytest.raises(DataFormatError, match="'formula' column"):
        load_dataset(bad)
    text = tmp_path / "text.csv"
    pd.DataFrame({"formula": ["NaCl"], "note": ["salt"]}).to_csv(text, index=False)
    with pytest.raises(DataFormatError, match="'note' is not numeric"):
        load_dataset(text)
    with pytest.raises(DataFormatError, match="no such data file"):
        load_dataset(tmp_path / "missing.csv")
    clash = tmp_path / "clash.csv"
    pd.DataFrame({"formula": ["NaCl"], "composition_key": [1.0]}).to_csv(clash, index=False)
    with pytest.raises(DataFormatError, match="named 'composition_key'"):
        load_dataset(clash)


def test_clean_reports_every_removed_value(mp):
    cleaned = load_dataset("mp", clean=True)
    report = cleaned.report.cleaned
    negative = report[(report["property"] == "elastic_anisotropy") & (report["value"] < 0)]
    assert len(negative) == 376
    assert (cleaned.frame["elastic_anisotropy"].dropna() >= 0).all()
    assert report["rule"].str.startswith(("physical", "plausible")).all()
    raw_count = mp.frame["elastic_anisotropy"].notna().sum()
    kept = cleaned.frame["elastic_anisotropy"].notna().sum()
    removed = (report["property"] == "elastic_anisotropy").sum()
    assert raw_count - kept == removed
