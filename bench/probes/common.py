"""What the multi-task probes share: one seed's parts of ``bench/multitask.py`` and its
single-model settings (MLP encoder, d = 32, <= 200 epochs, patience 30, each task stopped at
its own best validation epoch).

The probes are run as ``python bench/probes/<probe>.py``; this module also puts ``bench/`` on
the import path for the shared :mod:`provenance` helper.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from matlattice.data import Dataset, load_dataset
from matlattice.jobs.parts import split_labels, train_val
from matlattice.models import LatticeRegressor

BENCH = Path(__file__).resolve().parents[1]
if str(BENCH) not in sys.path:  # the probes import bench/provenance.py
    sys.path.insert(0, str(BENCH))

from provenance import provenance  # noqa: E402

__all__ = ["BENCH", "RESULTS", "RUNS", "SETTINGS", "fit_per_task", "provenance", "seed_parts"]

RESULTS = BENCH / "results"
RUNS = BENCH / ".runs" / "multitask"
#: The benchmark's settings of one model (``bench/multitask.py`` defaults).
SETTINGS = dict(latent_dim=32, epochs=200, patience=30, batch_size=256, lr=1e-3)


def seed_parts(dataset: str, seed: int) -> tuple[Dataset, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The cleaned dataset and the benchmark's early-stopping fit part, validation part and
    test part of one seed (composition-level random split)."""
    ds = load_dataset(dataset, clean=True, split_seed=seed)
    frame = split_labels(ds, "random", seed)
    fit_part, val_part = train_val(frame[frame["_part"] != "test"])
    return ds, fit_part, val_part, frame[frame["_part"] == "test"]


def fit_per_task(
    fit_rows: pd.DataFrame, val_rows: pd.DataFrame, *, seed: int, target_scale: str = "iqr"
) -> LatticeRegressor:
    """The probes' model: the benchmark's MLP settings, each task stopped at its own best
    validation epoch (``fit_rows`` and ``val_rows``: ``formula`` and the task columns)."""
    return LatticeRegressor(
        "mlp",
        early_stopping="per_task",
        target_scale=target_scale,
        random_state=seed,
        **SETTINGS,
    ).fit(fit_rows, X_val=val_rows)
