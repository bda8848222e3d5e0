"""Ray against the local executor on this machine: an ensemble fit and a fidelity sweep, wall
time of each way of running the same jobs, and whether they give the same numbers (issue 26).

Ways: ``local, 1 process`` (the jobs one after another, one thread), ``local, 2 processes``
(spawned workers, one thread each) and ``ray`` (every job a Ray task on the cluster at
``$RAY_ADDRESS``, else a local Ray of 2 CPUs). Same seeds everywhere; the script checks that
the predictions (ensemble) and fidelities (sweep) are identical across ways.

Writes ``bench/results/scale_out.{json,md}``.

Run (a quiet machine): ``python bench/scale_out.py`` (start a cluster first to measure one:
``ray start --head --num-cpus 1`` then ``ray start --address HEAD:6379 --num-cpus 1``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from provenance import machine, provenance

RESULTS = Path(__file__).parent / "results"
WAYS = {"local, 1 process": ("local", 1), "local, 2 processes": ("local", 2), "ray": ("ray", 2)}


def _ensemble(data, way: tuple[str, int], args) -> tuple[float, np.ndarray]:
    import torch

    from matlattice.models import LatticeRegressor

    torch.set_num_threads(1)
    train, test = data
    executor, n_jobs = way
    model = LatticeRegressor(
        "attention",
        latent_dim=32,
        epochs=args.epochs,
        patience=args.epochs,
        ensemble=args.members,
        n_jobs=n_jobs,
        executor=executor,
        random_state=0,
        num_threads=1,
    )
    start = time.perf_counter()
    model.fit(train["formula"].tolist(), train[["shear_modulus"]].to_numpy(float))
    seconds = time.perf_counter() - start
    return seconds, np.asarray(model.predict(test["formula"].tolist()))


def _sweep(frame, way: tuple[str, int], args) -> tuple[float, list]:
    from matlattice.compression import fidelity_sweep

    executor, n_jobs = way
    start = time.perf_counter()
    result = fidelity_sweep(
        frame,
        [2, 4, 8, 16],
        tasks=["shear_modulus", "bulk_modulus"],
        model_params={"epochs": args.epochs, "patience": args.epochs},
        ensemble=1,
        baselines=False,
        executor=executor,
        n_jobs=n_jobs,
    )
    seconds = time.perf_counter() - start
    return seconds, [p["predictive"] for p in result.summary["per_dim"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--members", type=int, default=4)
    args = parser.parse_args()
    import ray

    from matlattice.data import load_dataset

    frame = load_dataset("aflow").frame[["formula", "shear_modulus", "bulk_modulus"]].dropna()
    train, test = frame.iloc[:3000], frame.iloc[3000:3500]
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
    else:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    nodes = len([n for n in ray.nodes() if n["Alive"]])
    record = {"ensemble": {}, "sweep": {}, "ray_nodes": nodes, "settings": vars(args)}
    outputs = {"ensemble": {}, "sweep": {}}
    for name, way in WAYS.items():
        seconds, outputs["ensemble"][name] = _ensemble((train, test), way, args)
        record["ensemble"][name] = {"seconds": seconds}
        seconds, outputs["sweep"][name] = _sweep(frame.iloc[:3500], way, args)
        record["sweep"][name] = {"seconds": seconds}
        print(name, record["ensemble"][name], record["sweep"][name], flush=True)
    ray.shutdown()
    first = next(iter(WAYS))
    record["identical"] = {
        "ensemble": all(
            np.array_equal(outputs["ensemble"][first], v) for v in outputs["ensemble"].values()
        ),
        "sweep": all(v == outputs["sweep"][first] for v in outputs["sweep"].values()),
    }
    _write(record)


def _write(record: dict) -> None:
    from matlattice.runtime.files import atomic_write_json, atomic_write_text

    here = machine()
    atomic_write_json(RESULTS / "scale_out.json", {**record, **provenance()})
    s = record["settings"]
    lines = [
        "# Ray against the local executor",
        "",
        f"Machine: {here['platform']}, {here['cpus']} cores; Ray cluster of "
        f"{record['ray_nodes']} node(s). Command: `{provenance()['command']}`. Ensemble: "
        f"{s['members']} attention members, {s['epochs']} epochs, 3,000 AFLOW shear moduli. "
        f"Sweep: widths 2, 4, 8, 16, {s['epochs']} epochs, two AFLOW moduli, 3,500 rows.",
        "",
        "| way | ensemble s | speed-up | sweep s | speed-up |",
        "|---|---|---|---|---|",
    ]
    base_e = record["ensemble"][next(iter(WAYS))]["seconds"]
    base_s = record["sweep"][next(iter(WAYS))]["seconds"]
    for name in WAYS:
        e, w = record["ensemble"][name]["seconds"], record["sweep"][name]["seconds"]
        lines.append(f"| {name} | {e:.1f} | {base_e / e:.2f}x | {w:.1f} | {base_s / w:.2f}x |")
    same = record["identical"]
    lines += [
        "",
        f"Identical numbers across the ways: ensemble predictions {same['ensemble']}, "
        f"sweep fidelities {same['sweep']}.",
    ]
    atomic_write_text(RESULTS / "scale_out.md", "\n".join([*lines, ""]))


if __name__ == "__main__":
    main()
