"""``matlattice fit --tasks auto`` trains one model per group the lattice recommends."""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic_tasks import planted_tasks
from matlattice.jobs.predict import predict_run


@pytest.mark.slow
def test_fit_tasks_auto_recovers_the_planted_groups(aflow, tmp_path):
    formulas = aflow.frame["formula"].drop_duplicates().sample(6000, random_state=0).tolist()
    planted = planted_tasks(formulas, seed=0)  # two groups, a scarce mate, a copy, indep
    tasks = planted.tasks
    data = tmp_path / "planted.csv"
    planted.frame[["formula", *tasks]].to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["fit", str(data), "--model", "mlp", "--tasks", "auto", "--split", "random"]
    result = CliRunner().invoke(app, [*args, "--epochs", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output

    metrics = json.loads((out / "metrics.json").read_text())
    groups = metrics["task_groups"]["test"]
    found = {t: g for g, members in enumerate(groups) for t in members}
    copy, _ = planted.duplicate
    truth = {**planted.group_of(), copy: -1}  # the gated duplicate trains apart
    assert sorted(found) == sorted(tasks)
    assert adjusted_rand_score([truth[t] for t in tasks], [found[t] for t in tasks]) >= 0.9
    assert sorted(p.name for p in out.glob("model_group*")) == [
        f"model_group{g}" for g in range(len(groups))
    ]
    lattice = json.loads((out / "task_groups.json").read_text())["test"]["lattice"]
    assert lattice["tasks"] == tasks and lattice["groups"] == groups
    core = [t for t in tasks if t[0] == "g" and t[-1].isdigit()]  # the planted readouts
    assert all(metrics["tasks"][t]["r2"] > 0.5 for t in core), metrics["tasks"]
    preds = predict_run(out, ["NaCl", "Fe2O3"])
    assert set(tasks) <= set(preds.columns)

    refused = CliRunner().invoke(app, ["fit", str(data), "--model", "rf", "--tasks", "auto"])
    assert refused.exit_code == 2
    assert "use model attention or mlp" in " ".join(refused.output.split())
