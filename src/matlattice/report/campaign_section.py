"""The report sections of discovery campaigns.

- a benchmark run folder (``campaign.json``): the share of the best found against
  measurements for every method, a band over seeds, the random expectation; the enhancement
  and acceleration factors with their intervals; the proposals of one model-driven campaign;
- a campaign store (``.sqlite``, the ask/tell campaigns of the CLI and the service): the best
  value against measurements, every proposal with its result, the model versions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.report.html_page import Figure, Note, Section, Table
from matlattice.report.run_folders import read_run_json

__all__ = ["campaign_section", "store_section"]

_PROPOSAL_COLUMNS = ["iteration", "formula", "mean", "std", "score", "reason", "value"]


def campaign_section(run: Path) -> Section:
    """Everything the report shows of one benchmark campaign folder."""
    summary = read_run_json(run, "campaign.json")
    task = summary["task"]
    title = f"{task['data']} · {task.get('target') or ', '.join(task.get('objectives') or [])}"
    section = Section(title=title, kind="campaign", source=run)
    section.blocks += [_curves_figure(summary), _factors_table(summary)]
    section.blocks.append(_benchmark_proposals(run, summary))
    return section


def _band(fig, x, rows: np.ndarray, name: str, colour: str) -> None:
    low, high = np.quantile(rows, 0.1, axis=0), np.quantile(rows, 0.9, axis=0)
    fig.add_scatter(
        x=np.concatenate([x, x[::-1]]),
        y=np.concatenate([high, low[::-1]]),
        fill="toself",
        fillcolor=colour,
        opacity=0.18,
        line={"width": 0},
        legendgroup=name,
        showlegend=False,
        hoverinfo="skip",
    )


def _curves_figure(summary: dict) -> Figure:
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    fig = go.Figure()
    banded = False
    for k, (name, entry) in enumerate(summary["acquisitions"].items()):
        colour = qualitative.Plotly[k % 10]
        curve = np.asarray(entry["curve"], dtype=float)
        seeds = np.asarray(entry.get("curve_by_seed") or [], dtype=float)
        if seeds.ndim == 2 and len(seeds) > 1:
            _band(fig, curve[:, 0], seeds, name, colour)
            banded = True
        fig.add_scatter(
            x=curve[:, 0],
            y=curve[:, 1],
            mode="lines",
            name=name,
            legendgroup=name,
            line={"color": colour, "width": 2},
        )
    n = np.arange(1, summary["budget"] + 1)
    fig.add_scatter(
        x=n,
        y=n / summary["pool_size"],
        mode="lines",
        name="random (expected)",
        line={"color": "black", "dash": "dot"},
    )
    multi = bool(summary["task"].get("objectives"))
    fig.update_xaxes(title_text="measurements")
    fig.update_yaxes(
        title_text="share of the Pareto front found"
        if multi
        else f"share of the best {summary['n_best']} found"
    )
    fig.update_layout(
        height=430,
        template="plotly_white",
        title=(
            f"pool {summary['pool_size']}, budget {summary['budget']}, "
            f"{len(summary['seeds'])} seeds"
        ),
    )
    band = "; shaded: 10-90 % of seeds" if banded else ""
    return Figure(
        fig,
        "a curve rising early and far above the dotted random line finds the "
        f"best materials in fewer experiments{band}.",
    )


def _factors_table(summary: dict) -> Table:
    rows = []
    for name, entry in summary["acquisitions"].items():
        ci = entry.get("ci", {}).get("found_at_budget") or [None, None]
        rows.append(
            {
                "method": name,
                "found at budget": entry["found_at_budget"],
                "95 % interval": f"[{ci[0]:.3g}, {ci[1]:.3g}]" if None not in ci else "",
                "enhancement factor": entry["enhancement_at_budget"],
                "measurements to half the best": entry["measurements_to_half_top1"],
                "acceleration factor": entry["acceleration_factor"],
                "seconds per campaign": entry["seconds_per_campaign"],
            }
        )
    return Table(
        pd.DataFrame(rows),
        "Enhancement factor: the share of the best found at the "
        "budget over what random choice finds on average (1 = no better than random); "
        "acceleration: how many times fewer measurements than random reach half of them.",
    )


def _benchmark_proposals(run: Path, summary: dict) -> Table | Note:
    """The proposals of the first model-driven method's first seed, in the order asked."""
    for name in summary["acquisitions"]:
        if name == "random":
            continue
        safe = name.replace("@", "_").replace("+", "_").replace("=", "")
        path = run / "campaigns" / f"{safe}_seed{summary['seeds'][0]}.sqlite"
        if path.is_file():
            frame = _store_frames(path)[1]
            return Table(
                frame[[c for c in _PROPOSAL_COLUMNS if c in frame]],
                f"Proposals of {name}, seed {summary['seeds'][0]}, in the order "
                "asked: predicted mean and spread, acquisition score, the measured "
                "value (hidden label) it revealed.",
                max_rows=60,
            )
    return Note("No model-driven campaign store in this folder: no proposals table.")


def _store_frames(path: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Settings, proposals (with results), results in order told, model versions."""
    from matlattice.discovery.store import CampaignStore

    store = CampaignStore(path, read_only=True)
    try:
        config = store.config() or {}
        results = store.results()
        proposals = store.proposals().merge(results[["formula", "value"]], on="formula", how="left")
        models = store.models()
    finally:
        store.close()
    return config, proposals, results, models


def store_section(path: Path) -> Section:
    """Everything the report shows of one campaign store (``.sqlite``)."""
    config, proposals, results, models = _store_frames(path)
    goal = config.get("goal", "max")
    if config.get("objectives") or config.get("fidelities"):
        return _plain_store_section(path, config, proposals)
    section = Section(
        title=f"{path.stem} · {config.get('target', 'value')} ({goal})",
        kind="campaign",
        source=path,
    )
    if len(results):
        values = results["value"].to_numpy(float)
        best = np.maximum.accumulate(values) if goal == "max" else np.minimum.accumulate(values)
        section.blocks.append(_best_figure(values, best))
    else:
        section.blocks.append(Note("No result told yet: nothing to plot."))
    section.blocks.append(
        Table(
            proposals[[c for c in _PROPOSAL_COLUMNS if c in proposals]],
            f"{len(proposals)} proposals and {len(results)} results; an "
            "empty value is still waiting for its measurement.",
            max_rows=100,
        )
    )
    if len(models):
        section.blocks.append(
            Table(models.drop(columns="info"), "Model versions: one surrogate fit per ask.")
        )
    return section


def _plain_store_section(path: Path, config: dict, proposals: pd.DataFrame) -> Section:
    """A multi-objective or two-fidelity store: its proposals, without values (they live per
    objective or fidelity; ``matlattice campaign export`` writes them)."""
    kind = "multi-objective" if config.get("objectives") else "two-fidelity"
    columns = [c for c in [*_PROPOSAL_COLUMNS, "fidelity"] if c in proposals and c != "value"]
    return Section(
        title=f"{path.stem} · {kind}",
        kind="campaign",
        source=path,
        blocks=[
            Note(
                f"A {kind} campaign: the report shows its proposals only; its results are "
                "per objective or fidelity (matlattice campaign export writes them all)."
            ),
            Table(
                proposals[columns].drop_duplicates(), f"{len(proposals)} proposals.", max_rows=100
            ),
        ],
    )


def _best_figure(values: np.ndarray, best: np.ndarray) -> Figure:
    import plotly.graph_objects as go

    n = np.arange(1, len(values) + 1)
    fig = go.Figure()
    fig.add_scatter(x=n, y=values, mode="markers", name="measured", marker={"opacity": 0.6})
    fig.add_scatter(x=n, y=best, mode="lines", name="best so far", line={"shape": "hv"})
    fig.update_xaxes(title_text="measurements (in the order told)")
    fig.update_yaxes(title_text="value")
    fig.update_layout(height=380, template="plotly_white")
    return Figure(
        fig,
        "steps in the best-so-far line are the experiments that paid off; a "
        "long flat stretch says the campaign has stopped finding better materials.",
    )
