"""Extremely randomised trees and element-fraction features for the forest: a property set by
a few dopants at small fractions (as in steels) is read from the fractions, not the averages."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesRegressor

from matlattice.errors import InvalidParameterError
from matlattice.models import MultiTaskForest, forest_to_arrays
from matlattice.represent import FractionFeaturizer

DOPANTS = ("C", "Mn", "Ni", "Cr", "Mo", "Co", "Ti", "Al")


def planted_alloys(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Iron with up to four of ``DOPANTS`` at 0-8 %; the property is set by carbon and nickel
    alone (plus 2 % noise): the other dopants move the averages, not the property."""
    rng = np.random.default_rng(seed)
    formulas, values = [], []
    for _ in range(n):
        chosen = rng.choice(len(DOPANTS), size=rng.integers(1, 5), replace=False)
        fractions = rng.uniform(0.002, 0.08, len(chosen))
        amounts = {DOPANTS[k]: x for k, x in zip(chosen, fractions, strict=True)}
        iron = 1.0 - sum(amounts.values())
        formulas.append(f"Fe{iron:.4f}" + "".join(f"{e}{x:.4f}" for e, x in amounts.items()))
        values.append(10000 * amounts.get("C", 0.0) + 3000 * amounts.get("Ni", 0.0))
    y = np.asarray(values)
    return formulas, y + 0.02 * y.std() * rng.standard_normal(n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fractions_read_the_dopants_that_statistics_wash_out(seed):
    formulas, y = planted_alloys(400, seed)
    train, test = slice(0, 300), slice(300, None)
    errors = {}
    for forest in ("random", "extra"):
        for features in ("stats", "fractions"):
            model = MultiTaskForest(forest=forest, features=features, n_estimators=100, n_jobs=1)
            model.fit(formulas[train], y[train])
            errors[forest, features] = np.abs(model.predict(formulas[test])[:, 0] - y[test]).mean()
    for forest in ("random", "extra"):
        assert errors[forest, "fractions"] < 0.7 * errors[forest, "stats"], errors


def test_extra_trees_predict_like_sklearn_and_survive_save_load(tmp_path):
    formulas, y = planted_alloys(120, 3)
    model = MultiTaskForest(forest="extra", features="fractions", n_estimators=20, n_jobs=1)
    model.fit(formulas, y)
    assert isinstance(model.sklearn_forests_[0], ExtraTreesRegressor)
    features = FractionFeaturizer().fit().transform(formulas)
    np.testing.assert_allclose(
        model.predict(formulas)[:, 0], model.sklearn_forests_[0].predict(features), atol=1e-9
    )
    flat = forest_to_arrays(model.sklearn_forests_[0]).predict(features)[:, 0]
    np.testing.assert_allclose(flat, model.predict(formulas)[:, 0], atol=1e-12)
    loaded = MultiTaskForest.load(model.save(tmp_path / "m"))
    assert (loaded.forest, loaded.features) == ("extra", "fractions")
    np.testing.assert_array_equal(loaded.predict(formulas), model.predict(formulas))
    assert loaded.oob_ == [None]
    with pytest.raises(InvalidParameterError, match="random forest with out_of_bag=True"):
        loaded.calibrate()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"forest": "gradient"}, "forest='gradient'"),
        ({"features": "magpie"}, "features='magpie'"),
        ({"forest": "extra", "out_of_bag": True}, "out_of_bag=True with forest='extra'"),
        (
            {"forest": "extra", "decision_threshold": "balanced"},
            "decision_threshold='balanced' with forest='extra'",
        ),
    ],
)
def test_forest_options_are_refused_by_name(options, named):
    formulas, y = planted_alloys(30, 4)
    with pytest.raises(InvalidParameterError, match=named):
        MultiTaskForest(n_estimators=5, n_jobs=1, **options).fit(formulas, y)
