"""The migration in ``bench/guard_migration.py``: a ``bench/multitask.py`` run folder saved
before the extrapolation guards is re-predicted with the guards its models would have got.

The old format is built for real: a fit run with guards, then the guards removed from the saved
models' ``config.json`` (what a run trained before them holds). Migrating must give back
exactly the guards and the test metrics of the guarded run, and refuse rows that are not the
ones the model was fitted on."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matlattice.data import load_dataset
from matlattice.jobs.config import FitConfig
from matlattice.jobs.fit import fit_run
from matlattice.jobs.parts import split_labels, train_val
from matlattice.jobs.predict import load_run_models

BENCH = Path(__file__).resolve().parents[2] / "bench"
CATIONS = ("Li", "Na", "K", "Mg", "Ca", "Al", "Ga", "Si", "Ti", "Fe", "Ni", "Cu", "Zn")
ANIONS = ("O", "S", "F", "Cl", "N")
RATIOS = ((1, 1), (1, 2), (2, 1), (2, 3), (3, 2), (1, 3))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


migration = _load("guard_migration")


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory) -> tuple[FitConfig, Path, dict]:
    """A finished fit run (two tasks, MLP, with guards) on a small user file, its metrics."""
    folder = tmp_path_factory.mktemp("guards")
    rng = np.random.default_rng(0)
    formulas = [f"{c}{a}{b}{x}" for c in CATIONS for b in ANIONS for a, x in RATIOS]
    frame = pd.DataFrame(
        {
            "formula": formulas,
            "band_gap": rng.gamma(2.0, 1.0, len(formulas)),
            "energy": rng.normal(-1.0, 0.5, len(formulas)),
        }
    )
    frame.loc[::7, "energy"] = np.nan  # tasks labelled on different rows
    data = folder / "toy.csv"
    frame.to_csv(data, index=False)
    config = FitConfig(
        data=str(data),
        model="mlp",
        tasks=("band_gap", "energy"),
        clean=True,
        latent_dim=4,
        epochs=3,
        patience=3,
        batch_size=64,
        seed=0,
    )
    run = folder / "run"
    return config, run, fit_run(config, run)


def _make_old(run: Path) -> None:
    """Rewrite the run folder as one trained before the guards: its saved models without
    them, its test metrics from unguarded predictions (here: a value no model gives)."""
    for path in run.glob("model*/config.json"):
        saved = json.loads(path.read_text())
        for key in ("low", "high"):
            saved["standardizer"].pop(key)
            for scaler in saved["scalers"]:
                scaler.pop(key)
        path.write_text(json.dumps(saved))
    metrics = json.loads((run / "metrics.json").read_text())
    for scores in metrics["tasks"].values():
        scores["mae"] = 1e9
    (run / "metrics.json").write_text(json.dumps(metrics))


@pytest.mark.slow
def test_a_run_saved_before_the_guards_is_rescored_to_the_guarded_metrics(guarded_run):
    config, run, metrics = guarded_run
    assert not migration.predates_guards(run)
    (guarded,) = load_run_models(run)
    _make_old(run)
    assert migration.predates_guards(run)
    (old,) = load_run_models(run)
    assert old.standardizer_.low is None and old.scalers_[0].high is None

    rescored = migration.rescore(config, run)

    assert "rescored" in rescored
    for task in config.tasks:
        assert rescored["tasks"][task]["mae"] == metrics["tasks"][task]["mae"]
    assert json.loads((run / "metrics.json").read_text()) == rescored
    ds = load_dataset(config.data, clean=True, split_seed=config.seed)
    frame = split_labels(ds, metrics["split"], config.seed)
    fit_rows, _ = train_val(frame[frame["_part"] != "test"])
    migrated = migration.with_guards(old, fit_rows, list(config.tasks))
    assert migrated.standardizer_ == guarded.standardizer_
    assert migrated.scalers_ == guarded.scalers_


def test_rows_the_model_was_not_fitted_on_are_refused(guarded_run):
    config, run, _ = guarded_run
    (model,) = load_run_models(run)
    rows = pd.read_csv(config.data).head(100)
    with pytest.raises(RuntimeError, match="input scaling"):
        migration.with_guards(model, rows, list(config.tasks))
