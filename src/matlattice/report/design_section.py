"""The report section of a design run: what was asked and found, the candidates with their
provenance and checks, the latent map beside the known data, the Pareto front of two targets,
and the lattice that steered the targets when one did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.errors import MatlatticeError
from matlattice.report.design_plots import candidate_map, pareto_mask
from matlattice.report.html_page import Figure, Note, Section, Table
from matlattice.report.run_folders import read_run_json

__all__ = ["design_section"]

# columns of candidates.csv shown first, in this order, where present
_LEAD = [
    "formula",
    "proposed_by",
    "score",
    "p_meet",
    "prior",
    "in_domain",
    "nearest_known",
    "distance",
    "e_above_hull",
    "p_stable",
    "charge_neutral",
]


def design_section(run: Path) -> Section:
    """Everything the report shows of one design run folder."""
    record = read_run_json(run, "design.json")
    candidates = pd.read_csv(run / "candidates.csv", keep_default_na=False, na_values=[""])
    config = record.get("config", {})
    goals = _goals(config)
    section = Section(
        title=f"{record['dataset']} · {'; '.join(record['targets'])}", kind="design", source=run
    )
    section.blocks.append(_summary_table(record))
    section.blocks.append(_candidates_table(candidates, goals))
    known = _known(config)
    if known is None:
        section.blocks.append(
            Note(
                f"The known data {config.get('data')!r} cannot be loaded "
                "here: no latent map or Pareto front."
            )
        )
    else:
        section.blocks.append(_map_figure(candidates, known))
        extremes = {p: g for p, g in goals.items() if g in ("max", "min")}
        if len(extremes) >= 2:  # a window target has no front to draw
            section.blocks.append(_pareto_figure(candidates, known, extremes))
    if (run / "lattice.json").is_file():
        from matlattice.report.lattice_section import lattice_figure

        block = lattice_figure(read_run_json(run, "lattice.json"))
        block.caption = "the lattice that steered the targets: " + block.caption
        section.blocks.append(block)
    return section


def _goals(config: dict) -> dict[str, str]:
    from matlattice.design.objectives import parse_target

    targets = [parse_target(t, config.get("share", 0.05)) for t in config.get("targets", [])]
    return {t.property: t.goal for t in targets}


def _known(config: dict) -> pd.DataFrame | None:
    from matlattice.data import load_dataset

    try:
        return load_dataset(config["data"]).frame
    except (MatlatticeError, KeyError, OSError):
        return None


def _summary_table(record: dict) -> Table:
    keep = {k: v for k, v in record.items() if isinstance(v, int | float | str) and k != "dataset"}
    frame = pd.DataFrame({"measure": list(keep), "value": list(keep.values())})
    return Table(
        frame,
        "What the design run asked and what it found: counts of generated, "
        "checked and kept candidates, the share in the known data's domain, time.",
    )


def _candidates_table(candidates: pd.DataFrame, goals: dict[str, str]) -> Table:
    predicted = [c for g in goals for c in (g, f"{g}_std") if c in candidates]
    columns = [c for c in _LEAD if c in candidates][:3] + predicted
    columns += [c for c in _LEAD[3:] if c in candidates and c not in columns]
    return Table(
        candidates[columns],
        "Candidates in rank order: who proposed each "
        "(generator), its predicted targets with their spread, the probability of "
        "meeting every target, whether it lies in the known data's domain and its "
        "nearest known composition.",
        max_rows=100,
    )


def _map_figure(candidates: pd.DataFrame, known: pd.DataFrame) -> Figure:
    import plotly.graph_objects as go

    ref_xy, xy, ratio = candidate_map(candidates, known)
    keep = np.random.default_rng(0).permutation(len(ref_xy))[:4000]
    fig = go.Figure()
    fig.add_scatter(
        x=ref_xy[keep, 0],
        y=ref_xy[keep, 1],
        mode="markers",
        marker={"color": "#c8c8c8", "size": 3},
        name=f"known ({len(keep):,} of {len(ref_xy):,})",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=xy[:, 0],
        y=xy[:, 1],
        mode="markers",
        text=candidates["formula"],
        marker={
            "color": candidates["p_meet"],
            "colorscale": "Viridis",
            "cmin": 0,
            "cmax": 1,
            "size": 6,
            "colorbar": {"title": "P(meet)"},
        },
        name=f"candidates ({len(candidates):,})",
        hovertemplate="%{text}<br>P(meet) %{marker.color:.2f}<extra></extra>",
    )
    fig.update_xaxes(title_text=f"PC 1 ({ratio[0]:.0%} of the feature variance)")
    fig.update_yaxes(title_text=f"PC 2 ({ratio[1]:.0%})")
    fig.update_layout(height=500, template="plotly_white", legend={"orientation": "h", "y": -0.2})
    return Figure(
        fig,
        "candidates far from every grey point are extrapolations the model "
        "has seen nothing like; bright ones close to the known cloud are the safer bets.",
    )


def _pareto_figure(candidates: pd.DataFrame, known: pd.DataFrame, goals: dict[str, str]) -> Figure:
    import plotly.graph_objects as go

    first, second = list(goals)[:2]
    signs = np.array([-1.0 if goals[p] == "min" else 1.0 for p in (first, second)])
    labelled = known[[first, second]].dropna() if {first, second} <= set(known) else None
    values = candidates[[first, second]].to_numpy(dtype=float)
    front = values[pareto_mask(values, signs)]
    front = front[np.argsort(front[:, 0])]
    fig = go.Figure()
    if labelled is not None:
        fig.add_scatter(
            x=labelled[first],
            y=labelled[second],
            mode="markers",
            marker={"color": "#c8c8c8", "size": 3},
            name="known labels",
        )
    fig.add_scatter(
        x=values[:, 0],
        y=values[:, 1],
        mode="markers",
        text=candidates["formula"],
        marker={"color": candidates["p_meet"], "colorscale": "Viridis", "size": 6},
        name="candidates (predicted)",
    )
    fig.add_scatter(
        x=front[:, 0],
        y=front[:, 1],
        mode="lines+markers",
        name=(f"candidates' Pareto front ({len(front)})"),
        line={"color": "red"},
    )
    fig.update_xaxes(title_text=f"{first} ({goals[first]})")
    fig.update_yaxes(title_text=f"{second} ({goals[second]})")
    fig.update_layout(height=450, template="plotly_white")
    return Figure(
        fig,
        "the red front is the trade-off the candidates offer; a front beyond "
        "the grey known labels is the promise of the design (predicted, not measured).",
    )
