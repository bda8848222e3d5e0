"""The estimators a fit run trains: one per model family, one per task group the
entanglement lattice recommends, one per task fine-tuned from a shared model, or one per task
learned beside the helpers the lattice recommends; and the early-stopping split of a training
part."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from matlattice.errors import InvalidParameterError
from matlattice.jobs.parts import train_val
from matlattice.models import LatticeClassifier, LatticeRegressor, MultiTaskForest

if TYPE_CHECKING:
    from matlattice.jobs.config import FitConfig

__all__ = [
    "MODELS",
    "auto_task_groups",
    "build_models",
    "fine_tuned_models",
    "gated_group_models",
    "helper_models",
]

MODELS = ("rf", "attention", "mlp")


def build_models(
    config: FitConfig,
    tasks: list[str],
    kinds: list[str],
    groups: list[list[str]] | None = None,
) -> list[tuple[list[str], object, str]]:
    """``(task names, estimator, name)`` covering all tasks for the model family; ``name``
    labels its checkpoints and (with several estimators) its model folder.

    Neural models get one estimator for the regression tasks and one for the classification
    tasks, or with ``groups`` one estimator per group of regression tasks.
    """
    if config.executor != "local" and config.model == "rf":
        raise InvalidParameterError(
            f"executor={config.executor!r} with model='rf': the forest grows its trees in "
            "threads of this process; the executor runs the members of attention or mlp "
            "ensembles"
        )
    if config.decision_threshold != "half" and "classification" not in kinds:
        raise InvalidParameterError(
            f"decision_threshold={config.decision_threshold!r}, but {tasks} are regression "
            "tasks: a threshold cuts class probabilities; leave it out"
        )
    if config.model == "rf":
        forest = MultiTaskForest(
            n_estimators=config.n_estimators,
            min_samples_leaf=config.min_samples_leaf,
            task_types=tuple(kinds),
            random_state=config.seed,
            # so that `matlattice calibrate` has held-out rows (extra trees have none)
            out_of_bag=config.forest == "random",
            decision_threshold=config.decision_threshold,
            forest=config.forest,
            features=config.forest_features,
        )
        return [(tasks, forest, "forest")]
    if config.model not in MODELS:
        raise InvalidParameterError(f"model={config.model!r}; expected one of {MODELS}")
    params = dict(
        latent_dim=config.latent_dim,
        element_table=config.element_table,
        epochs=config.epochs,
        patience=config.patience,
        batch_size=config.batch_size,
        lr=config.lr,
        ensemble=config.ensemble,
        random_state=config.seed,
        device=config.device,
        n_jobs=config.n_jobs,
        executor=config.executor,
        task_weighting=config.task_weighting,
        adapter_dim=config.adapter_dim,
        early_stopping=config.early_stopping,
        precision=config.precision,
        target_scale=config.target_scale,
        target_transform=config.target_transform,
        heteroscedastic=config.heteroscedastic,
        cv_members=config.cv_members,
    )
    regression = [t for t, k in zip(tasks, kinds, strict=True) if k == "regression"]
    classification = [t for t, k in zip(tasks, kinds, strict=True) if k == "classification"]
    built: list[tuple[list[str], object, str]] = []
    if groups is not None:
        for g, group in enumerate(groups):
            built.append((list(group), LatticeRegressor(config.model, **params), f"group{g}"))
    elif regression:
        built.append((regression, LatticeRegressor(config.model, **params), "regression"))
    if classification:
        classifier = LatticeClassifier(
            config.model, **params, decision_threshold=config.decision_threshold
        )
        built.append((classification, classifier, "classification"))
    return built


def auto_task_groups(
    train: pd.DataFrame, tasks: list[str], config: FitConfig
) -> tuple[list[list[str]], dict]:
    """Task groups recommended by the entanglement lattice of ``tasks`` measured on ``train``
    (the training part only: one hard-sharing model, plus the pairwise transfer trainings
    when ``config.auto_transfer``), and the lattice summary behind them."""
    if len(tasks) < 2:
        return [list(tasks)], {}
    result = _training_lattice(train, tasks, config, transfer=config.auto_transfer)
    return [list(g) for g in result.lattice.groups], _summary(result)


def _training_lattice(train: pd.DataFrame, tasks: list[str], config: FitConfig, *, transfer: bool):
    """The entanglement lattice of ``tasks`` measured on a training part (its own
    composition-level validation share inside it), with the run's seed and device."""
    from matlattice.entangle.pipeline import entanglement_lattice

    return entanglement_lattice(
        train[["formula", *tasks]].reset_index(drop=True),
        tasks,
        model_params={
            "early_stopping": config.early_stopping,
            "target_scale": config.target_scale,
            "target_transform": config.target_transform,
        },
        transfer=transfer,
        n_jobs=config.n_jobs,
        executor=config.executor,
        seed=config.seed,
        device=config.device,
    )


def _summary(result) -> dict:
    from matlattice.entangle.summary import lattice_summary

    return lattice_summary(result)


def helper_models(
    config: FitConfig,
    train: pd.DataFrame,
    regression: list[str],
    checkpoints: Path,
    progress: Callable[[str], None] | None,
    borrowed: list[str] | None = None,
) -> tuple[list[tuple[list[str], object, str]], dict, dict]:
    """Fitted ``([task], model, "task_<task>")`` per regression task, each learned beside its
    helpers behind the gate; the gate's decisions; a summary of how the helpers were chosen.

    With ``config.helpers`` the helpers are the ones the lattice of the training part
    recommends (its pairwise transfer trainings measure the directed gains); with
    ``borrowed`` columns (another dataset's properties, :mod:`matlattice.data.borrowed`) each
    task also learns beside the borrowed ones coupled to it
    (:func:`~matlattice.multitask.borrowing.borrowed_partners`).
    """
    partners: dict[str, list[str]] = {}
    summary: dict = {}
    if config.helpers:
        if progress:
            progress(f"measuring the transfer lattice of {len(regression)} properties")
        own_rows = train.dropna(subset=regression, how="all")
        lattice = _training_lattice(own_rows, regression, config, transfer=True)
        partners, summary = dict(lattice.lattice.helpers), _summary(lattice)
    if borrowed:
        from matlattice.multitask.borrowing import borrowed_partners

        extra, evidence = borrowed_partners(train, regression, borrowed)
        for task, columns in extra.items():
            partners[task] = [*partners.get(task, []), *columns]
        summary = {**summary, "helpers": partners, "borrowed": evidence}
    fitted, decisions = _partner_models(config, train, regression, partners, checkpoints, progress)
    return fitted, decisions, summary


def gated_group_models(
    config: FitConfig,
    train: pd.DataFrame,
    groups: list[list[str]],
    checkpoints: Path,
    progress: Callable[[str], None] | None,
) -> tuple[list[tuple[list[str], object, str]], dict]:
    """Fitted ``([task], model, "task_<task>")`` per task of ``groups``: each group trained
    once (per-task early stopping), each member of a group of two or more gated against the
    member trained alone (the lower gate error is kept: :mod:`~matlattice.multitask.gate`); and
    the gate's decisions."""
    mates = {t: [u for u in group if u != t] for group in groups for t in group}
    return _partner_models(
        config, train, [t for group in groups for t in group], mates, checkpoints, progress
    )


def _partner_models(
    config: FitConfig,
    train: pd.DataFrame,
    tasks: list[str],
    partners: dict[str, list[str]],
    checkpoints: Path,
    progress: Callable[[str], None] | None,
) -> tuple[list[tuple[list[str], object, str]], dict]:
    """One gated single-head model per task, learned beside its ``partners``
    (:func:`~matlattice.multitask.helpers.fit_with_helpers` on the early-stopping split)."""
    from matlattice.multitask.helpers import fit_with_helpers

    (base,) = [m for _, m, _ in build_models(config, tasks, ["regression"] * len(tasks))]
    fit_part, val_part = train_val(train)
    result = fit_with_helpers(
        base,
        fit_part,
        val_part,
        partners,
        tasks,
        gate_folds=config.gate_folds,
        checkpoint_dir=checkpoints,
        resume=config.resume,
        progress=progress,
    )
    return [([t], result.models[t], f"task_{t}") for t in tasks], result.decisions


def fine_tuned_models(
    config: FitConfig,
    train: pd.DataFrame,
    regression: list[str],
    checkpoints: Path,
    progress: Callable[[str], None] | None,
) -> tuple[list[tuple[list[str], object, str]], dict]:
    """Fitted ``([task], model, "task_<task>")`` per regression task from shared pretraining
    and per-task fine-tuning behind the validation gate, and the gate's decisions."""
    from matlattice.multitask.fine_tuning import fit_fine_tuned

    (base,) = [m for _, m, _ in build_models(config, regression, ["regression"] * len(regression))]
    fit_part, val_part = train_val(train)
    result = fit_fine_tuned(
        base,
        fit_part[["formula", *regression]],
        val_part[["formula", *regression]],
        regression,
        gate_folds=config.gate_folds,
        checkpoint_dir=checkpoints,
        resume=config.resume,
        progress=progress,
    )
    fitted = [([t], result.models[t], f"task_{t}") for t in regression]
    return fitted, result.decisions
