"""The feedback reticulum corrects a local bias near new measurements, and nothing far away."""

import numpy as np
import pytest
from test_campaign import _forest, pool  # noqa: F401  (tests/discovery is on sys.path)

from matlattice.discovery import CampaignSettings, open_campaign
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.discovery.reticulum import FeedbackReticulum


def test_local_bias_is_corrected_near_the_told_and_left_alone_far_away():
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 10, size=(400, 1))
    truth = np.sin(z[:, 0])
    biased = truth + np.where(z[:, 0] < 3, 1.0, 0.0)  # the model is off by +1 below z = 3
    told = rng.choice(np.flatnonzero(z[:, 0] < 3), 15, replace=False)
    reticulum = FeedbackReticulum(gamma=1.0).fit(z[told], truth[told] - biased[told])
    corrected = reticulum.correct(z, biased)
    near = (z[:, 0] < 2.5) & ~np.isin(np.arange(400), told)
    far = z[:, 0] > 5
    assert np.abs(corrected - truth)[near].mean() < 0.3 * np.abs(biased - truth)[near].mean()
    assert np.abs(corrected - biased)[far].max() < 1e-3
    half = FeedbackReticulum(gamma=0.5).fit(z[told], truth[told] - biased[told])
    np.testing.assert_allclose(half.correction(z), 0.5 * reticulum.correction(z))
    with pytest.raises(ValueError, match="gamma=2"):
        FeedbackReticulum(gamma=2)


def test_campaign_reuses_its_model_between_retrains_with_the_reticulum(pool, tmp_path):  # noqa: F811
    campaign = open_campaign(
        tmp_path / "r.sqlite",
        pool,
        CampaignSettings(
            target="y",
            batch_size=5,
            budget=40,
            initial=10,
            seed=3,
            retrain_every=3,
            reticulum_gamma=0.8,
        ),
        model_factory=_forest,
    )
    results = campaign.run(HiddenLabelOracle(pool, "y"))
    assert len(results) == 40 and results["formula"].is_unique
    model_asks = 40 // 5 - 10 // 5  # six model-driven asks, a refit every third
    assert len(campaign.store.models()) == 2 == -(-model_asks // 3)
    reasons = campaign.store.proposals()["reason"]
    assert reasons.str.contains("reticulum corrected by 5 new results").any()
