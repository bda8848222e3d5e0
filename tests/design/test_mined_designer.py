"""Mined substitution and the combined designer on planted chemistries: a world of element
families whose members substitute for one another in a few stoichiometries, a property that
is a sum of element contributions, and chemical systems hidden from the designer. Over many
drawn worlds the designer must rediscover the hidden best compounds far more often than
random valid enumeration over the same elements."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from matlattice.design import RandomEnumeration, hold_out_systems, rediscovery_recall
from matlattice.design.designer import Designer, model_predictor, parent_order
from matlattice.design.mined import MinedSubstitution, SubstitutionTable
from matlattice.design.objectives import DesignTarget, meet_probability, parse_target
from matlattice.design.planted import planted_chemistry
from matlattice.design.rediscovery import candidate_keys
from matlattice.errors import InvalidParameterError
from matlattice.models import MultiTaskForest


def test_the_table_counts_substitutions_between_known_compositions():
    table = SubstitutionTable.mine(["TiO2", "ZrO2", "HfO2", "TiS2", "NaCl"])
    # in the dioxides Ti goes to Zr or to Hf: 1 / (2 + 1), one pseudo-count for the unseen
    assert table.probability("Ti", "Zr") == pytest.approx(1 / 3)
    assert set(table.partners("O")) == {"S"} and table.probability("O", "S") == 0.5
    assert table.probability("Na", "K") == 0.0
    plausible = table.plausibility(["ZrS2", "TiO2", "NaBr", "Xq"], floor=1e-4)
    assert plausible[0] == pytest.approx(0.5)  # ZrO2 with O -> S, seen once out of once
    assert plausible[1] == 1.0 and plausible[2] == 1e-4 and plausible[3] == 1e-4


def test_mining_refuses_compositions_that_share_nothing():
    with pytest.raises(InvalidParameterError, match="differ by one element"):
        SubstitutionTable.mine(["NaCl", "MgO2"])


def test_mined_children_keep_the_stoichiometry_and_are_new():
    known = ["TiO2", "ZrO2", "HfO2", "TiS2", "ZrS2"]
    children = MinedSubstitution(parent_share=1.0).propose(known)
    assert "HfS2" in set(children["formula"]) and not set(children["formula"]) & set(known)
    assert (children["prior"] > 0).all() and children["prior"].is_monotonic_decreasing


def test_targets_parse_resolve_and_refuse():
    t = parse_target("bulk_modulus:max", share=0.1).resolve(np.arange(100.0))
    assert t.low == pytest.approx(89.1) and t.high == math.inf
    w = parse_target("Egap:1.1,1.7")
    assert (w.low, w.high, w.goal) == (1.1, 1.7, "window")
    assert list(w.met(np.array([1.0, 1.2, 1.8]))) == [False, True, False]
    for bad in ("bulk_modulus", "x:up", "x:2,1", "x:1,inf", ":max"):
        with pytest.raises(InvalidParameterError):
            parse_target(bad)


def test_coupled_targets_are_met_together_not_as_independent_marginals():
    targets = [
        DesignTarget("a", "window", 0.0, math.inf),
        DesignTarget("b", "window", 0.0, math.inf),
    ]
    mean, std = np.zeros((1, 2)), np.ones((1, 2))
    coupled = np.array([[[1.0, 0.9], [0.9, 1.0]]])
    independent = meet_probability(targets, mean, std)
    joint = meet_probability(targets, mean, std, coupled, draws=20_000)
    assert independent[0] == pytest.approx(0.25)
    # P(both > 0) for correlation 0.9 is 1/4 + arcsin(0.9) / (2 pi) = 0.428
    assert joint[0] == pytest.approx(0.25 + math.asin(0.9) / (2 * math.pi), abs=0.01)


def test_a_target_the_model_does_not_predict_is_refused():
    forest = MultiTaskForest(n_estimators=5).fit(
        ["NaCl", "KCl", "MgO"], pd.DataFrame({"y": [1.0, 2, 3]})
    )
    with pytest.raises(InvalidParameterError, match="does not predict"):
        model_predictor(forest, ["bulk_modulus"])


def _rediscovery(seed: int, n: int = 15) -> tuple[float, float, float]:
    """Recall at ``n`` of the designer, of mined substitution in the order of its prior
    alone (no model), and of random valid enumeration, in planted world ``seed``."""
    world = planted_chemistry(seed)
    held = hold_out_systems(world, 0.25, seed)
    target = parse_target("y:max", share=0.2)
    truth = target.resolve(world["y"].to_numpy())
    hidden_best = set(world.loc[held & truth.met(world["y"].to_numpy()), "formula"])
    assert hidden_best, f"world {seed} hides none of its best compounds"
    train = world[~held].reset_index(drop=True)
    forest = MultiTaskForest(n_estimators=60, random_state=seed).fit(
        train["formula"].tolist(), train[["y"]]
    )
    designer = Designer(model_predictor(forest, ["y"]), [target])
    ours = designer.design(train, n, seed)["formula"].tolist()
    parents = parent_order(train, designer.resolved_targets(train))
    prior_only = MinedSubstitution()(parents, n, np.random.default_rng(seed))
    floor = RandomEnumeration()(parents, n, np.random.default_rng(seed))
    keys = set(candidate_keys(sorted(hidden_best)))
    return tuple(
        rediscovery_recall(made, keys, ks=(n,))[f"recall@{n}"] for made in (ours, prior_only, floor)
    )


@pytest.mark.slow
def test_the_designer_rediscovers_hidden_best_compounds_over_many_worlds():
    draws = [_rediscovery(seed) for seed in range(10)]
    ours, prior_only, floor = np.array(draws).T
    assert ours.mean() >= 0.3, draws
    assert ours.mean() >= prior_only.mean(), draws  # the model ranks at least as well
    assert ours.mean() >= 4 * max(floor.mean(), 0.05), draws
    assert (ours >= floor).all(), draws
