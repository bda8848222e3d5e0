"""Properties borrowed from another dataset, as helper columns of a run's frame.

A property labelled on a few thousand materials can learn beside a related property of
another database: AFLOW's AEL bulk modulus beside the Materials Project's, OQMD's formation
enthalpy beside MP's energy above the hull. :func:`borrow_properties` adds such properties to
a run's frame as extra columns named ``"<dataset>:<property>"`` (a data file's dataset name
is its file name without the suffix), merged per composition.

Nothing leaks into the run's test part: a borrowed label sits on the row of its composition,
so it belongs to whichever part that composition is in, and test rows are never trained on.
Compositions that only the other dataset has become new training rows (part ``"train"``,
or fold ``-1``, in the training part of every fold) with no label of the run's own
properties. Borrowed columns are helpers only; a run never scores them.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from matlattice.data.parts import KEY, frame_keys
from matlattice.errors import InvalidParameterError

__all__ = ["BorrowSpec", "borrow_properties", "parse_borrow_spec"]


class BorrowSpec(NamedTuple):
    """One ``"dataset[:property][@rows]"`` spec: the property None means all of them; the
    row cap None means every labelled composition."""

    dataset: str
    prop: str | None
    cap: int | None


def parse_borrow_spec(spec: str) -> BorrowSpec:
    """``"aflow"`` (every property), ``"aflow:bulk_modulus"`` or ``"oqmd:formation_enthalpy@60000"``
    (a seeded random 60000 of its labelled compositions)."""
    text, _, cap = str(spec).strip().partition("@")
    dataset, _, prop = text.partition(":")
    if not dataset or (":" in text and not prop):
        raise InvalidParameterError(f"borrow spec {spec!r}: expected 'dataset[:property][@rows]'")
    if cap and (not cap.isdigit() or int(cap) < 1):
        raise InvalidParameterError(
            f"borrow spec {spec!r}: the row cap {cap!r} is not a positive integer"
        )
    return BorrowSpec(dataset, prop or None, int(cap) if cap else None)


def borrow_properties(
    frame: pd.DataFrame,
    specs: list[str],
    *,
    own: str,
    seed: int = 0,
    clean: bool = True,
) -> tuple[pd.DataFrame, list[str], dict[str, dict]]:
    """``frame`` with the borrowed properties of ``specs`` as ``"<dataset>:<property>"`` columns.

    Parameters
    ----------
    frame : the run's frame: ``formula``, its properties, and a ``_part`` or ``fold`` column
    specs : :func:`parse_borrow_spec` strings
    own : the run's dataset name (borrowing from it is refused: its properties are tasks)
    seed : seeds each row cap's sample
    clean : load the other datasets cleaned, as the run's own

    Returns
    -------
    (frame, columns, report) : the widened frame (the run's rows first, in order, then one
        row per composition only the other datasets have); the borrowed column names; per
        column ``{"labels", "shared_compositions", "new_compositions"}`` (labelled
        compositions, those of them the run has, those it has not)
    """
    from matlattice.data import load_dataset

    if "_part" not in frame.columns and "fold" not in frame.columns:
        raise InvalidParameterError(
            "the frame has no _part or fold column; split it before borrowing"
        )
    out = frame.copy()
    out["_key"] = frame_keys(out)
    first = ~out["_key"].duplicated().to_numpy()  # a borrowed label goes on one row of its key
    own_keys = pd.Index(out["_key"])
    columns: list[str] = []
    report: dict[str, dict] = {}
    for raw in specs:
        spec = parse_borrow_spec(raw)
        ds = load_dataset(spec.dataset, clean=clean, split_seed=seed)
        if ds.name == own:
            raise InvalidParameterError(f"borrow spec {raw!r}: {own} is the run's own dataset")
        label = Path(ds.name).stem if ds.info.kind == "user" else ds.name
        regression = [p for p in ds.properties if ds.info.property(p).task == "regression"]
        other = ds.frame.assign(_key=frame_keys(ds.frame))
        formula_of = other.drop_duplicates("_key").set_index("_key")["formula"]
        for prop in [spec.prop] if spec.prop else regression:
            if prop not in regression:
                raise InvalidParameterError(
                    f"borrow spec {raw!r}: {spec.dataset} has no regression property {prop!r}; "
                    f"it has {regression}"
                )
            name = f"{label}:{prop}"
            if name in out.columns:
                raise InvalidParameterError(f"borrow spec {raw!r}: {name} is borrowed twice")
            labels = other[["_key", prop]].dropna()
            if spec.cap is not None and spec.cap < len(labels):
                labels = labels.sample(n=spec.cap, random_state=seed)
            labels = labels.groupby("_key")[prop].mean()
            shared = out["_key"].isin(labels.index).to_numpy() & first
            out[name] = np.where(shared, out["_key"].map(labels).to_numpy(float), np.nan)
            new_keys = labels.index[~labels.index.isin(out["_key"])]
            if len(new_keys):
                rows = pd.DataFrame(
                    {
                        "formula": formula_of.loc[new_keys].to_numpy(),
                        "_key": new_keys,
                        name: labels[new_keys].to_numpy(),
                    }
                )
                if KEY in out.columns:
                    rows[KEY] = new_keys
                if "_part" in out.columns:
                    rows["_part"] = "train"
                if "fold" in out.columns:
                    rows["fold"] = -1
                out = pd.concat([out, rows], ignore_index=True)
                first = np.concatenate([first, np.ones(len(rows), bool)])
            columns.append(name)
            shared_with_run = labels.index.isin(own_keys)
            report[name] = {
                "labels": len(labels),
                "shared_compositions": int(shared_with_run.sum()),
                "new_compositions": int((~shared_with_run).sum()),
            }
    return out.drop(columns="_key"), columns, report
