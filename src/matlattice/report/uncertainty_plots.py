"""Figures of predictive uncertainty, one column per property: calibration curve (observed
against nominal coverage of central intervals), error-based calibration (RMSE against root
mean predicted variance, binned by spread) and error against applicability-domain distance."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matlattice.runtime.files import atomic_write

__all__ = ["binned_means", "save_calibration_figure"]


def save_calibration_figure(path: Path, panels: list[dict], *, title: str = "") -> Path:
    """Save the calibration figure.

    ``panels``: one dict per property with ``"task"``, ``"unit"`` and ``"curves"``: a dict
    of label (e.g. ``"raw"``, ``"isotonic"``) to ``{"expected", "observed", "rmv", "rmse"}``
    lists; optionally ``"domain"``: ``{"distance": [...], "abs_error": [...], "spread": [...]}``
    bin means (``spread``: the calibrated predicted standard deviation).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cols = max(len(panels), 1)
    fig, axes = plt.subplots(3, cols, figsize=(3.4 * cols, 9.6), squeeze=False)
    for j, panel in enumerate(panels):
        top, mid, low = axes[0, j], axes[1, j], axes[2, j]
        for label, curve in panel["curves"].items():
            top.plot(curve["expected"], curve["observed"], label=label)
            mid.plot(curve["rmv"], curve["rmse"], "o-", ms=3, label=label)
        top.plot([0, 1], [0, 1], "k:", lw=1)
        top.set(title=panel["task"], xlabel="nominal coverage", ylabel="observed coverage")
        top.legend(fontsize=7)
        reach = max(
            max(max(c["rmv"], default=0), max(c["rmse"], default=0))
            for c in panel["curves"].values()
        )
        mid.plot([0, reach], [0, reach], "k:", lw=1)
        mid.set(xlabel=f"RMV ({panel['unit']})", ylabel=f"RMSE ({panel['unit']})")
        domain = panel.get("domain")
        if domain:
            low.plot(domain["distance"], domain["abs_error"], "o-", ms=3, label="mean |error|")
            if "spread" in domain:
                low.plot(domain["distance"], domain["spread"], "s--", ms=3, label="mean spread")
            low.set(
                xlabel="domain distance (validation median = 1)",
                ylabel=f"error, spread ({panel['unit']})",
            )
            low.legend(fontsize=7)
        else:
            low.set_visible(False)
    for ax in axes[:, len(panels) :].ravel():
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def binned_means(x: np.ndarray, y: np.ndarray, n_bins: int = 8) -> tuple[list, list]:
    """Means of ``x`` and ``y`` in ``n_bins`` equal-count bins of ``x`` (NaN rows skipped)."""
    ok = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[ok], kind="stable")
    bins = [b for b in np.array_split(order, min(n_bins, max(int(ok.sum()), 1))) if len(b)]
    return [float(x[ok][b].mean()) for b in bins], [float(y[ok][b].mean()) for b in bins]
