"""Kill -9 at seeded random moments of a fit and of a campaign benchmark, resume, compare.

Each kill point starts the command as a user would (``matlattice fit ... --out R`` or
``matlattice campaign run ... --out O``), kills it with SIGKILL after a delay drawn from a
seeded generator over the uninterrupted run's wall time, then runs it again with
``--resume`` to the end. The resumed result must equal the uninterrupted one exactly: the
fit's metrics and test predictions, the campaign's told results (formula, value and iteration,
in order) with nothing lost and nothing told twice.

    python bench/faults.py --points 20          # the full count; writes results/faults.*

``tests/faults/test_kill.py`` runs the same loops with a few points in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FIT = [
    "--model", "mlp", "--epochs", "30", "--patience", "30", "--latent-dim", "8",
    "--batch-size", "8", "--ensemble", "2", "--split", "random",
]  # fmt: skip
CAMPAIGN = [
    "--target", "band_gap", "--methods", "ucb@rf,random", "--pool-size", "60",
    "--initial", "6", "--budget", "30", "--batch", "4", "--seeds", "2",
]  # fmt: skip


def write_table(path: Path) -> Path:
    """The planted table both loops read: 60 formulas, two properties."""
    from matlattice.data.synthetic import random_label_table

    random_label_table().to_csv(path, index=False)
    return path


def _matlattice(*args: object) -> list[str]:
    return [sys.executable, "-m", "matlattice", *map(str, args)]


def _run(*args: object) -> float:
    start = time.perf_counter()
    done = subprocess.run(_matlattice(*args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"matlattice {' '.join(map(str, args))} failed:\n{done.stdout}")
    return time.perf_counter() - start


def _killed(args: list, delay: float) -> bool:
    """Start ``matlattice args``, SIGKILL it after ``delay`` s; whether it was still running."""
    process = subprocess.Popen(
        _matlattice(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return True


def fit_outcome(run: Path) -> dict:
    """What a fit run computed: its metrics and test predictions (exact values)."""
    metrics = json.loads((run / "metrics.json").read_text())
    predictions = pd.read_parquet(run / "predictions.parquet")
    return {"metrics": metrics, "predictions": predictions.to_dict(orient="list")}


def campaign_outcome(out: Path) -> dict:
    """What a campaign benchmark told: per store, the results in order; and the found curves."""
    stores = {}
    for path in sorted((out / "campaigns").glob("*.sqlite")):
        with sqlite3.connect(path) as db:
            stores[path.name] = db.execute(
                "SELECT formula, fidelity, value, iteration FROM results ORDER BY told, rowid"
            ).fetchall()
    summary = json.loads((out / "campaign.json").read_text())
    curves = {k: v.get("curve") for k, v in summary["acquisitions"].items()}
    return {"stores": stores, "curves": curves}


def kill_loop(kind: str, root: Path, points: int, seed: int = 0) -> dict:
    """Run the ``kind`` ("fit" or "campaign") loop with ``points`` kill points under
    ``root``; a record per point and the totals."""
    table = write_table(root / "table.csv")
    base = ["fit", table, *FIT] if kind == "fit" else ["campaign", "run", table, *CAMPAIGN]
    outcome = fit_outcome if kind == "fit" else campaign_outcome
    reference = root / "reference"
    wall = _run(*base, "--out", reference)
    expected = outcome(reference)
    delays = np.random.default_rng(seed).uniform(0.2, wall, points)
    records = []
    for k, delay in enumerate(delays):
        out = root / f"killed{k}"
        killed = _killed([*base, "--out", out], float(delay))
        _run(*base, "--out", out, "--resume")
        got = outcome(out)
        duplicates = kind == "campaign" and any(
            len(rows) != len({(r[0], r[1]) for r in rows}) for rows in got["stores"].values()
        )
        records.append(
            {
                "delay_s": round(float(delay), 3),
                "killed": killed,
                "identical": got == expected,
                "duplicated_results": bool(duplicates),
            }
        )
    return {
        "kind": kind,
        "points": points,
        "seed": seed,
        "uninterrupted_wall_s": round(wall, 2),
        "killed": sum(r["killed"] for r in records),
        "identical": sum(r["identical"] for r in records),
        "records": records,
    }


def _markdown(results: list[dict], stamp: dict) -> str:
    lines = [
        "# Kill -9 and resume (issue 21)",
        "",
        f"Machine: {stamp['machine']['cpu_model']} ({stamp['machine']['cpus']} CPUs); "
        f"date {stamp['date']}; command `{stamp['command']}`.",
        "",
        "Each point starts the command, kills it with SIGKILL after a seeded random delay "
        "within the uninterrupted run's wall time, reruns it with `--resume` and compares "
        "the result with the uninterrupted run's, exactly.",
        "",
        "| loop | kill points | killed mid-run | identical after resume | duplicated results "
        "| uninterrupted wall (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        duplicated = sum(p["duplicated_results"] for p in r["records"])
        lines.append(
            f"| {r['kind']} | {r['points']} | {r['killed']} | {r['identical']} | {duplicated} "
            f"| {r['uninterrupted_wall_s']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    import tempfile

    from provenance import provenance

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("fit", "campaign"):
            root = Path(tmp) / kind
            root.mkdir()
            results.append(kill_loop(kind, root, args.points, args.seed))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "records"}))
    stamp = provenance()
    out = HERE / "results"
    (out / "faults.json").write_text(json.dumps({"loops": results, **stamp}, indent=1) + "\n")
    (out / "faults.md").write_text(_markdown(results, stamp))


if __name__ == "__main__":
    main()
