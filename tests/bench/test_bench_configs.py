"""The documented Matbench configurations (bench/configs/) are settings `matlattice fit`
accepts for their task, and a run from one saves every test prediction with its formula as
the data gives it, its official fold and its part."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.jobs.config import FitConfig

CONFIGS = sorted((Path(__file__).parents[2] / "bench" / "configs").glob("matbench_*.json"))


def test_every_matbench_task_has_a_config_fit_accepts():
    assert {p.stem for p in CONFIGS} == {"matbench_expt_gap", "matbench_expt_is_metal",
                                         "matbench_glass", "matbench_steels"}  # fmt: skip
    for path in CONFIGS:
        fields = FitConfig.fields_in(path)
        assert "data" not in fields and not any(k.startswith("_") for k in fields)
        config = FitConfig.from_dict({**fields, "data": path.stem})
        assert json.loads(path.read_text())["_run"].startswith(f"matlattice fit {path.stem} ")
        assert config.model in ("rf", "attention")


@pytest.mark.slow
def test_a_config_run_keeps_each_test_prediction_with_fold_and_formula(tmp_path):
    from matlattice.data import load_dataset

    config = next(p for p in CONFIGS if p.stem == "matbench_steels")
    run = tmp_path / "steels"
    result = CliRunner().invoke(app, ["fit", "matbench_steels", "--config", str(config),
                                      "--model", "rf", "--n-estimators", "5", "--folds", "0",
                                      "--out", str(run)])  # fmt: skip
    assert result.exit_code == 0, result.output
    predictions = pd.read_parquet(run / "predictions.parquet")
    frame = load_dataset("matbench_steels").frame
    fold0 = frame[frame["fold"] == 0]
    assert len(predictions) == len(fold0) == 63
    assert set(predictions["fold"]) == {0} and set(predictions["part"]) == {"fold0"}
    assert sorted(predictions["formula"]) == sorted(fold0["formula"])
    assert json.loads((run / "config.json").read_text())["config"]["data"] == "matbench_steels"
