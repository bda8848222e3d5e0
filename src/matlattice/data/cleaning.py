"""Documented cleaning rules for ``load_dataset(..., clean=True)``.

A value is removed (never silently: each removal is a row of the returned report) when

- ``non_finite``: it is inf or -inf;
- ``physical``: it lies outside the property's physical bounds (``PropertyInfo.physical``),
  e.g. a negative elastic modulus or a negative universal anisotropy index;
- ``plausible``: it lies outside the property's plausible bounds (``PropertyInfo.plausible``),
  e.g. an OQMD total energy of -203 eV/atom.

The bounds of every bundled property are in :mod:`matlattice.data.registry`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matlattice.data.registry import DatasetInfo

__all__ = ["bound_violations", "clean_records"]


def bound_violations(values: np.ndarray, bounds: tuple[float | None, float | None]) -> np.ndarray:
    """Boolean mask of values below ``bounds[0]`` or above ``bounds[1]`` (None = unbounded)."""
    lo, hi = bounds
    bad = np.zeros(len(values), dtype=bool)
    if lo is not None:
        bad |= values < lo
    if hi is not None:
        bad |= values > hi
    return bad


def clean_records(records: pd.DataFrame, info: DatasetInfo) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the cleaning rules to long records; return (kept records, removed report).

    The report has columns ``formula, property, value, rule``.
    """
    values = records["value"].to_numpy(dtype=float)
    rule = np.full(len(records), "", dtype=object)
    rule[~np.isfinite(values)] = "non_finite"
    for prop in info.properties:
        mine = (records["property"] == prop.name).to_numpy() & (rule == "")
        for name, bounds in (("physical", prop.physical), ("plausible", prop.plausible)):
            bad = mine & bound_violations(values, bounds)
            rule[bad] = f"{name} {_fmt_bounds(bounds)} {prop.unit}"
            mine &= ~bad
    removed = rule != ""
    report = records.loc[removed, ["formula", "property", "value"]].assign(rule=rule[removed])
    return records[~removed].reset_index(drop=True), report.reset_index(drop=True)


def _fmt_bounds(bounds: tuple[float | None, float | None]) -> str:
    lo, hi = bounds
    return f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
