"""The planted-factor generator: properties are smooth functions of exactly k factors."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsRegressor

from matlattice.data import load_dataset
from matlattice.data.synthetic import planted_properties


@pytest.fixture(scope="module")
def formulas():
    return load_dataset("crabnet:aflow__ael_bulk_modulus_vrh").frame["formula"].tolist()[:2000]


@pytest.mark.parametrize("k", [2, 4, 8])
def test_properties_are_functions_of_k_uncorrelated_factors(formulas, k):
    planted = planted_properties(formulas, k, seed=1)
    assert planted.frame.shape == (len(formulas), 1 + 2 * k)
    assert planted.factors.shape == (len(formulas), k)
    corr = np.corrcoef(planted.factors.T)
    assert np.abs(corr[np.triu_indices(k, 1)]).max() < 0.35
    y = planted.frame[planted.tasks].to_numpy()
    # y is recovered from the k factors (nearest neighbours in factor space) ...
    half = len(y) // 2
    knn = KNeighborsRegressor(5).fit(planted.factors[:half], y[:half])
    assert knn.score(planted.factors[half:], y[half:]) > 0.9
    # ... but not from k - 1 of them (each factor matters)
    if k > 1:
        knn = KNeighborsRegressor(5).fit(planted.factors[:half, 1:], y[:half])
        assert knn.score(planted.factors[half:, 1:], y[half:]) < 0.85


def test_seeded_noise_and_errors(formulas):
    a = planted_properties(formulas, 3, 4, noise=0.1, seed=5)
    b = planted_properties(formulas, 3, 4, noise=0.1, seed=5)
    c = planted_properties(formulas, 3, 4, noise=0.1, seed=6)
    assert a.frame.equals(b.frame) and not a.frame.equals(c.frame)
    clean = planted_properties(formulas, 3, 4, seed=5).frame[a.tasks].to_numpy()
    assert np.std(a.frame[a.tasks].to_numpy() - clean) == pytest.approx(0.1, rel=0.1)
    with pytest.raises(ValueError, match="n_factors=15"):
        planted_properties(formulas, 15)
    with pytest.raises(ValueError, match="noise=-1"):
        planted_properties(formulas, 2, noise=-1)
