"""Atomic writes land whole, with the usual file mode; broken JSON is refused by path."""

import json
import os

import pytest

from matlattice.errors import MatlatticeError
from matlattice.runtime.files import atomic_write_json, atomic_write_text, read_json


def test_an_atomic_write_has_the_mode_of_an_ordinary_write(tmp_path):
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("x")
    atomic = atomic_write_text(tmp_path / "sub" / "atomic.txt", "x")
    assert atomic.read_text() == "x"
    assert os.stat(atomic).st_mode & 0o777 == os.stat(ordinary).st_mode & 0o777
    assert [p.name for p in atomic.parent.iterdir()] == ["atomic.txt"]  # no temporary left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = atomic_write_json(tmp_path / "a.json", {"v": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"v": object()})
    assert read_json(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize(("content", "fault"), [(None, "does not exist"), ("{oops", "not valid")])
def test_read_json_names_the_file_it_cannot_read(tmp_path, content, fault):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MatlatticeError, match=fault) as caught:
        read_json(path)
    assert str(path) in str(caught.value)
    assert json.loads('{"ok": 1}') == {"ok": 1}
