"""Case 5 of issue 21: an interval has an honest width and says where the width comes from."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import RF, cli
from matlattice.data.synthetic import COMMON_FORMULAS as FORMULAS
from matlattice.errors import InvalidParameterError
from matlattice.models import LatticeRegressor, MultiTaskForest

SHEAR = "crabnet:aflow__ael_shear_modulus_vrh"
MLP = ["--model", "mlp", "--epochs", "3", "--latent-dim", "8", "--batch-size", "16"]


def _intervals(run, tables, tmp_path) -> tuple[pd.DataFrame, str]:
    out = tmp_path / "pred.csv"
    said = cli("predict", run, tables["new"], "--output", out, "--interval", "0.9")
    return pd.read_csv(out), said


def test_a_single_network_takes_its_width_from_mc_dropout_and_says_so(tables, tmp_path, caplog):
    run = tmp_path / "R"
    cli("fit", tables["a"], *MLP, "--out", run)
    frame, said = _intervals(run, tables, tmp_path)
    assert (frame["band_gap_hi"] - frame["band_gap_lo"] > 0).all()  # never lo = hi = mean
    assert "band_gap intervals: 30 MC dropout passes, uncalibrated" in said
    # the spread column is the one the interval uses, never a zero that claims certainty
    half = (frame["band_gap_hi"] - frame["band_gap_lo"]) / 2
    assert np.allclose(half / frame["band_gap_std"], 1.6449, rtol=1e-3)
    plain = tmp_path / "plain.csv"
    cli("predict", run, tables["new"], "--output", plain)
    assert pd.read_csv(plain)["band_gap_std"].isna().all()
    assert "left empty: a single model has no spread" in caplog.text


def test_a_single_network_without_dropout_refuses_intervals():
    model = LatticeRegressor("mlp", ensemble=1, dropout=0.0, epochs=2, latent_dim=4)
    frame = pd.DataFrame({"formula": FORMULAS, "y": np.arange(float(len(FORMULAS)))})
    model.fit(frame)
    with pytest.raises(InvalidParameterError, match="zero width"):
        model.predict_interval(["NaCl"], coverage=0.9)


def test_an_uncalibrated_forest_run_gives_out_of_bag_conformal_intervals_and_says_so(
    tables, tmp_path
):
    """NaCl is a training composition: every tree predicts it alike (zero spread), so the
    trees' spread would give it a zero-width interval; out-of-bag residuals do not."""
    run = tmp_path / "R"
    cli("fit", tables["a"], *RF, "--out", run)
    frame, said = _intervals(run, tables, tmp_path)
    assert {"band_gap_lo", "band_gap_hi", "density_lo", "density_hi"} <= set(frame.columns)
    assert (frame["band_gap_hi"] - frame["band_gap_lo"] > 1.0).all()
    assert "band_gap intervals: split conformal on the out-of-bag absolute residuals" in said


def test_a_forest_without_out_of_bag_rows_refuses_uncalibrated_intervals():
    frame = pd.DataFrame({"formula": FORMULAS, "y": np.arange(float(len(FORMULAS)))})
    model = MultiTaskForest(n_estimators=5).fit(frame["formula"], frame[["y"]])
    with pytest.raises(InvalidParameterError, match="out-of-bag"):
        model.predict_interval(["NaCl"])


@pytest.mark.slow
def test_calibrate_works_on_the_default_forest_and_covers_the_test_part(tmp_path):
    """fit -> calibrate -> predict --interval with the defaults (the README's path) on real
    data: the forest is calibrated on its out-of-bag rows and its 90 % intervals cover about
    90 % of the test part it never saw."""
    run = tmp_path / "R"
    cli("fit", SHEAR, "--n-estimators", "60", "--out", run)
    said = cli("calibrate", run)
    summary = json.loads((run / "calibration.json").read_text())
    model = MultiTaskForest.load(run / "model")
    assert summary["methods"]["model"] == {
        "method": "isotonic",
        "calibration_rows": model.n_train_[0],  # every training row is out of bag somewhere
    }
    after = summary["tasks"]["shear_modulus"]["after"]
    assert 0.85 <= after["coverage"]["0.9"] <= 0.95, after["coverage"]
    assert "calibration" in said
    assert model.interval_source() == (
        "the trees' spread, isotonic calibration on the out-of-bag rows"
    )


def test_calibrate_gives_a_single_network_split_conformal_intervals(tables, tmp_path):
    run = tmp_path / "R"
    cli("fit", tables["a"], *MLP, "--out", run, "--split", "random")
    cli("calibrate", run)
    summary = json.loads((run / "calibration.json").read_text())
    assert summary["methods"]["model"]["method"] == "conformal"
    frame, said = _intervals(run, tables, tmp_path)
    assert "band_gap intervals: conformal calibration" in said
    width = frame["band_gap_hi"] - frame["band_gap_lo"]
    assert (width > 0).all() and np.allclose(width, width.iloc[0])  # one conformal half-width


def test_too_few_compositions_for_early_stopping_is_refused_by_name():
    model = LatticeRegressor("mlp", epochs=2, latent_dim=4)
    frame = pd.DataFrame({"formula": ["NaCl", "KCl", "LiF", "MgO"] * 5, "y": np.arange(20.0)})
    with pytest.raises(InvalidParameterError, match="no labelled rows"):
        model.fit(frame)
