"""Probe behind docs/entanglement.md: do energy above hull and magnetic moment of ``mp`` gain
from partners when trained with the benchmark's settings and per-task early stopping?

On seed 0's split of ``bench/multitask.py`` (same training/validation/test parts), trains
e_hull alone, mu_b alone, the two together and all five properties together (MLP encoder,
d = 32, <= 200 epochs, patience 30, each task stopped at its own best validation epoch) and
records the validation and test MAE of e_hull and mu_b. The single-task test MAEs equal the
benchmark's single-task column (training is deterministic on CPU).

Writes ``bench/results/multitask_probe_mp.json``. Run:
``OMP_NUM_THREADS=1 .venv/bin/python bench/multitask_probe.py`` (about 36 minutes on one core).
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from matlattice.data import load_dataset
from matlattice.jobs.parts import split_labels, train_val
from matlattice.models import LatticeRegressor
from matlattice.multitask.gate import validation_mae
from matlattice.runtime.files import atomic_write_json

OUT = Path(__file__).parent / "results" / "multitask_probe_mp.json"
SETTINGS = dict(latent_dim=32, epochs=200, patience=30, batch_size=256, lr=1e-3, random_state=0)


def main() -> None:
    torch.set_num_threads(1)
    ds = load_dataset("mp", clean=True, split_seed=0)
    frame = split_labels(ds, "random", 0)
    train, test = frame[frame["_part"] != "test"], frame[frame["_part"] == "test"]
    fit_part, val_part = train_val(train)
    runs = {}
    for columns in (["e_hull"], ["mu_b"], ["e_hull", "mu_b"], list(ds.properties)):
        start = time.perf_counter()
        rows = [
            p[["formula", *columns]].dropna(subset=columns, how="all") for p in (fit_part, val_part)
        ]
        model = LatticeRegressor("mlp", early_stopping="per_task", **SETTINGS)
        model.fit(rows[0], X_val=rows[1])
        runs["+".join(columns)] = {
            "mae": {
                t: {
                    "val": validation_mae(model, val_part, t),
                    "test": validation_mae(model, test, t),
                }
                for t in columns
                if t in ("e_hull", "mu_b")
            },
            "seconds": time.perf_counter() - start,
            "train_info": model.train_info_,
        }
        print(runs["+".join(columns)]["mae"], flush=True)
    atomic_write_json(
        OUT,
        {
            "runs": runs,
            "settings": {**SETTINGS, "encoder": "mlp", "early_stopping": "per_task"},
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "threads": 1},
            "command": "OMP_NUM_THREADS=1 python bench/multitask_probe.py",
        },
    )


if __name__ == "__main__":
    main()
