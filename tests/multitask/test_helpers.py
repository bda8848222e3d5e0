"""Auxiliary-task models: a property learned beside its helpers, keeping only its own head."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic_tasks import planted_tasks
from matlattice.jobs.predict import predict_run
from matlattice.models import LatticeRegressor
from matlattice.models.networks.routing import TaskRoutedNet
from matlattice.multitask.gate import validation_mae
from matlattice.multitask.helpers import fit_with_helpers
from matlattice.multitask.task_selection import select_tasks


@pytest.fixture(scope="module")
def planted(aflow):
    # ~200 scarce labels among 2,000 rows: the helper's gain below held on seeds 1-4
    # (0.17, 0.13, 0.19, 0.25)
    formulas = aflow.frame["formula"].drop_duplicates().sample(2000, random_state=1).tolist()
    return planted_tasks(formulas, n_groups=1, sparse_fraction=0.1, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("early_stopping", ["mean", "per_task"])
def test_selected_tasks_predict_as_the_full_model_and_survive_save_load(
    planted, tmp_path, early_stopping
):
    frame = planted.frame[["formula", "g0_0", "g0_1", "indep"]].iloc[:600]
    model = LatticeRegressor(
        "mlp",
        latent_dim=8,
        epochs=30,
        patience=30,
        ensemble=2,
        random_state=0,
        early_stopping=early_stopping,
    ).fit(frame)
    if early_stopping == "per_task":  # each task kept at its own epoch: a routed net
        assert any(isinstance(net, TaskRoutedNet) for net in model.members_)
    formulas = frame["formula"].tolist()[:300]
    full, full_std = model.predict(formulas, return_std=True)

    kept = select_tasks(model, ["indep", "g0_0"])
    assert kept.tasks_ == ["indep", "g0_0"] and model.tasks_ == ["g0_0", "g0_1", "indep"]
    pred, std = kept.predict(formulas, return_std=True)
    np.testing.assert_allclose(pred, full[:, [2, 0]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, full_std[:, [2, 0]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kept.transform(formulas), model.transform(formulas))

    one = select_tasks(model, ["g0_1"])
    reloaded = LatticeRegressor.load(one.save(tmp_path / "one"))
    assert reloaded.tasks_ == ["g0_1"]
    np.testing.assert_allclose(reloaded.predict(formulas), full[:, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(formulas), full)  # the original is untouched

    for bad in (["nope"], [], ["g0_0", "g0_0"]):
        with pytest.raises(ValueError, match="distinct tasks of the model"):
            select_tasks(model, bad)


@pytest.mark.slow
def test_a_scarce_property_gains_from_a_helper_and_the_gate_keeps_the_better(planted):
    frame = planted.frame[["formula", "g0_0", "g0_sparse", "indep"]]
    rng = np.random.default_rng(0)
    is_val = rng.random(len(frame)) < 0.15
    train, val = frame[~is_val], frame[is_val]
    base = LatticeRegressor("mlp", latent_dim=8, epochs=40, patience=10, random_state=0)
    helpers = {"g0_sparse": ["g0_0"], "indep": ["g0_0"]}
    tasks = ["g0_0", "g0_sparse", "indep"]
    result = fit_with_helpers(base, train, val, helpers, tasks)

    assert not hasattr(base, "members_")  # the template is cloned, never fitted
    assert {t: m.tasks_ for t, m in result.models.items()} == {t: [t] for t in tasks}
    assert result.decisions["g0_0"] == {"helpers": [], "chosen": "alone", "val_gain": None}
    for task in ("g0_sparse", "indep"):
        decision = result.decisions[task]
        better = min(decision["val_mae_with_helpers"], decision["val_mae_alone"])
        assert decision["val_mae_" + decision["chosen"]] == better, (task, decision)
        assert validation_mae(result.models[task], val, task) == pytest.approx(better)
    # ~170 labels of a property sharing its hidden factors with a plentiful helper
    sparse = result.decisions["g0_sparse"]
    assert sparse["chosen"] == "with_helpers"
    assert sparse["val_gain"] > 0.08, sparse

    with pytest.raises(ValueError, match="its own helper"):
        fit_with_helpers(base, train, val, {"g0_0": ["g0_0"]}, ["g0_0"])
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        fit_with_helpers(base, train, val, {"g0_0": ["nope"]}, ["g0_0"])


@pytest.mark.slow
def test_fit_helpers_run_measures_the_lattice_and_writes_one_model_per_task(planted, tmp_path):
    tasks = ["g0_0", "g0_sparse", "indep"]
    data = tmp_path / "planted.csv"
    # the contract, not the planted truth (tested above): a small part keeps the lattice quick
    planted.frame[["formula", *tasks]].iloc[:1500].to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["fit", str(data), "--model", "mlp", "--split", "random", "--helpers"]
    result = CliRunner().invoke(app, [*args, "--epochs", "6", "--out", str(out)])
    assert result.exit_code == 0, result.output

    assert "val MAE with helpers" in result.output  # the gate's choices are printed
    metrics = json.loads((out / "metrics.json").read_text())
    gate = metrics["helper_gate"]["test"]
    assert sorted(gate) == sorted(tasks)
    recorded = json.loads((out / "task_groups.json").read_text())["test"]
    assert {t: d["helpers"] for t, d in gate.items() if d["helpers"]} == recorded["helpers"]
    assert any(e["transfer_gain"] is not None for e in recorded["lattice"]["edges"])
    assert sorted(p.name for p in out.glob("model_task_*")) == [f"model_task_{t}" for t in tasks]
    preds = predict_run(out, ["NaCl", "Fe2O3"])
    assert set(preds.columns) == {"formula", *tasks, *(f"{t}_std" for t in tasks)}
    assert preds[tasks].notna().all().all()

    for extra in (["--tasks", "auto"], ["--fine-tune"]):
        refused = CliRunner().invoke(app, [*args, *extra, "--out", str(tmp_path / "x")])
        assert refused.exit_code != 0


@pytest.mark.slow
def test_fit_gate_trains_the_group_once_and_gates_each_member(planted, tmp_path):
    tasks = ["g0_0", "g0_sparse", "indep"]
    data = tmp_path / "planted.csv"
    planted.frame[["formula", *tasks]].to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["fit", str(data), "--model", "mlp", "--split", "random", "--epochs", "6"]
    result = CliRunner().invoke(app, [*args, "--gate", "--out", str(out)])
    assert result.exit_code == 0, result.output

    assert "group mates" in result.output  # the gate table is printed
    gate = json.loads((out / "metrics.json").read_text())["group_gate"]["test"]
    assert {t: sorted(d["helpers"]) for t, d in gate.items()} == {
        t: sorted(set(tasks) - {t}) for t in tasks
    }
    for decision in gate.values():
        better = min(decision["val_mae_with_helpers"], decision["val_mae_alone"])
        assert decision["val_mae_" + decision["chosen"]] == better
    # one shared model (under the first task's folder), one alone model per task
    trained = sorted(
        p.relative_to(out / "checkpoints" / "test").as_posix()
        for p in (out / "checkpoints" / "test").glob("*/*")
    )
    assert trained == ["g0_0/alone", "g0_0/with_helpers", "g0_sparse/alone", "indep/alone"]
    assert sorted(p.name for p in out.glob("model_task_*")) == [f"model_task_{t}" for t in tasks]

    cv = [*args, "--gate", "--ensemble", "2", "--cv-members", "--out", str(tmp_path / "cv")]
    result = CliRunner().invoke(app, cv)
    assert result.exit_code == 0, result.output
    assert "out-of-fold" in result.output  # the gate table names the error it read
    gate = json.loads((tmp_path / "cv" / "metrics.json").read_text())["group_gate"]["test"]
    for decision in gate.values():  # CV members: the gate reads out-of-fold errors
        assert decision["gate_on"] == "out_of_fold"
        better = min(decision["oof_mae_with_helpers"], decision["oof_mae_alone"])
        assert decision["oof_mae_" + decision["chosen"]] == better

    folds = [*args, "--gate", "--gate-folds", "2", "--out", str(tmp_path / "folds")]
    result = CliRunner().invoke(app, folds)
    assert result.exit_code == 0, result.output
    gate = json.loads((tmp_path / "folds" / "metrics.json").read_text())["group_gate"]["test"]
    assert {(d["gate_on"], d["gate_folds"]) for d in gate.values()} == {("out_of_fold", 2)}
    no_scheme = CliRunner().invoke(app, [*args, "--gate-folds", "2", "--out", str(tmp_path / "y")])
    assert no_scheme.exit_code != 0 and "gate_folds=2 sets the gate" in no_scheme.output

    refused = CliRunner().invoke(app, [*args, "--gate", "--helpers", "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0 and "not ['helpers', 'gate']" in refused.output
