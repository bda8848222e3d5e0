import numpy as np
import pytest

from matlattice.composition import chemical_systems, composition_keys, parse_formulas
from matlattice.data.splits import chemsys_split, cluster_split, group_kfold, random_split
from matlattice.represent import ElementStatsFeaturizer


@pytest.fixture(scope="module")
def formulas(aflow):
    return aflow.frame["formula"].tolist()[:6000]


def _disjoint(groups, parts):
    groups, parts = np.asarray(groups), np.asarray(parts)
    return not (set(groups[parts == "train"]) & set(groups[parts == "test"]))


def test_random_split_is_seeded_and_composition_level(formulas):
    keys = composition_keys(parse_formulas(formulas + formulas[:50]).fractions)
    a = random_split(keys, seed=3)
    assert (a == random_split(keys, seed=3)).all()
    assert (a != random_split(keys, seed=4)).any()
    assert _disjoint(keys, a)
    assert abs((a == "test").mean() - 0.1) < 0.02


def test_chemsys_split_no_system_on_both_sides(formulas):
    systems = chemical_systems(parse_formulas(formulas).fractions)
    parts = chemsys_split(systems, seed=0)
    assert _disjoint(systems, parts)
    assert set(parts) == {"train", "val", "test"}


def test_cluster_split_holds_out_whole_clusters(formulas):
    fractions = parse_formulas(formulas).fractions
    features = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(fractions)
    parts = cluster_split(features, n_clusters=12, seed=0)
    assert _disjoint(composition_keys(fractions), parts)
    assert 0.5 < (parts == "train").mean() < 0.95
    with pytest.raises(ValueError, match="n_clusters"):
        cluster_split(features[:5], n_clusters=12)


def test_group_kfold_balanced():
    groups = np.repeat(np.arange(100), np.arange(100) % 4 + 1)
    folds = group_kfold(groups, 5, seed=0)
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 4
    for g in range(100):
        assert len(set(folds[groups == g])) == 1


def test_bad_fractions_named():
    with pytest.raises(ValueError, match="summing to 1"):
        random_split(["a", "b"], (0.5, 0.5, 0.5))
