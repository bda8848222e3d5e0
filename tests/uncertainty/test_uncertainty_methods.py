"""Metrics, recalibration and conformal intervals on planted noise with a known answer."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold

from matlattice.errors import NotFittedError
from matlattice.uncertainty import (
    error_calibration_curve,
    gaussian_nll,
    interval_coverage,
    miscalibration_area,
    spread_error_spearman,
    uncertainty_report,
)
from matlattice.uncertainty.conformal import SplitConformal, conformal_quantile, cv_plus_interval
from matlattice.uncertainty.recalibrate import IsotonicRecalibration, VarianceScaling


def planted(n=20_000, seed=0, laplace=False):
    """Targets around a known mean with a known per-row noise scale over one decade."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=n)
    sigma = 10 ** rng.uniform(-1, 0, n)
    noise = rng.laplace(size=n) / np.sqrt(2) if laplace else rng.normal(size=n)  # unit var
    return mean + sigma * noise, mean, sigma


def test_true_spread_is_calibrated_by_every_metric():
    y, mean, sigma = planted()
    assert miscalibration_area(y, mean, sigma) < 0.01
    z = norm.ppf(0.95)
    coverage, width = interval_coverage(y, mean - z * sigma, mean + z * sigma)
    assert coverage == pytest.approx(0.9, abs=0.01)
    assert width == pytest.approx(2 * z * sigma.mean(), rel=1e-9)
    expected_nll = np.mean(0.5 * np.log(2 * np.pi * sigma**2)) + 0.5
    assert gaussian_nll(y, mean, sigma) == pytest.approx(expected_nll, abs=0.02)
    assert spread_error_spearman(y, mean, sigma) > 0.3
    rmv, rmse = error_calibration_curve(y, mean, sigma)
    np.testing.assert_allclose(rmse, rmv, rtol=0.1)
    # a constant spread ranks nothing, an overconfident one is far off
    assert np.isnan(spread_error_spearman(y, mean, np.ones_like(y)))
    assert miscalibration_area(y, mean, 0.4 * sigma) > 0.2


def test_report_skips_unlabelled_rows_and_uses_given_intervals():
    y, mean, sigma = planted(2000)
    y[::10] = np.nan
    report = uncertainty_report(y, mean, sigma, intervals={0.9: (mean - 100, mean + 100)})
    assert report["n"] == 1800
    assert report["coverage"]["0.9"] == 1.0 and report["interval_width"]["0.9"] == 200
    assert report["coverage"]["0.5"] == pytest.approx(0.5, abs=0.04)
    assert set(report) >= {"mae", "rmse", "nll", "miscalibration_area", "error_calibration"}


def test_variance_scaling_recovers_the_planted_factor():
    y, mean, sigma = planted()
    half = len(y) // 2
    scaled = VarianceScaling().fit(y[:half], mean[:half], 0.4 * sigma[:half])
    assert scaled.factor_ == pytest.approx(2.5, rel=0.03)
    fixed = scaled.std(mean[half:], 0.4 * sigma[half:])
    assert miscalibration_area(y[half:], mean[half:], fixed) < 0.01
    with pytest.raises(NotFittedError):
        VarianceScaling().std(mean, sigma)


def test_isotonic_fixes_a_non_gaussian_shape_variance_scaling_cannot():
    y, mean, sigma = planted(laplace=True)
    half = len(y) // 2
    cal, test = slice(0, half), slice(half, None)
    gaps = {}
    for name, method in (("scale", VarianceScaling()), ("iso", IsotonicRecalibration())):
        method.fit(y[cal], mean[cal], sigma[cal])
        gaps[name] = max(
            abs(interval_coverage(y[test], *method.interval(mean[test], sigma[test], c))[0] - c)
            for c in (0.5, 0.8, 0.9, 0.95)
        )
    assert gaps["iso"] < 0.015 < 0.08 < gaps["scale"], gaps


def test_conformal_quantile_ranks():
    scores = np.arange(1.0, 10.0)  # n = 9
    assert conformal_quantile(scores, 0.9) == 9.0  # ceil(10 * 0.9) = 9th
    assert conformal_quantile(scores, 0.5) == 5.0
    assert conformal_quantile(scores[:5], 0.9) == np.inf  # too few rows for 90 %
    with pytest.raises(ValueError, match=r"coverage=1\.5"):
        conformal_quantile(scores, 1.5)


def test_split_conformal_covers_and_normalised_is_sharper():
    y, mean, sigma = planted(seed=1)
    cal, test = slice(0, 5000), slice(5000, None)
    widths, noisiest = {}, {}
    top = sigma[test] > np.quantile(sigma[test], 0.75)  # the noisiest quarter
    for normalised in (False, True):
        conformal = SplitConformal(normalised).fit(y[cal], mean[cal], 3 * sigma[cal])
        lo, hi = conformal.interval(mean[test], 3 * sigma[test], coverage=0.9)
        coverage, widths[normalised] = interval_coverage(y[test], lo, hi)
        assert coverage == pytest.approx(0.9, abs=0.015)
        noisiest[normalised] = interval_coverage(y[test][top], lo[top], hi[top])[0]
    # the spread carries information: narrower on average, and still covering where the
    # noise is large, where one fixed width under-covers
    assert widths[True] < 0.9 * widths[False]
    assert noisiest[False] < 0.8 and noisiest[True] == pytest.approx(0.9, abs=0.02)
    with pytest.raises(ValueError, match="needs the predicted std"):
        SplitConformal(True).fit(y, mean)


def test_cv_plus_covers_with_fold_models():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=600)
    x_new = rng.normal(size=(4000, 3))
    y_new = x_new @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=4000)
    folds = np.empty(600, dtype=int)
    residuals = np.empty(600)
    predictions = []
    for k, (train, held) in enumerate(KFold(5, shuffle=True, random_state=0).split(x)):
        model = LinearRegression().fit(x[train], y[train])
        folds[held] = k
        residuals[held] = np.abs(y[held] - model.predict(x[held]))
        predictions.append(model.predict(x_new))
    lo, hi = cv_plus_interval(np.stack(predictions), folds, residuals, coverage=0.9)
    coverage, width = interval_coverage(y_new, lo, hi)
    assert 0.88 <= coverage <= 0.93
    assert width == pytest.approx(2 * norm.ppf(0.95), rel=0.1)  # unit noise: +-1.645
