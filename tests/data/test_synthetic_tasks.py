"""The planted multi-task generator makes the structure it documents."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.data.synthetic_tasks import planted_tasks


@pytest.fixture(scope="module")
def formulas(aflow):
    return aflow.frame["formula"].drop_duplicates().sample(3000, random_state=2).tolist()


def test_groups_share_factors_but_not_label_correlation(formulas):
    planted = planted_tasks(formulas, n_groups=2, group_size=3, seed=0)
    assert planted.tasks == [
        "g0_0",
        "g0_1",
        "g0_2",
        "g1_0",
        "g1_1",
        "g1_2",
        "g0_sparse",
        "indep",
        "g1_copy",
    ]
    assert planted.groups[0] == ["g0_0", "g0_1", "g0_2", "g0_sparse"]
    assert planted.groups[-1] == ["indep"]
    rho = planted.frame[planted.tasks].corr(method="spearman").to_numpy()
    for group in planted.groups[:2]:
        idx = [planted.tasks.index(t) for t in group if t != planted.duplicate[0]]
        inside = np.abs(rho[np.ix_(idx, idx)][~np.eye(len(idx), dtype=bool)])
        assert inside.max() < 0.35  # needs the same factors, yet hardly correlated
    # every readout is an exact function of its group's two factors (noise aside)
    a, b = planted.factors[:, 0], planted.factors[:, 1]
    product = planted.frame["g0_0"].to_numpy()
    assert np.corrcoef(product, a * b)[0, 1] > 0.99


def test_scarce_duplicate_and_seeding(formulas):
    planted = planted_tasks(formulas, sparse_fraction=0.05, seed=3)
    labelled = planted.frame["g0_sparse"].notna().mean()
    assert 0.03 < labelled < 0.07
    copy, original = planted.duplicate
    assert np.array_equal(planted.frame[copy], planted.frame[original])
    again = planted_tasks(formulas, sparse_fraction=0.05, seed=3)
    assert again.frame.equals(planted.frame)
    assert not planted_tasks(formulas, seed=4).frame.equals(planted.frame)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_groups": 0}, "n_groups=0"),
        ({"group_size": 4}, "group_size=4"),
        ({"sparse_fraction": 0.0}, "sparse_fraction=0.0"),
        ({"noise": -1.0}, "noise=-1.0"),
    ],
)
def test_bad_input_names_the_value(formulas, kwargs, message):
    with pytest.raises(ValueError, match=message):
        planted_tasks(formulas, **kwargs)
