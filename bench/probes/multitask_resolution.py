"""How large a multi-task gain can one seed's validation or test part resolve?

For each seed of a finished ``bench/multitask.py`` run, predicts the validation and test parts
with a scheme's saved models and with the single-task models, and bootstraps (1000 resamples
of the labelled rows, paired: both models' errors on the same rows) the relative MAE gain of
the scheme over single-task per property: ``1 - MAE_scheme / MAE_single``, its 90 % interval,
on both parts. A gain whose interval spans zero is not resolved by that part; a validation
interval that misses the test one says the gate read a part that disagrees with the test.

Writes ``bench/results/multitask_resolution_<dataset>_<scheme>[_<scale>].json``. Run (after
the benchmark): ``.venv/bin/python bench/probes/multitask_resolution.py --dataset mp
--scheme per_task --seeds 0 1 --target-scale mean_abs_dev``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import RESULTS, RUNS, provenance, seed_parts

from matlattice.models import LatticeRegressor
from matlattice.multitask.gate import paired_gain_interval
from matlattice.runtime.files import atomic_write_json

N_BOOT = 1000


def scheme_model(folder: Path, task: str) -> LatticeRegressor:
    """The saved model serving ``task`` in a run folder (one shared model or one per task)."""
    shared = folder / "model"
    return LatticeRegressor.load(shared if shared.is_dir() else folder / f"model_task_{task}")


def paired_gain(y: np.ndarray, pred: np.ndarray, ref: np.ndarray, seed: int) -> dict:
    """Relative MAE gain of ``pred`` over ``ref`` on ``y`` with its paired 90 % bootstrap
    interval (rows resampled together for both models)."""
    err, err_ref = np.abs(y - pred), np.abs(y - ref)
    low, high = paired_gain_interval(err, err_ref, n_boot=N_BOOT, seed=seed)
    return {
        "gain": float(1 - err.mean() / err_ref.mean()),
        "low": float(low),
        "high": float(high),
        "n": len(y),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mp")
    parser.add_argument("--scheme", default="per_task")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--target-scale", default="iqr", choices=("iqr", "mean_abs_dev"))
    args = parser.parse_args()
    scaled = args.dataset if args.target_scale == "iqr" else f"{args.dataset}_{args.target_scale}"
    results: dict[str, dict] = {}
    for seed in args.seeds:
        base = RUNS / scaled / f"seed{seed}"
        ds, _, val, test = seed_parts(args.dataset, seed)
        for task in ds.properties:
            single = LatticeRegressor.load(base / f"single_{task}" / "model")
            model = scheme_model(base / args.scheme, task)
            for name, part in (("val", val), ("test", test)):
                rows = part[["formula", task]].dropna()
                formulas = rows["formula"].tolist()
                pred = model.predict(formulas).reshape(len(rows), -1)[:, model.tasks_.index(task)]
                ref = single.predict(formulas).reshape(len(rows))
                entry = paired_gain(rows[task].to_numpy(float), pred, ref, seed)
                results.setdefault(task, {}).setdefault(name, []).append(entry)
                print(
                    f"seed {seed} {task} {name}: {entry['gain']:+.1%} "
                    f"[{entry['low']:+.1%}, {entry['high']:+.1%}]",
                    flush=True,
                )
    suffix = "" if args.target_scale == "iqr" else f"_{args.target_scale}"
    atomic_write_json(
        RESULTS / f"multitask_resolution_{args.dataset}_{args.scheme}{suffix}.json",
        {
            "dataset": args.dataset,
            "scheme": args.scheme,
            "target_scale": args.target_scale,
            "seeds": args.seeds,
            "bootstrap": {"resamples": N_BOOT, "interval": "5-95 %", "paired": True},
            "gains": results,
            **provenance(),
        },
    )


if __name__ == "__main__":
    main()
