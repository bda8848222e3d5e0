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
from dataclasses import asdict, dataclass
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
from matlattice.data.borrowed import borrow_properties
from matlattice.data.fetch import SOURCES
from matlattice.data.splits import chemsys_split, cluster_split, random_split
from matlattice.errors import MatlatticeError
from matlattice.io import atomic_write_json, atomic_write_table, json_safe
from matlattice.models import LatticeClassifier, LatticeRegressor, MultiTaskForest
from matlattice.report.parity import save_parity_plot
from matlattice.represent import ElementStatsFeaturizer
from matlattice.run_models import (
    MODELS,
    auto_task_groups,
    build_models,
    fine_tuned_models,
    gated_group_models,
    helper_models,
    train_val,
)

__all__ = [
    "MODELS",
    "SPLITS",
    "FitConfig",
    "auto_task_groups",
    "fit_run",
    "load_run_models",
    "predict_run",
    "score_task",
    "split_labels",
]

log = logging.getLogger(__name__)

SPLITS = ("official", "random", "chemsys", "cluster")


@dataclass(frozen=True)
class FitConfig:
    """Everything that defines a fit run; saved as ``config.json`` beside its results.

    ``model`` is ``"rf"`` (random forest on Magpie statistics, the reference peer),
    ``"attention"`` or ``"mlp"`` (learned embeddings of width ``latent_dim``).
    ``tasks=("auto",)`` (neural models) measures the entanglement lattice of the regression
    tasks on each training part and trains one model per recommended task group;
    ``auto_transfer`` adds the pairwise transfer trainings to that lattice, so that its
    negative-transfer gates can cut edges before grouping.
    ``task_weighting``, ``adapter_dim`` and ``early_stopping`` are the multi-task settings of
    :class:`~matlattice.models.LatticeRegressor`; ``target_scale`` its per-task target scale.
    ``fine_tune`` (neural models, explicit tasks) pretrains one hard-sharing model on all
    regression tasks, fine-tunes one model per task from its encoder and keeps, per task, the
    fine-tuned or the single-task model, whichever validates better
    (:func:`~matlattice.models.fine_tuning.fit_fine_tuned`).
    ``helpers`` (neural models, explicit tasks) measures the lattice of the regression tasks
    with its pairwise transfer trainings on each training part and trains one model per task
    beside the properties whose directed transfer gain into it is largest, keeping per task
    that model or the single-task one, whichever validates better
    (:func:`~matlattice.models.auxiliary.fit_with_helpers`).
    ``gate`` (neural models) trains the regression tasks as one group (explicit tasks) or by
    the lattice's groups (``tasks=("auto",)``), once per group with per-task early stopping,
    trains each member of a group of two or more alone as well and keeps, per task, whichever
    validates better (:func:`~matlattice.run_models.gated_group_models`).
    ``borrow`` (neural models, explicit tasks; alone or with ``helpers``) adds properties of
    other datasets (``"dataset[:property][@rows]"``, :mod:`matlattice.data.borrowed`) as
    helper columns, merged per composition and never scored; each task learns beside the
    borrowed properties coupled to it on the training part, behind the same gate.
    ``gate_folds = k >= 2`` makes the gate of those schemes read the out-of-fold errors
    of k cross-validation models per arm and then train the chosen arm on the whole training
    part (:mod:`~matlattice.models.gate`).
    """

    data: str
    tasks: tuple[str, ...] = ()
    split: str | None = None
    seed: int = 0
    clean: bool = False
    model: str = "rf"
    n_estimators: int = 500
    min_samples_leaf: int = 1
    latent_dim: int = 32
    ensemble: int = 1
    epochs: int = 300
    patience: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    element_table: str = "mat2vec"
    device: str = "cpu"
    n_jobs: int = 1
    init_from: str | None = None
    resume: bool = False
    folds: tuple[int, ...] = ()
    task_weighting: str = "equal"
    adapter_dim: int = 0
    early_stopping: str = "mean"
    target_scale: str = "iqr"
    auto_transfer: bool = False
    heteroscedastic: bool = False
    cv_members: bool = False
    fine_tune: bool = False
    helpers: bool = False
    gate: bool = False
    gate_folds: int = 0
    borrow: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, path: Path) -> FitConfig:
        """The config of an earlier run (its ``config.json``), to reproduce it."""
        raw = json.loads(Path(path).read_text())["config"]
        raw["tasks"] = tuple(raw["tasks"])
        raw["folds"] = tuple(raw["folds"])
        raw["borrow"] = tuple(raw.get("borrow", ()))
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


def split_labels(ds: Dataset, split: str, seed: int) -> pd.DataFrame:
    """Frame with a ``_part`` column (train/val/test) or ``fold`` column per row
    (deterministic for a given split and seed: a run's parts can be rebuilt)."""
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


def _predict_group(model, formulas) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(prediction, ensemble std or None, probability of class 1 or None), each (n, t)."""
    if isinstance(model, MultiTaskForest):
        return model.predict(formulas), None, model.predict_proba(formulas)
    if isinstance(model, LatticeClassifier):
        proba, std = model.predict_proba(formulas, return_std=True)
        proba, std = proba.reshape(len(proba), -1), std.reshape(len(std), -1)
        return (proba >= 0.5).astype(float), std, proba
    mean, std = model.predict(formulas, return_std=True)
    return mean.reshape(len(mean), -1), std.reshape(len(std), -1), None


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
        raise ValueError(f"unknown tasks {unknown} for {ds.name}; it has {ds.properties}")
    split = config.split or default_split(ds)
    if not auto:
        config = FitConfig(**{**asdict(config), "tasks": tuple(tasks)})
    config = FitConfig(**{**asdict(config), "split": split})
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
            p, sd, pr = _predict_group(model, test_formulas)
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
    metrics = _aggregate(per_part, tasks)
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


def load_run_models(run: Path) -> list:
    """The models saved in a run folder (``model/`` or ``model_<kind>/``), without pickle."""
    folders = sorted(p for p in Path(run).glob("model*") if (p / "config.json").is_file())
    if not folders:
        raise MatlatticeError(f"no saved model in {run}; is it a run folder of `matlattice fit`?")
    loaders = {
        "MultiTaskForest": MultiTaskForest,
        "LatticeRegressor": LatticeRegressor,
        "LatticeClassifier": LatticeClassifier,
    }
    models = []
    for folder in folders:
        name = json.loads((folder / "config.json").read_text()).get("class")
        if name not in loaders:
            raise MatlatticeError(f"{folder} holds an unknown model class {name!r}")
        models.append(loaders[name].load(folder))
    return models


def _interval_columns(out: pd.DataFrame, valid, model, fractions, coverage: float) -> None:
    """``<task>_lo``/``_hi`` of nominal ``coverage`` and, once, the domain columns."""
    lo, hi = model.predict_interval(fractions, coverage=coverage)
    lo, hi = lo.reshape(len(lo), -1), hi.reshape(len(hi), -1)
    for j, task in enumerate(model.tasks_):
        out.loc[valid, f"{task}_lo"] = lo[:, j]
        out.loc[valid, f"{task}_hi"] = hi[:, j]
    if "in_domain" not in out.columns and model.domain_ is not None:
        distance, inside = model.applicability(fractions)
        out["domain_distance"] = np.nan
        out["in_domain"] = pd.array([pd.NA] * len(out), dtype="boolean")
        out.loc[valid, "domain_distance"] = distance
        out.loc[valid, "in_domain"] = inside


def predict_run(
    run: Path,
    formulas: list[object],
    *,
    chunk_size: int = 200_000,
    interval: float | None = None,
) -> pd.DataFrame:
    """Predict every task of the models saved in ``run`` for ``formulas``.

    Columns: ``formula``, then per task its prediction, ``<task>_std`` (ensemble spread of
    neural models, recalibrated once ``matlattice calibrate`` has run) and ``<task>_proba``
    (classification); with ``interval`` (a nominal coverage such as 0.9) also
    ``<task>_lo`` and ``<task>_hi`` for neural regression models, and ``domain_distance``
    and ``in_domain`` (applicability domain of the first neural model). Invalid formulas get
    NaN and their fault in the ``fault`` column. Formulas are processed ``chunk_size`` at a
    time, so memory stays bounded for millions of formulas.
    """
    models = load_run_models(run)
    pieces = []
    for start in range(0, len(formulas), chunk_size):
        chunk = list(formulas[start : start + chunk_size])
        batch = parse_formulas(chunk, errors="report")
        out = pd.DataFrame({"formula": chunk})
        valid = batch.valid
        for model in models:
            for task in model.tasks_:
                out[task] = np.nan
            if valid.any():
                pred, std, proba = _predict_group(model, batch.fractions[valid])
                for j, task in enumerate(model.tasks_):
                    out.loc[valid, task] = pred[:, j]
                    if std is not None:
                        out.loc[valid, f"{task}_std"] = std[:, j]
                    if proba is not None and not np.isnan(proba[:, j]).all():
                        out.loc[valid, f"{task}_proba"] = proba[:, j]
                if interval is not None and isinstance(model, LatticeRegressor) and valid.any():
                    _interval_columns(out, valid, model, batch.fractions[valid], interval)
        if batch.n_invalid:
            out["fault"] = ""
            for row, _, fault in batch.faults:
                out.loc[row, "fault"] = fault
            log.warning(
                "%d of %d formulas are invalid; see the 'fault' column", batch.n_invalid, len(chunk)
            )
        pieces.append(out)
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame({"formula": []})
