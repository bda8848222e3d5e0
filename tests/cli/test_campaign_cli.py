"""A person drives a campaign from the shell: create, ask, tell, status, export."""

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app

runner = CliRunner()
CATIONS = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba", "Zn"]
ANIONS = ["F", "Cl", "Br", "I", "O", "S"]


def _pool_csv(tmp_path, **columns):
    """120 binary formulas (and any extra columns of values) as a CSV file."""
    formulas = [f"{a}{b}{n}" for a in CATIONS for b in ANIONS for n in (1, 2)]
    path = tmp_path / "pool.csv"
    pd.DataFrame({"formula": formulas, **columns}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_ask_tell_from_the_shell(tmp_path):
    pool = _pool_csv(tmp_path)
    store = tmp_path / "c.sqlite"
    create = ["campaign", "create", str(store), "--pool", str(pool), "--target", "y"]
    loop = ["--retrain-every", "1", "--reticulum-gamma", "0.5"]
    result = runner.invoke(
        app, [*create, "--budget", "12", "--initial", "4", "--batch", "4", *loop]
    )
    assert result.exit_code == 0, result.output

    seen = []
    for _ in range(3):
        nxt = tmp_path / "next.csv"
        result = runner.invoke(app, ["campaign", "ask", str(store), "-n", "4", "-o", str(nxt)])
        assert result.exit_code == 0, result.output
        asked = pd.read_csv(nxt)
        again = runner.invoke(app, ["campaign", "ask", str(store), "-n", "4", "-o", str(nxt)])
        assert (
            again.exit_code == 0
            and pd.read_csv(nxt)["formula"].tolist() == asked["formula"].tolist()
        )
        seen += asked["formula"].tolist()
        answers = tmp_path / "results.csv"
        asked.assign(value=[len(f) for f in asked["formula"]])[["formula", "value"]].to_csv(
            answers, index=False
        )
        assert runner.invoke(app, ["campaign", "tell", str(store), str(answers)]).exit_code == 0
    assert len(set(seen)) == 12
    status = runner.invoke(app, ["campaign", "status", str(store)])
    assert "measured 12 of 12" in status.output
    assert "model versions: 2" in status.output and "last refit moved" in status.output
    history = tmp_path / "history.csv"
    assert runner.invoke(app, ["campaign", "export", str(store), "-o", str(history)]).exit_code == 0
    assert pd.read_csv(history)["value"].notna().sum() == 12

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"formula": ["Fe2O3"], "value": [1.0]}).to_csv(bad, index=False)
    refused = runner.invoke(app, ["campaign", "tell", str(store), str(bad)])
    assert refused.exit_code == 2 and "not in the pool" in refused.output


def test_two_fidelity_campaign_from_the_shell(tmp_path):
    pool = _pool_csv(tmp_path)
    store = tmp_path / "mf.sqlite"
    create = ["campaign", "create", str(store), "--pool", str(pool), "--target", "gap"]
    options = ["--fidelities", "dft:1,main:10", "--budget", "100", "--initial", "2"]
    bad = runner.invoke(app, [*create, "--fidelities", "dft:1"])
    message = re.sub(r"[\s│╭╮╰╯─]+", " ", bad.output)  # unwrap rich's error box
    assert bad.exit_code == 2 and "'main' and one cheap fidelity" in message
    result = runner.invoke(app, [*create, *options, "--batch", "2"])
    assert result.exit_code == 0, result.output
    nxt = tmp_path / "next.csv"
    asking = ["campaign", "ask", str(store), "-n", "2", "-o", str(nxt)]
    assert runner.invoke(app, asking).exit_code == 0
    asked = pd.read_csv(nxt)
    assert sorted(asked["fidelity"]) == ["dft", "dft", "main", "main"]  # two initial pairs
    answers = tmp_path / "answers.csv"
    asked.assign(value=1.0)[["formula", "fidelity", "value"]].to_csv(answers, index=False)
    told = runner.invoke(app, ["campaign", "tell", str(store), str(answers)])
    assert told.exit_code == 0 and "4 new results" in told.output


@pytest.mark.slow
def test_benchmark_mode_on_a_user_csv_refuses_to_mix_without_resume(tmp_path):
    import json

    data = _pool_csv(tmp_path, y=range(120))
    out = tmp_path / "run"
    args = ["campaign", "run", str(data), "--target", "y", "--methods", "ucb@rf,random"]
    args += ["--pool-size", "100", "--initial", "10", "--budget", "30", "--seeds", "2"]
    first = runner.invoke(app, [*args, "--top", "0.05", "--out", str(out)])
    assert first.exit_code == 0, first.output
    summary = json.loads((out / "campaign.json").read_text())
    again = runner.invoke(app, [*args, "--top", "0.05", "--out", str(out)])
    assert again.exit_code == 2 and "--resume" in re.sub(r"[\s│╭╮╰╯─]+", " ", again.output)
    resumed = runner.invoke(app, [*args, "--top", "0.05", "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    curves = json.loads((out / "campaign.json").read_text())["acquisitions"]
    for name in ("ucb@rf", "random"):  # the stored campaigns, not new ones
        assert curves[name]["curve"] == summary["acquisitions"][name]["curve"]


def _one_line(result) -> str:
    return re.sub(r"[\s│╭╮╰╯─]+", " ", result.output)


def test_bad_values_are_named_without_a_traceback(tmp_path):
    pool = _pool_csv(tmp_path)
    create = ["campaign", "create", str(tmp_path / "c.sqlite"), "--pool", str(pool)]
    create += ["--target", "y"]
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"no database here" * 64)
    cases = [
        ([*create, "--goal", "up"], "'--goal': 'up'"),
        ([*create, "--acquisition", "qei"], "'--acquisition': 'qei'"),
        ([*create, "--acquisition", "window"], "needs window=(lo, hi)"),
        ([*create, "--window", "2,1", "--acquisition", "window"], "window=(2.0, 1.0)"),
        ([*create, "--window", "low,high"], "--window 'low,high'"),
        ([*create, "--batch", "0"], "'--batch': 0"),
        ([*create, "--budget", "-1"], "'--budget': -1"),
        ([*create, "--model", "xgb"], "'--model': 'xgb'"),
        ([*create, "--objectives", "a:max,b:up"], "'b': 'up'"),
        (["campaign", "ask", str(garbage)], "is not a campaign database"),
        (["campaign", "status", str(tmp_path / "none.sqlite")], "no campaign at"),
        (["campaign", "run", str(pool), "--target", "y", "--goal", "sideways"], "'sideways'"),
        (["campaign", "run", str(pool), "--target", "y", "--methods", "qei@rf"], "'qei@rf'"),
    ]
    for args, named in cases:
        result = runner.invoke(app, args)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output, (args, result.output)
        assert named in _one_line(result), (args, result.output)


def test_a_window_goal_runs_the_window_acquisition_under_its_own_name(tmp_path):
    import json

    data = _pool_csv(tmp_path, y=[i % 17 / 4 for i in range(120)])
    out = tmp_path / "run"
    args = ["campaign", "run", str(data), "--target", "y", "--goal", "window:1,2"]
    args += ["--methods", "ucb@rf,ei@rf,random", "--pool-size", "60", "--initial", "6"]
    args += ["--budget", "12", "--batch", "6", "--seeds", "1", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "campaign.json").read_text())
    assert list(summary["acquisitions"]) == ["window@rf", "random"]
    assert summary["task"]["window"] == [1.0, 2.0]
