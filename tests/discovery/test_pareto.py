"""Two objectives at once: the Pareto front, its hypervolume, ParEGO, and a campaign that
pushes the front out faster than random choice."""

import numpy as np
import pandas as pd
import pytest
from test_campaign import CATIONS, _forest  # tests/discovery is on sys.path

from matlattice.discovery import CampaignSettings, open_campaign, resume_campaign
from matlattice.discovery.benchmark import campaign_benchmark
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.discovery.pareto import (
    hypervolume_2d,
    hypervolume_curve,
    parego_values,
    pareto_mask,
)


def test_front_and_hypervolume_of_a_staircase():
    points = np.array([[1, 3], [2, 2], [3, 1], [1, 1], [-1, 5]], dtype=float)
    assert pareto_mask(points).tolist() == [True, True, True, False, True]
    # three unit steps: 3 x 1 + 2 x 1 + 1 x 1; (1, 1) is dominated, (-1, 5) below the reference
    assert hypervolume_2d(points, np.zeros(2)) == pytest.approx(6.0)
    assert hypervolume_2d(points[:1], np.zeros(2)) == pytest.approx(3.0)
    curve = hypervolume_curve(points[[3, 0, 1, 2]], points[:4])
    assert curve[-1] == pytest.approx(1.0) and np.all(np.diff(curve) >= 0)
    with pytest.raises(ValueError, match="more than two objectives"):
        hypervolume_2d(np.ones((3, 3)), np.zeros(3))


def test_parego_never_ranks_a_dominated_material_above_its_dominator():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(60, 2))
    for _ in range(20):
        values = parego_values(points, rng.dirichlet([1, 1]))
        for i in range(60):
            dominators = np.flatnonzero((points >= points[i]).all(axis=1))
            assert np.all(values[dominators] >= values[i] - 1e-12)
    # all weight on the first objective: the ranking is the first objective's
    first = parego_values(points, np.array([1.0, 0.0]))
    assert np.argmax(first) == np.argmax(points[:, 0])


@pytest.fixture(scope="module")
def two_objective_pool():
    from matlattice.composition.elements import SYMBOL_TO_INDEX as Z

    anions = ["F", "Cl", "Br", "I", "O", "S", "Se", "Te", "N", "P"]
    rows = [(a, b, x, y) for a in CATIONS for b in anions for x, y in ((1, 1), (1, 2), (2, 1))]
    za = np.array([Z[a] for a, *_ in rows], dtype=float)
    zb = np.array([Z[b] for _, b, *_ in rows], dtype=float)
    frac = np.array([x / (x + y) for *_, x, y in rows])
    return pd.DataFrame(
        {
            "formula": [f"{a}{x}{b}{y}" for a, b, x, y in rows],
            "hard": 0.05 * za * frac + 0.01 * zb,  # two conflicting, smooth objectives
            "light": 0.04 * zb * (1 - frac) - 0.02 * za * frac,
        }
    )


@pytest.mark.slow
def test_parego_campaign_grows_the_hypervolume_faster_than_random(two_objective_pool, tmp_path):
    pool = two_objective_pool
    objectives = {"hard": "max", "light": "max"}
    oracle = HiddenLabelOracle(pool, list(objectives))
    reached = {}
    for acq in ("ei", "random"):
        finals = []
        for seed in range(3):
            campaign = open_campaign(
                tmp_path / f"{acq}{seed}.sqlite",
                pool[["formula"]],
                CampaignSettings(
                    objectives=objectives,
                    acquisition=acq,
                    batch_size=8,
                    budget=56,
                    initial=16,
                    seed=seed,
                ),
                model_factory=_forest,
            )
            results = campaign.run(oracle)
            assert list(results.columns[:3]) == ["formula", "hard", "light"]
            assert len(results) == 56 and results["formula"].is_unique
            curve = hypervolume_curve(
                results[["hard", "light"]].to_numpy(), pool[["hard", "light"]].to_numpy()
            )
            finals.append(curve[-1])
        reached[acq] = np.mean(finals)
    assert reached["ei"] > reached["random"] + 0.08, reached
    assert (campaign.store.proposals()["reason"] == "random choice").all()  # the last: random
    with pytest.raises(ValueError, match="'formula' and 'hard', 'light'"):
        campaign.tell(pd.DataFrame({"formula": ["Li1F1"], "hard": [1.0]}))
    with pytest.raises(ValueError, match="two or more names"):
        CampaignSettings(objectives={"hard": "up"})


@pytest.mark.slow
def test_benchmark_reports_hypervolume_for_two_objectives(two_objective_pool, tmp_path):
    summary = campaign_benchmark(
        two_objective_pool,
        None,
        tmp_path,
        objectives={"hard": "max", "light": "min"},
        methods=("ucb@rf", "random"),
        pool_size=200,
        initial=10,
        budget=30,
        batch=10,
        seeds=(0, 1),
    )
    assert summary["task"]["goal"] == "pareto" and summary["n_best"] >= 2
    for m in summary["acquisitions"].values():
        assert len(m["hypervolume_curve"]) == 30
        assert 0 < m["hypervolume_at_budget"] <= 1
    proposals = pd.concat(
        resume_campaign(p).proposals() for p in (tmp_path / "campaigns").glob("ucb*")
    )
    assert proposals["reason"].str.contains("ParEGO weights hard").any()
    assert (tmp_path / "campaign.png").stat().st_size > 10_000
