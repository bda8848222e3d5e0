import subprocess
import sys

import numpy as np
import pytest

from matlattice.errors import InvalidParameterError
from matlattice.represent import element_tables
from matlattice.represent.element_tables import ELEMENT_TABLES, load_element_table


@pytest.fixture(scope="module")
def core_tables():
    """Every table loaded through ``elementembeddings.core`` (umap/numba import: slow)."""
    return {name: element_tables._load_with_core(name) for name in ELEMENT_TABLES}


def _as_table(name, vectors_and_labels, monkeypatch):
    """The ElementTable that ``load_element_table`` builds from these vectors and labels."""
    monkeypatch.setattr(element_tables, "_read_data_file", lambda _: vectors_and_labels)
    load_element_table.cache_clear()
    try:
        return load_element_table(name)
    finally:
        load_element_table.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("name", ELEMENT_TABLES)
def test_data_files_give_the_tables_of_elementembeddings_core(name, core_tables, monkeypatch):
    read = element_tables._read_data_file(name)
    assert read is not None, f"no data file read for {name!r}: the fast path is not taken"
    fast = _as_table(name, read, monkeypatch)
    core = _as_table(name, core_tables[name], monkeypatch)
    assert fast.values.shape == core.values.shape
    # bit-identical, NaN rows (elements the table lacks) in the same places
    assert np.array_equal(fast.values, core.values, equal_nan=True)
    assert fast.values.tobytes() == core.values.tobytes()
    assert fast.labels == core.labels


def test_loading_a_table_does_not_import_elementembeddings_core():
    code = (
        "import sys; from matlattice.represent import load_element_table; "
        "t = load_element_table('magpie'); u = load_element_table('mod_petti'); "
        "print(t.values.shape, u.values.shape, "
        "[m for m in ('elementembeddings.core', 'umap', 'numba') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["(103,", "22)", "(103,", "103)", "[]"]


def test_known_rows():
    magpie = load_element_table("magpie")
    assert magpie.labels[:2] == ("Number", "MendeleevNumber")
    assert magpie.values[25, 0] == 26.0  # Fe: Z = 26
    megnet = load_element_table("megnet16")
    assert megnet.labels == tuple(f"dim_{i}" for i in range(16))
    atomic = load_element_table("atomic")  # one-hot of Z - 1
    assert atomic.values[7, 7] == 1.0 and atomic.values[7].sum() == 1.0
    assert atomic.labels[:3] == ("H", "He", "Li")


def test_table_is_read_only_and_cached():
    table = load_element_table("magpie")
    assert load_element_table("magpie") is table
    with pytest.raises(ValueError, match="read-only"):
        table.values[0, 0] = 1.0


def test_a_missing_data_file_falls_back_to_elementembeddings_core(monkeypatch):
    calls = []
    monkeypatch.setattr(element_tables, "_read_data_file", lambda name: None)
    monkeypatch.setattr(
        element_tables,
        "_load_with_core",
        lambda name: calls.append(name) or ({"H": np.array([1.0, 2.0])}, ["a", "0"]),
    )
    load_element_table.cache_clear()
    try:
        table = load_element_table("magpie")
    finally:
        load_element_table.cache_clear()
    assert calls == ["magpie"]
    assert table.labels == ("a", "dim_0")
    assert table.values[0].tolist() == [1.0, 2.0] and np.isnan(table.values[1:]).all()


def test_unknown_table_names_the_choices():
    with pytest.raises(InvalidParameterError, match=r"'nope'.*magpie"):
        load_element_table("nope")
