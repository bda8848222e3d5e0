"""Case 3 of issue 21: a changed cache file or weight file is refused, never read."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import RF, cli
from matlattice.data import load_dataset
from matlattice.data.fetch import source_dir
from matlattice.errors import ChecksumError

SHEAR = "crabnet:aflow__ael_shear_modulus_vrh"
TRAIN = "benchmark_data/aflow__ael_shear_modulus_vrh/train.csv"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private copy of the fetched CrabNet data, as ``$MATLATTICE_CACHE``."""
    load_dataset(SHEAR)  # fetches into the default cache if needed
    root = tmp_path / "cache"
    shutil.copytree(source_dir("crabnet"), source_dir("crabnet", root))
    monkeypatch.setenv("MATLATTICE_CACHE", str(root))
    return source_dir("crabnet", root)


def test_an_intact_copy_loads_every_row(cache):
    assert len(load_dataset(SHEAR, cache_dir=cache.parent.parent)) == len(load_dataset(SHEAR))


def test_a_truncated_file_is_refused_with_the_repair_command(cache):
    path = cache / TRAIN
    text = path.read_bytes()
    path.write_bytes(text[: len(text) // 2])
    with pytest.raises(ChecksumError, match=r"truncated or edited.*data fetch crabnet --force"):
        load_dataset(SHEAR, cache_dir=cache.parent.parent)
    refused = cli("data", "verify", "crabnet", ok=False)
    assert "train.csv: size" in refused and "1 damaged data files" in refused


def test_one_edited_value_of_the_same_length_is_refused(cache):
    path = cache / TRAIN
    lines = path.read_text().splitlines(keepends=True)
    formula, value = lines[1].rstrip("\n").split(",")
    lines[1] = f"{formula},{'9' * len(value)}\n"  # same size: only the hash can tell
    path.write_text("".join(lines))
    with pytest.raises(ChecksumError, match="sha256 changed"):
        load_dataset(SHEAR, cache_dir=cache.parent.parent)
    assert "sha256 differs" in cli("data", "verify", "crabnet", ok=False)


def test_a_deleted_file_is_refused_and_data_fetch_repairs_the_cache(cache):
    (cache / TRAIN).unlink()
    with pytest.raises(ChecksumError, match="missing"):
        load_dataset(SHEAR, cache_dir=cache.parent.parent)
    fetched = cli("data", "fetch", "crabnet")
    assert "1 damaged files" in fetched and "fetching it again" in fetched
    assert "every file as fetched" in cli("data", "verify", "crabnet")
    assert len(load_dataset(SHEAR, cache_dir=cache.parent.parent)) == len(load_dataset(SHEAR))


@pytest.mark.parametrize("model", ["rf", "mlp"])
def test_flipped_bytes_in_saved_weights_are_refused(tables, tmp_path, model):
    run = tmp_path / "R"
    args = RF if model == "rf" else ["--model", "mlp", "--epochs", "2", "--latent-dim", "8"]
    cli("fit", tables["a"], *args, "--out", run)
    weights = next((run / "model").glob("*.safetensors"))
    raw = bytearray(weights.read_bytes())
    rng = np.random.default_rng(0)
    for at in rng.integers(len(raw) // 2, len(raw), 8):  # inside the arrays, not the header
        raw[at] ^= 0xFF
    weights.write_bytes(bytes(raw))
    refused = cli("predict", run, tables["new"], ok=False)
    assert weights.name in refused and "changed since it was saved" in refused
