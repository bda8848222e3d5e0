"""A user's formula column is read as written: pandas' missing-value words are formulas."""

from matlattice.composition import parse_formulas
from matlattice.data.user_files import read_table


def test_na_words_stay_formulas_and_an_empty_cell_is_a_named_bad_row(tmp_path):
    path = tmp_path / "pool.csv"
    path.write_text("formula,y\nNaCl,1\nNaN,2\nNone,3\nNA,4\n,5\nnull,\n")
    frame = read_table(path)
    assert frame["formula"].tolist() == ["NaCl", "NaN", "None", "NA", "", "null"]
    assert frame["y"].isna().tolist() == [False] * 5 + [True]  # other columns: pandas' rules
    batch = parse_formulas(frame["formula"].tolist(), errors="report")
    assert batch.valid.tolist() == [True, True, False, False, False, False]  # NaN: Na + N
    faults = dict(zip(batch.report()["formula"], batch.report()["fault"], strict=True))
    assert faults[""] == "empty formula"
    assert "'None'" in faults["None"]
