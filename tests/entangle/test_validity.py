"""The exam's scoring reads a lattice summary against a planted truth correctly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matlattice.data.planted_suite import PlantedSet
from matlattice.entangle.validity import score_lattice


def _planted() -> PlantedSet:
    tasks = ["a", "b", "c", "d", "e", "x"]
    frame = pd.DataFrame({t: np.zeros(3) for t in tasks}).assign(formula=["H2", "He", "Li"])
    return PlantedSet(
        frame=frame[["formula", *tasks]],
        groups=[["a", "b"], ["c", "d"], ["e"]],
        artefacts={"x": ("a", "duplicate")},
        scarce=[],
        readouts={},
        seed=7,
    )


def _summary(groups, gates, weights) -> dict:
    edges = [
        {"source": s, "target": t, "weight": weights.get(frozenset((s, t)), 0.1)}
        for s in "abcdex"
        for t in "abcdex"
        if s != t
    ]
    return {"groups": groups, "communities": groups, "risk_gates": gates, "edges": edges}


def test_a_perfect_lattice_scores_perfectly():
    strong = {frozenset("ab"): 0.9, frozenset("cd"): 0.8}
    gates = [{"kind": "duplicate", "tasks": ["a", "x"], "evidence": {}}]
    score = score_lattice(
        _summary([["a", "b"], ["c", "d"], ["e"], ["x"]], gates, strong), _planted()
    )
    assert score["group_ari"] == 1.0 and score["within_across_auc"] == 1.0
    assert score["artefacts_gated"] == 1.0 and score["cut_gates_within"] == 0


def test_a_duplicate_may_stand_in_for_its_original():
    gates = [{"kind": "duplicate", "tasks": ["a", "x"], "evidence": {}}]
    summary = _summary([["x", "b"], ["c", "d"], ["e"], ["a"]], gates, {})
    assert score_lattice(summary, _planted())["group_ari"] == 1.0


def test_gates_inside_a_group_and_missed_artefacts_are_counted():
    gates = [
        {"kind": "negative_transfer", "tasks": ["a", "b"], "evidence": {}},
        {"kind": "gradient_conflict", "tasks": ["a", "c"], "evidence": {}},
    ]
    score = score_lattice(_summary([["a"], ["b"], ["c", "d"], ["e", "x"]], gates, {}), _planted())
    assert score["cut_gates_within"] == 1 and score["cut_gate_precision"] == pytest.approx(0.5)
    assert score["artefacts_gated"] == 0.0 and score["group_ari"] < 1.0
