"""How fast does our attention trainer learn, and which levers pay? (issue 25, item 1)

On one CrabNet set (default: OQMD energy per atom, the full official train part), each
variant trains the same attention model (64-wide latent, one member, seed 0) for
``--epochs`` epochs with no early stop, early-stopping bookkeeping on the official val part:

- ``fp32``: the defaults (batches of 256, float32);
- ``bf16``: the training forward pass under bfloat16 autocast (``--precision bf16``);
- ``fp32_b1024``, ``bf16_b1024``: batches of 1024 with the peak learning rate doubled;

and reports training samples per second (train rows x epochs / wall seconds, evaluation
included), the validation loss after each epoch, the test MAE at the end, and the
time-to-accuracy: the wall seconds each variant needs to reach the validation loss the
``fp32`` variant ends with (ratio against ``fp32``). An untimed one-epoch fit on 256 rows
first loads what every variant shares (element table, kernels).

Writes ``bench/results/trainer.json`` and ``bench/results/trainer.md``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/trainer.py --epochs 6``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from provenance import machine, provenance

RESULTS = Path(__file__).parent / "results"
VARIANTS = {
    "fp32": {"precision": "fp32", "batch_size": 256, "lr": 1e-3},
    "bf16": {"precision": "bf16", "batch_size": 256, "lr": 1e-3},
    "fp32_b1024": {"precision": "fp32", "batch_size": 1024, "lr": 2e-3},
    "bf16_b1024": {"precision": "bf16", "batch_size": 1024, "lr": 2e-3},
}


def run_variant(name: str, parts: dict, task: str, args: argparse.Namespace) -> dict:
    from matlattice.models import LatticeRegressor

    curve: list[tuple[float, float]] = []
    start = time.perf_counter()

    def progress(_member: str, record: dict) -> None:
        curve.append((time.perf_counter() - start, float(record["val_loss"])))
        print(f"  {name} epoch {int(record['epoch']) + 1}: val {record['val_loss']:.4f} "
              f"({curve[-1][0]:.0f} s)", flush=True)  # fmt: skip

    model = LatticeRegressor("attention", latent_dim=64, epochs=args.epochs,
                             patience=args.epochs, random_state=args.seed,
                             num_threads=args.threads, **VARIANTS[name])  # fmt: skip
    train, val, test = parts["train"], parts["val"], parts["test"]
    model.fit(train["formula"].tolist(), train[task].to_numpy(float),
              X_val=val["formula"].tolist(), y_val=val[task].to_numpy(float),
              progress=progress)  # fmt: skip
    seconds = time.perf_counter() - start
    predicted = np.ravel(model.predict(test["formula"].tolist()))
    return {"settings": VARIANTS[name], "seconds": seconds,
            "samples_per_second": len(train) * args.epochs / seconds,
            "test_mae": float(np.mean(np.abs(predicted - test[task].to_numpy(float)))),
            "curve": curve}  # fmt: skip


def time_to(curve: list, level: float) -> float | None:
    """Wall seconds at the first epoch whose validation loss is at or below ``level``."""
    return next((t for t, loss in curve if loss <= level), None)


def write(record: dict) -> None:
    from matlattice.runtime.files import atomic_write_json, atomic_write_text

    atomic_write_json(RESULTS / "trainer.json", record)
    here, variants = machine(), record["variants"]
    level = variants["fp32"]["curve"][-1][1]
    base = time_to(variants["fp32"]["curve"], level)
    lines = ["# Trainer: samples per second and time to accuracy, per lever", "",
             f"{record['date'][:10]}, {here['platform']}, {here['cpus']} cores, "
             f"{record['threads']} thread(s). Command: `{record['command']}`. Set "
             f"{record['set']} ({record['n_train']} train rows), {record['epochs']} epochs "
             "each, no early stop, attention encoder (latent 64), one member.", "",
             "| variant | batch | lr | samples/s | x fp32 | test MAE | s to fp32's final "
             "val loss | x fp32 |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, v in variants.items():
        reach = time_to(v["curve"], level)
        lines.append(
            f"| {name} | {v['settings']['batch_size']} | {v['settings']['lr']:g} | "
            f"{v['samples_per_second']:.0f} | "
            f"{v['samples_per_second'] / variants['fp32']['samples_per_second']:.2f} | "
            f"{v['test_mae']:.4g} | {'-' if reach is None else f'{reach:.0f}'} | "
            f"{'not reached' if reach is None else f'{base / reach:.2f}'} |"
        )
    atomic_write_text(RESULTS / "trainer.md", "\n".join([*lines, ""]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="OQMD_Energy_per_atom")
    parser.add_argument("--train-rows", type=int, default=0, help="0: the full train part")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if "fp32" not in args.variants:
        parser.error("--variants must include fp32 (the reference of every ratio)")
    import torch

    from matlattice.data import load_dataset

    torch.set_num_threads(args.threads)
    ds = load_dataset(f"crabnet:{args.set}")
    task = ds.properties[0]
    train = ds.train
    if args.train_rows and len(train) > args.train_rows:
        train = train.sample(args.train_rows, random_state=args.seed)
    parts = {"train": train, "val": ds.val, "test": ds.test}
    record = {"set": args.set, "task": task, "n_train": len(train), "epochs": args.epochs,
              "threads": args.threads, "variants": {}, **provenance()}  # fmt: skip
    warm = {k: v.head(256) for k, v in parts.items()}  # tables, caches, kernels: untimed
    run_variant("fp32", warm, task, argparse.Namespace(**{**vars(args), "epochs": 1}))
    for name in args.variants:
        record["variants"][name] = run_variant(name, parts, task, args)
        write(record)


if __name__ == "__main__":
    main()
