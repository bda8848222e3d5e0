"""Acquisition functions against closed forms and sampling."""

import numpy as np
import pytest

from matlattice.discovery.acquisition import (
    expected_improvement,
    probability_of_improvement,
    score,
    select_batch,
    ucb,
    window_probability,
)


def test_expected_improvement_matches_sampling_and_its_limits():
    rng = np.random.default_rng(0)
    mean, std, best = np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.5, 0.1]), 1.2
    draws = rng.normal(mean, std, size=(400_000, 3))
    np.testing.assert_allclose(
        expected_improvement(mean, std, best),
        np.maximum(draws - best, 0).mean(axis=0),
        atol=3e-3,
    )
    np.testing.assert_allclose(
        probability_of_improvement(mean, std, best), (draws > best).mean(axis=0), atol=3e-3
    )
    # no spread: EI is the plain improvement; minimisation mirrors maximisation
    np.testing.assert_allclose(expected_improvement(mean, np.zeros(3), best), [0, 0, 0.8])
    np.testing.assert_allclose(
        expected_improvement(-mean, std, -best, goal="min"), expected_improvement(mean, std, best)
    )


def test_ucb_trades_mean_for_spread_and_window_probability():
    mean, std = np.array([1.0, 0.8]), np.array([0.0, 0.2])
    assert np.argmax(ucb(mean, std, alpha=0.0)) == 0
    assert np.argmax(ucb(mean, std, alpha=2.0)) == 1  # 0.8 + 0.4 > 1.0
    rng = np.random.default_rng(1)
    m, s = np.array([1.5, 0.0]), np.array([0.3, 1.0])
    draws = rng.normal(m, s, size=(400_000, 2))
    inside = ((draws >= 1.2) & (draws <= 1.8)).mean(axis=0)
    np.testing.assert_allclose(window_probability(m, s, 1.2, 1.8), inside, atol=3e-3)
    with pytest.raises(ValueError, match="empty"):
        window_probability(m, s, 2.0, 1.0)


def test_score_dispatch_feasibility_and_thompson():
    mean, std = np.array([3.0, 2.0, 1.0]), np.array([0.1, 0.1, 0.1])
    feasible = np.array([0.1, 0.9, 0.9])
    assert np.argmax(score("greedy", mean, std, feasibility=feasible)) == 1
    assert np.argmax(score("ei", mean, std, best=1.5, feasibility=feasible)) == 1
    draws = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    picks = {
        int(np.argmax(score("thompson", mean, std, draws=draws, rng=np.random.default_rng(s))))
        for s in range(20)
    }
    assert picks == {0, 1}  # each pick follows one member's view
    with pytest.raises(ValueError, match="needs the best value"):
        score("ei", mean, std)
    with pytest.raises(ValueError, match="acquisition 'qehvi'"):
        score("qehvi", mean, std)


def test_diverse_batch_spreads_over_clusters():
    rng = np.random.default_rng(2)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    embedding = np.concatenate([c + rng.normal(0, 0.1, (20, 2)) for c in centres])
    scores = np.concatenate([np.full(20, 3.0), np.full(20, 2.0), np.full(20, 1.0)])
    scores += rng.normal(0, 0.01, 60)
    top = select_batch(scores, 3)
    assert set(top // 20) == {0}  # plain top scores: one cluster only
    diverse = select_batch(scores, 3, embedding=embedding)
    assert set(diverse // 20) == {0, 1, 2}
    assert scores[diverse[0]] == scores.max()


def test_batch_thompson_takes_one_draw_per_pick():
    from matlattice.discovery.acquisition import thompson_batch

    # each draw (row) prefers a different candidate; the batch should not be one row's top-3
    draws = np.array([[5.0, 1, 0, 0, 0], [0, 5.0, 1, 0, 0], [0, 0, 5.0, 1, 0], [0, 0, 0, 5.0, 1]])
    picks = thompson_batch(draws, 3, np.random.default_rng(0))
    assert len(set(picks.tolist())) == 3
    counts = [set(thompson_batch(draws, 3, np.random.default_rng(s)).tolist()) for s in range(20)]
    assert len(set(map(frozenset, counts))) > 1  # different draws, different batches
    assert set(thompson_batch(draws, 9, np.random.default_rng(0)).tolist()) == set(range(5))
    np.testing.assert_array_equal(
        thompson_batch(-draws, 1, np.random.default_rng(3), goal="min"),
        thompson_batch(draws, 1, np.random.default_rng(3)),
    )
