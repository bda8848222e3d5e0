"""The parts of a job's data: train/validation/test (or folds) for a dataset split, and the
early-stopping split of a training part. Deterministic for a given split and seed, so a run's
parts can be rebuilt from its config."""

from __future__ import annotations

import pandas as pd

from matlattice.composition import chemical_systems, composition_keys, formula_keys, parse_formulas
from matlattice.data import Dataset
from matlattice.data.splits import chemsys_split, cluster_split, random_split
from matlattice.errors import InvalidParameterError
from matlattice.represent import ElementStatsFeaturizer

__all__ = ["SPLITS", "default_split", "split_labels", "train_val"]

SPLITS = ("official", "random", "chemsys", "cluster")


def split_labels(ds: Dataset, split: str, seed: int) -> pd.DataFrame:
    """Frame with a ``_part`` column (train/val/test) or ``fold`` column per row
    (deterministic for a given split and seed: a run's parts can be rebuilt)."""
    frame = ds.frame.copy()
    if split == "official":
        if "fold" in frame.columns:
            return frame
        if ds.info.kind in ("crabnet",) or ("split" in frame.columns and ds.info.kind == "user"):
            frame["_part"] = frame["split"]
            return frame
        raise InvalidParameterError(
            f"{ds.name} has no official split; use --split random, chemsys or cluster"
        )
    fractions = parse_formulas(frame["formula"].tolist()).fractions
    if split == "random":
        frame["_part"] = random_split(composition_keys(fractions), seed=seed)
    elif split == "chemsys":
        frame["_part"] = chemsys_split(chemical_systems(fractions), seed=seed)
    elif split == "cluster":
        features = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(fractions)
        frame["_part"] = cluster_split(features, seed=seed)
    else:
        raise InvalidParameterError(f"split={split!r}; expected one of {SPLITS}")
    return frame.drop(columns=["fold"], errors="ignore")


def default_split(ds: Dataset) -> str:
    """``official`` where the dataset has one (CrabNet, Matbench), else ``random``."""
    if ds.info.kind in ("crabnet", "matbench") or (ds.info.kind == "user" and "split" in ds.frame):
        return "official"
    return "random"


def train_val(train: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Early-stopping split of a training frame: its val part, else a composition-level 10 %."""
    if "_part" in train.columns and (train["_part"] == "val").any():
        return train[train["_part"] == "train"], train[train["_part"] == "val"]
    keys = formula_keys(train["formula"])
    parts = random_split(keys, (0.9, 0.1, 0.0), seed=0)
    return train[parts == "train"], train[parts == "val"]
