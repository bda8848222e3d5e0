"""``matlattice report``: one self-contained HTML page of run folders and campaign stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import progress_bar
from matlattice.cli.tables import console

__all__ = ["report"]


def report(
    runs: Annotated[
        list[Path],
        typer.Argument(
            help="Run folders (fit, fidelity, entangle, design, campaign run), "
            "campaign .sqlite stores, or a folder of run folders such as runs/demo."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    title: Annotated[str, typer.Option(help="Title of the page.")] = "matlattice report",
):
    """Write one self-contained HTML page (plotly.js inside, nothing fetched) with a section
    per run: metrics, parity, errors per element and calibration of a fit; the curves, knee
    and erosion of a fidelity sweep; the lattice graph and heat map; campaign curves and
    proposals; design candidates, their map and Pareto front."""
    from matlattice.report.build import write_report

    with progress_bar("report") as progress:
        written = write_report(runs, out, title=title, progress=progress)
    kinds = ", ".join(f"{kind} {path}" for kind, path in written["sections"])
    console.print(
        f"report -> {written['path']} ({written['bytes'] / 1e6:.1f} MB, "
        f"{written['figures']} figures): {kinds}"
    )
