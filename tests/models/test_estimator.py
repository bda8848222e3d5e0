"""LatticeRegressor / LatticeClassifier on planted data with a known answer."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from matlattice.composition import parse_formulas
from matlattice.errors import MatlatticeError, NotFittedError
from matlattice.models import LatticeClassifier, LatticeRegressor, TargetScaler
from matlattice.models.networks.inputs import element_tokens
from matlattice.models.networks.training import masked_loss

CATIONS = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba", "Zn", "Cd", "Al", "Ga", "In"]
ANIONS = ["F", "Cl", "Br", "I", "O", "S", "Se", "Te", "N", "P"]


def planted_frame(seed=0):
    """Binary compounds A_x B_y whose target is a known function of Z and fractions."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in CATIONS:
        for b in ANIONS:
            for x, y in ((1, 1), (1, 2), (2, 1), (2, 3)):
                rows.append((a, b, x, y))
    from matlattice.composition.elements import SYMBOL_TO_INDEX as Z

    formulas = [f"{a}{x}{b}{y}" for a, b, x, y in rows]
    za = np.array([Z[a] + 1 for a, *_ in rows], dtype=float)
    zb = np.array([Z[b] + 1 for _, b, *_ in rows], dtype=float)
    fa = np.array([x / (x + y) for *_, x, y in rows])
    target = 0.05 * za * fa + 0.02 * zb * (1 - fa) + rng.normal(0, 0.01, len(rows))
    second = target * 2 + 1
    frame = pd.DataFrame({"formula": formulas, "t1": target, "t2": second})
    frame.loc[::3, "t2"] = np.nan  # partially labelled second task
    return frame


@pytest.fixture(scope="module")
def fitted():
    frame = planted_frame()
    model = LatticeRegressor(
        "mlp",
        latent_dim=6,
        epochs=120,
        patience=200,
        ensemble=2,
        hidden=(64,),
        dropout=0.0,
        lr=3e-3,
        num_threads=1,
    )
    return model.fit(frame), frame


@pytest.mark.slow
def test_learns_the_planted_function_and_reports_spread(fitted):
    model, frame = fitted
    mean, std = model.predict(frame["formula"], return_std=True)
    assert mean.shape == std.shape == (len(frame), 2)
    truth = frame[["t1", "t2"]].to_numpy()
    baseline = np.nanmean(np.abs(truth - np.nanmean(truth, axis=0)), axis=0)
    mae = np.nanmean(np.abs(mean - truth), axis=0)
    assert (mae < 0.35 * baseline).all(), (mae, baseline)
    assert (std >= 0).all() and std.mean() > 0  # two members disagree somewhat
    assert model.score(frame) > 0.8


def test_embedding_width_is_latent_dim(fitted):
    model, frame = fitted
    z = model.transform(frame["formula"][:7])
    assert z.shape == (7, 6)


def test_save_load_is_exact_and_pickle_free(fitted, tmp_path):
    model, frame = fitted
    folder = model.save(tmp_path / "m")
    assert {p.name for p in folder.iterdir()} == {"config.json", "weights.safetensors"}
    again = LatticeRegressor.load(folder)
    np.testing.assert_allclose(
        again.predict(frame["formula"]), model.predict(frame["formula"]), rtol=0, atol=1e-6
    )
    with pytest.raises(MatlatticeError, match="not a LatticeClassifier"):
        LatticeClassifier.load(folder)


def test_attention_encoder_trains_resumes_and_transfers(tmp_path):
    frame = planted_frame(1)
    kw = dict(
        latent_dim=4,
        d_model=16,
        n_layers=1,
        n_heads=2,
        epochs=4,
        batch_size=64,
        element_table="megnet16",
        num_threads=1,
    )
    ckpt = tmp_path / "ckpt"
    first = LatticeRegressor(**kw).fit(frame[["formula", "t1"]], checkpoint_dir=ckpt)
    assert (ckpt / "member0.pt").is_file()
    state = torch.load(ckpt / "member0.pt", weights_only=True)
    assert state["epoch"] == 3
    longer = LatticeRegressor(**{**kw, "epochs": 6}).fit(
        frame[["formula", "t1"]], checkpoint_dir=ckpt, resume=True
    )
    assert longer.train_info_[0]["epochs_run"] == 6
    assert len(torch.load(ckpt / "member0.pt", weights_only=True)["history"]) == 6
    transferred = LatticeRegressor(**kw).fit(frame[["formula", "t2"]], init_from=first)
    assert transferred.predict(["NaCl"]).shape == (1,)
    with pytest.raises(MatlatticeError, match="different encoder architecture"):
        LatticeRegressor(**{**kw, "latent_dim": 5}).fit(frame[["formula", "t1"]], init_from=first)


def test_classifier_on_planted_labels():
    frame = planted_frame(2)
    frame["metal"] = (frame["t1"] > frame["t1"].median()).astype(float)
    model = LatticeClassifier(
        "mlp",
        latent_dim=4,
        epochs=80,
        patience=200,
        hidden=(32,),
        dropout=0.0,
        lr=3e-3,
        num_threads=1,
    )
    model.fit(frame[["formula", "metal"]])
    proba = model.predict_proba(frame["formula"])
    assert ((proba >= 0) & (proba <= 1)).all()
    assert model.score(frame[["formula", "metal"]]) > 0.8


def test_sklearn_conventions():
    model = LatticeRegressor(latent_dim=3)
    assert model.get_params()["latent_dim"] == 3
    assert not hasattr(model, "members_")
    clone(model)
    with pytest.raises(NotFittedError):
        model.predict(["NaCl"])
    with pytest.raises(ValueError, match="encoder='gnn'"):
        LatticeRegressor("gnn").fit(["NaCl", "KCl"], [1.0, 2.0])


def test_masked_loss_ignores_unlabelled_entries():
    pred = torch.tensor([[1.0, 0.0], [3.0, 5.0]])
    target = torch.tensor([[2.0, float("nan")], [3.0, 4.0]])
    loss = masked_loss(pred, target, torch.tensor([False, False]))
    assert float(loss) == pytest.approx((0.5 + 1.0) / 2)


def test_tiny_and_skewed_scales_are_order_one():
    rng = np.random.default_rng(0)
    expansion = rng.normal(5e-5, 1e-5, 500)  # 1/K
    scaler = TargetScaler.fit(expansion)
    z = scaler.forward(expansion)
    assert 0.5 < np.std(z) < 2 and scaler.transform == "none"
    np.testing.assert_allclose(scaler.inverse(z), expansion, rtol=1e-12)
    moduli = rng.lognormal(3, 1.2, 500)  # GPa, right-skewed over decades
    assert TargetScaler.fit(moduli).transform == "log"


def test_mean_abs_dev_scale_survives_labels_piled_on_zero():
    rng = np.random.default_rng(0)
    # magnetic moments: 80 % zero (to within 1e-4 muB), the rest spread over a few muB
    zero = rng.random(2000) < 0.8
    moments = np.where(zero, rng.normal(0, 1e-4, 2000), rng.exponential(3.0, 2000))
    iqr = TargetScaler.fit(moments, transform="none")
    mad = TargetScaler.fit(moments, transform="none", spread="mean_abs_dev")
    assert np.abs(iqr.forward(moments)).mean() > 100  # the IQR collapses onto the zeros
    assert np.abs(mad.forward(moments)).mean() == pytest.approx(1.0)
    np.testing.assert_allclose(mad.inverse(mad.forward(moments)), moments, atol=1e-12)
    with pytest.raises(ValueError, match="spread='std'"):
        TargetScaler.fit(moments, spread="std")
    with pytest.raises(ValueError, match="target_scale='std'"):
        LatticeRegressor("mlp", target_scale="std").fit(["NaCl", "KCl"], [1.0, 2.0])


def test_padded_tokens():
    elements, amounts = element_tokens(parse_formulas(["NaCl", "Fe2O3Al"]).fractions)
    assert elements.shape == amounts.shape == (2, 3)
    assert amounts[0, 2] == 0 and amounts.sum(1).tolist() == pytest.approx([1, 1])


@pytest.mark.slow
def test_parallel_members_match_sequential():
    frame = planted_frame(3)[["formula", "t1"]]
    kw = dict(latent_dim=3, epochs=5, hidden=(16,), ensemble=2, num_threads=1)
    seq = LatticeRegressor("mlp", **kw).fit(frame)
    par = LatticeRegressor("mlp", n_jobs=2, **kw).fit(frame)
    np.testing.assert_allclose(
        par.predict(frame["formula"]), seq.predict(frame["formula"]), rtol=1e-5, atol=1e-6
    )
