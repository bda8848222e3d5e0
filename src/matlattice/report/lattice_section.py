"""The report section of an entanglement lattice: the graph (regime, communities, gates), the
heat map of directed edge weights, the groups and weights, and the risk gates with their
evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.report.html_page import Figure, Section, Table
from matlattice.report.lattice_plots import gate_label, gated_pairs, lattice_graph, weight_matrix
from matlattice.report.run_folders import read_run_json

__all__ = ["lattice_figure", "lattice_section"]

_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def lattice_section(run: Path, name: str = "lattice.json") -> Section:
    """Everything the report shows of one entangle run folder (or the lattice a design run
    measured, ``name``)."""
    summary = read_run_json(run, name)
    section = Section(
        title=f"{summary['dataset']} · {len(summary['tasks'])} properties",
        kind="lattice",
        source=run,
    )
    section.blocks += [lattice_figure(summary), _heatmap(summary), _tasks_table(summary)]
    if summary["risk_gates"]:
        section.blocks.append(_gates_table(summary))
    return section


def _edge_traces(fig, summary: dict, graph, pos) -> None:
    gated = gated_pairs(summary)
    weights = [d["weight"] for _, _, d in graph.edges(data=True)]
    top = max(max(weights, default=0.0), 1e-9)
    for a, b, data in graph.edges(data=True):
        is_gated = (a, b) in gated or (b, a) in gated
        share = data["weight"] / top
        grey = int(215 - 180 * share)
        fig.add_scatter(
            x=[pos[a][0], pos[b][0]],
            y=[pos[a][1], pos[b][1]],
            mode="lines",
            showlegend=False,
            line={
                "width": 0.5 + 6 * share,
                "dash": "dash" if is_gated else "solid",
                "color": "#d62728" if is_gated else f"rgb({grey},{grey},{grey})",
            },
            hoverinfo="skip",
        )
        middle = (np.asarray(pos[a]) + np.asarray(pos[b])) / 2
        fig.add_scatter(
            x=[middle[0]],
            y=[middle[1]],
            mode="markers",
            showlegend=False,
            marker={"size": 8, "opacity": 0},
            hovertext=f"{a} – {b}: weight {data['weight']:.3f}" + (" (gated)" if is_gated else ""),
            hoverinfo="text",
        )


def lattice_figure(summary: dict) -> Figure:
    """Properties as nodes (size: labels, colour: community), edges by symmetrised weight,
    gated edges red and dashed."""
    import plotly.graph_objects as go

    graph, pos = lattice_graph(summary)
    tasks = summary["tasks"]
    community = {
        t: k
        for k, members in enumerate(summary.get("communities") or summary["groups"])
        for t in members
    }
    counts = summary.get("label_counts", {})
    sizes = np.array([counts.get(t, 1) for t in tasks], dtype=float)
    fig = go.Figure()
    _edge_traces(fig, summary, graph, pos)
    fig.add_scatter(
        x=[pos[t][0] for t in tasks],
        y=[pos[t][1] for t in tasks],
        mode="markers+text",
        text=tasks,
        textposition="top center",
        showlegend=False,
        marker={
            "size": 14 + 30 * np.sqrt(sizes / sizes.max()),
            "line": {"color": "black"},
            "color": [_PALETTE[community.get(t, 0) % 10] for t in tasks],
        },
        hovertext=[
            f"{t}: {counts.get(t, '?')} labels, community {community.get(t, '-')}" for t in tasks
        ],
        hoverinfo="text",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(
        height=480,
        template="plotly_white",
        title=(
            f"regime {summary['regime']} · density {summary['density']:.2f} · "
            f"modularity {summary['modularity']:.2f}"
        ),
    )
    return Figure(
        fig,
        "thick dark edges join properties that help each other; red dashed "
        "edges are gated (sharing them is measured to hurt); node colour is the "
        "community, node size the number of labels.",
    )


def _heatmap(summary: dict) -> Figure:
    import plotly.graph_objects as go

    tasks = summary["tasks"]
    weight = weight_matrix(summary, "weight")
    gated = gated_pairs(summary)
    marks = [["✕" if (a, b) in gated else "" for b in tasks] for a in tasks]
    fig = go.Figure(
        go.Heatmap(
            z=weight,
            x=tasks,
            y=tasks,
            colorscale="Viridis",
            zmin=0.0,
            text=marks,
            texttemplate="%{text}",
            colorbar={"title": "weight"},
            hovertemplate="source %{y}<br>target %{x}<br>weight %{z:.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="target")
    fig.update_yaxes(title_text="source", autorange="reversed")
    fig.update_layout(height=max(380, 160 + 40 * len(tasks)), template="plotly_white")
    return Figure(
        fig,
        "bright cells are sources that improve a target; an asymmetric pair "
        "(bright one way, dark the other) is a one-way helper; ✕ marks a gated pair.",
    )


def _tasks_table(summary: dict) -> Table:
    group_of = {t: k + 1 for k, members in enumerate(summary["groups"]) for t in members}
    weights = summary.get("task_weights") or {}
    helpers = summary.get("helpers") or {}
    rows = [
        {
            "property": t,
            "labels": summary.get("label_counts", {}).get(t),
            "group": group_of.get(t),
            "weight": weights.get(t),
            "helpers": ", ".join(helpers.get(t, []) or []),
        }
        for t in summary["tasks"]
    ]
    return Table(
        pd.DataFrame(rows),
        "Groups the lattice recommends training together, the "
        "loss weight of each property and its helper properties.",
    )


def _gates_table(summary: dict) -> Table:
    rows = [
        {"gate": g["kind"], "properties": " – ".join(g["tasks"]), "evidence": gate_label(g)}
        for g in summary["risk_gates"]
    ]
    return Table(
        pd.DataFrame(rows),
        "Risk gates: each names the pair it cuts and the measured "
        "evidence with its one-sided bounds.",
    )
