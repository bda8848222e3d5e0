"""``matlattice report``: one HTML page for any number of run folders and campaign stores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matlattice.errors import MatlatticeError
from matlattice.report.html_page import Section, render_page
from matlattice.report.run_folders import KINDS, run_kind
from matlattice.runtime.files import atomic_write_text

__all__ = ["expand_runs", "write_report"]

MAX_BYTES = 6_000_000
ORDER = (
    "fit",
    "fidelity",
    "lattice",
    "campaign",
    "design",
)  # the pipeline's order  # the page stays small enough to mail; plotly.js alone is ~4.9 MB


def _builder(kind: str) -> Callable[[Path], Section]:
    from matlattice.report.campaign_section import campaign_section, store_section
    from matlattice.report.design_section import design_section
    from matlattice.report.fidelity_section import fidelity_section
    from matlattice.report.fit_section import fit_section
    from matlattice.report.lattice_section import lattice_section

    return {
        "fit": fit_section,
        "fidelity": fidelity_section,
        "lattice": lattice_section,
        "campaign": campaign_section,
        "design": design_section,
        "store": store_section,
    }[kind]


def expand_runs(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """``(kind, path)`` of every run: a folder holding no run itself stands for the run
    folders directly inside it (``runs/demo`` for its fit, fidelity, lattice, ...)."""
    found: list[tuple[str, Path]] = []
    for path in map(Path, paths):
        if path.is_dir() and not any((path / m).is_file() for m in KINDS.values()):
            inner = [
                p
                for p in sorted(path.iterdir())
                if p.is_dir() and any((p / m).is_file() for m in KINDS.values())
            ]
            if inner:
                kinds = sorted(((run_kind(p), p) for p in inner), key=lambda r: ORDER.index(r[0]))
                found += kinds
                continue
        found.append((run_kind(path), path))
    if not found:
        raise MatlatticeError("no run folder given: name one or more run folders")
    return found


def write_report(
    paths: Sequence[Path],
    out: Path,
    *,
    title: str = "matlattice report",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the page for ``paths`` to ``out``; ``{"path", "bytes", "sections": [(kind,
    path)], "figures"}``. Refuses a page over :data:`MAX_BYTES` rather than write one nobody
    can send."""
    runs = expand_runs(paths)
    sections = []
    for k, (kind, path) in enumerate(runs, start=1):
        if progress:
            progress(f"run {k}/{len(runs)}, {kind} {path}")
        sections.append(_builder(kind)(path))
    page = render_page(sections, title)
    size = len(page.encode("utf-8"))
    if size > MAX_BYTES:
        raise MatlatticeError(
            f"the report would be {size / 1e6:.1f} MB (> {MAX_BYTES / 1e6:.0f} MB); give fewer "
            "run folders per report"
        )
    written = atomic_write_text(Path(out), page)
    figures = sum(1 for s in sections for b in s.blocks if hasattr(b, "figure"))
    return {
        "path": str(written),
        "bytes": size,
        "sections": [(k, str(p)) for k, p in runs],
        "figures": figures,
    }
