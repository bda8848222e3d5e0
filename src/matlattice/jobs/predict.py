"""Predict with a run folder: load the models it saved (no pickle) and predict every task,
with spreads, probabilities, intervals and the applicability domain where the models give them."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.errors import MatlatticeError
from matlattice.jobs.run_folder import run_model_folders
from matlattice.models import LatticeClassifier, LatticeRegressor, MultiTaskForest
from matlattice.models.estimator.intervals import MC_SAMPLES
from matlattice.runtime.files import read_json

__all__ = ["interval_sources", "load_model", "load_run_models", "predict_group", "predict_run"]

log = logging.getLogger(__name__)


def predict_group(
    model, formulas, *, dropout_spread: bool = False
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(prediction, spread or None, probability of class 1 or None), each (n, t); the spread
    is the ensemble's, or the forest's trees' (NaN for classification tasks); a single
    network's is its MC dropout spread with ``dropout_spread``, else NaN (it has none)."""
    if isinstance(model, MultiTaskForest):
        mean, std = model.predict(formulas, return_std=True)
        return mean, std, model.predict_proba(formulas)
    if isinstance(model, LatticeClassifier):
        proba, std = model.predict_proba(formulas, return_std=True)
        proba, std = proba.reshape(len(proba), -1), std.reshape(len(std), -1)
        return (proba >= 0.5).astype(float), std, proba
    mean, std = model.predict(formulas, return_std=True)
    mean, std = mean.reshape(len(mean), -1), std.reshape(len(std), -1)
    return mean, _single_model_spread(model, formulas, std, dropout_spread), None


def _single_model_spread(model, formulas, std: np.ndarray, dropout_spread: bool) -> np.ndarray:
    """A single uncalibrated network has no member spread: its zeros would claim certainty.
    Its spread is then its MC dropout spread (when intervals were asked, the one they use) or
    NaN; a heteroscedastic head's own noise is kept."""
    if not _spreadless(model):
        return std
    if dropout_spread and model.dropout > 0:
        _, mc_std = model.predict(formulas, return_std=True, mc_samples=MC_SAMPLES)
        return mc_std.reshape(len(mc_std), -1)
    return np.full_like(std, np.nan)


_LOADERS = {
    "MultiTaskForest": MultiTaskForest,
    "LatticeRegressor": LatticeRegressor,
    "LatticeClassifier": LatticeClassifier,
}


def load_model(folder: Path):
    """The model saved in ``folder`` (any family), weights verified, without pickle."""
    name = read_json(Path(folder) / "config.json").get("class")
    if name not in _LOADERS:
        raise MatlatticeError(f"{folder} holds an unknown model class {name!r}")
    return _LOADERS[name].load(folder)


def load_run_models(run: Path) -> list:
    """The models a run folder's manifest lists (``model/`` or ``model_<label>/``), their
    weights verified against the recorded sha256, without pickle."""
    return [load_model(folder) for folder in run_model_folders(run)]


def _interval_columns(out: pd.DataFrame, valid, model, fractions, coverage: float) -> None:
    """``<task>_lo``/``_hi`` of nominal ``coverage`` for the regression tasks and, once, the
    domain columns of a neural model."""
    lo, hi = model.predict_interval(fractions, coverage=coverage)
    lo, hi = lo.reshape(len(lo), -1), hi.reshape(len(hi), -1)
    for j, task in enumerate(model.tasks_):
        if not np.isnan(lo[:, j]).all():
            out.loc[valid, f"{task}_lo"] = lo[:, j]
            out.loc[valid, f"{task}_hi"] = hi[:, j]
    if "in_domain" not in out.columns and getattr(model, "domain_", None) is not None:
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

    Columns: ``formula``, then per task its prediction, ``<task>_std`` (the spread of an
    ensemble or of a forest's trees, recalibrated once ``matlattice calibrate`` has run) and
    ``<task>_proba`` (classification); with ``interval`` (a nominal coverage such as 0.9)
    also ``<task>_lo`` and ``<task>_hi`` for regression tasks, and ``domain_distance`` and
    ``in_domain`` (applicability domain of the first neural model). ``frame.attrs
    ["interval_sources"]`` then says per task where the width comes from; a model that cannot
    give honest intervals is refused before anything is predicted. Invalid formulas get
    NaN and their fault in the ``fault`` column. Formulas are processed ``chunk_size`` at a
    time, so memory stays bounded for millions of formulas.
    """
    models = load_run_models(run)
    if interval is not None:
        interval_sources(models)  # refuses before any prediction is made
    for model in models:
        if interval is None and _spreadless(model):
            log.warning(
                "_std of %s left empty: a single model has no spread; "
                "ask --interval for its MC dropout spread, or fit --ensemble 3",
                ", ".join(model.tasks_),
            )
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
                pred, std, proba = predict_group(
                    model, batch.fractions[valid], dropout_spread=interval is not None
                )
                for j, task in enumerate(model.tasks_):
                    out.loc[valid, task] = pred[:, j]
                    if std is not None:
                        out.loc[valid, f"{task}_std"] = std[:, j]
                    if proba is not None and not np.isnan(proba[:, j]).all():
                        out.loc[valid, f"{task}_proba"] = proba[:, j]
                if interval is not None and _has_intervals(model) and valid.any():
                    _interval_columns(out, valid, model, batch.fractions[valid], interval)
        if batch.n_invalid:
            out["fault"] = ""
            for row, _, fault in batch.faults:
                out.loc[row, "fault"] = fault
            log.warning(
                "%d of %d formulas are invalid; see the 'fault' column", batch.n_invalid, len(chunk)
            )
        pieces.append(out)
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame({"formula": []})
    if interval is not None:
        frame.attrs["interval_sources"] = interval_sources(models)
    return frame


def _spreadless(model) -> bool:
    return (
        isinstance(model, LatticeRegressor)
        and model._single_uncalibrated()
        and not getattr(model, "heteroscedastic", False)
    )


def _has_intervals(model) -> bool:
    return isinstance(model, LatticeRegressor | MultiTaskForest)


def interval_sources(models: list) -> dict[str, str]:
    """Per regression task, where its interval takes its width from, in words; refuses (by
    the model's own reason) a model that cannot give honest intervals."""
    sources = {}
    for model in models:
        if not _has_intervals(model):
            continue
        source = model.interval_source()
        kinds = getattr(model, "task_types_", None) or ["regression"] * len(model.tasks_)
        sources.update(
            {t: source for t, k in zip(model.tasks_, kinds, strict=True) if k == "regression"}
        )
    return sources
