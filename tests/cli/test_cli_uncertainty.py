"""`matlattice calibrate` and `matlattice predict --interval` on a fitted run."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.composition.elements import SYMBOL_TO_INDEX
from matlattice.jobs.predict import load_run_models

runner = CliRunner()
CATIONS = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba", "Zn", "Cd", "Al", "Ga", "In"]
ANIONS = ["F", "Cl", "Br", "I", "O", "S", "Se", "Te", "N", "P"]


def _planted_csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = [(a, b, x, y) for a in CATIONS for b in ANIONS for x, y in ((1, 1), (1, 2), (2, 1))]
    z = np.array([SYMBOL_TO_INDEX[a] + SYMBOL_TO_INDEX[b] for a, b, _, _ in rows], dtype=float)
    frac = np.array([x / (x + y) for *_, x, y in rows])
    frame = pd.DataFrame(
        {
            "formula": [f"{a}{x}{b}{y}" for a, b, x, y in rows],
            "y": 0.05 * z * frac + rng.normal(0, 0.3, len(rows)),  # noisy: members agree
        }
    )
    path = tmp_path / "planted.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_calibrate_then_predict_intervals(tmp_path):
    data, run = _planted_csv(tmp_path), tmp_path / "run"
    fit = ["fit", str(data), "--model", "mlp", "--split", "random", "--ensemble", "3"]
    result = runner.invoke(app, [*fit, "--epochs", "40", "--out", str(run)])
    assert result.exit_code == 0, result.output

    result = runner.invoke(app, ["calibrate", str(run), "--method", "variance_scaling"])
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "calibration.json").read_text())
    before, after = summary["tasks"]["y"]["before"], summary["tasks"]["y"]["after"]
    assert summary["n_calibration"] > 20 and after["n"] == summary["n_test"]
    # the members agree far more than the noise allows; scaling widens the intervals
    assert after["interval_width"]["0.9"] > before["interval_width"]["0.9"]
    assert after["miscalibration_area"] < before["miscalibration_area"]
    assert (run / "calibration.png").stat().st_size > 10_000
    domain = summary["tasks"]["y"]["error_vs_domain_distance"]
    assert len(domain["spread"]) == len(domain["distance"]) >= 4
    assert all(s > 0 for s in domain["spread"])

    formulas = tmp_path / "new.csv"
    pd.DataFrame({"formula": ["NaCl", "PtAu", "Xx2"]}).to_csv(formulas, index=False)
    out = tmp_path / "preds.csv"
    args = ["predict", str(run), str(formulas), "--interval", "0.9", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    preds = pd.read_csv(out)
    assert {"y", "y_std", "y_lo", "y_hi", "domain_distance", "in_domain"} <= set(preds.columns)
    ok = preds.iloc[:2]
    assert (ok["y_lo"] < ok["y"]).all() and (ok["y"] < ok["y_hi"]).all()
    assert ok["domain_distance"].iloc[1] > ok["domain_distance"].iloc[0]  # PtAu is far away
    assert np.isnan(preds["y_lo"].iloc[2])  # the invalid formula

    bad = runner.invoke(app, ["calibrate", str(run), "--method", "platt"])
    assert bad.exit_code == 2 and "platt" in bad.output


@pytest.mark.slow
def test_fit_cv_members_predicts_cv_plus_intervals(tmp_path):
    data, run = _planted_csv(tmp_path), tmp_path / "cv"
    args = ["fit", str(data), "--model", "mlp", "--split", "random", "--ensemble", "3"]
    result = runner.invoke(app, [*args, "--cv-members", "--epochs", "20", "--out", str(run)])
    assert result.exit_code == 0, result.output
    formulas = tmp_path / "new.csv"
    pd.DataFrame({"formula": ["NaCl", "KBr"]}).to_csv(formulas, index=False)
    out = tmp_path / "p.csv"
    result = runner.invoke(
        app, ["predict", str(run), str(formulas), "--interval", "0.9", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    preds = pd.read_csv(out)
    assert ((preds["y_lo"] < preds["y"]) & (preds["y"] < preds["y_hi"])).all()
    (model,) = load_run_models(run)
    assert model.cv_residuals_ is not None and model.get_params()["cv_members"]
    lo, hi = model.predict_interval(["NaCl", "KBr"], 0.9, method="cv_plus")  # what auto chose
    np.testing.assert_allclose(preds[["y_lo", "y_hi"]].to_numpy(), np.column_stack([lo, hi]))
