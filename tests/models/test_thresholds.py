"""Balanced decision thresholds on planted imbalanced scores, over many draws."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from matlattice.errors import InvalidParameterError
from matlattice.models.thresholds import balanced_threshold, check_decision_threshold


@pytest.mark.parametrize("seed", range(20))
def test_the_balanced_cut_is_the_best_cut_and_beats_half_on_imbalanced_scores(seed):
    rng = np.random.default_rng(seed)
    labels = (rng.random(400) < 0.15).astype(float)  # 15 % positives
    proba = np.clip(0.2 + 0.3 * labels + rng.normal(0, 0.12, 400), 0, 1)  # shifted low
    cut = balanced_threshold(labels, proba)
    chosen = balanced_accuracy_score(labels, proba >= cut)
    above = proba[None, :] >= np.linspace(0, 1, 1001)[:, None]  # every cut of a fine grid
    positive = labels.astype(bool)
    grid = (above[:, positive].mean(axis=1) + (~above[:, ~positive]).mean(axis=1)) / 2
    assert chosen >= grid.max() - 1e-12  # no cut on the grid does better
    assert chosen > balanced_accuracy_score(labels, proba >= 0.5) + 0.05


def test_degenerate_inputs_keep_half_and_nan_rows_are_left_out():
    assert balanced_threshold(np.zeros(5), np.linspace(0, 1, 5)) == 0.5
    labels = np.array([0, 0, 1, 1, np.nan])
    proba = np.array([0.1, 0.2, 0.3, 0.4, 0.9])
    assert 0.2 < balanced_threshold(labels, proba) <= 0.3
    with pytest.raises(InvalidParameterError, match="'best'"):
        check_decision_threshold("best")


def _imbalanced(seed: int):
    """Planted binary compounds labelled 1 in the top 20 % of a known function."""
    from test_estimator import planted_frame  # tests/models is on sys.path

    frame = planted_frame(seed)
    frame["label"] = (frame["t1"] >= frame["t1"].quantile(0.8)).astype(float)
    return frame.iloc[::2], frame.iloc[1::2]


def test_a_forest_with_balanced_cuts_scores_higher_balanced_accuracy_over_draws():
    from matlattice.models import MultiTaskForest

    gains = []
    for seed in range(6):
        train, test = _imbalanced(seed)
        scores = {}
        for mode in ("half", "balanced"):
            forest = MultiTaskForest(n_estimators=100, task_types=("classification",),
                                     random_state=seed, n_jobs=1,
                                     decision_threshold=mode)  # fmt: skip
            forest.fit(train["formula"].tolist(), train[["label"]])
            labels = forest.predict(test["formula"].tolist())[:, 0]
            scores[mode] = balanced_accuracy_score(test["label"], labels)
            assert (forest.thresholds_[0] == 0.5) == (mode == "half")
        gains.append(scores["balanced"] - scores["half"])
    assert np.mean(gains) > 0.005 and min(gains) > -0.02, gains  # measured: +0.010, 5 of 6 up


def test_forest_thresholds_survive_saving(tmp_path):
    from matlattice.models import MultiTaskForest

    train, test = _imbalanced(0)
    forest = MultiTaskForest(n_estimators=50, task_types=("classification",), n_jobs=1,
                             decision_threshold="balanced")  # fmt: skip
    forest.fit(train["formula"].tolist(), train[["label"]])
    again = MultiTaskForest.load(forest.save(tmp_path / "f"))
    assert again.thresholds_ == forest.thresholds_
    formulas = test["formula"].tolist()
    np.testing.assert_array_equal(again.predict(formulas), forest.predict(formulas))


@pytest.mark.slow
def test_a_network_classifier_cuts_at_its_validation_threshold_and_keeps_it(tmp_path):
    from matlattice.models import LatticeClassifier, LatticeRegressor

    train, test = _imbalanced(0)
    model = LatticeClassifier("mlp", latent_dim=4, hidden=(32,), epochs=30, patience=30,
                              decision_threshold="balanced", num_threads=1)  # fmt: skip
    model.fit(train[["formula", "label"]])
    cut = model.thresholds_[0]
    assert 0.0 <= cut <= 1.0
    formulas = test["formula"].tolist()
    np.testing.assert_array_equal(model.predict(formulas),
                                  (model.predict_proba(formulas) >= cut).astype(int))  # fmt: skip
    again = LatticeClassifier.load(model.save(tmp_path / "m"))
    assert again.thresholds_ == model.thresholds_
    np.testing.assert_array_equal(again.predict(formulas), model.predict(formulas))
    with pytest.raises(InvalidParameterError, match="for classifiers"):
        LatticeRegressor("mlp", decision_threshold="balanced").fit(train[["formula", "t1"]])
