"""The report section of a fit run: test metrics, parity with uncertainty bars, error per
element on the periodic table, error against spread and the calibration curve, ROC curves.

Reads ``metrics.json``, ``predictions.parquet`` and, when present, ``calibration.json``;
everything is drawn from the test rows the run saved, nothing is recomputed by a model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.report.html_page import Figure, Note, Section, Table
from matlattice.report.run_folders import read_run_json, task_units

__all__ = ["fit_section"]

MAX_POINTS = 1000  # parity points drawn per task (a seeded sample beyond that; metrics use all)


def fit_section(run: Path) -> Section:
    """Everything the report shows of one fit run folder."""
    metrics = read_run_json(run, "metrics.json")
    preds = pd.read_parquet(run / "predictions.parquet")
    calibration = (
        read_run_json(run, "calibration.json") if (run / "calibration.json").is_file() else None
    )
    units = task_units(run)
    regression = [
        t for t, m in metrics["tasks"].items() if "mae" in m and len(_test_rows(preds, t))
    ]
    classes = [t for t, m in metrics["tasks"].items() if "mae" not in m]
    title = f"{metrics.get('dataset', run.name)} · {metrics.get('model', '')}"
    section = Section(title=title, kind="fit", source=run)
    section.blocks.append(_metrics_table(metrics, units, calibration))
    if regression:
        section.blocks.append(_parity_figure(preds, regression, units))
        section.blocks.append(_element_error_figure(preds, regression))
        with_std = [t for t in regression if f"{t}_std" in preds]
        if with_std:
            section.blocks.append(_spread_figure(preds, with_std, calibration))
        else:
            section.blocks.append(
                Note(
                    "No predicted spread in this run (one model without an "
                    "uncertainty): no error-against-spread or calibration plot."
                )
            )
    if classes:
        section.blocks.extend(_roc_blocks(preds, classes))
    return section


def _metrics_table(metrics: dict, units: dict, calibration: dict | None) -> Table:
    rows = []
    for task, m in metrics["tasks"].items():
        row = {"task": task, "unit": units.get(task, "")}
        row.update({k: v for k, v in m.items() if isinstance(v, int | float)})
        if calibration and task in calibration.get("tasks", {}):
            after = calibration["tasks"][task]["after"]
            row["90 % interval coverage (calibrated)"] = after["coverage"].get("0.9")
        rows.append(row)
    split = metrics.get("split", "")
    return Table(
        pd.DataFrame(rows),
        f"Test metrics per task ({split} split). Compare the MAE "
        "with the spread of the property and with the coverage of its intervals.",
    )


def _test_rows(preds: pd.DataFrame, task: str) -> pd.DataFrame:
    keep = preds[f"{task}_true"].notna() & preds[f"{task}_pred"].notna()
    if "part" in preds and preds["part"].astype(str).eq("test").any():
        keep &= preds["part"].astype(str).eq("test")
    return preds.loc[keep]


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return math.ceil(n / cols), cols


def _parity_figure(preds: pd.DataFrame, tasks: list[str], units: dict) -> Figure:
    from plotly.subplots import make_subplots

    rows, cols = _grid(len(tasks))
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=tasks, horizontal_spacing=0.08, vertical_spacing=0.12
    )
    rng = np.random.default_rng(0)
    sampled = False
    for k, task in enumerate(tasks):
        rows_t = _test_rows(preds, task)
        if len(rows_t) > MAX_POINTS:
            rows_t, sampled = rows_t.iloc[np.sort(rng.choice(len(rows_t), MAX_POINTS, False))], True
        true, pred = rows_t[f"{task}_true"].to_numpy(float), rows_t[f"{task}_pred"].to_numpy(float)
        std = rows_t[f"{task}_std"].to_numpy(float) if f"{task}_std" in rows_t else None
        r, c = divmod(k, cols)
        fig.add_scatter(
            x=true,
            y=pred,
            mode="markers",
            name=task,
            showlegend=False,
            marker={"size": 4, "opacity": 0.55},
            text=rows_t["formula"],
            error_y=None if std is None else {"array": std, "thickness": 0.6, "width": 0},
            hovertemplate="%{text}<br>true %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
            row=r + 1,
            col=c + 1,
        )
        lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
        fig.add_scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            showlegend=False,
            line={"dash": "dash", "color": "black", "width": 1},
            hoverinfo="skip",
            row=r + 1,
            col=c + 1,
        )
        unit = units.get(task, "")
        fig.update_xaxes(title_text=f"true ({unit})" if unit else "true", row=r + 1, col=c + 1)
        fig.update_yaxes(title_text="predicted", row=r + 1, col=c + 1)
    fig.update_layout(height=330 * rows, margin={"t": 40, "b": 40}, template="plotly_white")
    sample = f" (a seeded sample of {MAX_POINTS} test rows per task)" if sampled else ""
    return Figure(
        fig,
        "points on the dashed diagonal are exact; a point far from it with a "
        "short bar is a confident mistake, with a long bar an error the model "
        f"flagged{sample}.",
    )


def _element_error(preds: pd.DataFrame, tasks: list[str]) -> dict[str, float]:
    """Mean relative absolute error (|error| / the task's MAE) of the test rows holding each
    element, pooled over tasks: 1 is average, 2 twice as bad."""
    from matlattice.composition import SYMBOLS, parse_formulas

    totals, counts = np.zeros(len(SYMBOLS)), np.zeros(len(SYMBOLS))
    for task in tasks:
        rows_t = _test_rows(preds, task)
        error = (rows_t[f"{task}_true"] - rows_t[f"{task}_pred"]).abs().to_numpy(float)
        mae = error.mean() if len(error) else 0.0
        if mae <= 0:
            continue
        batch = parse_formulas(rows_t["formula"].astype(str), errors="report")
        present = (batch.fractions > 0).astype(float)
        totals += present.T @ (error / mae)
        counts += np.asarray(present.sum(axis=0)).ravel()
    return {s: float(totals[z] / counts[z]) for z, s in enumerate(SYMBOLS) if counts[z] >= 3}


def _element_error_figure(preds: pd.DataFrame, tasks: list[str]) -> Figure:
    import pymatviz as pmv

    values = _element_error(preds, tasks)
    fig = pmv.ptable_heatmap(
        values,
        fmt=".2f",
        colorscale="RdBu_r",
        cscale_range=(0.0, 2.0),
        colorbar={"title": "relative error"},
    )
    fig.update_layout(height=470)
    return Figure(
        fig,
        "red elements are where the model errs most: each value is the mean "
        "absolute test error of compositions holding the element, divided by the "
        "task's MAE (1 = average), pooled over tasks; elements in fewer than 3 test "
        "rows are blank.",
    )


def _binned(x: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Root mean square of ``x`` and of ``y`` in equal-count bins of ``x``."""
    order = np.argsort(x)
    chunks = [c for c in np.array_split(order, min(bins, len(x))) if len(c)]
    return (
        np.array([np.sqrt(np.mean(x[c] ** 2)) for c in chunks]),
        np.array([np.sqrt(np.mean(y[c] ** 2)) for c in chunks]),
    )


def _spread_figure(preds: pd.DataFrame, tasks: list[str], calibration: dict | None) -> Figure:
    from plotly.subplots import make_subplots
    from scipy.stats import norm

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "error against spread (RMSE vs RMV, relative to each task's RMSE)",
            "calibration: observed vs nominal coverage",
        ),
    )
    nominal = np.linspace(0.02, 0.98, 25)
    for task in tasks:
        rows_t = _test_rows(preds, task)
        error = (rows_t[f"{task}_true"] - rows_t[f"{task}_pred"]).to_numpy(float)
        std = rows_t[f"{task}_std"].to_numpy(float)
        scale = float(np.sqrt(np.mean(error**2))) or 1.0
        rmv, rmse = _binned(std, error)
        fig.add_scatter(
            x=rmv / scale,
            y=rmse / scale,
            mode="lines+markers",
            name=task,
            legendgroup=task,
            row=1,
            col=1,
        )
        z = np.abs(error) / np.where(std > 0, std, np.nan)
        z = z[np.isfinite(z)]  # a row without a positive spread has no interval to judge
        if not len(z):
            continue
        observed = [float(np.mean(z <= norm.ppf(0.5 + p / 2))) for p in nominal]
        fig.add_scatter(
            x=nominal,
            y=observed,
            mode="lines",
            name=f"{task} raw",
            legendgroup=task,
            showlegend=False,
            row=1,
            col=2,
        )
        if calibration and task in calibration.get("tasks", {}):
            after = calibration["tasks"][task]["after"]["coverage"]
            fig.add_scatter(
                x=[float(p) for p in after],
                y=list(after.values()),
                mode="markers",
                marker={"symbol": "diamond", "size": 9},
                legendgroup=task,
                name=f"{task} calibrated",
                row=1,
                col=2,
            )
    top = 1.0
    fig.add_scatter(
        x=[0, 3 * top],
        y=[0, 3 * top],
        mode="lines",
        name="ideal",
        line={"dash": "dot", "color": "black"},
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        showlegend=False,
        line={"dash": "dot", "color": "black"},
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="RMV / RMSE", row=1, col=1)
    fig.update_yaxes(title_text="binned RMSE / RMSE", row=1, col=1)
    fig.update_xaxes(title_text="nominal coverage", range=[0, 1], row=1, col=2)
    fig.update_yaxes(title_text="observed coverage", range=[0, 1], row=1, col=2)
    fig.update_layout(height=420, template="plotly_white")
    return Figure(
        fig,
        "left: points on the dotted line mean a larger predicted spread comes "
        "with a proportionally larger error; right: curves below the diagonal are "
        "over-confident intervals (raw ensemble spread), diamonds the intervals after "
        "calibration.",
    )


def _roc_blocks(preds: pd.DataFrame, tasks: list[str]) -> list[Figure | Note]:
    import pymatviz as pmv

    blocks: list[Figure | Note] = []
    for task in tasks:
        if f"{task}_proba" not in preds:
            blocks.append(Note(f"{task}: no predicted probabilities saved, so no ROC curve."))
            continue
        rows_t = _test_rows(preds, task)
        fig = pmv.roc_curve(
            rows_t[f"{task}_true"].to_numpy(int), {task: rows_t[f"{task}_proba"].to_numpy(float)}
        )
        fig.update_layout(height=420, template="plotly_white", title=f"{task}: ROC curve")
        blocks.append(
            Figure(
                fig,
                "a curve hugging the top-left corner separates the classes "
                "at every threshold; its area is the ROC-AUC of the metrics table.",
            )
        )
    return blocks
