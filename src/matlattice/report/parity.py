"""Parity plots (predicted vs true) for regression tasks, saved as PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from matlattice.runtime.files import atomic_write

__all__ = ["save_parity_plot"]


def save_parity_plot(
    path: Path,
    panels: list[dict],
    *,
    title: str = "",
) -> Path:
    """Save a grid of parity plots, one panel per task.

    Parameters
    ----------
    path : path of the PNG file (written atomically)
    panels : list of dict
        Each ``{"task": str, "unit": str, "y_true": (n,) array, "y_pred": (n,) array}``.
    title : str
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = max(len(panels), 1)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.5 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes.ravel(), panels, strict=False):
        y_true = np.asarray(panel["y_true"], dtype=float)
        y_pred = np.asarray(panel["y_pred"], dtype=float)
        lo = float(np.nanmin([y_true.min(), y_pred.min()]))
        hi = float(np.nanmax([y_true.max(), y_pred.max()]))
        pad = 0.03 * (hi - lo or 1.0)
        if len(y_true) > 2000:
            ax.hexbin(
                y_true,
                y_pred,
                gridsize=60,
                bins="log",
                cmap="viridis",
                mincnt=1,
                extent=(lo - pad, hi + pad, lo - pad, hi + pad),
            )
        else:
            ax.scatter(y_true, y_pred, s=6, alpha=0.5, lw=0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=0.8)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        mae = float(np.mean(np.abs(y_true - y_pred)))
        ss_res = float(np.sum((y_true - y_pred) ** 2))
        ss_tot = float(np.sum((y_true - y_true.mean()) ** 2)) or float("nan")
        unit = panel.get("unit", "")
        ax.set_title(panel["task"], fontsize=10)
        ax.set_xlabel(f"true ({unit})" if unit else "true", fontsize=8)
        ax.set_ylabel(f"predicted ({unit})" if unit else "predicted", fontsize=8)
        ax.text(
            0.04,
            0.96,
            f"MAE {mae:.3g}\n$R^2$ {1 - ss_res / ss_tot:.3f}\nn={len(y_true)}",
            transform=ax.transAxes,
            va="top",
            fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "lw": 0},
        )
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(style="sci", scilimits=(-3, 4), axis="both")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    atomic_write(Path(path), lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return Path(path)
