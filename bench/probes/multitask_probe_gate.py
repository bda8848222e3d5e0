"""Probe behind docs/entanglement.md: does a gate read a biased validation part when the same
part also chose each model's early-stopping epoch?

On one seed's split of ``bench/multitask.py``, the validation part is cut into two
composition-level halves: ``stop`` chooses the epochs, ``gate`` is never seen in training.
Each property is trained alone, and all properties together (per-task stopping); the MAE of
each property on both halves and on the test part is recorded. If the single-task models'
noisier validation curves make their chosen epochs look better than they are, the gain of the
joint model is lower on ``stop`` than on ``gate`` and test.

Writes ``bench/results/multitask_probe_gate_<dataset>_seed<seed>_<scale>.json``. Run:
``OMP_NUM_THREADS=1 .venv/bin/python bench/probes/multitask_probe_gate.py --seed 0``.
"""

from __future__ import annotations

import argparse
import time

import torch
from common import RESULTS, SETTINGS, fit_per_task, provenance, seed_parts

from matlattice.composition import formula_keys
from matlattice.data.splits import random_split
from matlattice.multitask.gate import validation_mae
from matlattice.runtime.files import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mp")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target-scale", default="mean_abs_dev", choices=("iqr", "mean_abs_dev"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds, fit_part, val, test = seed_parts(args.dataset, args.seed)
    tasks = list(ds.properties)
    halves = random_split(formula_keys(val["formula"]), (0.5, 0.5, 0.0), seed=args.seed)
    parts = {"stop": val[halves == "train"], "gate": val[halves == "val"], "test": test}
    runs: dict[str, dict] = {}
    for columns in [[t] for t in tasks] + [tasks]:
        start = time.perf_counter()
        rows = [
            p[["formula", *columns]].dropna(subset=columns, how="all")
            for p in (fit_part, parts["stop"])
        ]
        model = fit_per_task(*rows, seed=args.seed, target_scale=args.target_scale)
        name = "joint" if len(columns) > 1 else "alone"
        for t in columns:
            runs.setdefault(t, {})[name] = {
                part: validation_mae(model, frame_part, t) for part, frame_part in parts.items()
            }
        runs.setdefault("_seconds", {})["+".join(columns)] = time.perf_counter() - start
        print(columns, {t: runs[t][name] for t in columns}, flush=True)
    gains = {t: {p: 1 - runs[t]["joint"][p] / runs[t]["alone"][p] for p in parts} for t in tasks}
    atomic_write_json(
        RESULTS / f"multitask_probe_gate_{args.dataset}_seed{args.seed}_{args.target_scale}.json",
        {
            "dataset": args.dataset,
            "seed": args.seed,
            "mae": runs,
            "joint_gain": gains,
            "rows": {p: len(f) for p, f in parts.items()},
            "settings": {**SETTINGS, "encoder": "mlp", "target_scale": args.target_scale},
            **provenance(),
        },
    )


if __name__ == "__main__":
    main()
