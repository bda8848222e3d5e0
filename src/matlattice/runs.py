"""End-to-end jobs behind the CLI: fit a model on a dataset split, score it, predict with it.

A run folder holds everything needed to reproduce and reuse the job:
``config.json`` (every argument, versions, data source pins), ``metrics.json``,
``predictions.parquet`` (test rows), ``parity.png`` and ``model/`` (saved without pickle).
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from matlattice.composition import chemical_systems, composition_keys, parse_formulas
from matlattice.data import Dataset, load_dataset
from matlattice.data.fetch import SOURCES
from matlattice.data.splits import chemsys_split, cluster_split, random_split
from matlattice.io import atomic_write_json, atomic_write_table
from matlattice.models import MultiTaskForest
from matlattice.report.parity import save_parity_plot
from matlattice.represent import ElementStatsFeaturizer

__all__ = ["SPLITS", "FitConfig", "fit_run", "predict_run", "score_task"]

log = logging.getLogger(__name__)

SPLITS = ("official", "random", "chemsys", "cluster")


@dataclass(frozen=True)
class FitConfig:
    """Everything that defines a fit run; saved as ``config.json`` beside its results."""

    data: str
    tasks: tuple[str, ...] = ()
    split: str | None = None
    seed: int = 0
    clean: bool = False
    n_estimators: int = 500
    min_samples_leaf: int = 1
    folds: tuple[int, ...] = ()
    model: str = "rf_magpie"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, path: Path) -> FitConfig:
        raw = json.loads(Path(path).read_text())["config"]
        raw["tasks"] = tuple(raw["tasks"])
        raw["folds"] = tuple(raw["folds"])
        return cls(**raw)


def score_task(
    kind: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None
) -> dict[str, float]:
    """Test metrics of one task: MAE/RMSE/R² for regression; ROC-AUC/accuracy for classes.

    ``roc_auc`` uses predicted probabilities; ``balanced_accuracy`` uses hard labels (the
    number the Matbench leaderboard calls "ROC-AUC" for classification, matbench issue #137).
    """
    if kind == "regression":
        return {
            "mae": float(mean_absolute_error(y_true, y_pred)),
            "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
            "r2": float(r2_score(y_true, y_pred)),
        }
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
    }
    if proba is not None and len(np.unique(y_true)) == 2:
        out["roc_auc"] = float(roc_auc_score(y_true, proba))
    return out


def _split_labels(ds: Dataset, split: str, seed: int) -> pd.DataFrame:
    """Frame with a ``_part`` column (train/val/test) or ``fold`` column per row."""
    frame = ds.frame.copy()
    if split == "official":
        if "fold" in frame.columns:
            return frame
        if ds.info.kind in ("crabnet",) or ("split" in frame.columns and ds.info.kind == "user"):
            frame["_part"] = frame["split"]
            return frame
        raise ValueError(f"{ds.name} has no official split; use --split random, chemsys or cluster")
    fractions = parse_formulas(frame["formula"].tolist()).fractions
    if split == "random":
        frame["_part"] = random_split(composition_keys(fractions), seed=seed)
    elif split == "chemsys":
        frame["_part"] = chemsys_split(chemical_systems(fractions), seed=seed)
    elif split == "cluster":
        features = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(fractions)
        frame["_part"] = cluster_split(features, seed=seed)
    else:
        raise ValueError(f"split={split!r}; expected one of {SPLITS}")
    return frame.drop(columns=["fold"], errors="ignore")


def default_split(ds: Dataset) -> str:
    """``official`` where the dataset has one (CrabNet, Matbench), else ``random``."""
    if ds.info.kind in ("crabnet", "matbench") or (ds.info.kind == "user" and "split" in ds.frame):
        return "official"
    return "random"


def fit_run(
    config: FitConfig,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Fit the random-forest peer on ``config.data`` and write a run folder at ``out``.

    The test part (or each official test fold) is never seen in training; train and val are
    both used for fitting because this model has no model selection or early stopping.

    Returns
    -------
    dict
        The metrics written to ``out/metrics.json``:
        ``{"tasks": {name: {"mae", "rmse", "r2", "n_train", "n_test"}}}`` for regression,
        ``{"roc_auc", "accuracy", "balanced_accuracy", ...}`` for classification.
    """
    out = Path(out)
    ds = load_dataset(config.data, clean=config.clean, split_seed=config.seed)
    tasks = list(config.tasks) or ds.properties
    unknown = [t for t in tasks if t not in ds.properties]
    if unknown:
        raise ValueError(f"unknown tasks {unknown} for {ds.name}; it has {ds.properties}")
    split = config.split or default_split(ds)
    config = FitConfig(**{**asdict(config), "tasks": tuple(tasks), "split": split})
    frame = _split_labels(ds, split, config.seed)
    kinds = [ds.info.property(t).task for t in tasks]
    if "fold" in frame.columns:
        folds = list(config.folds) or list(range(int(frame["fold"].max()) + 1))
        parts = [(f"fold{k}", frame["fold"] != k, frame["fold"] == k) for k in folds]
    else:
        parts = [("test", frame["_part"] != "test", frame["_part"] == "test")]
    predictions = []
    per_part: list[dict] = []
    model = None
    for name, train_mask, test_mask in parts:
        train, test = frame[train_mask.to_numpy()], frame[test_mask.to_numpy()]
        model = MultiTaskForest(
            n_estimators=config.n_estimators,
            min_samples_leaf=config.min_samples_leaf,
            task_types=tuple(kinds),
            random_state=config.seed,
        )
        model.fit(
            train["formula"].tolist(),
            train[tasks],
            progress=(lambda t, n=name: progress(f"{n}: {t}")) if progress else None,
        )
        pred = model.predict(test["formula"].tolist())
        proba = model.predict_proba(test["formula"].tolist())
        scores = {}
        block = pd.DataFrame({"formula": test["formula"].to_numpy(), "part": name})
        for j, (task, kind) in enumerate(zip(tasks, kinds, strict=True)):
            labelled = test[task].notna().to_numpy()
            y_true = test[task].to_numpy(dtype=float)[labelled]
            metrics = score_task(
                kind,
                y_true,
                pred[labelled, j],
                proba[labelled, j] if kind == "classification" else None,
            )
            metrics.update(n_train=model.n_train_[j], n_test=int(labelled.sum()))
            scores[task] = metrics
            block[f"{task}_true"] = test[task].to_numpy(dtype=float)
            block[f"{task}_pred"] = pred[:, j]
            if kind == "classification":
                block[f"{task}_proba"] = proba[:, j]
        per_part.append({"part": name, "tasks": scores})
        predictions.append(block)
    metrics = _aggregate(per_part, tasks)
    metrics.update(
        dataset=ds.name, split=split, model=config.model, n_estimators=config.n_estimators
    )
    out.mkdir(parents=True, exist_ok=True)
    preds = pd.concat(predictions, ignore_index=True)
    atomic_write_table(out / "predictions.parquet", preds)
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_json(out / "config.json", _config_record(config, ds))
    if model is not None:
        model.save(out / "model")
    panels = [
        {
            "task": t,
            "unit": ds.info.property(t).unit,
            "y_true": preds[f"{t}_true"].dropna().to_numpy(),
            "y_pred": preds.loc[preds[f"{t}_true"].notna(), f"{t}_pred"].to_numpy(),
        }
        for t, k in zip(tasks, kinds, strict=True)
        if k == "regression"
    ]
    if panels:
        save_parity_plot(
            out / "parity.png",
            panels,
            title=f"{ds.name}: RF on Magpie statistics, {split} split, test part",
        )
    return metrics


def _aggregate(per_part: list[dict], tasks: list[str]) -> dict:
    if len(per_part) == 1:
        return {"tasks": per_part[0]["tasks"]}
    merged: dict[str, dict] = {}
    for task in tasks:
        rows = [p["tasks"][task] for p in per_part]
        summary: dict = {}
        for key in rows[0]:
            vals = np.array([r[key] for r in rows], dtype=float)
            if key.startswith("n_"):
                summary[key] = int(vals.sum()) if key == "n_test" else int(vals.mean())
            else:
                summary[key] = float(vals.mean())
                summary[f"{key}_std"] = float(vals.std(ddof=0))
        summary["folds"] = rows
        merged[task] = summary
    return {"tasks": merged, "n_folds": len(per_part)}


def _config_record(config: FitConfig, ds: Dataset) -> dict:
    from importlib.metadata import version

    return {
        "config": asdict(config),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {
            "name": ds.name,
            "source": ds.info.source,
            "splits": ds.info.splits,
            "load_report": ds.report.summary(),
        },
        "sources": {
            k: {"requirement": s.requirement, "sha256": s.sha256} for k, s in SOURCES.items()
        },
        "versions": {
            p: version(p)
            for p in ("matlattice", "numpy", "pandas", "scikit-learn", "elementembeddings")
        },
        "python": platform.python_version(),
    }


def predict_run(run: Path, formulas: list[object]) -> pd.DataFrame:
    """Predict every task of the model saved in ``run/model`` for ``formulas``.

    Invalid formulas get NaN predictions and their fault in the ``fault`` column.
    """
    model = MultiTaskForest.load(Path(run) / "model")
    batch = parse_formulas(formulas, errors="report")
    out = pd.DataFrame({"formula": formulas})
    valid = batch.valid
    for task in model.tasks_:
        out[task] = np.nan
    if valid.any():
        pred = model.predict(batch.fractions[valid])
        proba = model.predict_proba(batch.fractions[valid])
        for j, task in enumerate(model.tasks_):
            out.loc[valid, task] = pred[:, j]
            if model.task_types_[j] == "classification":
                out.loc[valid, f"{task}_proba"] = proba[:, j]
    if batch.n_invalid:
        out["fault"] = ""
        for row, _, fault in batch.faults:
            out.loc[row, "fault"] = fault
        log.warning(
            "%d of %d formulas are invalid; see the 'fault' column", batch.n_invalid, len(formulas)
        )
    return out
