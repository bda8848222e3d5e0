"""The regime rules and risk gates fire on exactly the evidence they document."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matlattice.entangle import CouplingMeasures, build_lattice, classify_regime, data_coupling
from matlattice.entangle.lattice import density


def _measures(n: int = 4, epochs: int = 6, **overrides) -> CouplingMeasures:
    nan = np.full((n, n), np.nan)
    base = np.full((n, n), 0.05)
    np.fill_diagonal(base, np.nan)
    fields = {
        "tasks": [f"t{i}" for i in range(n)],
        "label_counts": np.full(n, 1000),
        "data_coupling": base.copy(),
        "data_count": np.full((n, n), 1000),
        "identical_fraction": np.where(np.eye(n, dtype=bool), np.nan, 0.0),
        "gradient_cosine": base.copy(),
        "gradient_negative_fraction": np.where(np.eye(n, dtype=bool), np.nan, 0.2),
        "gradient_trajectory": np.repeat(base[None], epochs, axis=0),
        "affinity": base.copy(),
        "affinity_trajectory": np.repeat(base[None], epochs, axis=0),
        "representation_alignment": base.copy(),
        "direction_dot": nan.copy(),
        "head_cka": nan.copy(),
    }
    fields.update(overrides)
    return CouplingMeasures(**fields)


def test_classify_regime_follows_the_documented_order():
    calm = {"imbalance": 0.1, "dynamic_std": 0.01, "oscillating_share": 0.0}
    assert classify_regime(0.5, 0.3, 2, **calm, pathological=True) == "pathological"
    assert classify_regime(0.5, 0.3, 2, 0.1, 0.3, 0.0, pathological=False) == "dynamic"
    assert classify_regime(0.5, 0.3, 2, 0.1, 0.01, 0.5, pathological=False) == "dynamic"
    assert classify_regime(0.5, 0.3, 2, 0.7, 0.01, 0.0, pathological=False) == "asymmetric"
    assert classify_regime(0.1, 0.3, 2, **calm, pathological=False) == "structured"
    assert classify_regime(0.1, 0.05, 2, **calm, pathological=False) == "sparse"
    assert classify_regime(0.6, 0.05, 1, **calm, pathological=False) == "dense"


def test_density_is_a_sigmoid_weighted_mean():
    weight = np.array([[np.nan, 1.0], [0.0, np.nan]])
    dots = np.array([[np.nan, 0.0], [0.0, np.nan]])
    assert density(weight, dots) == pytest.approx(0.5)
    assert density(np.full((2, 2), np.nan), dots) == 0.0


def test_data_coupling_counts_co_labelled_rows():
    labels = pd.DataFrame(
        {"a": [1, 2, 3, 4, np.nan], "b": [2, 4, 6, 8, 10], "c": [5, np.nan, 3, 2, 1]}
    )
    rho, count = data_coupling(labels, min_count=3)
    assert count[0, 1] == 4 and count[0, 2] == 3 and count[1, 1] == 5
    assert rho[0, 1] == pytest.approx(1.0)
    assert rho[0, 2] == pytest.approx(-1.0)
    assert np.isnan(rho[0, 0])


def test_weak_uniform_lattice_is_sparse_with_no_gates():
    lattice = build_lattice(_measures())
    assert lattice.risk_gates == []
    assert lattice.regime == "sparse"
    assert lattice.density == pytest.approx(0.05, rel=1e-6)


def test_trivial_transform_conflict_and_dominant_source_are_gated():
    m = _measures()
    m.data_coupling[0, 1] = m.data_coupling[1, 0] = -0.995  # e.g. y1 = -log(y0)
    m.gradient_cosine[2, 3] = m.gradient_cosine[3, 2] = -0.3
    m.gradient_negative_fraction[2, 3] = m.gradient_negative_fraction[3, 2] = 0.9
    share = np.full((4, 4), 0.5)
    share[1, 2] = share[2, 1] = 1.0
    m.source_share = share
    m.extra = {"n_sources": 2}
    lattice = build_lattice(m)
    kinds = {(g["kind"], tuple(g["tasks"])) for g in lattice.risk_gates}
    assert kinds == {
        ("trivial_transform", ("t0", "t1")),
        ("gradient_conflict", ("t2", "t3")),
        ("dominant_source", ("t1", "t2")),
    }
    assert lattice.regime == "pathological"
    assert lattice.graph.edges["t3", "t2"]["gated"]
    assert "gradient_conflict" in lattice.graph.edges["t2", "t3"]["risk"]


def test_negative_transfer_and_asymmetry_from_gains():
    gain = np.zeros((4, 4))
    gain[1, 0] = gain[2, 0] = 0.3  # t0 borrows from t1 and t2
    gain[3, 1] = -0.2  # training t1 with t3 hurts t1
    np.fill_diagonal(gain, np.nan)
    lattice = build_lattice(_measures(transfer_gain=gain))
    kinds = {(g["kind"], tuple(g["tasks"])) for g in lattice.risk_gates}
    assert ("negative_transfer", ("t3", "t1")) in kinds
    assert ("asymmetric", ("t0",)) in kinds
    assert lattice.graph.nodes["t0"]["asymmetric"]
    assert "negative_transfer" in lattice.graph.edges["t3", "t1"]["risk"]


def test_oscillating_edges_are_flagged_and_damped():
    epochs = 12
    swing = np.array([0.6 if e % 2 else 0.0 for e in range(epochs)])
    trajectory = np.repeat(np.full((4, 4), 0.05)[None], epochs, axis=0)
    trajectory[:, 0, 1] = trajectory[:, 1, 0] = swing
    lattice = build_lattice(_measures(epochs=epochs, gradient_trajectory=trajectory))
    assert lattice.oscillating == [("t0", "t1")]
    damped = lattice.graph.edges["t0", "t1"]["weight_damped"]
    assert 0.05 < damped < 0.3  # the moving average sits between the swings


def test_steering_groups_join_above_the_typical_coupling_and_respect_gates():
    from matlattice.entangle.lattice import steering_groups

    tasks = ["a", "b", "c", "d", "e", "f"]
    w = np.full((6, 6), 0.05)
    w[np.ix_([0, 1, 2], [0, 1, 2])] = 0.5  # block a, b, c
    w[np.ix_([3, 4], [3, 4])] = 0.4  # block d, e; f couples to nothing
    np.fill_diagonal(w, np.nan)
    free = np.zeros((6, 6), dtype=bool)
    assert steering_groups(tasks, w, free) == [["a", "b", "c"], ["d", "e"], ["f"]]
    cut = free.copy()
    cut[0, 1] = cut[1, 0] = True  # a gate between a and b: they never train together
    groups = steering_groups(tasks, w, cut)
    assert not any({"a", "b"} <= set(g) for g in groups)
    assert ["d", "e"] in groups and ["f"] in groups
    # where every pair couples alike no pair stands out: nothing is grouped
    flat = np.full((6, 6), 0.3)
    np.fill_diagonal(flat, np.nan)
    assert steering_groups(tasks, flat, free) == [[t] for t in tasks]


def test_helpers_follow_the_directed_transfer_gain_and_skip_artefacts():
    from matlattice.entangle.lattice import recommend_helpers

    tasks = ["plenty", "scarce", "copy", "alone"]
    gain = np.full((4, 4), np.nan)
    gain[0, 1] = 0.08  # plenty helps scarce ...
    gain[1, 0] = -0.10  # ... which hurts plenty in return
    gain[3, 1] = 0.03
    gain[2, 0] = 0.50  # a duplicate of plenty: an artefact, never a helper
    gain[0, 3] = 0.005  # below the minimum gain
    duplicate = [{"kind": "duplicate", "tasks": ["plenty", "copy"], "evidence": {}}]

    assert recommend_helpers(tasks, gain, duplicate) == {"scarce": ["plenty"]}
    assert recommend_helpers(tasks, gain, duplicate, max_helpers=2) == {
        "scarce": ["plenty", "alone"]
    }
    assert recommend_helpers(tasks, gain, [])["plenty"] == ["copy"]
    assert recommend_helpers(tasks, gain, duplicate, min_gain=0.001)["alone"] == ["plenty"]
    assert recommend_helpers(tasks, None, duplicate) == {}


def test_a_source_that_hurts_every_partner_alike_cuts_no_pair_but_is_named():
    """A scarce source costs every partner ~20 %: one node gate, no pair gate; a pair harmed
    well beyond the source's typical harm is still cut."""
    n = 5
    gain = np.full((n, n), 0.02)
    np.fill_diagonal(gain, np.nan)
    gain[0, 1:] = [-0.20, -0.18, -0.22, -0.45]  # source t0: alike, except t4
    margin = 0.04
    measures = _measures(
        n,
        label_counts=np.array([90, 1000, 1000, 1000, 1000]),
        transfer_gain=gain,
        transfer_low=gain - margin,
        transfer_high=gain + margin,
        transfer_runs=np.full((n, n), 4),
    )
    gates = build_lattice(measures).risk_gates
    negative = [g["tasks"] for g in gates if g["kind"] == "negative_transfer"]
    assert negative == [["t0", "t4"]]
    harmful = [g for g in gates if g["kind"] == "harmful_source"]
    assert [g["tasks"] for g in harmful] == [["t0"]]
    assert harmful[0]["evidence"]["label_count"] == 90
