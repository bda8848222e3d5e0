"""Case 1 and 2 of issue 21: a run folder owns its contents, and resume checks what it resumes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import MLP, RF, cli
from matlattice.errors import CheckpointMismatchError, MatlatticeError
from matlattice.jobs.run_folder import finish_run_folder, open_run_folder


def _predict(run, tables, tmp_path) -> pd.DataFrame:
    out = tmp_path / "pred.csv"
    cli("predict", run, tables["new"], "--output", out)
    return pd.read_csv(out)


@pytest.mark.slow
def test_a_second_fit_into_a_run_is_refused_and_overwrite_replaces_every_model(tables, tmp_path):
    run = tmp_path / "R"
    cli("fit", tables["a"], *MLP, "--out", run)
    mlp = _predict(run, tables, tmp_path)
    refused = cli("fit", tables["a"], *RF, "--out", run, ok=False)
    assert str(run) in refused and "--overwrite" in refused
    assert _predict(run, tables, tmp_path).equals(mlp)  # the refused fit changed nothing
    cli("fit", tables["a"], *RF, "--out", run, "--overwrite")
    rf = _predict(run, tables, tmp_path)
    assert not np.allclose(rf["band_gap"], mlp["band_gap"])  # the old MLP is not predicted from
    assert json.loads((run / "model" / "config.json").read_text())["class"] == "MultiTaskForest"
    assert sorted(p.name for p in run.iterdir() if p.name.startswith("model")) == ["model"]
    assert not list(tmp_path.glob(".R.*"))  # no staging or retired folder left behind


def test_predict_reads_only_the_models_the_manifest_lists(tables, tmp_path):
    run = tmp_path / "R"
    cli("fit", tables["a"], *RF, "--out", run)
    before = _predict(run, tables, tmp_path)
    stray = run / "model_stray"
    (run / "model").rename(stray)
    (run / "model").mkdir()
    (stray / "config.json").rename(run / "model" / "config.json")
    refused = cli("predict", run, tables["new"], ok=False)
    assert "forests.safetensors" in refused  # the listed model is incomplete: refused by name
    (stray / "forests.safetensors").rename(run / "model" / "forests.safetensors")
    assert _predict(run, tables, tmp_path).equals(before)  # model_stray is never read


def test_a_run_without_a_manifest_is_refused(tables, tmp_path):
    run = tmp_path / "R"
    cli("fit", tables["a"], *RF, "--out", run)
    (run / "manifest.json").unlink()
    assert "manifest.json" in cli("predict", run, tables["new"], ok=False)


@pytest.mark.slow
def test_resume_refuses_other_data_and_other_settings_by_name(tables, tmp_path):
    run = tmp_path / "R"
    cli("fit", tables["a"], *MLP, "--out", run)
    other_data = cli("fit", tables["b"], *MLP, "--out", run, "--resume", ok=False)
    assert "the data" in other_data and "--overwrite" in other_data
    wider = cli("fit", tables["a"], *MLP[:-4], "--latent-dim", "16", *MLP[-2:], "--out", run,
                "--resume", ok=False)  # fmt: skip
    assert "latent_dim (8 then, 16 now)" in wider
    longer = cli("fit", tables["a"], *MLP, "--epochs", "5", "--out", run, "--resume", ok=False)
    assert "epochs (3 then, 5 now)" in longer
    other_split = cli("fit", tables["a"], *MLP, "--seed", "3", "--out", run, "--resume", ok=False)
    assert "the split" in other_split and "seed (0 then, 3 now)" in other_split
    same = cli("fit", tables["a"], *MLP, "--out", run, "--resume")
    assert "band_gap" in same  # the same run resumes and scores


def test_overwrite_keeps_the_old_run_until_the_new_one_is_complete(tmp_path):
    out = tmp_path / "R"
    out.mkdir()
    (out / "manifest.json").write_text("old")
    work = open_run_folder(out, resume=False, overwrite=True)
    assert work != out and (out / "manifest.json").read_text() == "old"
    work.mkdir()
    (work / "manifest.json").write_text("new")
    # a kill here leaves the old run whole; the next --overwrite starts from a clean staging
    again = open_run_folder(out, resume=False, overwrite=True)
    assert again == work and not work.exists()
    work.mkdir()
    (work / "manifest.json").write_text("new")
    finish_run_folder(work, out)
    assert (out / "manifest.json").read_text() == "new" and not work.exists()


def test_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    with pytest.raises(MatlatticeError, match="is a file"):
        open_run_folder(file, resume=False, overwrite=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(MatlatticeError, match="already holds files"):
        open_run_folder(foreign, resume=False, overwrite=False)
    with pytest.raises(CheckpointMismatchError, match="fingerprint"):
        open_run_folder(foreign, resume=True, overwrite=False)
    assert (foreign / "notes.txt").read_text() == "mine"
