"""A campaign on a pool with hidden labels: it finds the planted best, survives being killed,
and never duplicates a proposal or a result."""

import json

import numpy as np
import pandas as pd
import pytest

from matlattice.discovery import CampaignSettings, open_campaign
from matlattice.discovery.metrics import campaign_metrics, discovery_curve, top_set
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.errors import MatlatticeError
from matlattice.models import MultiTaskForest

CATIONS = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba", "Zn", "Cd", "Al", "Ga", "In"]
ANIONS = ["F", "Cl", "Br", "I", "O", "S", "Se", "Te", "N", "P"]


@pytest.fixture(scope="module")
def pool():
    from matlattice.composition.elements import SYMBOL_TO_INDEX as Z

    rows = [(a, b, x, y) for a in CATIONS for b in ANIONS for x, y in ((1, 1), (1, 2), (2, 1))]
    za = np.array([Z[a] for a, *_ in rows], dtype=float)
    zb = np.array([Z[b] for _, b, *_ in rows], dtype=float)
    frac = np.array([x / (x + y) for *_, x, y in rows])
    value = 0.05 * za * frac - 0.03 * zb * (1 - frac)  # smooth in the Magpie features
    return pd.DataFrame({"formula": [f"{a}{x}{b}{y}" for a, b, x, y in rows], "y": value})


def _forest():
    return MultiTaskForest(n_estimators=30, random_state=0)


@pytest.mark.slow
def test_ucb_campaign_beats_random_on_the_planted_top(pool, tmp_path):
    oracle = HiddenLabelOracle(pool, "y")
    best = top_set(dict(zip(pool["formula"], pool["y"], strict=True)), top=0.05)
    found = {}
    for acq in ("ucb", "thompson", "random"):
        campaign = open_campaign(
            tmp_path / f"{acq}.sqlite",
            pool,
            CampaignSettings(
                target="y", acquisition=acq, batch_size=10, budget=100, initial=20, seed=1
            ),
            model_factory=_forest,
        )
        results = campaign.run(oracle)
        assert len(results) == 100 and results["formula"].is_unique
        found[acq] = discovery_curve(results["formula"].tolist(), best)[-1]
    assert found["ucb"] >= 0.8 and found["ucb"] > found["random"] + 0.3, found
    assert found["thompson"] > found["random"] + 0.3, found  # one tree per pick


def test_a_killed_campaign_resumes_without_loss_or_duplicates(pool, tmp_path):
    path = tmp_path / "c.sqlite"
    kw = dict(target="y", batch_size=6, budget=30, initial=6, seed=2)
    campaign = open_campaign(path, pool, CampaignSettings(**kw), model_factory=_forest)
    first = campaign.ask()
    campaign.tell(HiddenLabelOracle(pool, "y")(first["formula"].tolist()))
    second = campaign.ask()  # proposed, then the process dies before the results arrive
    campaign.close()

    again = open_campaign(path, pool, CampaignSettings(**kw), model_factory=_forest)
    pd.testing.assert_series_equal(again.ask()["formula"], second["formula"])  # same batch
    answers = HiddenLabelOracle(pool, "y")(second["formula"].tolist())
    assert again.tell(answers) == len(second)
    assert again.tell(answers) == 0  # told twice: stored once
    results = again.run(HiddenLabelOracle(pool, "y"))
    assert len(results) == 30 and results["formula"].is_unique
    proposals = again.store.proposals()
    assert not proposals.duplicated(["formula"]).any()
    assert len(again.store.models()) >= 3  # one model version per model-driven ask
    with pytest.raises(MatlatticeError, match="in use by PID"):  # one writer at a time
        open_campaign(path, pool, CampaignSettings(**kw))
    again.close()
    with pytest.raises(MatlatticeError, match="another config"):
        open_campaign(path, pool, CampaignSettings(**{**kw, "budget": 40}))


def test_bad_results_are_named(pool, tmp_path):
    campaign = open_campaign(
        tmp_path / "b.sqlite", pool, CampaignSettings(target="y"), model_factory=_forest
    )
    with pytest.raises(ValueError, match="not in the pool"):
        campaign.tell(pd.DataFrame({"formula": ["Fe2O3"], "value": [1.0]}))
    with pytest.raises(ValueError, match="'formula' and 'value'"):
        campaign.tell(pd.DataFrame({"formula": ["NaCl"]}))
    with pytest.raises(ValueError, match="acquisition='qei'"):
        open_campaign(tmp_path / "x.sqlite", pool, CampaignSettings(acquisition="qei"))


def test_metrics_against_random_expectation():
    best = {"a", "b"}
    measured = ["x", "a", "y", "b", "z"]
    np.testing.assert_allclose(discovery_curve(measured, best), [0, 0.5, 0.5, 1, 1])
    m = campaign_metrics(measured, best, pool_size=200)
    assert m["measurements_to_half_top"] == 2
    assert m["acceleration_factor"] == pytest.approx(100 / 2)  # random needs 200 / 2
    assert m["enhancement_at_budget"] == pytest.approx(1.0 / (5 / 200))


def test_top_set_keeps_ties_instead_of_an_arbitrary_pick():
    values = {f"m{i}": v for i, v in enumerate([0.0] * 30 + list(np.linspace(0.1, 1, 70)))}
    assert len(top_set(values, "min", 0.01)) == 30  # every material on the hull
    assert top_set(values, "max", 0.02) == {"m99", "m98"}


@pytest.mark.slow
def test_benchmark_mode_writes_the_contract(tmp_path):
    from matlattice.discovery.benchmark import campaign_benchmark

    rows = pd.DataFrame(
        {
            "formula": [f"{a}{b}" for a in CATIONS for b in ANIONS],
            "y": np.arange(len(CATIONS) * len(ANIONS), dtype=float),
        }
    )

    summary = campaign_benchmark(
        rows,
        "y",
        tmp_path,
        methods=("ucb@rf", "ei@gp", "random", "ucb@rf+every=2+reticulum=0.5"),
        pool_size=100,
        initial=10,
        budget=30,
        batch=10,
        seeds=(0, 1),
        top=0.05,
    )
    assert summary["pool_size"] == 100 and summary["n_best"] == 5
    for name in ("ucb@rf", "ei@gp", "random"):
        m = summary["acquisitions"][name]
        assert len(m["curve"]) == 30 and set(m["ci"]) >= {"found_at_budget"}
        assert {"acceleration_factor", "measurements_to_half_top1", "enhancement_at_budget"} <= set(
            m
        )
    assert (tmp_path / "campaign.png").stat().st_size > 10_000
    assert len(list((tmp_path / "campaigns").glob("*.sqlite"))) == 8
    assert summary["acquisitions"]["random"]["engine_overhead"] is None  # no model
    assert summary["acquisitions"]["ucb@rf"]["engine_overhead"] > 0


def test_method_strings_name_the_loop_settings():
    from matlattice.discovery.methods import parse_method

    assert parse_method("random") == ("random", "", {})
    assert parse_method("ucb@mlp+every=3+reticulum=0.8+warm=20") == (
        "ucb",
        "mlp",
        {"retrain_every": 3, "reticulum_gamma": 0.8, "warm_start_epochs": 20},
    )
    with pytest.raises(ValueError, match="'often=2'"):
        parse_method("ucb@rf+often=2")


def test_a_store_written_before_new_settings_reopens(pool, tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    kw = dict(target="y", batch_size=6, budget=12, initial=6, seed=2)
    open_campaign(path, pool, CampaignSettings(**kw), model_factory=_forest).close()
    db = sqlite3.connect(path)
    config = json.loads(db.execute("SELECT value FROM config").fetchone()[0])
    del config["generate"], config["probe_size"]  # as written before these settings existed
    db.execute("UPDATE config SET value = ?", (json.dumps(config),))
    db.commit()
    db.close()
    assert open_campaign(path, pool, CampaignSettings(**kw)).settings.generate == 0
    with pytest.raises(MatlatticeError, match="another config"):
        open_campaign(path, pool, CampaignSettings(**{**kw, "generate": 5}))


def test_a_benchmark_pool_without_values_is_refused_by_count(tmp_path):
    from matlattice.discovery.benchmark import campaign_benchmark

    frame = pd.DataFrame({"formula": ["NaCl", "KCl", "LiF", "MgO"], "y": [np.nan] * 3 + [1.0]})
    with pytest.raises(MatlatticeError, match="1 of 4 compositions have a value of y"):
        campaign_benchmark(frame, "y", tmp_path, methods=("random",), pool_size=4, initial=1,
                           budget=2, batch=1, seeds=(0,))  # fmt: skip
