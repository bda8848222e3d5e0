"""The rows a load removed, as one table a user can open: ``rejected.csv`` beside a job's
output. Nothing a job drops goes unlisted: an invalid formula, a value removed by cleaning, a
record removed because its composition sits in a higher-priority official part."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matlattice.data.dataset import LoadReport
from matlattice.runtime.files import atomic_write_table

__all__ = ["REJECTED", "rejected_rows", "write_rejected"]

REJECTED = "rejected.csv"
COLUMNS = ["formula", "property", "value", "reason"]


def rejected_rows(report: LoadReport) -> pd.DataFrame:
    """One row per removed record (a labelled value of one property): ``formula``,
    ``property``, ``value`` and ``reason``."""
    invalid = report.invalid.assign(
        reason="invalid formula: " + report.invalid["fault"].astype(str)
    )
    cleaned = report.cleaned.assign(reason="cleaned: " + report.cleaned["rule"].astype(str))
    moves = report.split_moves
    moved = pd.DataFrame(
        {
            "formula": moves["key"],
            "property": moves["property"],
            "value": float("nan"),
            "reason": (
                moves["n_dropped"].astype(str)
                + " record(s) in "
                + moves["dropped_part"].astype(str)
                + " removed: the composition is in "
                + moves["kept_part"].astype(str)
            ),
        }
    )
    pieces = [p.reindex(columns=COLUMNS) for p in (invalid, cleaned, moved) if len(p)]
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=COLUMNS)


def write_rejected(report: LoadReport, folder: Path) -> Path | None:
    """Write ``folder/rejected.csv`` when the load removed anything; its path, else None."""
    rows = rejected_rows(report)
    return atomic_write_table(Path(folder) / REJECTED, rows) if len(rows) else None
