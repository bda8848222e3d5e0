"""Guards against wild extrapolation: the MLP's inputs are held inside the training box and
predictions inside a widened training range.

The failure they prevent was measured: an MLP trained on one aflow split predicted a thermal
conductivity of 1.5e211 W/(m K) for Co3Fe (true 11.4) because a Magpie feature that is almost
constant in training put the alloy 3e5 standard deviations out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from matlattice.models import LatticeRegressor, TargetScaler
from matlattice.models.networks.inputs import FeatureStandardizer
from matlattice.represent.composition_stats import as_fractions


def test_new_materials_are_clipped_to_the_training_box_and_training_rows_are_not(aflow):
    # oxides, halides... and one Fe-Co compound: the magnetic statistics barely vary in training
    formulas = aflow.frame["formula"].drop_duplicates()
    train = [f for f in formulas.sample(1500, random_state=0) if "Co" not in f or "Fe" not in f]
    standardizer = FeatureStandardizer.fit(as_fractions(train), "magpie")
    raw = standardizer.transform(as_fractions(train), clip=False)
    assert torch.equal(standardizer.transform(as_fractions(train)), raw)

    new = as_fractions(["Co3Fe", "CoNi", "NaCl"])
    unclipped = standardizer.transform(new, clip=False)
    clipped = standardizer.transform(new)
    assert unclipped.abs().max() > 1e3  # how far out the alloys sit without the guard
    assert clipped.max() <= raw.max() and clipped.min() >= raw.min()
    assert (clipped <= torch.tensor(standardizer.high, dtype=torch.float32) + 1e-5).all()
    assert torch.allclose(clipped[2], unclipped[2].clamp(raw.min(0).values, raw.max(0).values))


def test_predictions_stay_within_half_a_range_of_the_training_targets():
    y = np.array([0.01, 0.5, 2.0, 3.5, 8.0, 40.0, 205.0] * 3)
    scaler = TargetScaler.fit(y)
    assert scaler.transform == "log"
    decades = np.log10(205.0) - np.log10(0.01)
    assert np.isclose(scaler.high, np.log10(205.0) + 0.5 * decades)
    wild = scaler.inverse(np.array([500.0, -500.0, scaler.forward(np.array([3.5]))[0]]))
    assert np.all(np.isfinite(wild))
    assert np.isclose(wild[0], 10**scaler.high) and np.isclose(wild[1], 10**scaler.low)
    assert np.isclose(wild[2], 3.5)  # inside the range nothing moves
    old_file = {k: v for k, v in scaler.to_dict().items() if k not in ("low", "high")}
    with np.errstate(over="ignore"):  # no guard stored: 10**(huge) overflows
        assert TargetScaler(**old_file).inverse(np.array([500.0]))[0] == np.inf


def test_a_saved_model_keeps_its_guards(tmp_path, aflow):
    frame = aflow.frame.dropna(subset=["thermal_conductivity"]).head(400)
    data = pd.DataFrame({"formula": frame["formula"], "k": frame["thermal_conductivity"]})
    model = LatticeRegressor("mlp", latent_dim=4, epochs=2, random_state=0).fit(data)
    loaded = LatticeRegressor.load(model.save(tmp_path / "m"))
    assert loaded.standardizer_ == model.standardizer_ and loaded.scalers_ == model.scalers_
    assert loaded.standardizer_.low is not None and loaded.scalers_[0].high is not None
    probe = ["Co3Fe", "NaCl"]
    assert np.allclose(loaded.predict(probe), model.predict(probe))
