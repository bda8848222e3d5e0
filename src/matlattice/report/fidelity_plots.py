"""Figures of a compression-fidelity sweep, drawn from its ``fidelity.json`` dictionary.

- ``fidelity_vs_width.png``: normalised predictive fidelity against width, one line per
  property, the mean in black, PCA / random-projection baselines dashed, the knee and the
  recommended width marked;
- ``cost_vs_fidelity.png``: bytes per material (log) against mean fidelity, Pareto front
  joined, each point labelled with its width; the variational sweep as a second panel
  (fidelity against measured rate in nats) when present;
- ``neighbourhood_vs_width.png``: k-NN overlap (against the features and the widest
  embedding), trustworthiness, linear CKA and reconstruction R² against width.
"""

from __future__ import annotations

from pathlib import Path

from matlattice.runtime.files import atomic_write

__all__ = ["neighbourhood_series", "save_fidelity_figures"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight"))
    _pyplot().close(fig)
    return path


def save_fidelity_figures(summary: dict, folder: Path) -> list[Path]:
    """Write the three figures of ``summary`` (the ``fidelity.json`` dict) into ``folder``."""
    folder = Path(folder)
    title = f"{summary['dataset']} · {summary['encoder']} encoder"
    return [
        _save(_width_figure(summary, title), folder / "fidelity_vs_width.png"),
        _save(_cost_figure(summary, title), folder / "cost_vs_fidelity.png"),
        _save(_neighbourhood_figure(summary, title), folder / "neighbourhood_vs_width.png"),
    ]


def _width_figure(summary: dict, title: str):
    """Normalised predictive fidelity against width: per property, the mean, the baselines."""
    per_dim = summary["per_dim"]
    dims = [p["d"] for p in per_dim]
    fig, ax = _pyplot().subplots(figsize=(6.4, 4.2))
    for task in summary["tasks"]:
        ax.plot(
            dims,
            [p["predictive"][task]["normalised"] for p in per_dim],
            lw=1,
            alpha=0.7,
            marker=".",
            label=task,
        )
    ax.plot(
        dims,
        [p["mean_normalised"] for p in per_dim],
        "k-",
        lw=2.2,
        marker="o",
        label="mean (learned)",
    )
    for name, style in (("pca", "--"), ("random_projection", ":")):
        rows = summary.get("baselines", {}).get(name, [])
        if rows:
            ax.plot(
                [r["d"] for r in rows],
                [r["mean_normalised"] for r in rows],
                "k",
                ls=style,
                lw=1.4,
                label=f"mean ({name.replace('_', ' ')})",
            )
    ax.axhline(summary["threshold"], color="grey", lw=0.8, ls="--")
    ax.axvline(
        summary["recommended_dim"],
        color="tab:red",
        lw=1.2,
        label=f"recommended d = {summary['recommended_dim']}",
    )
    if summary.get("knee"):
        ax.axvline(
            summary["knee"], color="tab:purple", lw=1, ls="-.", label=f"knee d = {summary['knee']}"
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bottleneck width d")
    ax.set_ylabel("normalised predictive fidelity")
    ax.set_ylim(-0.03, 1.08)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return fig


def _cost_figure(summary: dict, title: str):
    """Bytes per material against mean fidelity with the Pareto front; the rate axis of the
    variational bottleneck as a second panel when the sweep has one."""
    per_dim = summary["per_dim"]
    dims = [p["d"] for p in per_dim]
    variational = summary.get("variational") or []
    fig, axes = _pyplot().subplots(
        1, 2 if variational else 1, figsize=(11 if variational else 6, 4.2), squeeze=False
    )
    ax = axes[0, 0]
    cost = [p["cost"]["bytes_per_material"] for p in per_dim]
    fid = [p["mean_normalised"] for p in per_dim]
    ax.scatter(cost, fid, c="tab:blue", zorder=3)
    for d, c, f in zip(dims, cost, fid, strict=True):
        ax.annotate(f"d={d}", (c, f), textcoords="offset points", xytext=(4, -10), fontsize=7)
    front = [dims.index(d) for d in summary["pareto_front"]]
    ax.plot(
        [cost[i] for i in front], [fid[i] for i in front], "tab:red", lw=1.5, label="Pareto front"
    )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("embedding bytes per material (float32)")
    ax.set_ylabel("mean normalised predictive fidelity")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    if variational:
        _rate_panel(axes[0, 1], variational)
    return fig


def _rate_panel(ax, variational: list[dict]) -> None:
    """Mean fidelity against measured rate (nats per material), one point per KL weight."""
    rate = [v["rate_nats"] for v in variational]
    ax.plot(rate, [v["mean_normalised"] for v in variational], "o-", c="tab:green")
    for v in variational:
        ax.annotate(
            f"λ={v['kl_weight']:g}",
            (v["rate_nats"], v["mean_normalised"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xlabel(f"rate (nats per material), variational d = {variational[0]['d']}")
    ax.set_ylabel("mean normalised predictive fidelity")
    ax.set_title("rate axis: variational bottleneck", fontsize=10)


def neighbourhood_series(per_dim: list[dict]) -> dict[str, list[float]]:
    """Label -> value per width of each neighbourhood measure of a sweep's ``per_dim``."""
    return {
        "k-NN overlap vs features": [p["knn_overlap"]["features"] for p in per_dim],
        "k-NN overlap vs widest": [p["knn_overlap"]["widest"] for p in per_dim],
        "trustworthiness vs features": [p["trustworthiness"] for p in per_dim],
        "linear CKA vs widest": [p["cka"] for p in per_dim],
        "reconstruction R²": [p["reconstruction_r2"] for p in per_dim],
    }


def _neighbourhood_figure(summary: dict, title: str):
    """k-NN overlap, trustworthiness, linear CKA and reconstruction R² against width."""
    per_dim = summary["per_dim"]
    dims = [p["d"] for p in per_dim]
    fig, ax = _pyplot().subplots(figsize=(6.4, 4.2))
    series = neighbourhood_series(per_dim)
    for label, values in series.items():
        ax.plot(dims, values, marker="o", lw=1.3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bottleneck width d")
    ax.set_ylabel("fidelity")
    ax.set_title(f"{title} · k = {summary['k']}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig
