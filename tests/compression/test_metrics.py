"""Fidelity measures on inputs with a known answer."""

import numpy as np
import pytest

from matlattice.compression import (
    adaptive_width,
    knee_dim,
    knn_overlap,
    linear_cka,
    miscalibration_area,
    normalised_fidelity,
    pareto_front,
    per_sample_knn_overlap,
    recommended_dim,
)


@pytest.fixture()
def points():
    return np.random.default_rng(0).standard_normal((400, 6))


def test_knn_overlap_is_one_for_isometries_and_low_for_noise(points):
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    assert knn_overlap(points, 3.0 * points @ q + 5.0, k=10) == pytest.approx(1.0)
    noise = np.random.default_rng(2).standard_normal((400, 6))
    # unrelated points share about k / (n - 1) of their neighbours by chance
    assert knn_overlap(points, noise, k=10) < 0.08
    # dropping dimensions loses neighbours, dropping more loses more
    assert knn_overlap(points, points[:, :2]) < knn_overlap(points, points[:, :4]) < 1.0
    per = per_sample_knn_overlap(points, points[:, :4], k=5)
    assert per.shape == (400,) and set(np.unique(per * 5)) <= set(range(6))


def test_knn_overlap_handles_duplicate_points():
    x = np.repeat(np.arange(30.0)[:, None], 2, axis=0)  # every point twice
    assert knn_overlap(x, x, k=3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="k=60"):
        knn_overlap(x, x, k=60)


def test_linear_cka(points):
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((6, 6)))
    assert linear_cka(points, 2.0 * points @ q) == pytest.approx(1.0)
    # isotropic 6-d data against 3 of its axes: 3 / sqrt(6 * 3) = 1 / sqrt(2)
    assert linear_cka(points, points[:, :3]) == pytest.approx(np.sqrt(0.5), abs=0.05)
    assert linear_cka(points, np.random.default_rng(4).standard_normal((400, 6))) < 0.1


def test_miscalibration_area():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(20000)
    mean = np.zeros_like(y)
    assert miscalibration_area(y, mean, np.ones_like(y)) < 0.01  # calibrated
    over = miscalibration_area(y, mean, 0.2 * np.ones_like(y))  # overconfident
    under = miscalibration_area(y, mean, 5.0 * np.ones_like(y))  # underconfident
    assert over > 0.25 and under > 0.25
    y[:10] = np.nan
    assert np.isfinite(miscalibration_area(y, mean, np.ones_like(y)))


def test_normalised_fidelity():
    assert normalised_fidelity(0.5, floor=1.0, ceiling=0.0) == pytest.approx(0.5)  # an MAE
    assert normalised_fidelity(0.75, floor=0.5, ceiling=1.0) == pytest.approx(0.5)  # ROC-AUC
    assert normalised_fidelity(2.0, floor=1.0, ceiling=0.0) == 0.0
    assert normalised_fidelity(-1.0, floor=1.0, ceiling=0.0) == 1.0
    assert np.isnan(normalised_fidelity(1.0, floor=1.0, ceiling=1.0))


def test_choosing_a_width():
    dims = [1, 2, 4, 8, 16, 32]
    fid = [0.2, 0.5, 0.8, 0.985, 0.99, 1.0]
    assert recommended_dim(dims, fid) == 8
    assert recommended_dim(dims, fid, threshold=0.999) == 32
    assert knee_dim(dims, fid) in (4, 8)
    assert pareto_front([1, 2, 3, 4], [0.5, 0.4, 0.9, 0.9]) == [0, 2]
    visited = []

    def evaluate(d):
        visited.append(d)
        return dict(zip(dims, fid, strict=True))[d]

    chosen, path = adaptive_width(evaluate, dims, beta=0.05)
    # 8 -> 16 gains 0.005 < 0.05 x 1: stop at 8, never train 32
    assert chosen == 8 and visited == [1, 2, 4, 8, 16]
    assert [s["accepted"] for s in path] == [True, True, True, True, False]
    assert adaptive_width(evaluate, dims, beta=0.0)[0] == 32
    with pytest.raises(ValueError, match="alpha=0"):
        adaptive_width(evaluate, dims, alpha=0)
