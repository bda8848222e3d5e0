"""The CSV reader under fuzz: it reads a table exactly as written or refuses it with a
MatlatticeError; it never returns shifted, blanked or converted formulas."""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matlattice.data.user_files import read_table
from matlattice.errors import MatlatticeError

NA_LIKE = ["NaN", "nan", "None", "NA", "N/A", "null", "NULL", "#N/A", "-nan", "", " ", "n/a"]
FORMULA_TEXT = st.one_of(
    st.sampled_from([*NA_LIKE, "NaCl", "Fe2O3", "Sr(AlH)2", "Li0.5Co0.5O2"]),
    st.text(alphabet='AaBbCcOo0123456789().," \n;', max_size=12),
)
QUOTING = st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_are_read_or_refused(tmp_path_factory, data):
    path = _write(tmp_path_factory.mktemp("bytes"), "t.csv", data)
    try:
        frame = read_table(path)
    except MatlatticeError:
        return
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0


@FUZZ
@given(
    formulas=st.lists(FORMULA_TEXT, min_size=1, max_size=8),
    values=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=8),
    quoting=QUOTING,
)
def test_a_well_formed_table_comes_back_exactly(tmp_path_factory, formulas, values, quoting):
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=quoting, lineterminator="\n")
    writer.writerow(["formula", "value"])
    for formula, value in zip(formulas, values, strict=False):
        writer.writerow([formula, repr(value)])
    path = _write(tmp_path_factory.mktemp("table"), "t.csv", buffer.getvalue().encode())
    frame = read_table(path)
    assert frame["formula"].tolist() == formulas  # NaN, None, NA, "" ... read as written
    assert frame["value"].tolist() == [float(repr(v)) for v in values[: len(formulas)]]
