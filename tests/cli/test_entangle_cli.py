"""``matlattice entangle`` writes the lattice.json contract and its figures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic_tasks import planted_tasks

CONTRACT_EDGE = {
    "source",
    "target",
    "weight",
    "data_coupling",
    "gradient_cosine",
    "affinity",
    "transfer_gain",
    "representation_alignment",
    "risk",
}


@pytest.mark.slow
def test_entangle_writes_the_contract(aflow, tmp_path):
    formulas = aflow.frame["formula"].drop_duplicates().sample(1500, random_state=5).tolist()
    planted = planted_tasks(formulas, n_groups=1, group_size=2, seed=5)
    data = tmp_path / "planted.csv"
    planted.frame.to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["entangle", str(data), "--out", str(out), "--no-transfer", "--epochs", "15"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "lattice.json").read_text())
    assert summary["tasks"] == planted.tasks
    assert len(summary["edges"]) == len(planted.tasks) * (len(planted.tasks) - 1)
    assert set(summary["edges"][0]) >= CONTRACT_EDGE
    for key in ("density", "modularity", "regime", "groups", "task_weights", "risk_gates"):
        assert key in summary
    assert summary["regime"] == "pathological"  # the planted duplicate
    assert sorted(t for group in summary["groups"] for t in group) == sorted(planted.tasks)
    assert summary["helpers"] == {}  # helpers read the transfer gains, not measured here
    assert (out / "lattice.png").stat().st_size > 10_000
    assert (out / "edge_heatmap.png").stat().st_size > 5_000
    # another config into the same folder is refused, nothing overwritten
    again = CliRunner().invoke(app, [*args[:-1], "16"])
    assert again.exit_code != 0
    assert "another run" in again.output
