"""The negative-transfer gate on out-of-fold errors: paired composition folds, the error it
reads, and the choice it makes on planted tasks."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.data.synthetic_tasks import planted_tasks
from matlattice.models import LatticeRegressor
from matlattice.models.estimator.members import composition_folds
from matlattice.multitask.fine_tuning import fit_fine_tuned
from matlattice.multitask.gate import (
    out_of_fold_mae,
    out_of_fold_residuals,
    paired_gain_interval,
    validation_mae,
)
from matlattice.multitask.helpers import fit_with_helpers


@pytest.fixture(scope="module")
def planted(aflow):
    formulas = aflow.frame["formula"].drop_duplicates().sample(4000, random_state=1).tolist()
    return planted_tasks(formulas, n_groups=1, sparse_fraction=0.05, seed=1)


def test_a_composition_keeps_its_fold_whatever_rows_are_folded():
    keys = np.array([f"Fe{i} O{j}" for i in range(200) for j in range(50)])
    folds = composition_folds(keys, 5, seed=0)
    sizes = np.bincount(folds, minlength=5)
    assert sizes.min() > 0.9 * len(keys) / 5, sizes  # equal up to hashing noise
    subset = np.random.default_rng(0).permutation(len(keys))[:700]
    np.testing.assert_array_equal(composition_folds(keys[subset], 5, seed=0), folds[subset])
    repeated = np.concatenate([keys[:10], keys[:10]])  # a composition is never split
    np.testing.assert_array_equal(composition_folds(repeated, 5, 0)[:10], folds[:10])
    assert (composition_folds(keys, 5, seed=1) == folds).mean() < 0.3  # the seed reshuffles


@pytest.mark.slow
def test_the_out_of_fold_gate_keeps_the_lower_out_of_fold_error(planted):
    frame = planted.frame[["formula", "g0_0", "g0_sparse", "indep"]]
    is_val = np.random.default_rng(0).random(len(frame)) < 0.15
    train, val = frame[~is_val], frame[is_val]
    base = LatticeRegressor(
        "mlp", latent_dim=8, epochs=25, patience=10, ensemble=3, cv_members=True, random_state=0
    )
    tasks = ["g0_sparse", "indep"]
    result = fit_with_helpers(base, train, val, {t: ["g0_0"] for t in tasks}, tasks)

    for task in tasks:
        decision = result.decisions[task]
        assert decision["gate_on"] == "out_of_fold"
        better = min(decision["oof_mae_with_helpers"], decision["oof_mae_alone"])
        assert decision["oof_mae_" + decision["chosen"]] == better, (task, decision)
        model = result.models[task]
        assert out_of_fold_mae(model, task) == pytest.approx(better)
        assert validation_mae(model, val, task) == pytest.approx(
            decision["val_mae_" + decision["chosen"]]
        )
        # every labelled training row is scored once, by the member that never saw it
        labelled = int(train[task].notna().sum())
        assert int(np.isfinite(model.cv_residuals_[:, 0]).sum()) == labelled
        low, high = decision["oof_gain_ci90"]
        assert low < decision["oof_gain"] < high
    # the two arms' out-of-fold errors are paired row by row: the same materials are hard
    sparse_alone = fit_with_helpers(base, train, val, {}, ["g0_sparse"]).models["g0_sparse"]
    errors = [
        out_of_fold_residuals(m, "g0_sparse") for m in (result.models["g0_sparse"], sparse_alone)
    ]
    r = np.corrcoef(*errors)[0, 1]
    shuffled = np.corrcoef(errors[0], np.random.default_rng(0).permutation(errors[1]))[0, 1]
    assert r > 0.6 and abs(shuffled) < 0.3, (r, shuffled)  # measured 0.86, 0.15
    # ~170 labels of a property sharing its hidden factors with a plentiful helper
    sparse = result.decisions["g0_sparse"]
    assert sparse["chosen"] == "with_helpers" and sparse["oof_gain"] > 0.05, sparse

    plain = LatticeRegressor("mlp", latent_dim=8, epochs=2).fit(train[["formula", "indep"]])
    with pytest.raises(ValueError, match="cv_members=True"):
        out_of_fold_mae(plain, "indep")


@pytest.mark.slow
def test_gate_folds_judge_by_cross_validation_then_retrain_the_kept_arm(planted, tmp_path):
    frame = planted.frame[["formula", "g0_0", "g0_sparse", "indep"]]
    is_val = np.random.default_rng(0).random(len(frame)) < 0.15
    train, val = frame[~is_val], frame[is_val]
    base = LatticeRegressor("mlp", latent_dim=8, epochs=15, patience=10, random_state=0)
    tasks = ["g0_sparse", "indep"]
    result = fit_with_helpers(
        base,
        train,
        val,
        {t: ["g0_0"] for t in tasks},
        tasks,
        gate_folds=3,
        checkpoint_dir=tmp_path,
    )
    for task in tasks:
        decision = result.decisions[task]
        assert decision["gate_on"] == "out_of_fold" and decision["gate_folds"] == 3
        better = min(decision["oof_mae_with_helpers"], decision["oof_mae_alone"])
        assert decision["oof_mae_" + decision["chosen"]] == better, (task, decision)
        kept = result.models[task]  # retrained on every training row with base's settings
        assert kept.ensemble == 1 and kept.cv_residuals_ is None
        assert validation_mae(kept, val, task) == pytest.approx(decision["val_mae_kept"])
        if decision["chosen"] == "alone":  # the very model a plain single-task fit gives
            plain = fit_with_helpers(base, train, val, {}, [task]).models[task]
            np.testing.assert_allclose(
                kept.predict(val["formula"].tolist()), plain.predict(val["formula"].tolist())
            )
    chosen = {t: d["chosen"] for t, d in result.decisions.items()}
    assert chosen == {"g0_sparse": "with_helpers", "indep": "alone"}  # both branches seen
    assert (tmp_path / "g0_sparse" / "with_helpers_cv").is_dir()
    assert (tmp_path / "g0_sparse" / "alone_cv").is_dir()
    with pytest.raises(ValueError, match="gate_folds=1"):
        fit_with_helpers(base, train, val, {"indep": ["g0_0"]}, ["indep"], gate_folds=1)


@pytest.mark.slow
def test_fine_tuning_with_gate_folds_keeps_a_retrained_arm(planted):
    tasks = ["g0_0", "g0_sparse"]
    frame = planted.frame[["formula", *tasks]]
    is_val = np.random.default_rng(0).random(len(frame)) < 0.15
    base = LatticeRegressor("mlp", latent_dim=8, epochs=10, patience=5, random_state=0)
    result = fit_fine_tuned(base, frame[~is_val], frame[is_val], tasks, epochs=5, gate_folds=2)
    for task, decision in result.decisions.items():
        assert decision["gate_on"] == "out_of_fold" and decision["gate_folds"] == 2
        assert decision["oof_mae_" + decision["chosen"]] == min(
            decision["oof_mae_fine_tuned"], decision["oof_mae_alone"]
        )
        assert result.models[task].cv_residuals_ is None and result.models[task].ensemble == 1


def test_the_paired_interval_covers_a_planted_gain_and_excludes_none():
    rng = np.random.default_rng(0)
    alone = rng.exponential(1.0, 5000)
    candidate = 0.9 * alone + rng.normal(0, 0.05, 5000)  # 10 % lower error, row by row
    low, high = paired_gain_interval(candidate, alone)
    assert 0.08 < low < 0.1 < high < 0.12
    same_low, same_high = paired_gain_interval(alone, alone)
    assert same_low == same_high == 0.0
    with pytest.raises(ValueError, match="equal 1-d shapes"):
        paired_gain_interval(candidate[:10], alone)
