"""Readers of the raw files inside the cached wheels, as long tables of labelled records.

Each reader returns a DataFrame with one row per labelled record as found in the files:
``formula, property, value, part`` (+ ``entry_id`` where the source has one). ``part`` is
``"train"/"val"/"test"`` for the CrabNet files, the official test-fold index (0-4) for Matbench,
and ``None`` where the source has no split. Merging and splitting happen in
:mod:`matlattice.data.dataset`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data.fetch import require_source
from matlattice.data.integrity import checked_file
from matlattice.data.registry import CRABNET_PROPERTIES, MATBENCH_TASKS, TRANSPORT_PROPERTIES
from matlattice.errors import DataFormatError

__all__ = [
    "read_crabnet_files",
    "read_matbench_task",
    "read_transport",
]

RECORD_COLUMNS = ["formula", "property", "value", "part", "entry_id"]


def _read_formula_target(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"formula": str}, keep_default_na=False, na_values=[""])
    if list(frame.columns[:2]) != ["formula", "target"]:
        raise DataFormatError(f"{path} has columns {list(frame.columns)}; expected formula,target")
    return frame


def read_crabnet_files(files: tuple[str, ...], cache_dir: Path | None = None) -> pd.DataFrame:
    """Records of CrabNet ``benchmark_data/<file>/{train,val,test}.csv``, one per row."""
    root = require_source("crabnet", cache_dir)
    pieces = []
    for file in files:
        prop = CRABNET_PROPERTIES[file].name
        for part in ("train", "val", "test"):
            path = checked_file(root, f"benchmark_data/{file}/{part}.csv", "crabnet")
            frame = _read_formula_target(path)
            pieces.append(
                pd.DataFrame(
                    {
                        "formula": frame["formula"].to_numpy(dtype=object),
                        "property": prop,
                        "value": frame["target"].to_numpy(dtype=np.float64),
                        "part": part,
                        "entry_id": None,
                    }
                )
            )
    return pd.concat(pieces, ignore_index=True)


def _official_folds(cache_dir: Path | None) -> dict:
    root = require_source("matbench", cache_dir)
    path = checked_file(root, "matbench_v0.1_validation.json", "matbench")
    stat = path.stat()
    return _read_folds(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _read_folds(path: str, size: int, mtime_ns: int) -> dict:
    """The folds of the checked file (size and mtime key the cache: a changed file rereads)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["splits"]


def official_test_folds(task: str, n_rows: int, cache_dir: Path | None = None) -> np.ndarray:
    """Official Matbench v0.1 fold (0-4) in which each row of ``task`` is a test row.

    Row ``i`` of the task has id ``mb-<task>-<i+1>``; every row is in exactly one test fold.
    """
    splits = _official_folds(cache_dir)[task]
    fold_of_row = np.full(n_rows, -1, dtype=np.int64)
    for k in range(5):
        ids = splits[f"fold_{k}"]["test"]
        rows = np.array([int(i.rsplit("-", 1)[1]) - 1 for i in ids], dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
            raise DataFormatError(f"official fold ids of {task} do not fit its {n_rows} rows")
        fold_of_row[rows] = k
    if (fold_of_row < 0).any():
        raise DataFormatError(f"{(fold_of_row < 0).sum()} rows of {task} are in no test fold")
    return fold_of_row


def read_matbench_task(name: str, prop: str, cache_dir: Path | None = None) -> pd.DataFrame:
    """Records of a Matbench task in official row order, ``part`` = official test fold."""
    root = require_source("crabnet", cache_dir)
    path = checked_file(root, f"matbench/{MATBENCH_TASKS[name]}.csv", "crabnet")
    frame = _read_formula_target(path)
    folds = official_test_folds(name, len(frame), cache_dir)
    width = len(str(len(frame)))
    slug = name.removeprefix("matbench_").replace("_", "-")
    return pd.DataFrame(
        {
            "formula": frame["formula"].to_numpy(dtype=object),
            "property": prop,
            "value": frame["target"].to_numpy(dtype=np.float64),
            "part": folds,
            "entry_id": [f"mb-{slug}-{i + 1:0{width}d}" for i in range(len(frame))],
        }
    )


def read_transport(cache_dir: Path | None = None) -> pd.DataFrame:
    """Records of the Ricci et al. transport database (10 properties per MP entry)."""
    root = require_source("matminer", cache_dir)
    path = checked_file(root, "mp_transport/transport_database.csv", "matminer")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    columns = [p.file for p in TRANSPORT_PROPERTIES]
    missing = [c for c in ["mp_id", "pretty_formula", *columns] if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{path} lacks columns {missing}")
    long = frame.melt(
        id_vars=["mp_id", "pretty_formula"],
        value_vars=columns,
        var_name="property",
        value_name="value",
    )
    return pd.DataFrame(
        {
            "formula": long["pretty_formula"].to_numpy(dtype=object),
            "property": long["property"].to_numpy(dtype=object),
            "value": pd.to_numeric(long["value"], errors="coerce").to_numpy(dtype=np.float64),
            "part": None,
            "entry_id": long["mp_id"].to_numpy(dtype=object),
        }
    )
