"""Borrowing another dataset's properties: chosen by data coupling, judged by the gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic_tasks import planted_tasks
from matlattice.jobs.predict import predict_run
from matlattice.multitask.borrowing import BORROW, borrowed_partners


@pytest.fixture(scope="module")
def two_sources(aflow, tmp_path_factory):
    """A run file with a nonlinear property on 10 % of 4000 compositions, and another
    dataset with the same property computed otherwise (noisy) on all of them, an independent
    property, and an exact copy of the run's labels."""
    formulas = aflow.frame["formula"].drop_duplicates().sample(4000, random_state=2).tolist()
    planted = planted_tasks(formulas, n_groups=1, sparse_fraction=0.1, seed=2).frame
    rng = np.random.default_rng(2)
    full = planted_tasks(formulas, n_groups=1, sparse_fraction=1.0, seed=2).frame
    folder = tmp_path_factory.mktemp("borrow")
    run = planted[["formula", "g0_sparse"]].dropna().rename(columns={"g0_sparse": "y"})
    other = pd.DataFrame(
        {
            "formula": formulas,
            "sibling": full["g0_sparse"] + 0.3 * rng.standard_normal(len(formulas)),
            "indep": full["indep"],
            "copy": planted["g0_sparse"],
        }
    )
    run.to_csv(folder / "run.csv", index=False)
    other.to_csv(folder / "other.csv", index=False)
    return folder, run, other


def test_partners_are_the_coupled_columns_never_a_copy(two_sources):
    _, run, other = two_sources
    train = run.merge(other, on="formula")
    train.columns = ["formula", "y", "o:sibling", "o:indep", "o:copy"]
    partners, evidence = borrowed_partners(train, ["y"], ["o:sibling", "o:indep", "o:copy"])

    assert partners == {"y": ["o:sibling"]}
    y = evidence["y"]
    assert y["o:sibling"]["spearman"] > 0.8 and y["o:sibling"]["identical_fraction"] == 0.0
    assert abs(y["o:indep"]["spearman"]) < BORROW["min_coupling"]
    assert y["o:copy"]["identical_fraction"] == 1.0 and not y["o:copy"]["partner"]
    assert {c: e["count"] for c, e in y.items()} == {c: len(run) for c in y}
    few = borrowed_partners(train.head(BORROW["min_count"] - 1), ["y"], ["o:sibling"])
    assert few[0] == {} and np.isnan(few[1]["y"]["o:sibling"]["spearman"])


def test_a_shared_floor_is_not_a_copy_but_equal_values_above_it_are():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2000)
    gap = np.clip(x, 0, None)  # half the materials are metals: zero gap in both databases
    train = pd.DataFrame(
        {
            "gap": gap,
            "other:gap": np.clip(x + 0.2 * rng.standard_normal(2000), 0, None),
            "other:copy": np.where(rng.random(2000) < 0.3, gap, gap + 0.1),
        }
    )
    partners, evidence = borrowed_partners(train, ["gap"], ["other:gap", "other:copy"])

    assert partners == {"gap": ["other:gap"]}
    assert np.isclose(train["gap"], train["other:gap"]).mean() > 0.4  # zeros match in both
    assert evidence["gap"]["other:gap"]["identical_fraction"] == 0.0
    assert 0.1 < evidence["gap"]["other:copy"]["identical_fraction"] < 0.3


@pytest.mark.slow
def test_fit_borrow_learns_a_scarce_property_beside_another_datasets_sibling(two_sources, tmp_path):
    folder, run, _ = two_sources
    out = tmp_path / "run"
    args = ["fit", str(folder / "run.csv"), "--model", "mlp", "--split", "random"]
    borrow = ["--borrow", str(folder / "other.csv"), "--epochs", "20", "--patience", "10"]
    result = CliRunner().invoke(app, [*args, *borrow, "--out", str(out)])
    assert result.exit_code == 0, result.output

    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["tasks"]) == ["y"]  # borrowed columns are never scored
    assert metrics["borrowed"]["other:sibling"] == {
        "labels": 4000,
        "shared_compositions": len(run),
        "new_compositions": 4000 - len(run),
    }
    decision = metrics["helper_gate"]["test"]["y"]
    assert decision["helpers"] == ["other:sibling"]
    # 400 labels against 4000 noisy labels of the same property elsewhere: a large gain
    assert decision["chosen"] == "with_helpers" and decision["val_gain"] > 0.2, decision
    recorded = json.loads((out / "task_groups.json").read_text())["test"]
    assert recorded["lattice"]["borrowed"]["y"]["other:copy"]["identical_fraction"] == 1.0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["borrow"] == [str(folder / "other.csv")]
    preds = predict_run(out, ["NaCl", "Fe2O3"])  # the kept model serves y alone
    assert list(preds.columns) == ["formula", "y", "y_std"] and preds["y"].notna().all()

    refused = CliRunner().invoke(app, [*args, *borrow, "--gate", "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0 and "not with gate" in refused.output


@pytest.mark.slow
def test_entangle_borrow_puts_the_other_datasets_properties_in_the_lattice(two_sources, tmp_path):
    folder, _, _ = two_sources
    out = tmp_path / "lattice"
    args = ["entangle", str(folder / "run.csv"), "--borrow", str(folder / "other.csv")]
    settings = ["--no-transfer", "--epochs", "4", "--probe-size", "256"]
    result = CliRunner().invoke(app, [*args, *settings, "--out", str(out)])
    assert result.exit_code == 0, result.output

    lattice = json.loads((out / "lattice.json").read_text())
    assert lattice["tasks"] == ["y", "other:sibling", "other:indep", "other:copy"]
    assert lattice["borrowed"] == [str(folder / "other.csv")]
    edges = {(e["source"], e["target"]): e for e in lattice["edges"]}
    assert edges[("y", "other:sibling")]["data_coupling"] > 0.8
    assert abs(edges[("y", "other:indep")]["data_coupling"]) < BORROW["min_coupling"]
    copies = [g for g in lattice["risk_gates"] if g["kind"] == "duplicate"]
    assert [sorted(g["tasks"]) for g in copies] == [["other:copy", "y"]]
