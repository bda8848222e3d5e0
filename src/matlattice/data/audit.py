"""Data audit: per-property statistics and a list of findings a scientist should know about.

Checks (each finding is ``{"kind", "property", "count", "examples"}``):

- ``invalid_formula``: a formula that does not parse (removed when loading);
- ``duplicate_formula`` / ``conflicting_labels``: several records of one composition, with the
  same / different values (values differing by > 1e-6 relative);
- ``impossible_value``: outside the property's physical bounds (negative modulus, anisotropy);
- ``implausible_value``: outside its plausible bounds (an energy of -200 eV/atom);
- ``robust_outlier``: farther than 10 robust scales (1.4826 MAD) from the median;
- ``near_constant``: one value holds > 95 % of the labels; ``class_imbalance``: minority < 5 %;
- ``isolated_zero``: a handful of exact zeros (<= 0.1 % of values) in a continuous quantity;
- ``extreme_scale``: typical magnitude below 1e-3 or above 1e4 (rescale before learning);
- ``wide_dynamic_range``: positive values spanning more than 6 decades (consider a log);
- ``sparse_labels``: fewer than 20 % of the rows are labelled;
- ``mixed_scales`` (dataset level): property scales differ by more than 1e3;
- ``split_leak`` / ``split_priority``: a composition in two official parts (kept / resolved).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data.cleaning import bound_violations
from matlattice.data.dataset import Dataset, load_dataset
from matlattice.data.registry import PropertyInfo
from matlattice.runtime.files import atomic_write_text

__all__ = ["AuditResult", "audit_dataset"]

OUTLIER_SCALES = 10.0
N_EXAMPLES = 5


@dataclass(frozen=True)
class AuditResult:
    """Audit of one dataset: ``properties`` (stats per property) and ``findings``."""

    dataset: str
    n_rows: int
    n_records: int
    properties: dict[str, dict]
    findings: list[dict]

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "n_rows": self.n_rows,
            "n_records": self.n_records,
            "properties": self.properties,
            "findings": self.findings,
        }

    def to_json(self, path: Path) -> None:
        """Write the audit as JSON, atomically."""
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, default=_jsonable))

    def kinds(self, prop: str | None = None) -> set[str]:
        """Kinds of findings (optionally only those about property ``prop``)."""
        return {f["kind"] for f in self.findings if prop is None or f["property"] == prop}

    def count(self, kind: str, prop: str | None = None) -> int:
        return sum(
            f["count"]
            for f in self.findings
            if f["kind"] == kind and (prop is None or f["property"] == prop)
        )


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def audit_dataset(data: str | Path | Dataset, **load_kwargs) -> AuditResult:
    """Audit a dataset (name, file path, or an already loaded :class:`Dataset`).

    The audit looks at the raw records (before duplicate resolution), so counts refer to
    values as found in the files. Load with ``clean=False`` (the default) to see everything.
    """
    ds = data if isinstance(data, Dataset) else load_dataset(data, **load_kwargs)
    findings: list[dict] = []
    records = ds.records
    report = ds.report
    if len(report.invalid):
        bad = report.invalid.drop_duplicates("formula")  # one line per formula, not per record
        findings.append(
            _finding(
                "invalid_formula",
                None,
                len(bad),
                [f"{r.formula!r}: {r.fault}" for r in bad.head(N_EXAMPLES).itertuples()],
            )
        )
    properties: dict[str, dict] = {}
    for prop in ds.info.properties:
        values = records.loc[records["property"] == prop.name, ["formula", "value"]]
        stats, prop_findings = _audit_property(prop, values, ds)
        properties[prop.name] = stats
        findings.extend(prop_findings)
    findings.extend(_duplicate_findings(ds))
    findings.extend(_mixed_scale_findings(properties))
    if len(report.split_leaks):
        findings.append(
            _finding(
                "split_leak",
                None,
                len(report.split_leaks),
                [
                    f"{r.key} in folds {r.parts}"
                    for r in report.split_leaks.head(N_EXAMPLES).itertuples()
                ],
            )
        )
    if len(report.split_moves):
        findings.append(
            _finding(
                "split_priority",
                None,
                int(report.split_moves["n_dropped"].sum()),
                [
                    f"{r.key} ({r.property}): {r.dropped_part} copy removed, kept in {r.kept_part}"
                    for r in report.split_moves.head(N_EXAMPLES).itertuples()
                ],
            )
        )
    return AuditResult(ds.name, len(ds.frame), report.n_records, properties, findings)


def _finding(kind: str, prop: str | None, count: int, examples: list[str]) -> dict:
    return {"kind": kind, "property": prop, "count": int(count), "examples": examples}


def _examples(values: pd.DataFrame, mask: np.ndarray, order: np.ndarray | None = None) -> list[str]:
    picked = values[mask]
    if order is not None:
        picked = picked.iloc[np.argsort(order[mask])]
    return [f"{r.formula}={r.value:.6g}" for r in picked.head(N_EXAMPLES).itertuples()]


@dataclass(frozen=True)
class _Values:
    """The records of one property (``frame``: formula, value) and the summaries its checks
    read: ``x`` the ``(n,)`` values, their median, robust scale, distinct values and counts."""

    frame: pd.DataFrame
    x: np.ndarray
    median: float
    scale: float
    unique: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame, x: np.ndarray) -> _Values:
        median = float(np.median(x))
        mad = float(np.median(np.abs(x - median)))
        scale = 1.4826 * mad or 1.2533 * float(np.mean(np.abs(x - median))) or float(np.std(x))
        unique, counts = np.unique(x, return_counts=True)
        return cls(frame, x, median, scale, unique, counts)

    def stats(self) -> dict:
        x = self.x
        q1, q3 = np.percentile(x, [25, 75])
        return {
            "min": float(x.min()),
            "max": float(x.max()),
            "mean": float(x.mean()),
            "median": self.median,
            "std": float(x.std()),
            "q1": float(q1),
            "q3": float(q3),
            "robust_scale": self.scale,
            "n_unique": len(self.unique),
            "top_value_share": float(self.counts.max() / len(x)),
        }


def _audit_property(prop: PropertyInfo, values: pd.DataFrame, ds: Dataset) -> tuple[dict, list]:
    """Statistics and findings of one property; ``values`` holds its records (formula, value)."""
    x = values["value"].to_numpy(dtype=float)
    labelled = int(ds.frame[prop.name].notna().sum()) if prop.name in ds.frame else 0
    stats: dict = {
        "unit": prop.unit,
        "task": prop.task,
        "n_records": len(x),
        "n_labelled_rows": labelled,
        "coverage": labelled / max(len(ds.frame), 1),
    }
    if len(x) == 0:
        return stats, []
    v = _Values.of(values, x)
    stats.update(v.stats())
    if prop.task == "classification":
        measured, findings = _class_balance(prop, v)
        return {**stats, **measured}, findings
    findings: list[dict] = []
    for check in _REGRESSION_CHECKS:
        measured, found = check(prop, v)
        stats.update(measured)
        findings.extend(found)
    if stats["coverage"] < 0.2:
        example = f"{stats['coverage']:.1%} of rows labelled"
        findings.append(_finding("sparse_labels", prop.name, labelled, [example]))
    for key in ("min", "max", "mean", "median", "std"):
        stats[key] = _finite(stats[key])
    return stats, findings


# each check of a property returns the statistics it measured and the findings it raises
_Check = tuple[dict, list[dict]]


def _class_balance(prop: PropertyInfo, v: _Values) -> _Check:
    share = v.counts / len(v.x)
    shares = {str(c): float(s) for c, s in zip(v.unique, share, strict=True)}
    if share.min() >= 0.05:
        return {"class_shares": shares}, []
    example = f"class {v.unique[share.argmin()]:g}: {share.min():.1%}"
    return {"class_shares": shares}, [
        _finding("class_imbalance", prop.name, int(v.counts.min()), [example])
    ]


def _bound_violations(prop: PropertyInfo, v: _Values) -> _Check:
    """Values outside the physical bounds, then those outside only the plausible ones."""
    findings = []
    impossible = bound_violations(v.x, prop.physical)
    if impossible.any():
        examples = _examples(v.frame, impossible, order=v.x)
        findings.append(
            _finding(
                "impossible_value",
                prop.name,
                int(impossible.sum()),
                [*examples, f"physical bounds {prop.physical} {prop.unit}"],
            )
        )
    implausible = bound_violations(v.x, prop.plausible) & ~impossible
    if implausible.any():
        examples = _examples(v.frame, implausible, order=-np.abs(v.x - v.median))
        findings.append(
            _finding(
                "implausible_value",
                prop.name,
                int(implausible.sum()),
                [*examples, f"plausible bounds {prop.plausible} {prop.unit}"],
            )
        )
    return {}, findings


def _robust_outliers(prop: PropertyInfo, v: _Values) -> _Check:
    if not v.scale > 0:
        return {}, []
    distance = np.abs(v.x - v.median)
    outlier = distance > OUTLIER_SCALES * v.scale
    measured = {"n_robust_outliers": int(outlier.sum())}
    if not outlier.any():
        return measured, []
    examples = _examples(v.frame, outlier, order=-distance)
    return measured, [_finding("robust_outlier", prop.name, int(outlier.sum()), examples)]


def _near_constant(prop: PropertyInfo, v: _Values) -> _Check:
    top_share = v.counts.max() / len(v.x)
    if not top_share > 0.95:
        return {}, []
    example = f"{v.unique[v.counts.argmax()]:g} in {top_share:.1%} of records"
    return {}, [_finding("near_constant", prop.name, int(v.counts.max()), [example])]


def _isolated_zeros(prop: PropertyInfo, v: _Values) -> _Check:
    zeros = v.x == 0
    if not 0 < zeros.sum() <= 0.001 * len(v.x):
        return {}, []
    return {}, [_finding("isolated_zero", prop.name, int(zeros.sum()), _examples(v.frame, zeros))]


def _extreme_scale(prop: PropertyInfo, v: _Values) -> _Check:
    nonzero = v.x != 0
    typical = float(np.median(np.abs(v.x[nonzero]))) if nonzero.any() else 0.0
    measured = {"typical_magnitude": typical}
    if not (typical and (typical < 1e-3 or typical > 1e4)):
        return measured, []
    example = f"median |value| = {typical:.3g} {prop.unit}"
    return measured, [_finding("extreme_scale", prop.name, len(v.x), [example])]


def _dynamic_range(prop: PropertyInfo, v: _Values) -> _Check:
    positive = v.x[v.x > 0]
    if len(positive) <= 10:
        return {}, []
    decades = float(np.log10(positive.max() / positive.min()))
    measured = {"decades_spanned": decades}
    if not decades > 6:
        return measured, []
    example = (
        f"positive values span {decades:.1f} decades ({positive.min():.3g} to {positive.max():.3g})"
    )
    return measured, [_finding("wide_dynamic_range", prop.name, len(positive), [example])]


_REGRESSION_CHECKS = (
    _bound_violations,
    _robust_outliers,
    _near_constant,
    _isolated_zeros,
    _extreme_scale,
    _dynamic_range,
)


def _duplicate_findings(ds: Dataset) -> list[dict]:
    dups = ds.report.duplicates
    out: list[dict] = []
    if dups.empty:
        return out
    for prop, group in dups.groupby("property", sort=False):
        same = group[group["n_distinct"] == 1]
        conflict = group[group["n_distinct"] > 1]
        if len(same):
            out.append(
                _finding(
                    "duplicate_formula",
                    prop,
                    len(same),
                    [f"{r.formulas} x{r.n_records}" for r in same.head(N_EXAMPLES).itertuples()],
                )
            )
        if len(conflict):
            spread = (conflict["max"] - conflict["min"]).to_numpy()
            worst = conflict.iloc[np.argsort(-spread)]
            out.append(
                _finding(
                    "conflicting_labels",
                    prop,
                    len(conflict),
                    [
                        f"{r.formulas}: {r.min:.6g} .. {r.max:.6g} ({r.n_records} records, "
                        f"resolved by {r.resolution})"
                        for r in worst.head(N_EXAMPLES).itertuples()
                    ],
                )
            )
    return out


def _mixed_scale_findings(properties: dict[str, dict]) -> list[dict]:
    scales = {
        p: s.get("typical_magnitude")
        for p, s in properties.items()
        if s.get("task") == "regression" and s.get("typical_magnitude")
    }
    if len(scales) < 2:
        return []
    lo, hi = min(scales, key=scales.get), max(scales, key=scales.get)
    if scales[hi] / scales[lo] <= 1e3:
        return []
    return [
        _finding(
            "mixed_scales",
            None,
            len(scales),
            [
                f"{hi}: ~{scales[hi]:.3g} {properties[hi]['unit']} vs {lo}: ~{scales[lo]:.3g} "
                f"{properties[lo]['unit']} (ratio {scales[hi] / scales[lo]:.1e}); "
                "standardise per task",
            ],
        )
    ]
