"""The planted suite draws the structure it promises, on many seeds."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.data import load_dataset
from matlattice.data.planted_suite import planted_set


@pytest.fixture(scope="module")
def formulas():
    return load_dataset("aflow").frame["formula"].sample(1500, random_state=0).tolist()


@pytest.mark.parametrize("seed", range(12))
def test_a_draw_has_the_promised_structure(formulas, seed):
    draw = planted_set(formulas, seed)
    frame = draw.frame
    sizes = sorted(len(g) for g in draw.groups if len(g) > 1)
    independent = [g for g in draw.groups if len(g) == 1]
    assert 2 <= len(sizes) <= 4 and all(2 <= s <= 5 for s in sizes)
    assert 1 <= len(independent) <= 2
    assert sorted(t for g in draw.groups for t in g) == sorted(draw.genuine)
    duplicates = {a: o for a, (o, kind) in draw.artefacts.items() if kind == "duplicate"}
    assert 1 <= len(duplicates) <= 2
    for copy, original in duplicates.items():
        assert frame[copy].equals(frame[original])
    for artefact, (original, _) in draw.artefacts.items():
        both = frame[[artefact, original]].dropna()
        assert both.corr(method="spearman").iloc[0, 1] == pytest.approx(1.0)
    for name in draw.scarce:
        share = frame[name].notna().mean()
        assert 0.02 < share < 0.25
    # inside a group the labels barely correlate, although they read the same two factors
    ranks = frame[draw.genuine].corr(method="spearman").abs()
    within = [ranks.loc[s, t] for g in draw.groups for s in g for t in g if s < t]
    assert np.median(within) < 0.25


def test_draws_differ_and_repeat(formulas):
    first, again, other = (planted_set(formulas, s) for s in (3, 3, 4))
    assert first.groups == again.groups and first.frame.equals(again.frame)
    assert first.groups != other.groups
    assert [c for c in first.frame.columns if c != "formula"] == [
        f"p{k:02d}" for k in range(len(first.tasks))
    ]
