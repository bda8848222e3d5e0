"""Label dependence reads shared information that rank correlation misses, on many draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from matlattice.entangle.dependence import informational_correlation, label_dependence


def _labels(seed: int, n: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b, c = rng.standard_normal((3, n))
    rho = 0.6
    return pd.DataFrame(
        {
            "product": a * b,
            "square_difference": (a**2 - b**2) / np.sqrt(2.0),
            "independent": c,
            "gaussian_partner": rho * c + np.sqrt(1 - rho**2) * rng.standard_normal(n),
        }
    )


def test_gaussian_information_reads_as_the_correlation():
    rho = np.array([0.0, 0.3, 0.6, 0.9])
    assert np.allclose(informational_correlation(-0.5 * np.log(1 - rho**2)), rho)


@pytest.mark.parametrize("seed", range(8))
def test_nonlinear_partners_are_dependent_and_independent_ones_are_not(seed):
    labels = _labels(seed)
    names = list(labels)
    dependence = label_dependence(labels, seed=seed)
    d = pd.DataFrame(dependence, index=names, columns=names)
    rank_rho = abs(spearmanr(labels["product"], labels["square_difference"])[0])
    assert rank_rho < 0.12  # invisible to rank correlation
    assert d.loc["product", "square_difference"] > 0.4
    # independent pairs of 800 rows read up to about 0.18 (the estimator's noise)
    assert d.loc["product", "independent"] < 0.22
    assert d.loc["square_difference", "independent"] < 0.22
    assert abs(d.loc["independent", "gaussian_partner"] - 0.6) < 0.1
    assert np.allclose(dependence, dependence.T, equal_nan=True)
    assert np.isnan(np.diag(dependence)).all()


def test_pairs_with_too_few_common_rows_are_not_measured():
    labels = _labels(0, n=100)
    labels.loc[10:, "independent"] = np.nan
    d = label_dependence(labels, min_count=20)
    assert np.isnan(d[0, 2]) and np.isfinite(d[0, 1])
