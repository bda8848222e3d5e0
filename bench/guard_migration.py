"""Re-predict ``bench/multitask.py`` run folders saved before the extrapolation guards.

The guards (MLP inputs clipped to the training box, predictions to the training range widened
by half its width: :mod:`matlattice.models.networks.inputs`,
:mod:`matlattice.models.estimator.scaling`) were added after some committed runs had trained.
Training is unchanged by them, so such a run is migrated, not retrained: each saved model
gets the guards it would have had, recomputed from the rows it was fitted on and accepted only
when the recomputed input and target scalings equal the saved ones; then the test part is
re-predicted and the run's ``metrics.json`` rewritten. ``bench/multitask.py --rescore`` does
this for every finished run it reuses (the committed aflow and mp tables were made that way);
a fresh run has the guards already and is left alone.

Tested in ``tests/bench/test_guard_migration.py`` on a run folder written in the old format.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from matlattice.data import load_dataset
from matlattice.jobs.config import FitConfig
from matlattice.jobs.parts import split_labels, train_val
from matlattice.jobs.predict import load_run_models
from matlattice.jobs.scoring import score_task
from matlattice.models import TargetScaler
from matlattice.models.networks.inputs import FeatureStandardizer
from matlattice.represent.composition_stats import as_fractions
from matlattice.runtime.files import atomic_write_json

__all__ = ["predates_guards", "rescore", "with_guards"]


def predates_guards(run: Path) -> bool:
    """Whether a run folder holds a saved MLP model without the input guards (no training
    box in its ``config.json``)."""
    for folder in Path(run).glob("model*"):
        standardizer = json.loads((folder / "config.json").read_text()).get("standardizer")
        if standardizer is not None and standardizer.get("low") is None:
            return True
    return False


def with_guards(model, fit_rows: pd.DataFrame, all_tasks: list[str]):
    """``model`` (loaded from a folder saved before the guards) given the guards it would have
    got, recomputed from the rows it was fitted on.

    ``fit_rows``: the run's early-stopping fit part (``formula`` and every task column). The
    input scaling is recomputed from the rows labelled for the model's own tasks, or, for a
    fine-tuned model (whose input scaling is its shared model's), from the rows labelled for
    any of ``all_tasks``; the one that reproduces the saved mean and std is kept. Raises
    ``RuntimeError`` when neither reproduces the saved input scaling or the recomputed target
    scalings differ from the saved ones: the rows are not the ones the model was fitted on.
    """
    rows = fit_rows[["formula", *model.tasks_]].dropna(subset=model.tasks_, how="all")
    shared_rows = fit_rows.dropna(subset=all_tasks, how="all")
    saved = model.standardizer_
    for candidate in (rows, shared_rows):
        fractions = as_fractions(candidate["formula"].tolist())
        standardizer = FeatureStandardizer.fit(fractions, model.feature_table)
        if (standardizer.mean, standardizer.std) == (saved.mean, saved.std):
            break
    else:
        raise RuntimeError(f"no fit rows of {model.tasks_} reproduce the saved input scaling")
    scalers = [
        TargetScaler.fit(
            rows[t].to_numpy(float), transform=model.target_transform, spread=model.target_scale
        )
        for t in model.tasks_
    ]
    if [(s.transform, s.center, s.scale) for s in scalers] != [
        (s.transform, s.center, s.scale) for s in model.scalers_
    ]:
        raise RuntimeError(f"the fit rows of {model.tasks_} do not reproduce the target scaling")
    model.standardizer_, model.scalers_ = standardizer, scalers
    return model


def rescore(config: FitConfig, run: Path) -> dict:
    """Re-predict the test part of the run folder ``run`` (made by ``fit_run(config, run)``
    before the guards) with its saved models given their guards, and rewrite its test metrics
    in ``metrics.json`` (marked ``"rescored"``). Returns the new metrics."""
    run = Path(run)
    metrics = json.loads((run / "metrics.json").read_text())
    ds = load_dataset(config.data, clean=config.clean, split_seed=config.seed)
    frame = split_labels(ds, metrics["split"], config.seed)
    test = frame[frame["_part"] == "test"]
    fit_rows, _ = train_val(frame[frame["_part"] != "test"])
    tasks = list(metrics["tasks"])
    formulas = test["formula"].tolist()
    for model in load_run_models(run):
        pred = with_guards(model, fit_rows, tasks).predict(formulas).reshape(len(test), -1)
        for j, task in enumerate(model.tasks_):
            labelled = test[task].notna().to_numpy()
            new = score_task("regression", test[task].to_numpy(float)[labelled], pred[labelled, j])
            metrics["tasks"][task] = {**metrics["tasks"][task], **new}
    metrics["rescored"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "why": "extrapolation guards added after training; the training is unchanged",
    }
    atomic_write_json(run / "metrics.json", metrics)
    return metrics
