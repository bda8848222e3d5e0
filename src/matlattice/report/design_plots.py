"""Figures of a design run, drawn from its candidates and the known data.

- ``candidates_map.png``: the known compositions (grey) and the candidates (coloured by the
  probability of meeting every target, the ten best named) on the first two principal
  components of the standardised Magpie features the property model reads;
- ``element_frequency.png``: on a periodic table, in how many candidates each element
  appears;
- ``pareto.png`` (two or more targets): the candidates' predicted values of the first two
  targets beside the known labels, the candidates on the Pareto front joined.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.report.fidelity_plots import _pyplot, _save

__all__ = ["candidate_map", "pareto_mask", "save_design_figures"]


def save_design_figures(
    candidates: pd.DataFrame,
    known: pd.DataFrame,
    goals: dict[str, str],
    folder: Path,
) -> list[Path]:
    """Write the figures (module docstring) into ``folder``; ``goals`` maps each target
    property to ``max``, ``min`` or ``window``."""
    folder = Path(folder)
    paths = [
        _save(_map_figure(candidates, known), folder / "candidates_map.png"),
        _save(_element_figure(candidates), folder / "element_frequency.png"),
    ]
    if len(goals) >= 2:
        paths.append(_save(_pareto_figure(candidates, known, goals), folder / "pareto.png"))
    return paths


def candidate_map(
    candidates: pd.DataFrame, known: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The known compositions and the candidates on the first two principal components of
    the standardised Magpie features (fitted on the known): ``known_xy, candidate_xy,
    explained variance ratio``."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    from matlattice.represent.featurizers import ElementStatsFeaturizer

    featurizer = ElementStatsFeaturizer("magpie", missing="mean").fit()
    reference = featurizer.transform(known["formula"].tolist())
    scaler = StandardScaler().fit(reference)
    pca = PCA(2, random_state=0).fit(np.nan_to_num(scaler.transform(reference)))
    ref_xy = pca.transform(np.nan_to_num(scaler.transform(reference)))
    xy = pca.transform(
        np.nan_to_num(scaler.transform(featurizer.transform(candidates["formula"].tolist())))
    )
    return ref_xy, xy, pca.explained_variance_ratio_


def _map_figure(candidates: pd.DataFrame, known: pd.DataFrame):
    ref_xy, xy, ratio = candidate_map(candidates, known)
    fig, ax = _pyplot().subplots(figsize=(6.4, 5.0))
    ax.scatter(*ref_xy.T, s=4, c="0.8", label=f"known ({len(known):,})", rasterized=True)
    points = ax.scatter(
        *xy.T, s=10, c=candidates["p_meet"], cmap="viridis", vmin=0, vmax=1,
        label=f"candidates ({len(candidates):,})",
    )  # fmt: skip
    for i in range(min(10, len(candidates))):
        ax.annotate(candidates["formula"].iloc[i], xy[i], fontsize=7, xytext=(3, 3),
                    textcoords="offset points")  # fmt: skip
    fig.colorbar(points, ax=ax, label="P(meets every target)")
    ax.set_xlabel(f"PC 1 ({ratio[0]:.0%} of the feature variance)")
    ax.set_ylabel(f"PC 2 ({ratio[1]:.0%})")
    ax.set_title("candidates beside the known data (Magpie features, PCA)")
    ax.legend(loc="best", fontsize=8)
    return fig


def _table_position(symbol: str) -> tuple[int, int]:
    """(row, column) of an element on the 18-column table, the f-block in rows 8-9."""
    from pymatgen.core import Element

    element = Element(symbol)
    if element.is_lanthanoid or element.is_actinoid:
        row = 8 if element.is_lanthanoid else 9
        first = 57 if element.is_lanthanoid else 89
        return row, 3 + element.Z - first
    return element.row, element.group


def _element_figure(candidates: pd.DataFrame):
    from pymatgen.core import Composition

    counts: Counter = Counter()
    for formula in candidates["formula"]:
        counts.update(str(e) for e in Composition(formula).elements)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.5, 5.2))
    top = max(counts.values(), default=1)
    cmap = plt.get_cmap("viridis")
    from pymatgen.core import Element

    for element in Element:
        if element.Z > 103:
            continue
        row, column = _table_position(element.symbol)
        n = counts.get(element.symbol, 0)
        colour = cmap(n / top) if n else "white"
        ax.add_patch(plt.Rectangle((column - 0.5, -row - 0.5), 0.95, 0.95, fc=colour, ec="0.6"))
        text = "white" if n and n / top < 0.6 else "black"
        ax.text(column, -row + 0.1, element.symbol, ha="center", va="center", fontsize=7,
                color=text)  # fmt: skip
        if n:
            ax.text(column, -row - 0.25, str(n), ha="center", va="center", fontsize=5,
                    color=text)  # fmt: skip
    ax.set_xlim(0, 19)
    ax.set_ylim(-9.7, -0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"elements in the {len(candidates):,} candidates (count per element)")
    return fig


def pareto_mask(values: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Rows of ``values`` ``(n, t)`` no other row beats in every column (``signs``: +1 to
    maximise, -1 to minimise)."""
    better = np.asarray(values, dtype=float) * np.asarray(signs, dtype=float)
    mask = np.ones(len(better), dtype=bool)
    for i in range(len(better)):
        dominated = (better >= better[i]).all(axis=1) & (better > better[i]).any(axis=1)
        mask[i] = not dominated.any()
    return mask


def _pareto_figure(candidates: pd.DataFrame, known: pd.DataFrame, goals: dict[str, str]):
    first, second = list(goals)[:2]
    signs = np.array([-1.0 if goals[p] == "min" else 1.0 for p in (first, second)])
    fig, ax = _pyplot().subplots(figsize=(6.0, 4.8))
    labelled = known[[first, second]].dropna()
    ax.scatter(labelled[first], labelled[second], s=4, c="0.8", label="known labels")
    values = candidates[[first, second]].to_numpy(dtype=float)
    ax.scatter(*values.T, s=10, c=candidates["p_meet"], cmap="viridis", vmin=0, vmax=1,
               label="candidates (predicted)")  # fmt: skip
    front = values[pareto_mask(values, signs)]
    front = front[np.argsort(front[:, 0])]
    ax.plot(*front.T, "r.-", lw=1, label=f"candidates' Pareto front ({len(front)})")
    ax.set_xlabel(f"{first} ({goals[first]})")
    ax.set_ylabel(f"{second} ({goals[second]})")
    ax.legend(fontsize=8)
    ax.set_title("predicted trade-off of the candidates")
    return fig
