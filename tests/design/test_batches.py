"""Design scoring in batches over worker processes gives the numbers of one call."""

from __future__ import annotations

import numpy as np

from matlattice.design import model_predictor
from matlattice.design.batches import batched_predictor
from matlattice.models import MultiTaskForest


def planted_forest():
    rng = np.random.default_rng(1)
    known = [f"Li{i}Na{j}Cl1" for i in range(1, 20) for j in range(1, 20)]
    y = rng.normal(size=(len(known), 2))
    forest = MultiTaskForest(n_estimators=20, random_state=0).fit(known, y)
    forest.tasks_ = ["a", "b"]
    candidates = [f"K{i}Rb{j}Br1" for i in range(1, 71) for j in range(1, 71)]  # 4,900
    return forest, candidates


def test_batches_in_two_processes_equal_one_call():
    forest, candidates = planted_forest()
    whole = model_predictor(forest, ["b", "a"])(candidates)
    split = batched_predictor(forest, ["b", "a"], n_jobs=2)(candidates)
    for one, other in zip(whole, split, strict=True):
        if one is None:
            assert other is None
        else:
            np.testing.assert_array_equal(one, other)
