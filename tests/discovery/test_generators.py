"""Open-ended campaigns: the pool grows with charge-balanced children of the best measured
compositions, the growth is stored, and the loop climbs past the best of its seed pool."""

import numpy as np
import pandas as pd
from pymatgen.core import Composition
from test_campaign import _forest  # tests/discovery is on sys.path

from matlattice.discovery import CampaignSettings, open_campaign
from matlattice.discovery.generators import SubstitutionGenerator


def _planted(formulas: list[str]) -> pd.DataFrame:
    """A property any composition has: the fraction-weighted Pauling electronegativity."""
    values = [
        sum(Composition(f).get_atomic_fraction(e) * e.X for e in Composition(f).elements)
        for f in formulas
    ]
    return pd.DataFrame({"formula": formulas, "value": values})


def test_children_are_new_balanced_and_of_the_same_groups():
    children = SubstitutionGenerator()(["NaCl", "MgO"], 8, np.random.default_rng(0))
    assert len(children) == 8 and len(set(children)) == 8
    assert not {"NaCl", "MgO"} & set(children)
    for child in children:
        assert Composition(child).oxi_state_guesses(max_sites=-20)


def test_open_ended_campaign_climbs_beyond_its_seed_pool(tmp_path):
    seed_pool = [f"{a}{b}" for a in ("Na", "K", "Mg", "Ca") for b in ("O", "S", "Se")]
    seed_pool += ["Li2O", "Na2S", "K2Se", "SrO", "BaS"]
    settings = CampaignSettings(target="x", batch_size=4, budget=40, initial=8, seed=0, generate=30)
    path = tmp_path / "open.sqlite"
    campaign = open_campaign(path, seed_pool, settings, model_factory=_forest)
    results = campaign.run(_planted)
    assert len(results) == 40 and results["formula"].is_unique
    grown = campaign.store.pool()
    assert len(grown) > len(set(seed_pool)) + 30
    assert results["value"].max() > _planted(seed_pool)["value"].max() + 0.1
    assert not set(results["formula"]) <= set(seed_pool)  # it measured generated ones
    campaign.close()
    again = open_campaign(path, seed_pool, settings, model_factory=_forest)
    assert again.pool["formula"].tolist() == grown  # the grown pool comes back
    fresh = open_campaign(tmp_path / "fresh.sqlite", seed_pool, settings, model_factory=_forest)
    assert again.probe_set() == fresh.probe_set()  # growth does not move the probe


def test_unseen_keeps_the_first_spelling_of_each_new_composition():
    from matlattice.discovery.generators import unseen

    children = ["NaCl", "Na1Cl1", "Xq", "KCl", "MgO", "O1Mg1"]
    assert unseen(children, {"Cl0.5 K0.5"}) == ["NaCl", "MgO"]
    assert unseen(children, set(), n=2) == ["NaCl", "KCl"]
