"""CrabNet's own code against ours, same sets, same machine, same epochs, one run (issue 25).

For each CrabNet benchmark set, in one run of this script: CrabNet 2.0.8 (its own
implementation, unpacked by ``bench/peers/setup_crabnet.sh`` and run as a subprocess by
``bench/peers/crabnet_run.py``: its defaults, ``--epochs`` epochs, its own choice of weights
on val) and ours (``matlattice.jobs.fit.fit_run``: attention encoder, one member, the same
``--epochs`` epochs with no early stop, the same train/val/test files). Both on
``--threads`` CPU threads. Reports wall seconds per epoch, test MAE and their ratios.

Time to the peer's accuracy: where ours at ``--epochs`` is behind CrabNet's test MAE, ours is
trained again with each count of ``--ladder`` (shortest first, each a whole run with its own
schedule) until its test MAE is at or below CrabNet's; the wall time of that run against
CrabNet's is the time ratio at equal MAE (none when no count of the ladder gets there).

Writes ``bench/results/crabnet_peer.{json,md}``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/crabnet_peer.py --epochs 40``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import REPO, machine, provenance

RESULTS = Path(__file__).parent / "results"
PEER = REPO / "bench" / ".peers" / "crabnet"
SETS = ("aflow__ael_shear_modulus_vrh", "aflow__ael_bulk_modulus_vrh", "mp_bulk_modulus")


def crabnet_fit(folder: Path, args: argparse.Namespace) -> dict:
    """CrabNet's own fit in a subprocess (its imports never enter this process)."""
    if not (PEER / ".sha256").is_file():
        sys.exit("the CrabNet peer is not unpacked: run bash bench/peers/setup_crabnet.sh")
    environment = {**os.environ, "PYTHONPATH": str(PEER), "OMP_NUM_THREADS": str(args.threads)}
    scratch = tempfile.mkdtemp(prefix="crabnet_peer_")  # it writes figures/ where it runs
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "peers" / "crabnet_run.py"), str(folder),
         "--epochs", str(args.epochs), "--seed", str(args.seed), "--threads", str(args.threads)],
        capture_output=True, text=True, env=environment, check=False, cwd=scratch,
    )  # fmt: skip
    shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode:
        sys.exit(f"the CrabNet peer failed on {folder.name}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ours_fit(name: str, args: argparse.Namespace, epochs: int) -> dict:
    """Our attention model on the same files, ``epochs`` epochs (no early stop)."""
    import torch

    from matlattice.jobs.config import FitConfig
    from matlattice.jobs.fit import fit_run
    from matlattice.models import LatticeRegressor

    torch.set_num_threads(args.threads)
    run = REPO / "bench" / ".runs" / "crabnet_peer" / name
    shutil.rmtree(run, ignore_errors=True)
    config = FitConfig(data=f"crabnet:{name}", model="attention", ensemble=1,
                       epochs=epochs, patience=epochs, seed=args.seed,
                       n_jobs=1)  # fmt: skip
    start = time.perf_counter()
    metrics = fit_run(config, run)
    seconds = time.perf_counter() - start
    model = LatticeRegressor.load(run / "model")
    task = next(iter(metrics["tasks"]))
    return {"mae": metrics["tasks"][task]["mae"], "seconds": seconds,
            "epochs_run": model.train_info_[0]["epochs_run"], "batch_size": config.batch_size,
            "d_model": model.d_model, "layers": model.n_layers}  # fmt: skip


def run_set(name: str, args: argparse.Namespace) -> dict:
    from matlattice.data.fetch import cache_root

    folder = cache_root() / "sources" / "crabnet-2.0.8" / "benchmark_data" / name
    record = {"set": name, "crabnet": crabnet_fit(folder, args),
              "ours": ours_fit(name, args, args.epochs)}  # fmt: skip
    peer, ours = record["crabnet"], record["ours"]
    for side in (peer, ours):
        side["seconds_per_epoch"] = side["seconds"] / side["epochs_run"]
    record["speed_ratio"] = peer["seconds_per_epoch"] / ours["seconds_per_epoch"]
    record["mae_ratio"] = ours["mae"] / peer["mae"]
    record["to_peer_mae"] = time_to_peer_mae(name, peer["mae"], ours, args)
    reached = record["to_peer_mae"]["reached"]
    record["time_ratio_at_equal_mae"] = peer["seconds"] / reached["seconds"] if reached else None
    print(name, json.dumps(record), flush=True)
    return record


def time_to_peer_mae(name: str, peer_mae: float, first: dict, args: argparse.Namespace) -> dict:
    """The shortest of our runs (``--epochs``, then each count of ``--ladder``) whose test
    MAE is at or below the peer's, and every run tried on the way."""
    tried = [{"epochs": args.epochs, "mae": first["mae"], "seconds": first["seconds"]}]
    for epochs in sorted(e for e in args.ladder if e > args.epochs):
        if tried[-1]["mae"] <= peer_mae:
            break
        run = ours_fit(name, args, epochs)
        tried.append({"epochs": epochs, "mae": run["mae"], "seconds": run["seconds"]})
    reached = tried[-1] if tried[-1]["mae"] <= peer_mae else None
    return {"reached": reached, "tried": tried}


def write_table(records: list[dict], args: argparse.Namespace) -> None:
    from matlattice.runtime.files import atomic_write_json, atomic_write_text

    here = machine()
    atomic_write_json(RESULTS / "crabnet_peer.json", {"sets": records, **provenance()})
    lines = [
        "# CrabNet's own code vs ours: same sets, same machine, same epochs",
        "",
        f"Machine: {here['platform']}, {here['cpus']} cores, CPU, {args.threads} thread(s) "
        f"each; {args.epochs} epochs each, seed {args.seed}. Command: "
        f"`{provenance()['command']}`. CrabNet 2.0.8 (its defaults: d_model 512, 3 layers, "
        "Lamb+Lookahead, SWA) run from its wheel as a subprocess; ours: attention encoder, "
        "one member, defaults, no early stop. Seconds include each side's data preparation.",
        "",
        "| set | n train | CrabNet s/epoch | ours s/epoch | speed (CrabNet/ours) "
        "| CrabNet MAE | ours MAE | MAE ratio (ours/CrabNet) | ours to CrabNet's MAE "
        "| time ratio at equal MAE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        c, o = r["crabnet"], r["ours"]
        lines.append(
            f"| {r['set']} | {c['n_train']} | {c['seconds_per_epoch']:.2f} | "
            f"{o['seconds_per_epoch']:.2f} | {r['speed_ratio']:.2f}x | {c['mae']:.4g} | "
            f"{o['mae']:.4g} | {r['mae_ratio']:.3f} | {_reached(r)} |"
        )
    atomic_write_text(RESULTS / "crabnet_peer.md", "\n".join([*lines, ""]))


def _reached(record: dict) -> str:
    """'<epochs> epochs, <s> s (MAE <m>) | <ratio>x', or what was tried without reaching."""
    found = record.get("to_peer_mae")
    if found is None:
        return "- | -"
    if found["reached"] is None:
        last = found["tried"][-1]
        return f"not reached by {last['epochs']} epochs (MAE {last['mae']:.4g}) | -"
    hit = found["reached"]
    return (f"{hit['epochs']} epochs, {hit['seconds']:.0f} s (MAE {hit['mae']:.4g}) | "
            f"{record['time_ratio_at_equal_mae']:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--epochs", type=int, default=40, help="a multiple of 20 (CrabNet's cycle)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ladder", nargs="*", type=int, default=[60, 80, 120, 160],
                        help="our epoch counts tried, shortest first, until our test MAE "
                        "reaches CrabNet's")  # fmt: skip
    args = parser.parse_args()
    if args.epochs % 20:
        parser.error(f"--epochs {args.epochs}: CrabNet rounds epochs up to a multiple of 20")
    records = [run_set(name, args) for name in args.sets]
    write_table(records, args)


if __name__ == "__main__":
    main()
