"""The closed loop: a campaign whose pool grows by mined substitution climbs past the best of
its seed pool on planted chemistries, over several drawn worlds, and beats the same campaign
that only chooses among what it was given."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.design import campaign_generator
from matlattice.design.planted import planted_chemistry, planted_oracle
from matlattice.discovery import CampaignSettings, open_campaign
from matlattice.errors import MatlatticeError
from matlattice.models import MultiTaskForest


def _forest():
    return MultiTaskForest(n_estimators=40, random_state=0)


def _campaign(tmp_path, seed: int, generate: int):
    world = planted_chemistry(seed)
    pool = world.loc[world["y"] < world["y"].quantile(0.6), "formula"].tolist()
    settings = CampaignSettings(
        target="y", batch_size=4, budget=32, initial=8, seed=seed, generate=generate,
        generator="mined",
    )  # fmt: skip
    campaign = open_campaign(
        tmp_path / f"c{seed}_{generate}.sqlite", pool, settings, model_factory=_forest,
        generator=campaign_generator(settings, pool),
    )  # fmt: skip
    results = campaign.run(planted_oracle(seed))
    campaign.close()
    return pool, results


@pytest.mark.slow
def test_a_growing_pool_climbs_past_its_seed_pool_in_every_world(tmp_path):
    gains = []
    for seed in range(4):
        pool, grown = _campaign(tmp_path, seed, generate=20)
        _, fixed = _campaign(tmp_path, seed, generate=0)
        best_given = planted_oracle(seed)(pool)["value"].max()
        assert not set(grown["formula"]) <= set(pool)  # it measured proposals of its own
        assert grown["value"].max() > best_given  # beyond anything it was given
        assert fixed["value"].max() <= best_given + 1e-12
        gains.append(grown["value"].max() - best_given)
    assert np.mean(gains) > 0.5, gains


def test_a_mined_campaign_refuses_to_grow_without_its_generator(tmp_path):
    pool = planted_chemistry(0)["formula"].tolist()[:30]
    settings = CampaignSettings(
        target="y", batch_size=2, budget=10, initial=2, generate=5, generator="mined"
    )
    campaign = open_campaign(tmp_path / "c.sqlite", pool, settings, model_factory=_forest)
    campaign.tell(planted_oracle(0)(campaign.ask()["formula"].tolist()))
    with pytest.raises(MatlatticeError, match="'mined' generator"):
        campaign.ask()
    campaign.close()
