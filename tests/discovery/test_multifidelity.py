"""Two fidelities with costs: the autoregressive link is recovered, the budget counts cost,
unmeasurable cheap results are remembered, and where the cheap fidelity carries what the
features miss, the two-fidelity campaign finds the best at a fraction of the cost."""

import numpy as np
import pandas as pd
import pytest
from test_campaign import _forest, pool  # noqa: F401  (tests/discovery is on sys.path)

from matlattice.discovery import CampaignSettings, open_campaign, resume_campaign
from matlattice.discovery.benchmark import campaign_benchmark
from matlattice.discovery.multifidelity import MultiFidelityOracle, ar1_predict
from matlattice.discovery.multifidelity_campaign import MultiFidelityCampaign


@pytest.fixture(scope="module")
def fidelities(pool):  # noqa: F811
    """cheap: a per-material value the composition features cannot predict (a stand-in for a
    computed property); main = 2 cheap + 1 + a small smooth part; 10 % have no cheap value."""
    rng = np.random.default_rng(0)
    cheap = rng.normal(size=len(pool))
    main = 2 * cheap + 1 + 0.1 * (pool["y"] - pool["y"].mean()) / pool["y"].std()
    frame = pool[["formula"]].assign(main=main, cheap=cheap)
    frame.loc[rng.random(len(frame)) < 0.1, "cheap"] = np.nan
    return frame


def test_the_autoregressive_link_is_recovered(fidelities):
    labelled = fidelities.dropna(subset=["cheap"])
    measured = labelled.iloc[:60]
    pred = ar1_predict(
        _forest,
        measured[["formula", "main"]].rename(columns={"main": "value"}),
        labelled.iloc[:200][["formula", "cheap"]].rename(columns={"cheap": "value"}),
        labelled["formula"].iloc[60:].tolist(),
    )
    assert pred.rho == pytest.approx(2.0, abs=0.1) and pred.offset == pytest.approx(1.0, abs=0.2)
    known = np.arange(140) < 140  # candidates 60..199 have measured cheap values
    assert np.all(pred.cheap_std[: known.sum()] == 0)
    assert np.all(pred.cheap_std[140:] > 0)  # the rest predicted: uncertain
    truth = labelled["main"].iloc[60:200].to_numpy()
    assert np.corrcoef(pred.mean[:140], truth)[0, 1] > 0.95


def test_two_fidelity_campaign_spends_its_budget_and_resumes(fidelities, tmp_path):
    oracle = MultiFidelityOracle({"main": (fidelities, "main"), "cheap": (fidelities, "cheap")})
    kw = dict(
        target="main",
        fidelities={"cheap": 1.0, "main": 10.0},
        batch_size=8,
        budget=400,
        initial=8,
        seed=0,
    )
    path = tmp_path / "mf.sqlite"
    campaign = open_campaign(
        path, fidelities[["formula"]], CampaignSettings(**kw), model_factory=_forest
    )
    assert isinstance(campaign, MultiFidelityCampaign)
    first = campaign.ask()
    assert set(first["fidelity"]) == {"cheap", "main"}  # the initial pairs
    campaign.close()  # killed before telling
    campaign = resume_campaign(path, model_factory=_forest)
    assert campaign.ask()["formula"].tolist() == first["formula"].tolist()
    campaign.run(oracle)
    history = campaign.history()
    assert campaign.spent() <= 400 and campaign.spent() > 400 - 10
    assert history["cost"].iloc[-1] == campaign.spent()
    assert (history["fidelity"] == "cheap").sum() > (history["fidelity"] == "main").sum()
    reasons = campaign.store.proposals()["reason"]
    assert reasons.str.contains("cheap first").any()
    never = campaign.store.unavailable("cheap")
    assert never and never <= set(fidelities.loc[fidelities["cheap"].isna(), "formula"])
    assert json_rho(campaign) == pytest.approx(2.0, abs=0.2)
    with pytest.raises(ValueError, match="fidelities \\['expensive'\\]"):
        campaign.tell(pd.DataFrame({"formula": ["Li1F1"], "value": [1.0], "fidelity": "expensive"}))


def json_rho(campaign) -> float:
    import json

    return json.loads(campaign.store.models()["info"].iloc[-1])["rho"]


@pytest.mark.slow
def test_cheap_fidelity_finds_the_best_at_a_fraction_of_the_cost(fidelities, tmp_path):
    summary = campaign_benchmark(
        fidelities,
        "main",
        tmp_path,
        cheap=(fidelities, "cheap", 1.0),
        main_cost=10.0,
        methods=("ucb@rf", "ucb@rf+cheap", "random"),
        pool_size=420,
        initial=8,
        budget=60,
        batch=8,
        seeds=(0, 1, 2),
        top=0.05,
    )
    found = {m: a["found_at_budget"] for m, a in summary["acquisitions"].items()}
    # at the same cost: more than twice the share of the best (planted: 0.44 against 0.16)
    assert found["ucb@rf+cheap"] > 2 * found["ucb@rf"] and found["ucb@rf+cheap"] > 0.35, found
    assert len(summary["acquisitions"]["ucb@rf+cheap"]["curve"]) == 60
    assert summary["task"]["cheap"] == {"column": "cheap", "cost": 1.0}


def test_cheap_results_are_told_before_what_they_bought(fidelities, tmp_path):
    # a cheap fidelity whose name sorts after "main": its cost must still come first
    campaign = open_campaign(
        tmp_path / "order.sqlite",
        fidelities[["formula"]],
        CampaignSettings(
            target="main",
            fidelities={"zz_dft": 1.0, "main": 10.0},
            budget=100,
            initial=2,
            batch_size=2,
        ),
        model_factory=_forest,
    )
    batch = campaign.ask()
    answers = batch[["formula", "fidelity"]].assign(value=1.0)
    campaign.tell(answers.sort_values("fidelity"))  # main rows first in the frame
    history = campaign.history()
    assert history["fidelity"].tolist() == ["zz_dft", "zz_dft", "main", "main"]
    assert history["cost"].tolist() == [1.0, 2.0, 12.0, 22.0]
    with pytest.raises(ValueError, match="Thompson"):
        CampaignSettings(fidelities={"zz_dft": 1.0, "main": 10.0}, acquisition="thompson")
