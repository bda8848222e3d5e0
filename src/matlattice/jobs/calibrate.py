"""``matlattice calibrate RUN``: fit the uncertainty calibration of a fitted run.

The calibration is fitted on the run's validation part (the same rows that stopped training:
never the training rows, never the test rows) and judged on its test part, before and after.
A forest, which trains on train + val, is calibrated on its out-of-bag rows instead, and a
single neural model (no spread) by split conformal intervals of its absolute residuals.
``RUN/calibration.json`` holds, per property, the metrics of
:func:`~matlattice.uncertainty.uncertainty_report` before (the raw ensemble spread, Gaussian
intervals) and after (the calibrated spread and intervals); ``RUN/calibration.png`` draws them;
the calibrated models are saved back into the run, so that ``matlattice predict`` uses them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matlattice.data import load_dataset
from matlattice.errors import InvalidParameterError, MatlatticeError
from matlattice.jobs.config import FitConfig
from matlattice.jobs.parts import split_labels
from matlattice.jobs.predict import load_model
from matlattice.jobs.run_folder import run_model_folders, write_manifest
from matlattice.models import LatticeRegressor, MultiTaskForest
from matlattice.report.uncertainty_plots import binned_means, save_calibration_figure
from matlattice.runtime.files import atomic_write_json, json_safe
from matlattice.uncertainty import (
    COVERAGE_LEVELS,
    calibration_curve,
    error_calibration_curve,
    uncertainty_report,
)

__all__ = ["calibrate_run", "task_intervals"]


def _curve(y, mean, std) -> dict:
    expected, observed = calibration_curve(y, mean, std, n_levels=19)
    rmv, rmse = error_calibration_curve(y, mean, std)
    return {
        "expected": expected.tolist(),
        "observed": observed.tolist(),
        "rmv": rmv.tolist(),
        "rmse": rmse.tolist(),
    }


def task_intervals(model, formulas: list, *, mc_samples: int = 0) -> list[dict]:
    """Per task, ``{coverage: (lo, hi)}`` at :data:`COVERAGE_LEVELS` from
    ``model.predict_interval`` (calibrated when the model is), arrays of ``(n,)``."""
    n, t = len(formulas), len(model.tasks_)
    extra = {"mc_samples": mc_samples} if mc_samples else {}
    bounds = {c: model.predict_interval(formulas, coverage=c, **extra) for c in COVERAGE_LEVELS}
    return [
        {c: (lo.reshape(n, t)[:, j], hi.reshape(n, t)[:, j]) for c, (lo, hi) in bounds.items()}
        for j in range(t)
    ]


def calibrate_run(run: Path, method: str = "isotonic") -> dict:
    """Calibrate every regression model of ``run`` and judge it on the test part; returns
    ``calibration.json``.

    A neural model is calibrated on the run's val part; a forest (which trained on train +
    val) on its out-of-bag rows; a single neural model, which has no spread, by split
    conformal intervals of its absolute residuals whatever ``method`` says (the summary's
    ``methods`` records what each model got)."""
    run = Path(run)
    config = FitConfig.from_json(run / "config.json")
    ds = load_dataset(config.data, clean=config.clean, split_seed=config.seed)
    frame = split_labels(ds, config.split or "random", config.seed)
    if "_part" not in frame.columns:
        raise MatlatticeError(
            f"{run} was fitted on folds; calibrate needs a run with train/val/test parts"
        )
    cal, test = frame[frame["_part"] == "val"], frame[frame["_part"] == "test"]
    loaded = [(folder, load_model(folder)) for folder in run_model_folders(run)]
    models = [(f, m) for f, m in loaded if _regression_tasks(m)]
    if not models:
        raise MatlatticeError(f"{run} holds no regression model to calibrate")
    summary: dict = {"method": method, "n_test": len(test), "methods": {}, "tasks": {}}
    panels = []
    formulas = test["formula"].tolist()
    for folder, model in models:
        mean, raw_std = model.predict(formulas, return_std=True, calibrated=False)
        mean, raw_std = mean.reshape(len(test), -1), raw_std.reshape(len(test), -1)
        used, rows = _calibrate_model(model, method, cal)
        summary["methods"][folder.name] = {"method": used, "calibration_rows": rows}
        summary.setdefault("n_calibration", rows)
        _, std = model.predict(formulas, return_std=True)
        std = std.reshape(len(test), -1)
        intervals = task_intervals(model, formulas)
        domain = getattr(model, "domain_", None)
        distance = model.applicability(formulas)[0] if domain is not None else None
        for j, task in enumerate(model.tasks_):
            if task not in _regression_tasks(model):
                continue
            y = test[task].to_numpy(dtype=float)
            summary["tasks"][task] = {
                "before": uncertainty_report(y, mean[:, j], raw_std[:, j]),
                "after": uncertainty_report(y, mean[:, j], std[:, j], intervals=intervals[j]),
            }
            panel = {
                "task": task,
                "unit": ds.info.property(task).unit,
                "curves": {
                    "raw": _curve(y, mean[:, j], raw_std[:, j]),
                    used: _curve(y, mean[:, j], std[:, j]),
                },
            }
            if distance is not None:
                d, e = binned_means(distance, np.abs(y - mean[:, j]))
                _, spread = binned_means(distance, std[:, j])
                panel["domain"] = {"distance": d, "abs_error": e, "spread": spread}
                summary["tasks"][task]["error_vs_domain_distance"] = panel["domain"]
            panels.append(panel)
        model.save(folder)
    write_manifest(run, [folder.name for folder, _ in loaded])
    atomic_write_json(run / "calibration.json", json_safe(summary))
    save_calibration_figure(
        run / "calibration.png", panels, title=f"{ds.name}: {method} calibration, test part"
    )
    return summary


def _regression_tasks(model) -> list[str]:
    if isinstance(model, MultiTaskForest):
        return [
            t for t, k in zip(model.tasks_, model.task_types_, strict=True) if k == "regression"
        ]
    return list(model.tasks_) if isinstance(model, LatticeRegressor) else []


def _calibrate_model(model, method: str, cal) -> tuple[str, int]:
    """Calibrate ``model`` in place; ``(method used, calibration rows)``."""
    if isinstance(model, MultiTaskForest):
        if model.forest != "random":
            raise InvalidParameterError(
                f"this run's forest is forest={model.forest!r}: extremely randomised trees "
                "keep no out-of-bag rows to calibrate on; refit with --forest random"
            )
        model.calibrate(method=method)  # on its out-of-bag rows
        tasks = _regression_tasks(model)
        j = model.tasks_.index(tasks[0])
        return method, int(np.isfinite(model.oob_[j]).all(axis=0).sum())
    single = int(model.ensemble) == 1 and getattr(model, "cv_residuals_", None) is None
    used = "conformal" if single else method  # a single model's spread is zero
    model.calibrate(cal[["formula", *model.tasks_]], method=used)
    return used, len(cal)
