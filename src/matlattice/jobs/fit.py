"""The fit job: fit a model on a dataset split, score it on the test part, write a run folder.

A run folder holds everything needed to reproduce and reuse the job:
``config.json`` (every argument, versions, data source pins), ``metrics.json``,
``predictions.parquet`` (test rows), ``parity.png`` and ``model/`` (saved without pickle).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data import Dataset, load_dataset
from matlattice.data.borrowed import borrow_properties
from matlattice.data.fetch import SOURCES
from matlattice.data.rejections import write_rejected
from matlattice.errors import InvalidParameterError, MatlatticeError, UnknownPropertyError
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
from matlattice.jobs.run_folder import (
    check_fingerprint,
    finish_run_folder,
    frame_fingerprint,
    open_run_folder,
    write_manifest,
)
from matlattice.jobs.scoring import aggregate_parts, score_task
from matlattice.models import MultiTaskForest
from matlattice.report.parity import save_parity_plot
from matlattice.runtime.files import atomic_write_json, atomic_write_table, json_safe

__all__ = ["MODELS", "SPLITS", "FitConfig", "fit_run"]


Progress = Callable[[str], None] | None
MODEL_LABELS = {
    "rf": "RF on Magpie statistics",
    "attention": "attention encoder",
    "mlp": "MLP encoder",
}


@dataclass(frozen=True)
class _Plan:
    """What a fit run resolved before training: the full config, its tasks and schemes."""

    config: FitConfig
    ds: Dataset
    tasks: list[str]
    kinds: list[str]  # "regression" or "classification", one per task
    schemes: list[str]  # at most one of fine_tune, helpers, gate; or borrow alone
    auto: bool  # tasks="auto": one model per task group of the lattice

    @property
    def regression(self) -> list[str]:
        return [t for t, k in zip(self.tasks, self.kinds, strict=True) if k == "regression"]


@dataclass(frozen=True)
class _PartResult:
    """One test part (or official fold): its scores, predictions and fitted models."""

    name: str
    scores: dict
    predictions: pd.DataFrame
    groups: list[tuple]  # (task names, fitted estimator, label)
    lattice: dict | None
    gate: dict | None


def fit_run(config: FitConfig, out: Path, *, progress: Progress = None) -> dict:
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
    work = open_run_folder(out, resume=config.resume, overwrite=config.overwrite)
    ds = load_dataset(config.data, clean=config.clean, split_seed=config.seed)
    plan = _plan(config, ds)
    frame = split_labels(ds, plan.config.split, plan.config.seed)
    borrowed: list[str] = []
    borrow_report = None
    if plan.config.borrow:
        _say(progress, f"borrowing {', '.join(plan.config.borrow)}")
        frame, borrowed, borrow_report = borrow_properties(
            frame,
            list(plan.config.borrow),
            own=ds.name,
            seed=plan.config.seed,
            clean=plan.config.clean,
        )
    check_fingerprint(
        work, frame_fingerprint(frame, [*plan.tasks, *borrowed], plan.config.to_dict())
    )
    write_rejected(ds.report, work)
    results = [
        _run_part(
            plan, name, frame[train.to_numpy()], frame[test.to_numpy()], borrowed, work, progress
        )
        for name, train, test in _test_parts(frame, plan.config)
    ]
    metrics = _metrics(plan, results, borrow_report)
    _write_run(work, plan, results, metrics)
    finish_run_folder(work, out)
    return metrics


def _plan(config: FitConfig, ds: Dataset) -> _Plan:
    """The run's tasks, kinds and schemes; refuses combinations that cannot work."""
    auto = list(config.tasks) == ["auto"]
    _check_forest_options(config)
    schemes = _schemes(config, auto)
    tasks = ([] if auto else list(config.tasks)) or ds.properties
    unknown = [t for t in tasks if t not in ds.properties]
    if unknown:
        raise UnknownPropertyError(f"unknown tasks {unknown} for {ds.name}; it has {ds.properties}")
    if not auto:
        config = config.replace(tasks=tuple(tasks))
    config = config.replace(split=config.split or default_split(ds))
    kinds = [ds.info.property(t).task for t in tasks]
    plan = _Plan(config, ds, tasks, kinds, schemes, auto)
    if schemes and not plan.regression:
        raise MatlatticeError(f"{schemes[0]} gates regression tasks; {tasks} has none")
    return plan


def _check_forest_options(config: FitConfig) -> None:
    """The forest's options belong to model rf; extra trees keep no out-of-bag rows."""
    from matlattice.models.forest.estimator import FOREST_FEATURES, FORESTS

    if config.forest not in FORESTS or config.forest_features not in FOREST_FEATURES:
        raise InvalidParameterError(
            f"forest={config.forest!r}, forest_features={config.forest_features!r}; expected "
            f"forest in {list(FORESTS)} and forest_features in {list(FOREST_FEATURES)}"
        )
    changed = config.forest != "random" or config.forest_features != "stats"
    if changed and config.model != "rf":
        raise InvalidParameterError(
            f"forest={config.forest!r}, forest_features={config.forest_features!r} set the "
            f"trees of model rf; model={config.model!r} has none"
        )
    if config.forest == "extra" and config.decision_threshold != "half":
        raise InvalidParameterError(
            f"decision_threshold={config.decision_threshold!r} with forest='extra': the cut is "
            "chosen on out-of-bag rows, and extremely randomised trees keep none; use "
            "forest='random'"
        )


def _schemes(config: FitConfig, auto: bool) -> list[str]:
    """The multi-model scheme the config asks for (empty: one model per task kind)."""
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
    return schemes


def _test_parts(frame: pd.DataFrame, config: FitConfig) -> list[tuple[str, pd.Series, pd.Series]]:
    """``(name, training rows, test rows)``: the test part, or each official fold."""
    if "fold" not in frame.columns:
        if config.folds:
            raise InvalidParameterError(
                f"folds={list(config.folds)}: {config.data} has no official folds; leave "
                "--folds out"
            )
        return [("test", frame["_part"] != "test", frame["_part"] == "test")]
    official = list(range(int(frame["fold"].max()) + 1))
    unknown = [k for k in config.folds if k not in official]
    if unknown:
        raise InvalidParameterError(
            f"folds={unknown} are not official folds of {config.data}; it has {official}"
        )
    folds = list(config.folds) or official
    return [(f"fold{k}", frame["fold"] != k, frame["fold"] == k) for k in folds]


def _run_part(plan, name, train, test, borrowed, out, progress) -> _PartResult:
    groups, lattice, gate = _part_models(plan, name, train, borrowed, out, progress)
    pred, std, proba = _predict_part(groups, test["formula"].tolist(), plan.tasks)
    scores, predictions = _score_part(plan, name, train, test, pred, std, proba)
    return _PartResult(name, scores, predictions, groups, lattice, gate)


def _part_models(plan: _Plan, name, train, borrowed, out: Path, progress: Progress):
    """The fitted ``(tasks, model, label)`` groups of one part, its lattice and gate record."""
    config, regression = plan.config, plan.regression
    checkpoints = out / "checkpoints" / name
    task_groups, lattice, gate = None, None, None
    if plan.auto:
        _say(progress, f"{name}: measuring the lattice of {len(regression)} properties")
        task_groups, summary = auto_task_groups(train, regression, config)
        lattice = {"groups": task_groups, "lattice": summary}
    if not plan.schemes:
        groups = build_models(config, plan.tasks, plan.kinds, task_groups)
        _fit_groups(groups, config, name, train, out, progress)
        return groups, lattice, gate
    if config.gate:
        fitted, gate = gated_group_models(
            config, train, task_groups or [regression], checkpoints, progress
        )
    elif config.fine_tune:
        fitted, gate = fine_tuned_models(config, train, regression, checkpoints, progress)
    else:
        fitted, gate, summary = helper_models(
            config, train, regression, checkpoints, progress, borrowed
        )
        lattice = {"helpers": summary.get("helpers", {}), "lattice": summary}
    others = [(t, k) for t, k in zip(plan.tasks, plan.kinds, strict=True) if k != "regression"]
    rest = build_models(config, [t for t, _ in others], [k for _, k in others]) if others else []
    _fit_groups(rest, config, name, train, out, progress)
    return fitted + rest, lattice, gate


def _fit_groups(groups, config: FitConfig, name: str, train, out: Path, progress: Progress):
    """Fit each not yet fitted model on its tasks' labelled training rows."""
    for group_tasks, model, label in groups:
        say = (lambda text, n=name: progress(f"{n}: {text}")) if progress else None
        if isinstance(model, MultiTaskForest):
            model.fit(train["formula"].tolist(), train[group_tasks], progress=say)
            continue
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


def _predict_part(groups, formulas: list[str], tasks: list[str]):
    """``(prediction, spread, probability)``, each ``(n, n_tasks)``, NaN where a model
    gives no such column."""
    pred = np.full((len(formulas), len(tasks)), np.nan)
    std, proba = np.full_like(pred, np.nan), np.full_like(pred, np.nan)
    for group_tasks, model, _ in groups:
        cols = [tasks.index(t) for t in group_tasks]
        p, sd, pr = predict_group(model, formulas)
        pred[:, cols] = p
        if sd is not None:
            std[:, cols] = sd
        if pr is not None:
            proba[:, cols] = pr
    return pred, std, proba


def _score_part(plan: _Plan, name, train, test, pred, std, proba) -> tuple[dict, pd.DataFrame]:
    """Per-task test metrics and the part's prediction rows."""
    scores = {}
    block = pd.DataFrame({"formula": test["formula"].to_numpy(), "part": name})
    if "fold" in test:  # an official fold: its number beside the part's name
        block["fold"] = test["fold"].to_numpy(dtype=int)
    for j, (task, kind) in enumerate(zip(plan.tasks, plan.kinds, strict=True)):
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
    return scores, block


def _metrics(plan: _Plan, results: list[_PartResult], borrow_report: dict | None) -> dict:
    config = plan.config
    metrics = aggregate_parts([{"part": r.name, "tasks": r.scores} for r in results], plan.tasks)
    metrics.update(dataset=plan.ds.name, split=config.split, model=config.model)
    if plan.auto:
        metrics["task_groups"] = {r.name: r.lattice["groups"] for r in results}
    gates = {r.name: r.gate for r in results}
    if config.fine_tune:
        metrics["fine_tune_gate"] = gates
    if config.helpers or config.borrow:
        metrics["helper_gate"] = gates
    if config.borrow:
        metrics["borrowed"] = borrow_report
    if config.gate:
        metrics["group_gate"] = gates
    return metrics


def _write_run(out: Path, plan: _Plan, results: list[_PartResult], metrics: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lattices = {r.name: r.lattice for r in results if r.lattice is not None}
    if lattices:
        atomic_write_json(out / "task_groups.json", json_safe(lattices))
    preds = pd.concat([r.predictions for r in results], ignore_index=True)
    atomic_write_table(out / "predictions.parquet", preds)
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_json(out / "config.json", _config_record(plan.config, plan.ds))
    groups = results[-1].groups  # the last part's models (for folds: the last fold's)
    names = ["model" if len(groups) == 1 else f"model_{label}" for _, _, label in groups]
    for (_, model, _), name in zip(groups, names, strict=True):
        model.save(out / name)
    _parity_plot(out, plan, preds)
    write_manifest(out, names)


def _parity_plot(out: Path, plan: _Plan, preds: pd.DataFrame) -> None:
    panels = [
        {
            "task": t,
            "unit": plan.ds.info.property(t).unit,
            "y_true": preds[f"{t}_true"].dropna().to_numpy(),
            "y_pred": preds.loc[preds[f"{t}_true"].notna(), f"{t}_pred"].to_numpy(),
        }
        for t in plan.regression
    ]
    if panels:
        title = (
            f"{plan.ds.name}: {MODEL_LABELS[plan.config.model]}, "
            f"{plan.config.split} split, test part"
        )
        save_parity_plot(out / "parity.png", panels, title=title)


def _say(progress: Progress, text: str) -> None:
    if progress:
        progress(text)


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
