"""Probe behind docs/entanglement.md: does a property gain from partners trained only on the
materials that carry its own label (co-labelled rows), rather than on every material that
carries any label of the pair?

On one seed's split of ``bench/multitask.py`` (same training/validation/test parts), each
target is trained alone, beside each other property and beside groups of them, every model on
the target's labelled rows only (a partner's missing labels stay masked), with the
benchmark's settings (MLP encoder, d = 32, <= 200 epochs, patience 30) and each task stopped at
its own best validation epoch. Records the target's validation and test MAE. The alone test
MAEs equal the benchmark's single-task column (training is deterministic on CPU).

Writes ``bench/results/multitask_probe_colabelled_<dataset>_seed<seed>[_<scale>].json``. Run:
``OMP_NUM_THREADS=1 .venv/bin/python bench/probes/multitask_probe_colabelled.py --seed 0``.
"""

from __future__ import annotations

import argparse
import time

import torch
from common import RESULTS, SETTINGS, fit_per_task, provenance, seed_parts

from matlattice.multitask.gate import validation_mae
from matlattice.runtime.files import atomic_write_json


def partner_sets(target: str, tasks: list[str], peers: list[str]) -> dict[str, list[str]]:
    """Name -> partner list: none, each other property, the target's peers, all others."""
    others = [t for t in tasks if t != target]
    sets = {"alone": [], **{f"beside {t}": [t] for t in others}}
    sets["beside peers"] = [t for t in peers if t != target]
    sets["beside all"] = others
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mp")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--targets", nargs="+", default=["bulk_modulus", "shear_modulus", "elastic_anisotropy"]
    )
    parser.add_argument("--target-scale", default="iqr", choices=("iqr", "mean_abs_dev"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds, fit_part, val_part, test = seed_parts(args.dataset, args.seed)
    suffix = "" if args.target_scale == "iqr" else f"_{args.target_scale}"
    out = RESULTS / f"multitask_probe_colabelled_{args.dataset}_seed{args.seed}{suffix}.json"
    runs: dict[str, dict] = {}
    for target in args.targets:
        for name, partners in partner_sets(target, ds.properties, args.targets).items():
            columns = [target, *partners]
            rows = [p.loc[p[target].notna(), ["formula", *columns]] for p in (fit_part, val_part)]
            start = time.perf_counter()
            model = fit_per_task(*rows, seed=args.seed, target_scale=args.target_scale)
            runs.setdefault(target, {})[name] = {
                "val": validation_mae(model, val_part, target),
                "test": validation_mae(model, test, target),
                "seconds": time.perf_counter() - start,
                "best_epochs": model.train_info_[0].get("task_best_epochs"),
            }
            print(target, name, runs[target][name], flush=True)
    atomic_write_json(
        out,
        {
            "dataset": args.dataset,
            "seed": args.seed,
            "runs": runs,
            "settings": {
                **SETTINGS,
                "encoder": "mlp",
                "early_stopping": "per_task",
                "target_scale": args.target_scale,
            },
            **provenance(),
        },
    )


if __name__ == "__main__":
    main()
