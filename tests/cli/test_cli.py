import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app

runner = CliRunner()


def _toy_csv(tmp_path):
    rng = np.random.default_rng(0)
    cations = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba", "Zn"]
    anions = ["F", "Cl", "Br", "I", "O", "S"]
    formulas = [f"{c}{a}{n}" for c in cations for a in anions for n in (1, 2)]
    frame = pd.DataFrame({"formula": formulas, "y": rng.normal(size=len(formulas))})
    path = tmp_path / "toy.csv"
    frame.to_csv(path, index=False)
    return path


import numpy as np  # noqa: E402


def test_data_list_and_info():
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0, result.output
    assert "aflow" in result.output and "matbench_expt_gap" in result.output
    info = runner.invoke(app, ["data", "info", "matbench_steels"])
    assert info.exit_code == 0, info.output
    assert "MPa" in info.output and "official" in info.output


def test_unknown_dataset_is_a_clean_error():
    result = runner.invoke(app, ["data", "info", "nope"])
    assert result.exit_code == 2
    assert "unknown dataset 'nope'" in result.output


def test_audit_json(tmp_path):
    out = tmp_path / "audit.json"
    result = runner.invoke(app, ["data", "audit", "matbench_expt_gap", "--json", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert any(f["kind"] == "split_leak" for f in payload["findings"])


def test_featurize_fit_predict(tmp_path):
    data = _toy_csv(tmp_path)
    feats = tmp_path / "X.parquet"
    result = runner.invoke(
        app,
        ["featurize", str(data), "--table", "megnet16", "--stats", "mean,std", "-o", str(feats)],
    )
    assert result.exit_code == 0, result.output
    X = pd.read_parquet(feats)
    assert X.shape == (120, 1 + 32) and X.columns[1] == "megnet16_mean_dim_0"

    run = tmp_path / "run"
    result = runner.invoke(
        app, ["fit", str(data), "--out", str(run), "--split", "chemsys", "--n-estimators", "10"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    y = metrics["tasks"]["y"]
    assert {"mae", "rmse", "r2", "n_train", "n_test"} <= set(y)
    assert y["n_train"] + y["n_test"] == 120
    assert (run / "parity.png").stat().st_size > 1000
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["split"] == "chemsys"

    new = tmp_path / "new.csv"
    pd.DataFrame({"formula": ["NaCl", "Qq2", "KBr"]}).to_csv(new, index=False)
    preds = tmp_path / "preds.csv"
    result = runner.invoke(app, ["predict", str(run), str(new), "-o", str(preds)])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(preds)
    assert out["y"].notna().tolist() == [True, False, True]
    assert "unknown element symbol 'Qq'" in out.loc[1, "fault"]


def test_fit_official_folds_of_matbench(tmp_path):
    run = tmp_path / "steels"
    result = runner.invoke(
        app, ["fit", "matbench_steels", "--out", str(run), "--n-estimators", "20", "--folds", "0,1"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    task = metrics["tasks"]["steels"]
    assert metrics["split"] == "official" and metrics["n_folds"] == 2
    assert [f["n_test"] for f in task["folds"]] == [63, 63]
    assert 40 < task["mae"] < 300  # MPa; RF-SCM/Magpie reaches ~104 on all 5 folds


@pytest.mark.slow
def test_fit_attention_ensemble_predicts_mean_and_std(tmp_path):
    data = _toy_csv(tmp_path)
    run = tmp_path / "att"
    args = [
        "fit",
        str(data),
        "--model",
        "attention",
        "--out",
        str(run),
        "--latent-dim",
        "4",
        "--ensemble",
        "2",
        "--epochs",
        "3",
        "--element-table",
        "megnet16",
        "--batch-size",
        "32",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "attention" and "mae" in metrics["tasks"]["y"]
    assert (run / "model" / "weights.safetensors").is_file()
    assert (run / "checkpoints" / "test" / "regression" / "member1.pt").is_file()
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["latent_dim"] == 4 and config["ensemble"] == 2

    new = tmp_path / "new.txt"
    new.write_text("NaCl\nKBr\nCsI\n")
    preds = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(run), str(new), "-o", str(preds)])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(preds)
    assert list(out.columns) == ["formula", "y", "y_std"]
    assert (out["y_std"] > 0).all()

    # the saved config reproduces the run exactly
    again = tmp_path / "again"
    result = runner.invoke(
        app, ["fit", str(data), "--config", str(run / "config.json"), "--out", str(again)]
    )
    assert result.exit_code == 0, result.output
    first = json.loads((run / "metrics.json").read_text())["tasks"]["y"]["mae"]
    second = json.loads((again / "metrics.json").read_text())["tasks"]["y"]["mae"]
    assert first == pytest.approx(second, rel=1e-6)


def test_fit_config_file_holds_some_settings_and_typed_options_win(tmp_path):
    """A hand-written settings file (as bench/configs/ holds) for any DATA; an option typed
    on the command line wins over the file; a file written for other data is refused."""
    data = _toy_csv(tmp_path)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"model": "rf", "n_estimators": 7, "seed": 3}))
    run = tmp_path / "run"
    result = runner.invoke(app, ["fit", str(data), "--config", str(settings), "--n-estimators",
                                 "9", "--out", str(run)])  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((run / "config.json").read_text())["config"]
    assert (saved["model"], saved["n_estimators"], saved["seed"]) == ("rf", 9, 3)
    assert saved["data"] == str(data)
    settings.write_text(json.dumps({"data": "matbench_steels", "model": "rf"}))
    result = runner.invoke(app, ["fit", str(data), "--config", str(settings), "--out",
                                 str(tmp_path / "other")])  # fmt: skip
    assert result.exit_code != 0 and "written for 'matbench_steels'" in result.output
    assert not (tmp_path / "other").exists()


def test_a_rerun_config_refuses_options_it_would_ignore(tmp_path):
    saved = tmp_path / "config.json"
    saved.write_text(json.dumps({"config": {"data": "matbench_steels", "dims": [2, 4]}}))
    result = runner.invoke(app, ["fidelity", "matbench_steels", "--config", str(saved),
                                 "--epochs", "5", "--out", str(tmp_path / "f")])  # fmt: skip
    assert result.exit_code != 0 and "['epochs'] would be ignored" in result.output
    result = runner.invoke(app, ["fidelity", "matbench_glass", "--config", str(saved),
                                 "--out", str(tmp_path / "f")])  # fmt: skip
    assert result.exit_code != 0 and "written for 'matbench_steels'" in result.output


def test_a_preset_sets_fields_and_typed_options_win(tmp_path):
    from matlattice.jobs.presets import PRESETS

    data = _toy_csv(tmp_path)
    run = tmp_path / "acc"
    result = runner.invoke(app, ["fit", str(data), "--preset", "accurate", "--ensemble", "1",
                                 "--epochs", "2", "--latent-dim", "4",
                                 "--out", str(run)])  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((run / "config.json").read_text())["config"]
    accurate = PRESETS["accurate"]
    assert saved["model"] == "attention" and saved["batch_size"] == accurate["batch_size"]
    assert (saved["ensemble"], saved["epochs"], saved["latent_dim"]) == (1, 2, 4)  # typed
    assert saved["patience"] == accurate["patience"]
    result = runner.invoke(app, ["fit", str(data), "--preset", "slow"])
    assert result.exit_code != 0 and "'slow' is not one of fast, accurate" in result.output
    result = runner.invoke(app, ["fit", str(data), "--preset", "fast", "--config",
                                 str(run / "config.json")])  # fmt: skip
    assert result.exit_code != 0 and "not both" in result.output


def test_extra_trees_on_fractions_beat_the_magpie_forest_on_steels(tmp_path):
    maes = {}
    for name, extra in (
        ("rf", []),
        ("et", ["--forest", "extra", "--forest-features", "fractions"]),
    ):
        run = tmp_path / name
        args = ["fit", "matbench_steels", "--out", str(run), "--n-estimators", "100"]
        result = runner.invoke(app, [*args, "--folds", "0,1", *extra])
        assert result.exit_code == 0, result.output
        maes[name] = json.loads((run / "metrics.json").read_text())["tasks"]["steels"]["mae"]
    assert maes["et"] < 0.85 * maes["rf"], maes  # measured 5 folds: 79.5 vs 104.8 MPa
    saved = json.loads((tmp_path / "et" / "config.json").read_text())["config"]
    assert (saved["forest"], saved["forest_features"]) == ("extra", "fractions")
    toy = tmp_path / "toy"  # calibrate needs a train/val/test run, not folds
    args = ["fit", str(_toy_csv(tmp_path)), "--out", str(toy), "--forest", "extra"]
    assert runner.invoke(app, [*args, "--n-estimators", "10"]).exit_code == 0
    refused = runner.invoke(app, ["calibrate", str(toy)])
    assert refused.exit_code != 0 and "forest='extra'" in refused.output
    assert "Traceback" not in refused.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--forest", "gradient"], "'gradient' is not one of"),
        (["--forest-features", "magpie"], "'magpie' is not one of"),
        (["--model", "mlp", "--forest", "extra"], "set the trees of model rf"),
        (["--forest", "extra", "--decision-threshold", "balanced"], "keep none"),
    ],
)
def test_forest_options_refused_by_name(tmp_path, args, named):
    result = runner.invoke(app, ["fit", "matbench_steels", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code != 0 and named in " ".join(result.output.split()), result.output
