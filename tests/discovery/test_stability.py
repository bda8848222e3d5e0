"""The stability monitor follows every model version on a fixed probe set, across a resume;
warm starts train few epochs from the previous weights and move the predictions less."""

import numpy as np
from test_campaign import _forest, pool  # noqa: F401  (tests/discovery is on sys.path)

from matlattice.discovery import CampaignSettings, open_campaign
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.models import LatticeRegressor


def test_probe_shift_is_recorded_for_every_model_and_survives_a_resume(pool, tmp_path):  # noqa: F811
    path = tmp_path / "s.sqlite"
    settings = CampaignSettings(
        target="y", batch_size=8, budget=64, initial=16, seed=4, probe_size=50
    )
    campaign = open_campaign(path, pool, settings, model_factory=_forest)
    oracle = HiddenLabelOracle(pool, "y")
    for _ in range(4):  # two random batches, then two model-driven ones
        campaign.tell(oracle(campaign.ask()["formula"].tolist()))
    campaign.close()  # killed here
    campaign = open_campaign(path, pool, settings, model_factory=_forest)
    campaign.run(oracle)
    table = campaign.stability()
    assert len(table) == 64 // 8 - 16 // 8  # one model per model-driven ask
    assert np.isnan(table["probe_shift"].iloc[0])
    later = table.iloc[1:]
    assert later["probe_shift"].notna().all()  # including the first model after the resume
    assert (later["probe_shift"] > 0).all() and (later["probe_rank_corr"] > 0.3).all()
    # the surrogate settles as the measurements accumulate
    assert later["probe_shift"].iloc[-1] < 0.5 * later["probe_shift"].iloc[0]
    assert len(campaign.probe_set()) == 50 and campaign.probe_set() == campaign.probe_set()


def _mlp():
    return LatticeRegressor(
        "mlp", latent_dim=4, hidden=(32,), dropout=0.0, epochs=80, patience=200, lr=3e-3
    )


def test_warm_starts_train_few_epochs_and_damp_the_probe_shift(pool, tmp_path):  # noqa: F811
    shifts = {}
    for warm in (None, 8):
        campaign = open_campaign(
            tmp_path / f"w{warm}.sqlite",
            pool,
            CampaignSettings(
                target="y",
                batch_size=10,
                budget=70,
                initial=20,
                seed=5,
                warm_start_epochs=warm,
                probe_size=100,
            ),
            model_factory=_mlp,
        )
        campaign.run(HiddenLabelOracle(pool, "y"))
        last = campaign._fitted[0]
        assert last.train_info_[0]["epochs_run"] == (8 if warm else 80)
        shifts[warm] = campaign.stability()["probe_shift"].iloc[1:].mean()
    assert shifts[8] < shifts[None], shifts
