"""Plots of the structure stage: predicted powder XRD patterns, saved as PNG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matlattice.runtime.files import atomic_write

__all__ = ["save_xrd_plot"]


def save_xrd_plot(path: Path, patterns: dict[str, pd.DataFrame], *, title: str = "") -> Path:
    """Stick patterns (``two_theta``, ``intensity``, ``hkl``) stacked one above another, one
    per label, the strongest reflections of each marked with their hkl."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 1.2 + 1.6 * len(patterns)))
    for offset, (label, pattern) in enumerate(reversed(list(patterns.items()))):
        base = offset * 120.0
        ax.vlines(pattern["two_theta"], base, base + pattern["intensity"], lw=1.2)
        ax.text(0.99, (base + 100) / (120.0 * len(patterns)), label, fontsize=8, ha="right",
                va="top", transform=ax.transAxes)  # fmt: skip
        for row in pattern.nlargest(4, "intensity").itertuples():
            ax.text(row.two_theta, base + row.intensity + 2, row.hkl.split()[0], fontsize=6,
                    ha="center")  # fmt: skip
    ax.set_xlabel("2θ (degrees, Cu Kα)")
    ax.set_ylabel("intensity (strongest = 100), offset per structure")
    ax.set_yticks([])
    ax.set_ylim(0, 120.0 * len(patterns))
    ax.set_title(title)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
    return path
