import hashlib
import zipfile

import pytest

from matlattice.data.fetch import (
    SOURCES,
    WheelSource,
    fetch_source,
    is_cached,
    require_source,
    source_dir,
    verify_sha256,
)
from matlattice.errors import ChecksumError, DataNotAvailableError


def _make_wheel(path, payload=b"formula,target\nNaCl,1.0\n"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("toy/data/set/train.csv", payload)
        zf.writestr("toy/code.py", "print('not data')\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def toy(tmp_path):
    wheel = tmp_path / "toy-1.0-py3-none-any.whl"
    sha = _make_wheel(wheel)
    source = WheelSource(
        name="toy", requirement="toy==1.0", sha256=sha, members=("toy/data/",), strip="toy/data/"
    )
    return source, wheel, tmp_path / "cache"


def test_fetch_extracts_only_data_and_marks_complete(toy):
    source, wheel, cache = toy
    path = fetch_source(source, cache_dir=cache, wheel=wheel)
    assert path == source_dir(source, cache)
    assert (path / "set" / "train.csv").read_text().startswith("formula,target")
    assert not (path / "code.py").exists()
    assert is_cached(source, cache)


def test_tampered_wheel_is_rejected_and_cache_left_as_it_was(toy, tmp_path):
    source, wheel, cache = toy
    fetch_source(source, cache_dir=cache, wheel=wheel)
    before = sorted(p.relative_to(cache) for p in cache.rglob("*"))
    tampered = tmp_path / "tampered.whl"
    _make_wheel(tampered, payload=b"formula,target\nNaCl,999.0\n")
    with pytest.raises(ChecksumError, match="sha256"):
        fetch_source(source, cache_dir=cache, wheel=tampered, force=True)
    assert sorted(p.relative_to(cache) for p in cache.rglob("*")) == before
    assert "1.0" in (source_dir(source, cache) / "set" / "train.csv").read_text()


def test_truncated_wheel_is_rejected_before_anything_is_written(toy, tmp_path):
    source, wheel, cache = toy
    truncated = tmp_path / "truncated.whl"
    truncated.write_bytes(wheel.read_bytes()[:-40])
    with pytest.raises(ChecksumError):
        fetch_source(source, cache_dir=cache, wheel=truncated)
    assert not is_cached(source, cache)
    assert not source_dir(source, cache).exists()


def test_verify_sha256_names_both_digests(tmp_path):
    f = tmp_path / "x.whl"
    f.write_bytes(b"abc")
    with pytest.raises(ChecksumError, match="0" * 64):
        verify_sha256(f, "0" * 64)


def test_offline_without_cache_says_what_to_run(tmp_path):
    with pytest.raises(DataNotAvailableError, match="matlattice data fetch crabnet"):
        require_source("crabnet", tmp_path / "empty-cache", download=False)


def test_failed_download_is_a_clear_error(tmp_path):
    missing = WheelSource(
        name="nosuch",
        requirement="matlattice-no-such-package-xyz==0.0.1",
        sha256="0" * 64,
        members=("x/",),
        strip="x/",
    )
    with pytest.raises(DataNotAvailableError, match="matlattice data fetch nosuch"):
        fetch_source(missing, cache_dir=tmp_path)
    assert not source_dir(missing, tmp_path).exists()


def test_pinned_sources():
    assert SOURCES["crabnet"].requirement == "crabnet==2.0.8"
    assert SOURCES["crabnet"].sha256.startswith("4901565a")
    assert SOURCES["matbench"].sha256.startswith("90b13103")
    assert SOURCES["matminer"].sha256.startswith("eb66571c")
