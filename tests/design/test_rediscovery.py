"""Held-out chemical systems and the recall of their compositions."""

from __future__ import annotations

import pandas as pd
import pytest

from matlattice.data.parts import frame_keys, key_systems
from matlattice.design.rediscovery import candidate_keys, hold_out_systems, rediscovery_recall
from matlattice.errors import InvalidParameterError


def test_a_held_out_system_is_held_out_whole(aflow):
    frame = aflow.frame.head(3000)
    held = hold_out_systems(frame, 0.15, seed=4)
    systems = key_systems(frame_keys(frame))
    assert not set(systems[held]) & set(systems[~held])
    share = len(set(systems[held])) / len(set(systems))
    assert share == pytest.approx(0.15, abs=0.01)
    assert (held == hold_out_systems(frame, 0.15, seed=4)).all()


def test_recall_counts_each_composition_once_in_order():
    targets = set(candidate_keys(["NaCl", "MgO", "CaO"]))
    found = rediscovery_recall(
        ["Na2Cl2", "NaCl", "KBr", "MgO", "not a formula"], targets, ks=(2, 5)
    )
    assert found == {"targets": 3, "found@2": 1, "recall@2": 1 / 3, "found@5": 2, "recall@5": 2 / 3}


def test_recall_refuses_an_empty_target_set():
    with pytest.raises(InvalidParameterError, match="no target"):
        rediscovery_recall(["NaCl"], set())


def test_fraction_is_checked():
    with pytest.raises(InvalidParameterError, match=r"fraction=1\.5"):
        hold_out_systems(pd.DataFrame({"formula": ["NaCl"]}), 1.5)
