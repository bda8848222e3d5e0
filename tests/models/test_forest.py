import json

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from matlattice.errors import MatlatticeError
from matlattice.models import MultiTaskForest, forest_to_arrays

FORMULAS = [
    "NaCl",
    "KCl",
    "LiF",
    "MgO",
    "CaO",
    "SrO",
    "BaO",
    "NaBr",
    "KBr",
    "LiCl",
    "Fe2O3",
    "Al2O3",
    "TiO2",
    "ZnO",
    "GaN",
    "AlN",
    "Si",
    "Ge",
    "Cu",
    "Ag",
]


def test_flat_arrays_predict_exactly_like_sklearn():
    rng = np.random.default_rng(0)
    X, Xt = rng.normal(size=(400, 8)), rng.normal(size=(300, 8))
    y = X[:, 0] + np.sin(3 * X[:, 1])
    reg = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, y)
    np.testing.assert_allclose(
        forest_to_arrays(reg).predict(Xt)[:, 0], reg.predict(Xt), rtol=0, atol=1e-12
    )
    clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y > 0)
    np.testing.assert_allclose(forest_to_arrays(clf).predict(Xt), clf.predict_proba(Xt), atol=1e-12)


def test_masked_multitask_fit_save_load(tmp_path):
    rng = np.random.default_rng(1)
    y = np.column_stack([rng.normal(size=20), (rng.random(20) > 0.5).astype(float)])
    y[::4, 0] = np.nan  # unlabelled for task 0
    model = MultiTaskForest(n_estimators=15, n_jobs=1).fit(FORMULAS, y)
    assert model.task_types_ == ["regression", "classification"]
    assert model.n_train_ == [15, 20]
    pred = model.predict(FORMULAS[:5])
    proba = model.predict_proba(FORMULAS[:5])
    assert pred.shape == (5, 2) and set(pred[:, 1]) <= {0.0, 1.0}
    assert np.isnan(proba[:, 0]).all() and ((proba[:, 1] >= 0) & (proba[:, 1] <= 1)).all()
    sk = model.sklearn_forests_[0]
    from matlattice.represent import ElementStatsFeaturizer

    feats = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(FORMULAS[:5])
    np.testing.assert_allclose(pred[:, 0], sk.predict(feats), atol=1e-12)
    folder = model.save(tmp_path / "model")
    loaded = MultiTaskForest.load(folder)
    np.testing.assert_array_equal(loaded.predict(FORMULAS[:5]), pred)
    assert not list(folder.glob("*.pkl"))


def test_load_rejects_other_versions(tmp_path):
    model = MultiTaskForest(n_estimators=3, n_jobs=1).fit(FORMULAS, np.arange(20.0))
    folder = model.save(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["format_version"] = 99
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(MatlatticeError, match="format version 99"):
        MultiTaskForest.load(folder)
    with pytest.raises(MatlatticeError, match=r"missing config\.json"):
        MultiTaskForest.load(tmp_path / "nowhere")


def test_tree_spread_is_the_std_of_the_trees():
    rng = np.random.default_rng(1)
    X, Xt = rng.normal(size=(300, 5)), rng.normal(size=(50, 5))
    reg = RandomForestRegressor(n_estimators=15, random_state=0).fit(X, X[:, 0] ** 2)
    mean, std = forest_to_arrays(reg).predict(Xt, return_std=True)
    trees = np.stack([t.predict(Xt.astype(np.float32)) for t in reg.estimators_])
    np.testing.assert_allclose(mean[:, 0], trees.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(std[:, 0], trees.std(axis=0), atol=1e-12)
    assert std.mean() > 0
    np.testing.assert_allclose(forest_to_arrays(reg).tree_values(Xt)[:, :, 0], trees.T, atol=1e-12)


def test_predict_trees_gives_every_tree_of_every_task():
    formulas = ["NaCl", "KCl", "LiF", "MgO", "CaO", "SrO", "BaO", "NaF", "KBr", "CsI"] * 3
    y = np.column_stack([np.arange(30.0), np.arange(30.0) % 7])
    model = MultiTaskForest(n_estimators=12, random_state=0).fit(formulas, y)
    trees = model.predict_trees(["NaBr", "CaS"])
    assert trees.shape == (12, 2, 2)
    np.testing.assert_allclose(trees.mean(axis=0), model.predict(["NaBr", "CaS"]), atol=1e-12)
