"""User data files: CSV or parquet with a ``formula`` column and numeric property columns."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data.registry import DatasetInfo, PropertyInfo
from matlattice.errors import DataFormatError

__all__ = ["ID_COLUMNS", "read_table", "read_user_records"]

#: Text columns taken as entry ids rather than rejected.
ID_COLUMNS = ("id", "entry_id", "mp_id", "material_id")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or parquet file with at least one row; a clear error for a missing,
    unreadable or empty file or an unknown suffix."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataFormatError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    try:
        frame = _read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except DataFormatError:
        raise
    except pd.errors.EmptyDataError:
        raise DataFormatError(f"{path} is empty; expected a header line and rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "CSV" if suffix == ".csv" else "parquet"
        raise DataFormatError(f"{path} is not a readable {kind} file: {exc}") from exc
    if frame.empty:
        raise DataFormatError(f"{path} has columns {list(frame.columns)} but no rows")
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV with its ``formula`` column read as written: ``NaN`` (sodium nitride), ``None``,
    ``NA`` or ``null`` stay formulas (pandas would make them missing); an empty cell stays
    an empty string, which the parser reports as a bad row. Other columns keep pandas' rules.
    A row with more or fewer fields than the header is refused by line number (pandas would
    shift the columns of every row, or fill the missing fields with blanks)."""
    _check_field_counts(path)
    frame = pd.read_csv(path, keep_default_na=True, index_col=False)
    if "formula" in frame.columns:
        formulas = pd.read_csv(
            path, usecols=["formula"], dtype=str, keep_default_na=False, index_col=False
        )
        frame["formula"] = formulas["formula"].to_numpy(dtype=object)
    return frame


def _check_field_counts(path: Path, shown: int = 5) -> None:
    """Refuse a CSV whose rows do not all have as many fields as its header, naming the lines
    (blank lines are skipped, as pandas skips them)."""
    ragged: list[str] = []
    n_ragged = 0
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            width = len(next(reader, []))
            for row in reader:
                if row and len(row) != width:
                    n_ragged += 1
                    if len(ragged) < shown:
                        ragged.append(f"line {reader.line_num} has {len(row)}")
    except csv.Error as exc:
        raise DataFormatError(f"{path} is not a readable CSV file: {exc}") from exc
    if n_ragged:
        more = f" and {n_ragged - shown} more" if n_ragged > shown else ""
        raise DataFormatError(
            f"{path}: the header has {width} fields but {', '.join(ragged)}{more} (a stray or "
            "missing comma?); fix those lines so that every row has one field per column"
        )


def read_user_records(path: Path) -> tuple[DatasetInfo, pd.DataFrame]:
    """Metadata and long records of a user file (properties: its numeric columns)."""
    frame = read_table(path)
    if "formula" not in frame.columns:
        raise DataFormatError(
            f"{path} has columns {list(frame.columns)}; a 'formula' column is required"
        )
    id_col = next((c for c in ID_COLUMNS if c in frame.columns), None)
    props: list[PropertyInfo] = []
    for column in frame.columns:
        if column in ("formula", "split", id_col):
            continue
        series = frame[column]
        if series.dtype == bool:
            series = series.astype(float)
        if not pd.api.types.is_numeric_dtype(series):
            raise DataFormatError(
                f"{path}: column {column!r} is not numeric (e.g. {series.dropna().iloc[0]!r}); "
                "property columns must be numbers, ids go in a column named one of "
                f"{ID_COLUMNS}"
            )
        observed = series.dropna().unique()
        task = "classification" if len(observed) and set(observed) <= {0, 1} else "regression"
        props.append(PropertyInfo(str(column), unit="?", task=task, description="user column"))
    if not props:
        raise DataFormatError(f"{path} has no numeric property column besides 'formula'")
    has_split = "split" in frame.columns
    if has_split:
        bad = set(frame["split"].dropna().unique()) - {"train", "val", "test"}
        if bad or frame["split"].isna().any():
            raise DataFormatError(
                f"{path}: 'split' values {sorted(map(str, bad)) or ['<missing>']} are not "
                "train/val/test"
            )
    info = DatasetInfo(
        name=str(path),
        kind="user",
        title=f"user file {Path(path).name}",
        source=str(path),
        citation="",
        licence="",
        properties=tuple(props),
        splits="the file's 'split' column"
        if has_split
        else "seeded random 80/10/10 split at the composition level",
        approx_rows=len(frame),
    )
    records = frame.melt(
        id_vars=["formula", *(["split"] if has_split else []), *([id_col] if id_col else [])],
        value_vars=[p.name for p in props],
        var_name="property",
        value_name="value",
    )
    out = pd.DataFrame(
        {
            "formula": records["formula"].to_numpy(dtype=object),
            "property": records["property"].astype(str).to_numpy(dtype=object),
            "value": pd.to_numeric(records["value"]).to_numpy(dtype=np.float64),
            "part": records["split"].to_numpy(dtype=object) if has_split else None,
            "entry_id": records[id_col].astype(str).to_numpy(dtype=object) if id_col else None,
        }
    )
    return info, out
