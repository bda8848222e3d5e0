"""``load_dataset``: one row per composition, one column per property, splits, and a report.

Loading goes: raw records (as in the files) -> formula validation (invalid rows are listed,
never silently dropped) -> optional cleaning (documented rules, every removal listed) ->
duplicate resolution per composition (configurable rule, every duplicate listed) -> one wide
frame -> split labels. Each row's composition key is computed once here and travels with the
frame as its ``composition_key`` column, so that later splits group by it without parsing again.

Duplicate rules (``duplicates=``):

- ``"mean"`` (default; majority vote for classification, ties go to the first record),
- ``"median"``, ``"first"`` (the first record in file order),
- ``"drop"`` (compositions whose records disagree are removed; identical repeats are kept once),
- ``"keep"`` (no merging; only for official Matbench tasks, whose official rows are kept
  exactly so that the official folds stay intact; their duplicates are still reported).

Records disagree when their values differ by more than 1e-6 relative (1e-12 absolute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.composition import composition_keys, parse_formulas
from matlattice.data.cleaning import clean_records
from matlattice.data.parts import KEY, resolve_parts
from matlattice.data.readers import read_crabnet_files, read_matbench_task, read_transport
from matlattice.data.registry import DatasetInfo, dataset_info
from matlattice.data.splits import PARTS, group_kfold
from matlattice.data.user_files import read_user_records
from matlattice.errors import DataFormatError, InvalidParameterError

__all__ = ["DUPLICATE_RULES", "Dataset", "LoadReport", "load_dataset", "load_records"]

DUPLICATE_RULES = ("mean", "median", "first", "drop", "keep")
_PART_RANK = {"train": 0, "val": 1, "test": 2}


@dataclass(frozen=True)
class LoadReport:
    """What loading did to the raw records; nothing is dropped without a line here.

    Attributes
    ----------
    n_records : int
        Labelled records read from the files.
    invalid : DataFrame
        ``row, formula, fault``: records whose formula did not parse (removed).
    cleaned : DataFrame
        ``formula, property, value, rule``: values removed by ``clean=True``.
    duplicates : DataFrame
        ``key, property, n_records, n_distinct, min, max, parts, resolution`` per composition
        and property with more than one record.
    split_moves : DataFrame
        ``key, property, dropped_part, kept_part, n_dropped``: records removed because the same
        composition is in a higher-priority official part (test > val > train).
    split_leaks : DataFrame
        ``key, parts``: compositions left in more than one part (official Matbench folds only).
    """

    n_records: int
    invalid: pd.DataFrame
    cleaned: pd.DataFrame
    duplicates: pd.DataFrame
    split_moves: pd.DataFrame
    split_leaks: pd.DataFrame
    rule: str

    def summary(self) -> dict[str, int | str]:
        conflicts = int((self.duplicates["n_distinct"] > 1).sum()) if len(self.duplicates) else 0
        return {
            "n_records": self.n_records,
            "invalid_formulas": len(self.invalid),
            "cleaned_values": len(self.cleaned),
            "duplicate_groups": len(self.duplicates),
            "conflicting_groups": conflicts,
            "records_removed_by_split_priority": int(self.split_moves["n_dropped"].sum())
            if len(self.split_moves)
            else 0,
            "split_leaks": len(self.split_leaks),
            "duplicate_rule": self.rule,
        }


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset.

    Attributes
    ----------
    info : DatasetInfo
    frame : DataFrame
        ``formula``, one float column per property (NaN = unlabelled), then ``split``
        (``"train"/"val"/"test"``) or ``fold`` (official test fold 0-4), ``entry_id``
        where the source has ids, and ``composition_key``, the composition key of the row
        (:func:`~matlattice.composition.composition_keys`, e.g. ``"Na0.5 Cl0.5"``).
    report : LoadReport

    Examples
    --------
    >>> ds = load_dataset("aflow")                                    # doctest: +SKIP
    >>> ds.train[["formula", "composition_key"]].iloc[0].tolist()                 # doctest: +SKIP
    ['Ba1I2O6', 'O0.66666667 I0.22222222 Ba0.11111111']
    """

    info: DatasetInfo
    frame: pd.DataFrame
    report: LoadReport
    records: pd.DataFrame = field(repr=False, default=None)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def properties(self) -> list[str]:
        return list(self.info.property_names)

    def __len__(self) -> int:
        return len(self.frame)

    def _part(self, part: str) -> pd.DataFrame:
        if "split" not in self.frame.columns:
            raise InvalidParameterError(
                f"{self.name} has cross-validation folds, not a train/test split; use "
                "Dataset.fold(k) for the official fold k"
            )
        return self.frame[self.frame["split"] == part].reset_index(drop=True)

    @property
    def train(self) -> pd.DataFrame:
        return self._part("train")

    @property
    def val(self) -> pd.DataFrame:
        return self._part("val")

    @property
    def test(self) -> pd.DataFrame:
        return self._part("test")

    @property
    def n_folds(self) -> int:
        return int(self.frame["fold"].max()) + 1 if "fold" in self.frame.columns else 0

    def fold(self, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(train, test) frames of cross-validation fold ``k``."""
        if "fold" not in self.frame.columns:
            raise InvalidParameterError(f"{self.name} has no folds; use .train/.val/.test")
        if not 0 <= k < self.n_folds:
            raise InvalidParameterError(f"fold k={k}; {self.name} has folds 0..{self.n_folds - 1}")
        test = self.frame["fold"] == k
        return (self.frame[~test].reset_index(drop=True), self.frame[test].reset_index(drop=True))


def load_dataset(
    name: str | Path,
    *,
    clean: bool = False,
    duplicates: str | None = None,
    split_seed: int = 0,
    cache_dir: Path | None = None,
) -> Dataset:
    """Load a registered dataset or a user CSV/parquet file.

    Parameters
    ----------
    name : str or path
        A registry name (see :func:`list_datasets`) or the path of a ``.csv``/``.parquet``
        file with a ``formula`` column and numeric property columns (an optional ``split``
        column with train/val/test is kept).
    clean : bool, default False
        Remove values outside physical or plausible bounds (see :mod:`matlattice.data.cleaning`);
        every removal is listed in ``report.cleaned``.
    duplicates : str, optional
        Rule for several records of one composition (see module docstring). Default ``"mean"``,
        ``"keep"`` for official Matbench composition tasks.
    split_seed : int, default 0
        Seed of the composition-level split of datasets without an official one.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> ds = load_dataset("aflow")                                    # doctest: +SKIP
    >>> ds.frame.columns[:3].tolist()                                 # doctest: +SKIP
    ['formula', 'Egap', 'energy_atom']
    """
    info, records = load_records(name, cache_dir=cache_dir)
    rule = duplicates or ("keep" if info.kind == "matbench" else "mean")
    if rule not in DUPLICATE_RULES:
        raise InvalidParameterError(f"duplicates={rule!r}; expected one of {DUPLICATE_RULES}")
    if info.kind == "matbench" and rule != "keep":
        raise InvalidParameterError(
            f"{info.name} keeps its official rows so that the official folds stay intact; "
            "use duplicates='keep' (its duplicates are listed in report.duplicates)"
        )
    if rule == "keep" and info.kind != "matbench":
        raise InvalidParameterError(
            "duplicates='keep' is only for official Matbench tasks; a dataset with one row "
            "per composition needs 'mean', 'median', 'first' or 'drop'"
        )
    return _assemble(info, records, clean=clean, rule=rule, split_seed=split_seed)


def load_records(
    name: str | Path, *, cache_dir: Path | None = None
) -> tuple[DatasetInfo, pd.DataFrame]:
    """Metadata and raw long records ``formula, property, value, part, entry_id`` of a dataset."""
    path = Path(name)
    if isinstance(name, Path) or path.suffix.lower() in (".csv", ".parquet", ".pq"):
        return read_user_records(path)
    info = dataset_info(str(name))
    if info.kind in ("merged", "crabnet"):
        records = read_crabnet_files(info.files, cache_dir)
    elif info.kind in ("matbench", "matbench_view"):
        records = read_matbench_task(info.name, info.properties[0].name, cache_dir)
    elif info.kind == "transport":
        records = read_transport(cache_dir)
    else:  # pragma: no cover - registry kinds are closed
        raise DataFormatError(f"no reader for dataset kind {info.kind!r}")
    return info, records


def _assemble(
    info: DatasetInfo, records: pd.DataFrame, *, clean: bool, rule: str, split_seed: int
) -> Dataset:
    if KEY in info.property_names:
        raise DataFormatError(
            f"{info.name} has a property column named {KEY!r}, the name of the composition-key "
            "column of a loaded dataset; rename that column"
        )
    n_records = len(records)
    records = records[records["value"].notna()].reset_index(drop=True)
    # 1. formulas: parse each distinct string once
    codes, uniques = pd.factorize(records["formula"].astype(object), use_na_sentinel=False)
    batch = parse_formulas(list(uniques), errors="report")
    keys_of_unique = composition_keys(batch.fractions)
    record_valid = batch.valid[codes]
    invalid = records.loc[~record_valid, ["formula", "property", "value"]].reset_index(names="row")
    invalid["fault"] = [
        dict((f, m) for _, f, m in batch.faults).get(f, "") for f in invalid["formula"]
    ]
    records = records[record_valid].reset_index(drop=True)
    records["key"] = keys_of_unique[codes[record_valid]]
    # 2. cleaning
    cleaned = pd.DataFrame(columns=["formula", "property", "value", "rule"])
    if clean:
        records, cleaned = clean_records(records, info)
    # 3. split priority for official CrabNet parts
    split_moves = _empty_moves()
    has_parts = info.kind == "crabnet" or (
        info.kind == "user" and records["part"].notna().all() and len(records)
    )
    if has_parts:
        records, split_moves = _apply_part_priority(records)
    # 4. duplicates
    tasks = {p.name: p.task for p in info.properties}
    dup_report = duplicate_groups(records, tasks, rule)
    if rule == "keep":
        frame, keys = _official_rows(records, info), records["key"].to_numpy(dtype=object)
    else:
        frame, keys = _merge(records, info, rule, tasks)
    # 5. splits, by the composition keys of step 1 (which then travel with the frame)
    split_leaks = pd.DataFrame(columns=["key", "parts"])
    if info.kind == "crabnet" or (info.kind == "user" and "split" in frame.columns):
        pass
    elif info.kind == "matbench":
        split_leaks = _leaks(frame["fold"].to_numpy(), keys)
    elif info.kind == "matbench_view":
        frame["fold"] = group_kfold(keys, 5, seed=split_seed)
    else:
        frame["split"] = resolve_parts(keys, "random", seed=split_seed)
    frame[KEY] = keys
    report = LoadReport(
        n_records=n_records,
        invalid=invalid,
        cleaned=cleaned,
        duplicates=dup_report,
        split_moves=split_moves,
        split_leaks=split_leaks,
        rule=rule,
    )
    return Dataset(info=info, frame=frame, report=report, records=records)


def _empty_moves() -> pd.DataFrame:
    return pd.DataFrame(columns=["key", "property", "dropped_part", "kept_part", "n_dropped"])


def _apply_part_priority(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep each composition only in its highest official part (test > val > train)."""
    rank = records["part"].map(_PART_RANK).to_numpy()
    best = pd.Series(rank).groupby([records["key"], records["property"]]).transform("max")
    drop = rank < best.to_numpy()
    if not drop.any():
        return records, _empty_moves()
    dropped = records[drop].assign(kept_rank=best[drop].to_numpy())
    moves = (
        dropped.groupby(["key", "property", "part", "kept_rank"], sort=False)
        .size()
        .rename("n_dropped")
        .reset_index()
        .rename(columns={"part": "dropped_part"})
    )
    moves["kept_part"] = np.asarray(PARTS, dtype=object)[moves.pop("kept_rank").to_numpy()]
    return records[~drop].reset_index(drop=True), moves[
        ["key", "property", "dropped_part", "kept_part", "n_dropped"]
    ]


def duplicate_groups(records: pd.DataFrame, tasks: dict[str, str], rule: str) -> pd.DataFrame:
    """Per (composition, property) with several records: counts, spread, resolution."""
    size = records.groupby(["key", "property"], sort=False)["value"].transform("size")
    multi = records[size.to_numpy() > 1]
    columns = ["key", "property", "n_records", "n_distinct", "min", "max", "formulas", "resolution"]
    if multi.empty:
        return pd.DataFrame(columns=columns)
    grouped = multi.groupby(["key", "property"], sort=False)
    out = grouped["value"].agg(n_records="size", min="min", max="max").reset_index()
    out["n_distinct"] = grouped["value"].agg(_n_distinct).to_numpy()
    out["formulas"] = grouped["formula"].agg(lambda s: ";".join(dict.fromkeys(s))).to_numpy()
    conflict = out["n_distinct"] > 1
    if rule == "keep":
        out["resolution"] = "kept (official rows)"
    elif rule == "drop":
        out["resolution"] = np.where(conflict, "dropped (conflict)", "merged (identical)")
    else:
        label = {"mean": "mean", "median": "median", "first": "first record"}[rule]
        cls = out["property"].map(tasks) == "classification"
        out["resolution"] = np.where(cls & (rule != "first"), "majority vote", label)
    return out[columns]


def _n_distinct(values: pd.Series) -> int:
    v = np.sort(values.to_numpy(dtype=float))
    tol = np.maximum(1e-12, 1e-6 * np.abs(v[1:]))
    return 1 + int((np.diff(v) > tol).sum())


def _merge(
    records: pd.DataFrame, info: DatasetInfo, rule: str, tasks: dict[str, str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per composition key, one column per property; and the keys of the rows."""
    values = _resolve_values(records, rule, tasks)
    wide = values.pivot(index="key", columns="property", values="value")
    first = records.drop_duplicates("key")[["key", "formula"]].set_index("key")
    order = first.index  # order of first appearance in the files
    wide = wide.reindex(order)
    frame = pd.DataFrame({"formula": first["formula"].to_numpy()})
    for prop in info.property_names:
        frame[prop] = wide[prop].to_numpy(dtype=float) if prop in wide else np.nan
    frame = frame[frame[list(info.property_names)].notna().any(axis=1).to_numpy()]
    keys = order.to_numpy()[frame.index.to_numpy()]
    frame = frame.reset_index(drop=True)
    if info.kind == "crabnet" or (
        info.kind == "user" and records["part"].notna().all() and len(records)
    ):
        part = records.drop_duplicates("key").set_index("key")["part"]
        frame["split"] = part.reindex(keys).to_numpy()
    if records["entry_id"].notna().any():
        ids = records.groupby("key", sort=False)["entry_id"].agg(
            lambda s: ";".join(dict.fromkeys(map(str, s)))
        )
        frame["entry_id"] = ids.reindex(keys).to_numpy()
    return frame, keys


def _resolve_values(records: pd.DataFrame, rule: str, tasks: dict[str, str]) -> pd.DataFrame:
    grouped = records.groupby(["key", "property"], sort=False)["value"]
    if rule == "first":
        return grouped.first().reset_index()
    if rule == "drop":
        spread = grouped.agg(_n_distinct)
        out = grouped.first()
        return out[spread == 1].reset_index()
    agg = grouped.mean() if rule == "mean" else grouped.median()
    out = agg.reset_index()
    cls_props = [p for p, t in tasks.items() if t == "classification"]
    if cls_props:
        is_cls = records["property"].isin(cls_props)
        votes = records[is_cls].groupby(["key", "property"], sort=False)["value"].agg(_majority)
        out = out.set_index(["key", "property"])
        out.loc[votes.index, "value"] = votes
        out = out.reset_index()
    return out


def _majority(values: pd.Series) -> float:
    counts = values.value_counts(sort=False)
    top = counts.max()
    return float(next(v for v in values if counts[v] == top))  # ties: first record


def _official_rows(records: pd.DataFrame, info: DatasetInfo) -> pd.DataFrame:
    prop = info.properties[0].name
    frame = pd.DataFrame(
        {
            "formula": records["formula"].to_numpy(),
            prop: records["value"].to_numpy(dtype=float),
            "fold": records["part"].to_numpy(dtype=np.int64),
            "entry_id": records["entry_id"].to_numpy(),
        }
    )
    return frame


def _leaks(parts: np.ndarray, keys: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"key": keys, "part": parts})
    n_parts = df.groupby("key")["part"].nunique()
    leaked = n_parts[n_parts > 1].index
    out = (
        df[df["key"].isin(leaked)]
        .groupby("key")["part"]
        .agg(lambda s: ",".join(map(str, sorted(set(s)))))
        .reset_index()
    )
    return out.rename(columns={"part": "parts"})
