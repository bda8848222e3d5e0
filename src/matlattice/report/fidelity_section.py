"""The report section of a compression-fidelity sweep: fidelity against width with the knee
and the recommended width, cost against fidelity with its Pareto front, the neighbourhood
measures, and the erosion order of properties and chemical families."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from matlattice.report.fidelity_plots import neighbourhood_series
from matlattice.report.html_page import Figure, Section, Table
from matlattice.report.run_folders import read_run_json

__all__ = ["fidelity_section"]


def fidelity_section(run: Path) -> Section:
    """Everything the report shows of one fidelity run folder."""
    summary = read_run_json(run, "fidelity.json")
    section = Section(
        title=f"{summary['dataset']} · {summary['encoder']} encoder", kind="fidelity", source=run
    )
    section.blocks += [
        _width_figure(summary),
        _cost_figure(summary),
        _neighbourhood_figure(summary),
        _erosion_table(summary),
    ]
    return section


def _width_figure(summary: dict) -> Figure:
    import plotly.graph_objects as go

    per_dim = summary["per_dim"]
    dims = [p["d"] for p in per_dim]
    fig = go.Figure()
    for task in summary["tasks"]:
        fig.add_scatter(
            x=dims,
            y=[p["predictive"][task]["normalised"] for p in per_dim],
            mode="lines+markers",
            name=task,
            opacity=0.7,
            line={"width": 1},
        )
    fig.add_scatter(
        x=dims,
        y=[p["mean_normalised"] for p in per_dim],
        mode="lines+markers",
        name="mean (learned)",
        line={"color": "black", "width": 3},
    )
    for name, dash in (("pca", "dash"), ("random_projection", "dot")):
        rows = summary.get("baselines", {}).get(name, [])
        if rows:
            fig.add_scatter(
                x=[r["d"] for r in rows],
                y=[r["mean_normalised"] for r in rows],
                mode="lines",
                name=f"mean ({name.replace('_', ' ')})",
                line={"color": "black", "dash": dash},
            )
    fig.add_hline(y=summary["threshold"], line={"color": "grey", "dash": "dash", "width": 1})
    fig.add_vline(
        x=math.log10(summary["recommended_dim"]),  # shapes on a log axis take log10
        line={"color": "red"},
        annotation_text=f"recommended d = {summary['recommended_dim']}",
    )
    if summary.get("knee"):
        fig.add_vline(
            x=math.log10(summary["knee"]),
            line={"color": "purple", "dash": "dashdot"},
            annotation_text=f"knee d = {summary['knee']}",
            annotation_position="bottom right",
        )
    fig.update_xaxes(type="log", title_text="bottleneck width d (log scale)", tickvals=dims)
    fig.update_yaxes(title_text="normalised predictive fidelity (1 = widest model)")
    fig.update_layout(height=440, template="plotly_white")
    return Figure(
        fig,
        "where the black mean curve leaves the grey threshold line is the "
        "narrowest width that keeps the properties; a property whose curve falls "
        "first is the one compression erodes first; the learned curve above the "
        "dashed PCA one is what training the bottleneck buys.",
    )


def _cost_figure(summary: dict) -> Figure:
    import plotly.graph_objects as go

    per_dim = summary["per_dim"]
    dims = [p["d"] for p in per_dim]
    cost = [p["cost"]["bytes_per_material"] for p in per_dim]
    fid = [p["mean_normalised"] for p in per_dim]
    front = [dims.index(d) for d in summary["pareto_front"]]
    fig = go.Figure()
    fig.add_scatter(
        x=cost,
        y=fid,
        mode="markers+text",
        text=[f"d={d}" for d in dims],
        textposition="bottom right",
        name="widths",
    )
    fig.add_scatter(
        x=[cost[i] for i in front],
        y=[fid[i] for i in front],
        mode="lines",
        name="Pareto front",
        line={"color": "red"},
    )
    fig.update_xaxes(type="log", title_text="embedding bytes per material (float32, log)")
    fig.update_yaxes(title_text="mean normalised predictive fidelity")
    fig.update_layout(height=400, template="plotly_white")
    return Figure(
        fig,
        "widths on the red front are the only ones worth storing: each buys "
        "more fidelity per byte than any width off it.",
    )


def _neighbourhood_figure(summary: dict) -> Figure:
    import plotly.graph_objects as go

    per_dim = summary["per_dim"]
    dims = [p["d"] for p in per_dim]
    series = neighbourhood_series(per_dim)
    fig = go.Figure()
    for label, values in series.items():
        fig.add_scatter(x=dims, y=values, mode="lines+markers", name=label)
    fig.update_xaxes(type="log", title_text="bottleneck width d (log scale)", tickvals=dims)
    fig.update_yaxes(title_text=f"agreement (k = {summary['k']} neighbours)")
    fig.update_layout(height=400, template="plotly_white")
    return Figure(
        fig,
        "the width where the neighbourhoods stop changing (curves flatten) is "
        "where the geometry of the embedding, not only its predictions, is kept.",
    )


def _erosion_table(summary: dict) -> Table:
    erosion = summary["erosion_order"]
    rows = [
        {"order": k + 1, "property": t, "needs width d": erosion["needs_d"][t]}
        for k, t in enumerate(erosion["properties"])
    ]
    families = ", ".join(erosion["families"][:8])
    return Table(
        pd.DataFrame(rows),
        "Erosion order: the first rows lose fidelity first as "
        f"the width shrinks (threshold {summary['threshold']:.0%} of the widest). "
        f"Chemical families whose neighbourhoods erode first: {families}.",
    )
