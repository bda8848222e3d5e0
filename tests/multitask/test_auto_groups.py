"""``matlattice fit --tasks auto`` trains one model per group the lattice recommends."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic_tasks import planted_tasks
from matlattice.jobs.predict import predict_run


@pytest.mark.slow
def test_fit_tasks_auto_trains_one_model_per_lattice_group(aflow, tmp_path):
    # the plumbing of --tasks auto: the lattice's recovery of planted groups is examined on
    # many draws elsewhere (tests/entangle, bench/lattice_validity.py); here 3,000 rows and
    # 7 properties, where the duplicate was set apart and the mean R2 above 0.35 on seeds 0-3
    formulas = aflow.frame["formula"].drop_duplicates().sample(3000, random_state=0).tolist()
    planted = planted_tasks(formulas, group_size=2, sparse_fraction=0.1, seed=0)
    tasks = planted.tasks
    data = tmp_path / "planted.csv"
    planted.frame[["formula", *tasks]].to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["fit", str(data), "--model", "mlp", "--tasks", "auto", "--split", "random"]
    result = CliRunner().invoke(app, [*args, "--epochs", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output

    metrics = json.loads((out / "metrics.json").read_text())
    groups = metrics["task_groups"]["test"]
    assert sorted(t for g in groups for t in g) == sorted(tasks)
    assert not any(set(planted.duplicate) <= set(g) for g in groups)  # the gate holds
    assert sorted(p.name for p in out.glob("model_group*")) == [
        f"model_group{g}" for g in range(len(groups))
    ]
    lattice = json.loads((out / "task_groups.json").read_text())["test"]["lattice"]
    assert lattice["tasks"] == tasks and lattice["groups"] == groups
    assert np.mean([metrics["tasks"][t]["r2"] for t in tasks]) > 0.3, metrics["tasks"]
    preds = predict_run(out, ["NaCl", "Fe2O3"])
    assert set(tasks) <= set(preds.columns)

    refused = CliRunner().invoke(app, ["fit", str(data), "--model", "rf", "--tasks", "auto"])
    assert refused.exit_code == 2
    assert "use model attention or mlp" in " ".join(refused.output.split())
