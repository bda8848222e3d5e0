"""The estimators' uncertainty interface: ensemble and MC-dropout spreads, calibration,
intervals and the covariance between properties."""

import numpy as np
import pytest
from test_estimator import planted_frame  # tests/models is on sys.path (rootdir-relative import)

from matlattice.models import LatticeRegressor
from matlattice.uncertainty import interval_coverage


@pytest.fixture(scope="module")
def parts():
    frame = planted_frame(4).sample(frac=1.0, random_state=0).reset_index(drop=True)
    frame["t2"] = frame["t2"].fillna(2 * frame["t1"] + 1)
    frame["t2"] += np.random.default_rng(0).normal(0, 0.3, len(frame))  # a noisier task
    return frame.iloc[:300], frame.iloc[300:430], frame.iloc[430:]


@pytest.fixture(scope="module")
def model(parts):
    train, _, _ = parts
    kw = dict(latent_dim=6, hidden=(64,), dropout=0.1, epochs=60, patience=200, lr=3e-3)
    return LatticeRegressor("mlp", ensemble=3, num_threads=1, **kw).fit(train)


def test_covariance_diagonal_is_the_ensemble_variance(model, parts):
    _, _, test = parts
    cov = model.predict_cov(test["formula"])
    _, std = model.predict(test["formula"], return_std=True, calibrated=False)
    assert cov.shape == (len(test), 2, 2)
    np.testing.assert_allclose(np.diagonal(cov, axis1=1, axis2=2), std**2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(cov, np.swapaxes(cov, 1, 2))
    # t2 ~ 2 t1 + 1 on shared features: the members' errors on the two move together
    corr = cov[:, 0, 1] / np.sqrt(cov[:, 0, 0] * cov[:, 1, 1])
    assert np.median(corr) > 0.3


def test_mc_dropout_gives_a_spread_a_single_member_lacks(parts):
    train, _, test = parts
    kw = dict(latent_dim=6, hidden=(64,), dropout=0.2, epochs=20, patience=200, lr=3e-3)
    single = LatticeRegressor("mlp", num_threads=1, **kw).fit(train)
    _, plain = single.predict(test["formula"], return_std=True)
    assert np.all(plain == 0)
    _, mc = single.predict(test["formula"], return_std=True, mc_samples=20)
    assert np.all(mc > 0)
    again = single.predict(test["formula"], return_std=True, mc_samples=20)[1]
    np.testing.assert_allclose(mc, again)  # seeded passes: reproducible
    assert np.all(single.predict(test["formula"]) == single.predict(test["formula"]))


@pytest.mark.parametrize("method", ["isotonic", "variance_scaling", "conformal_normalised"])
def test_calibrated_intervals_cover_and_survive_save_load(model, parts, method, tmp_path):
    _, cal, test = parts
    raw_lo, raw_hi = model.predict_interval(test["formula"], coverage=0.9)
    raw = interval_coverage(test["t2"].to_numpy(), raw_lo[:, 1], raw_hi[:, 1])[0]
    calibrated = LatticeRegressor.load(model.save(tmp_path / "m")).calibrate(cal, method=method)
    lo, hi = calibrated.predict_interval(test["formula"], coverage=0.9)
    for j, task in enumerate(["t1", "t2"]):
        coverage, _ = interval_coverage(test[task].to_numpy(), lo[:, j], hi[:, j])
        assert 0.78 <= coverage <= 1.0, (task, coverage)
    # three members are overconfident on the noisy task; calibration widens its intervals
    assert raw < 0.78 and np.mean(hi[:, 1] - lo[:, 1]) > np.mean(raw_hi[:, 1] - raw_lo[:, 1])
    reloaded = LatticeRegressor.load(calibrated.save(tmp_path / "c"))
    np.testing.assert_allclose(reloaded.predict_interval(test["formula"])[0], lo)
    _, std = reloaded.predict(test["formula"], return_std=True)
    _, raw_std = reloaded.predict(test["formula"], return_std=True, calibrated=False)
    assert np.mean(std[:, 1]) > np.mean(raw_std[:, 1])


def test_bad_coverage_and_method_are_named(model, parts):
    _, cal, test = parts
    with pytest.raises(ValueError, match=r"coverage=1\.2"):
        model.predict_interval(test["formula"], coverage=1.2)
    with pytest.raises(ValueError, match="calibration 'platt'"):
        LatticeRegressor.load  # noqa: B018 - the model stays uncalibrated below
        model.calibrate(cal, method="platt")


def test_applicability_domain_flags_unseen_chemistry(model, parts, tmp_path):
    _, _, test = parts
    distance, inside = model.applicability(test["formula"])
    assert inside.mean() >= 0.8  # held-out materials of the same chemistry
    exotic = ["PtAu", "Ce2Os", "U3Pu", "IrRe2", "Nb3Sn", "Hf2W"]
    far, far_inside = model.applicability(exotic)
    assert far.mean() > 2 * np.median(distance) and far_inside.mean() <= 0.5
    reloaded = LatticeRegressor.load(model.save(tmp_path / "d"))
    np.testing.assert_allclose(reloaded.applicability(exotic)[0], far, rtol=1e-5)
    log_density = reloaded.domain_.log_density(reloaded.transform(test["formula"]))
    assert np.median(reloaded.domain_.log_density(reloaded.transform(exotic))) < np.median(
        log_density
    )


def test_heteroscedastic_head_learns_where_the_noise_is():
    frame = planted_frame(5)[["formula", "t1"]].copy()
    noisy = frame["formula"].str.contains("O|S|Se|Te")  # oxides and chalcogenides
    rng = np.random.default_rng(5)
    frame["t1"] += np.where(noisy, 0.6, 0.03) * rng.normal(size=len(frame))
    kw = dict(latent_dim=6, hidden=(64,), dropout=0.0, epochs=120, patience=200, lr=3e-3)
    model = LatticeRegressor(
        "mlp", ensemble=2, heteroscedastic=True, num_threads=1, random_state=1, **kw
    ).fit(frame)
    _, epistemic, aleatoric = model.predict_components(frame["formula"])
    assert np.median(aleatoric[noisy]) > 4 * np.median(aleatoric[~noisy])
    assert np.median(aleatoric[noisy]) == pytest.approx(0.6, rel=0.5)
    _, total = model.predict(frame["formula"], return_std=True)
    np.testing.assert_allclose(total, np.sqrt(epistemic**2 + aleatoric**2), rtol=1e-6)


def test_cv_members_give_cv_plus_intervals(parts, model, tmp_path):
    train, _, test = parts
    kw = dict(latent_dim=6, hidden=(64,), dropout=0.0, epochs=60, patience=200, lr=3e-3)
    cv = LatticeRegressor("mlp", ensemble=4, cv_members=True, num_threads=1, **kw).fit(train)
    assert cv.cv_residuals_.shape == (len(cv.cv_fold_), 2) and set(cv.cv_fold_) == {0, 1, 2, 3}
    lo, hi = cv.predict_interval(test["formula"], coverage=0.9, method="cv_plus")
    for j, task in enumerate(["t1", "t2"]):
        coverage, width = interval_coverage(test[task].to_numpy(), lo[:, j], hi[:, j])
        assert 0.8 <= coverage <= 1.0 and np.isfinite(width), (task, coverage)
    again = LatticeRegressor.load(cv.save(tmp_path / "cv"))
    np.testing.assert_allclose(
        again.predict_interval(test["formula"], coverage=0.9, method="cv_plus")[1], hi
    )
    with pytest.raises(ValueError, match="cv_members=True"):
        model.predict_interval(test["formula"], method="cv_plus")
    with pytest.raises(ValueError, match="cv_members needs ensemble >= 2"):
        LatticeRegressor("mlp", cv_members=True).fit(train)
