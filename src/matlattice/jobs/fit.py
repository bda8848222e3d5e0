"""The fit job: fit a model on a dataset split, score it on the test part, write a run folder.

A run folder holds everything needed to reproduce and reuse the job:
``config.json`` (every argument, versions, data source pins), ``metrics.json``,
``predictions.parquet`` (test rows), ``parity.png`` and ``model/`` (saved without pickle).
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data import Dataset, load_dataset
from matlattice.data.borrowed import borrow_properties
from matlattice.data.fetch import SOURCES
from matlattice.errors import InvalidParameterError, MatlatticeError
from matlattice.jobs.config import FitConfig
from matlattice.jobs.fit_models import (
    MODELS,
    auto_task_groups,
    build_models,
    fine_tuned_models,
    gated_group_models,
    helper_models,
)
from matlattice.jobs.parts import SPLITS, default_split, split_labels, train_val
from matlattice.jobs.predict import predict_group
from matlattice.jobs.scoring import aggregate_parts, score_task
from matlattice.models import MultiTaskForest
from matlattice.report.parity import save_parity_plot
from matlattice.runtime.files import atomic_write_json, atomic_write_table, json_safe

__all__ = ["MODELS", "SPLITS", "FitConfig", "fit_run"]


log = logging.getLogger(__name__)


def fit_run(
    config: FitConfig,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Fit ``config.model`` on ``config.data`` and write a run folder at ``out``.

    The test part (or each official test fold) is never seen in training or model selection.
    The random forest trains on train + val (it selects nothing); the neural models train on
    train and stop early on val (for fold datasets, val is a composition-level 10 % of the
    training folds).

    Returns
    -------
    dict
        The metrics written to ``out/metrics.json``:
        ``{"tasks": {name: {"mae", "rmse", "r2", "n_train", "n_test"}}}`` for regression,
        ``{"roc_auc", "accuracy", "balanced_accuracy", ...}`` for classification.
    """
    out = Path(out)
    ds = load_dataset(config.data, clean=config.clean, split_seed=config.seed)
    auto = list(config.tasks) == ["auto"]
    if auto and config.model == "rf":
        raise MatlatticeError(
            "tasks='auto' groups tasks for a shared embedding; use model attention or mlp"
        )
    schemes = [o for o in ("fine_tune", "helpers", "gate") if getattr(config, o)]
    if len(schemes) > 1:
        raise MatlatticeError(f"choose one of fine_tune, helpers and gate, not {schemes}")
    if config.borrow and {"fine_tune", "gate"} & set(schemes):
        raise MatlatticeError(
            f"borrow={list(config.borrow)} gives helper columns to each task; it goes alone "
            f"or with helpers, not with {schemes[0]}"
        )
    schemes += ["borrow"] if config.borrow and not schemes else []
    if config.gate_folds and not schemes:
        raise MatlatticeError(
            f"gate_folds={config.gate_folds} sets the gate of fine_tune, helpers, gate or borrow; "
            "choose one of them"
        )
    if config.gate and config.model == "rf":
        raise MatlatticeError("gate compares neural multi-task models with single-task ones")
    for option in ("fine_tune", "helpers", "borrow"):
        if getattr(config, option) and (auto or config.model == "rf"):
            raise MatlatticeError(
                f"{option} trains one neural model per listed task; it needs model attention "
                f"or mlp and explicit tasks (got model={config.model!r}, "
                f"tasks={list(config.tasks)})"
            )
    tasks = [] if auto else list(config.tasks)
    tasks = tasks or ds.properties
    unknown = [t for t in tasks if t not in ds.properties]
    if unknown:
        raise InvalidParameterError(
            f"unknown tasks {unknown} for {ds.name}; it has {ds.properties}"
        )
    split = config.split or default_split(ds)
    if not auto:
        config = config.replace(tasks=tuple(tasks))
    config = config.replace(split=split)
    frame = split_labels(ds, split, config.seed)
    borrowed: list[str] = []
    if config.borrow:
        if progress:
            progress(f"borrowing {', '.join(config.borrow)}")
        frame, borrowed, borrow_report = borrow_properties(
            frame, list(config.borrow), own=ds.name, seed=config.seed, clean=config.clean
        )
    kinds = [ds.info.property(t).task for t in tasks]
    if "fold" in frame.columns:
        folds = list(config.folds) or list(range(int(frame["fold"].max()) + 1))
        parts = [(f"fold{k}", frame["fold"] != k, frame["fold"] == k) for k in folds]
    else:
        parts = [("test", frame["_part"] != "test", frame["_part"] == "test")]
    predictions = []
    per_part: list[dict] = []
    groups: list[tuple] = []
    lattices: dict[str, dict] = {}
    gate_decisions: dict[str, dict] = {}
    regression = [t for t, k in zip(tasks, kinds, strict=True) if k == "regression"]
    if schemes and not regression:
        raise MatlatticeError(f"{schemes[0]} gates regression tasks; {tasks} has none")
    for name, train_mask, test_mask in parts:
        train, test = frame[train_mask.to_numpy()], frame[test_mask.to_numpy()]
        task_groups = None
        if auto:
            if progress:
                progress(f"{name}: measuring the lattice of {len(regression)} properties")
            task_groups, summary = auto_task_groups(train, regression, config)
            lattices[name] = {"groups": task_groups, "lattice": summary}
        if schemes:
            if config.gate:
                fitted, gate_decisions[name] = gated_group_models(
                    config, train, task_groups or [regression], out / "checkpoints" / name, progress
                )
            elif config.fine_tune:
                fitted, gate_decisions[name] = fine_tuned_models(
                    config, train, regression, out / "checkpoints" / name, progress
                )
            else:
                fitted, gate_decisions[name], summary = helper_models(
                    config, train, regression, out / "checkpoints" / name, progress, borrowed
                )
                lattices[name] = {"helpers": summary.get("helpers", {}), "lattice": summary}
            others = [k for k in kinds if k != "regression"]
            groups = fitted + (
                build_models(config, [t for t in tasks if t not in regression], others)
                if others
                else []
            )
        else:
            fitted, groups = [], build_models(config, tasks, kinds, task_groups)
        test_formulas = test["formula"].tolist()
        pred = np.full((len(test), len(tasks)), np.nan)
        std = np.full_like(pred, np.nan)
        proba = np.full_like(pred, np.nan)
        for group_tasks, model, label in groups:
            cols = [tasks.index(t) for t in group_tasks]
            say = (lambda t, n=name: progress(f"{n}: {t}")) if progress else None
            already_fitted = any(model is done for _, done, _ in fitted)
            if isinstance(model, MultiTaskForest):
                model.fit(train["formula"].tolist(), train[group_tasks], progress=say)
            elif not already_fitted:
                # rows with no label for this model's tasks carry nothing to learn from
                fit_part, val_part = (
                    part[["formula", *group_tasks]].dropna(subset=group_tasks, how="all")
                    for part in train_val(train)
                )
                model.fit(
                    fit_part,
                    X_val=val_part,
                    checkpoint_dir=out / "checkpoints" / name / label,
                    resume=config.resume,
                    init_from=Path(config.init_from) if config.init_from else None,
                    progress=_epoch_reporter(say, config.epochs) if say else None,
                )
            p, sd, pr = predict_group(model, test_formulas)
            pred[:, cols] = p
            if sd is not None:
                std[:, cols] = sd
            if pr is not None:
                proba[:, cols] = pr
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
            metrics.update(n_train=int(train[task].notna().sum()), n_test=int(labelled.sum()))
            scores[task] = metrics
            block[f"{task}_true"] = test[task].to_numpy(dtype=float)
            block[f"{task}_pred"] = pred[:, j]
            if not np.isnan(std[:, j]).all():
                block[f"{task}_std"] = std[:, j]
            if kind == "classification":
                block[f"{task}_proba"] = proba[:, j]
        per_part.append({"part": name, "tasks": scores})
        predictions.append(block)
    metrics = aggregate_parts(per_part, tasks)
    metrics.update(dataset=ds.name, split=split, model=config.model)
    if auto:
        metrics["task_groups"] = {part: v["groups"] for part, v in lattices.items()}
    if config.fine_tune:
        metrics["fine_tune_gate"] = gate_decisions
    if config.helpers or config.borrow:
        metrics["helper_gate"] = gate_decisions
    if config.borrow:
        metrics["borrowed"] = borrow_report
    if config.gate:
        metrics["group_gate"] = gate_decisions
    out.mkdir(parents=True, exist_ok=True)
    if lattices:
        atomic_write_json(out / "task_groups.json", json_safe(lattices))
    preds = pd.concat(predictions, ignore_index=True)
    atomic_write_table(out / "predictions.parquet", preds)
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_json(out / "config.json", _config_record(config, ds))
    for _, model, label in groups:  # the last part's models (for folds: the last fold's)
        model.save(out / ("model" if len(groups) == 1 else f"model_{label}"))
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
        label = {
            "rf": "RF on Magpie statistics",
            "attention": "attention encoder",
            "mlp": "MLP encoder",
        }[config.model]
        save_parity_plot(
            out / "parity.png", panels, title=f"{ds.name}: {label}, {split} split, test part"
        )
    return metrics


def _epoch_reporter(say: Callable[[str], None], epochs: int) -> Callable[[str, dict], None]:
    def report(member: str, record: dict) -> None:
        say(
            f"{member}, epoch {int(record['epoch']) + 1}/{epochs}, "
            f"val loss {record['val_loss']:.4f}"
        )

    return report


def _config_record(config: FitConfig, ds: Dataset) -> dict:
    from importlib.metadata import version

    return {
        "config": config.to_dict(),
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
