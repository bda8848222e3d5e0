"""Probe behind docs/entanglement.md: do energy above hull and magnetic moment of ``mp`` gain
from partners when trained with the benchmark's settings and per-task early stopping?

On seed 0's split of ``bench/multitask.py`` (same training/validation/test parts), trains
e_hull alone, mu_b alone, the two together and all five properties together (MLP encoder,
d = 32, <= 200 epochs, patience 30, each task stopped at its own best validation epoch) and
records the validation and test MAE of e_hull and mu_b. The single-task test MAEs equal the
benchmark's single-task column (training is deterministic on CPU).

Writes ``bench/results/multitask_probe_mp.json``. Run:
``OMP_NUM_THREADS=1 .venv/bin/python bench/probes/multitask_probe.py`` (about 36 minutes on
one core).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import RESULTS, SETTINGS, fit_per_task, provenance, seed_parts

from matlattice.multitask.gate import validation_mae
from matlattice.runtime.files import atomic_write_json

TARGETS = ("e_hull", "mu_b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "multitask_probe_mp.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds, fit_part, val_part, test = seed_parts("mp", 0)
    runs = {}
    for columns in (["e_hull"], ["mu_b"], ["e_hull", "mu_b"], list(ds.properties)):
        start = time.perf_counter()
        rows = [
            p[["formula", *columns]].dropna(subset=columns, how="all") for p in (fit_part, val_part)
        ]
        model = fit_per_task(*rows, seed=0)
        runs["+".join(columns)] = {
            "mae": {
                t: {
                    "val": validation_mae(model, val_part, t),
                    "test": validation_mae(model, test, t),
                }
                for t in columns
                if t in TARGETS
            },
            "seconds": time.perf_counter() - start,
            "train_info": model.train_info_,
        }
        print(runs["+".join(columns)]["mae"], flush=True)
    atomic_write_json(
        args.out,
        {
            "runs": runs,
            "settings": {
                **SETTINGS,
                "random_state": 0,
                "encoder": "mlp",
                "early_stopping": "per_task",
            },
            **provenance(),
        },
    )


if __name__ == "__main__":
    main()
