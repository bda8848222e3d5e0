"""Figures of an entanglement lattice, drawn from its ``lattice.json`` dictionary.

- ``lattice.png``: properties as nodes (area by label count, colour by group), edges by the
  symmetrised combined weight (width and darkness), gated edges red and dashed and labelled
  with their gate and its evidence (a cutting gate with its interval at its confidence);
  spring layout seeded, so the same lattice draws the same way;
- ``edge_heatmap.png``: the directed combined weight ``w[source, target]`` as a heat-map,
  gated pairs crossed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matlattice.report.fidelity_plots import _pyplot, _save

__all__ = ["gate_label", "gated_pairs", "lattice_graph", "save_lattice_figures", "weight_matrix"]


def weight_matrix(summary: dict, key: str) -> np.ndarray:
    tasks = summary["tasks"]
    index = {t: i for i, t in enumerate(tasks)}
    out = np.full((len(tasks), len(tasks)), np.nan)
    for edge in summary["edges"]:
        value = edge[key]
        if value is not None:
            out[index[edge["source"]], index[edge["target"]]] = float(value)
    return out


_SHORT = {
    "negative_transfer": "neg. transfer",
    "gradient_conflict": "conflict",
    "duplicate": "duplicate",
    "trivial_transform": "transform",
    "dominant_source": "one source",
}


def gate_label(gate: dict) -> str:
    """One line for a pair gate: its kind and evidence, e.g. ``neg. transfer -0.12
    [-0.18, -0.07] @95%`` (the bounds one-sided at the recorded confidence)."""
    evidence, kind = gate["evidence"], _SHORT.get(gate["kind"], gate["kind"])
    value = evidence.get("transfer_gain", evidence.get("mean_cosine"))
    interval = evidence.get("interval")
    if value is None:
        return kind
    text = f"{kind} {value:+.2f}"
    if interval and None not in interval:
        text += f" [{interval[0]:+.2f}, {interval[1]:+.2f}] @{evidence['confidence']:.0%}"
    return text


def gate_labels(summary: dict) -> dict[frozenset, str]:
    """One label per gated pair (several gates of one pair on separate lines)."""
    labels: dict[frozenset, list[str]] = {}
    for gate in summary["risk_gates"]:
        if len(gate["tasks"]) == 2:
            labels.setdefault(frozenset(gate["tasks"]), []).append(gate_label(gate))
    return {pair: "\n".join(sorted(set(texts))) for pair, texts in labels.items()}


def gated_pairs(summary: dict) -> set[tuple[str, str]]:
    """The directed (source, target) pairs a gate cuts."""
    return {(e["source"], e["target"]) for e in summary["edges"] if e["gated"]}


def lattice_graph(summary: dict):
    """The undirected graph of symmetrised weights and its seeded spring layout."""
    import networkx as nx

    tasks = summary["tasks"]
    weight = weight_matrix(summary, "weight")
    graph = nx.Graph()
    graph.add_nodes_from(tasks)
    for s in range(len(tasks)):
        for t in range(s + 1, len(tasks)):
            w = np.nanmean([weight[s, t], weight[t, s]])
            if np.isfinite(w):
                graph.add_edge(tasks[s], tasks[t], weight=float(w))
    return graph, nx.spring_layout(graph, weight="weight", seed=0)


def save_lattice_figures(summary: dict, folder: Path) -> list[Path]:
    """Write ``lattice.png`` and ``edge_heatmap.png`` of ``summary`` into ``folder``."""
    plt = _pyplot()
    folder = Path(folder)
    tasks = summary["tasks"]
    weight = weight_matrix(summary, "weight")
    gated = gated_pairs(summary)
    group_of = {t: g for g, members in enumerate(summary["groups"]) for t in members}
    counts = summary.get("label_counts", {})
    graph, pos = lattice_graph(summary)
    fig, ax = plt.subplots(figsize=(7, 6))
    top = max(np.nanmax(weight), 1e-9) if np.isfinite(weight).any() else 1.0
    for a, b, data in graph.edges(data=True):
        is_gated = (a, b) in gated or (b, a) in gated
        share = data["weight"] / top
        ax.plot(
            [pos[a][0], pos[b][0]],
            [pos[a][1], pos[b][1]],
            color="tab:red" if is_gated else str(0.85 - 0.8 * share),
            linestyle="--" if is_gated else "-",
            linewidth=0.5 + 5 * share,
            zorder=1,
        )
    sizes = np.array([counts.get(t, 1) for t in tasks], dtype=float)
    sizes = 200 + 1800 * np.sqrt(sizes / sizes.max())
    ax.scatter(
        [pos[t][0] for t in tasks],
        [pos[t][1] for t in tasks],
        s=sizes,
        c=[group_of.get(t, -1) for t in tasks],
        cmap="tab10",
        vmin=0,
        vmax=9,
        edgecolors="black",
        zorder=2,
    )
    for t in tasks:
        ax.annotate(t, pos[t], ha="center", va="center", fontsize=8, zorder=3)
    for pair, text in gate_labels(summary).items():
        a, b = sorted(pair)
        middle = (np.asarray(pos[a]) + np.asarray(pos[b])) / 2
        ax.annotate(text, middle, ha="center", va="center", fontsize=6, color="tab:red", zorder=4)
    ax.set_title(
        f"{summary['dataset']}: regime {summary['regime']}, density {summary['density']:.2f}, "
        f"modularity {summary['modularity']:.2f}\n(node area: labels; colour: group; red "
        "dashed: gated, with the gate's value and one-sided bounds)"
    )
    ax.set_axis_off()
    paths = [_save(fig, folder / "lattice.png")]

    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(tasks), 0.8 + 0.55 * len(tasks)))
    image = ax.imshow(weight, cmap="viridis", vmin=0, vmax=max(top, 1e-9))
    for s, a in enumerate(tasks):
        for t, b in enumerate(tasks):
            if (a, b) in gated:
                ax.text(t, s, "x", ha="center", va="center", color="red", fontsize=10)
    ax.set_xticks(range(len(tasks)), tasks, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(tasks)), tasks, fontsize=8)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    fig.colorbar(image, ax=ax, label="entanglement weight")
    ax.set_title("combined weight w[source, target] (x: gated)")
    paths.append(_save(fig, folder / "edge_heatmap.png"))
    return paths
