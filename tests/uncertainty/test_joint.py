"""Joint probabilities from a predictive covariance, checked against Monte Carlo."""

import numpy as np
import pytest

from matlattice.uncertainty.joint import correlation_from_covariance, joint_probability


def test_joint_probability_matches_sampling_and_differs_from_independence():
    rng = np.random.default_rng(0)
    mean = np.array([[0.2, 0.1], [1.0, -0.5]])
    rho = np.array([0.9, -0.8])
    cov = np.stack([[[1.0, r], [r, 1.0]] for r in rho])
    lower, upper = np.array([0.0, 0.0]), np.array([np.inf, np.inf])  # both positive
    joint = joint_probability(mean, cov, lower, upper)
    for i in range(2):
        draws = rng.multivariate_normal(mean[i], cov[i], size=200_000)
        assert joint[i] == pytest.approx(((draws > 0).all(axis=1)).mean(), abs=0.005)
    alone = joint_probability(mean, cov, lower, upper, independent=True)
    assert joint[0] > alone[0] + 0.1  # positively coupled: both hold together more often
    assert joint[1] < alone[1] - 0.05  # anti-coupled: less often
    np.testing.assert_allclose(correlation_from_covariance(cov)[:, 0, 1], rho)


def test_bad_shapes_and_bounds_are_named():
    with pytest.raises(ValueError, match="cov has shape"):
        joint_probability(np.zeros((3, 2)), np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="lower <= upper"):
        joint_probability(np.zeros((1, 2)), np.eye(2)[None], np.array([1.0, 0]), np.zeros(2))
