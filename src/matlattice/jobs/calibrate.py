"""``matlattice calibrate RUN``: fit the uncertainty calibration of a fitted run.

The calibration is fitted on the run's validation part (the same rows that stopped training:
never the training rows, never the test rows) and judged on its test part, before and after.
``RUN/calibration.json`` holds, per property, the metrics of
:func:`~matlattice.uncertainty.uncertainty_report` before (the raw ensemble spread, Gaussian
intervals) and after (the calibrated spread and intervals); ``RUN/calibration.png`` draws them;
the calibrated models are saved back into the run, so that ``matlattice predict`` uses them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matlattice.data import load_dataset
from matlattice.errors import MatlatticeError
from matlattice.jobs.config import FitConfig
from matlattice.jobs.parts import split_labels
from matlattice.jobs.predict import load_model
from matlattice.jobs.run_folder import run_model_folders, write_manifest
from matlattice.models import LatticeRegressor
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
    bounds = {
        c: model.predict_interval(formulas, coverage=c, mc_samples=mc_samples)
        for c in COVERAGE_LEVELS
    }
    return [
        {c: (lo.reshape(n, t)[:, j], hi.reshape(n, t)[:, j]) for c, (lo, hi) in bounds.items()}
        for j in range(t)
    ]


def calibrate_run(run: Path, method: str = "isotonic") -> dict:
    """Calibrate every neural regression model of ``run``; returns ``calibration.json``."""
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
    models = [(f, m) for f, m in loaded if isinstance(m, LatticeRegressor)]
    if not models:
        raise MatlatticeError(f"{run} holds no neural regression model to calibrate")
    summary: dict = {"method": method, "n_calibration": len(cal), "n_test": len(test), "tasks": {}}
    panels = []
    formulas = test["formula"].tolist()
    for folder, model in models:
        mean, raw_std = model.predict(formulas, return_std=True, calibrated=False)
        mean, raw_std = mean.reshape(len(test), -1), raw_std.reshape(len(test), -1)
        model.calibrate(cal[["formula", *model.tasks_]], method=method)
        _, std = model.predict(formulas, return_std=True)
        std = std.reshape(len(test), -1)
        intervals = task_intervals(model, formulas)
        distance = model.applicability(formulas)[0] if model.domain_ is not None else None
        for j, task in enumerate(model.tasks_):
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
                    method: _curve(y, mean[:, j], std[:, j]),
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
