"""The parts of a job's data: train/validation/test (or folds) for a dataset split, and the
early-stopping split of a training part. Deterministic for a given split and seed, so a run's
parts can be rebuilt from its config. Both go through :func:`matlattice.data.parts.resolve_parts`;
what this module adds is the Magpie featurisation of the cluster split (``represent`` sits above
``data``)."""

from __future__ import annotations

import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.data import Dataset
from matlattice.data.parts import SPLITS, resolve_parts
from matlattice.errors import InvalidParameterError
from matlattice.represent import ElementStatsFeaturizer

__all__ = ["SPLITS", "default_split", "split_labels", "train_val"]

#: Composition-level share of a training part held out for early stopping when it has no val.
EARLY_STOPPING_FRACTIONS = (0.9, 0.1, 0.0)


def split_labels(ds: Dataset, split: str, seed: int) -> pd.DataFrame:
    """Frame with a ``_part`` column (train/val/test) or ``fold`` column per row
    (deterministic for a given split and seed: a run's parts can be rebuilt)."""
    frame = ds.frame.copy()
    if split == "official":
        if "fold" in frame.columns:
            return frame
        if not _has_official_split(ds):
            raise InvalidParameterError(
                f"{ds.name} has no official split; use --split random, chemsys or cluster"
            )
    features = None
    if split == "cluster":
        fractions = parse_formulas(frame["formula"].tolist()).fractions
        features = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(fractions)
    frame["_part"] = resolve_parts(frame, split, seed=seed, features=features)
    return frame.drop(columns=["fold"], errors="ignore")


def default_split(ds: Dataset) -> str:
    """``official`` where the dataset has one (CrabNet, Matbench), else ``random``."""
    return "official" if _has_official_split(ds) else "random"


def _has_official_split(ds: Dataset) -> bool:
    # a user file's frame always has a ``split`` column: the file's own, or for a file without
    # one the seeded split of load_dataset (the parts of split="random" with the same seed)
    kind = ds.info.kind
    return kind in ("crabnet", "matbench") or (kind == "user" and "split" in ds.frame)


def train_val(train: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Early-stopping split of a training frame: its val part, else a composition-level 10 %."""
    parts = resolve_parts(train, None, fractions=EARLY_STOPPING_FRACTIONS, seed=0, column="_part")
    return train[parts == "train"], train[parts == "val"]
