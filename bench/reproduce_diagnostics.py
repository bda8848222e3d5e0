"""The two diagnostics, before and after the renovation of issue 20: a small compression-fidelity
sweep and a small entanglement lattice, run by the code of a given commit (default bdf0264,
the last commit before the move) and by today's code, on the same 1,500 AFLOW compositions.

The committed sweeps and lattices (``bench/results/fidelity``, ``bench/results/entangle``)
take hours on 2 cores; this is the small case per stage that says the moved code computes the
same numbers. Writes ``bench/results/reproduce_diagnostics.json``.

    python bench/reproduce_diagnostics.py [--before bdf0264]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from provenance import REPO, provenance

from matlattice.runtime.files import atomic_write_json

# Runs inside either tree: the sweep lives in matlattice.fidelity before, .compression after.
DRIVER = r"""
import json, sys
import numpy as np
from matlattice.data import load_dataset
try:
    from matlattice.compression import fidelity_sweep
except ImportError:
    from matlattice.fidelity import fidelity_sweep
from matlattice.entangle import entanglement_lattice

frame = load_dataset("aflow", clean=True).frame
frame = frame[["formula", "split", "Egap", "bulk_modulus", "shear_modulus"]]
frame = frame.dropna(subset=["bulk_modulus"]).sample(1500, random_state=0)
frame = frame.drop(columns="split").reset_index(drop=True)
params = {"epochs": 6, "patience": 3, "batch_size": 128}
sweep = fidelity_sweep(frame, dims=(2, 8), ensemble=1, model_params=params, baselines=False,
                       k=5, probe_size=200, num_threads=1).to_dict()
result = entanglement_lattice(frame, model_params={**params, "latent_dim": 8},
                              transfer=False, probe_size=128, num_threads=1)
edges = sorted((e[0], e[1], e[2]["weight"]) for e in result.lattice.graph.edges(data=True))

def strip(value):  # timings differ from run to run; everything else must not
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items()
                if not (k.endswith("_s") or "second" in k or k == "timings")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value

out = {
    "sweep": strip(sweep),
    "lattice": {"density": result.lattice.density, "regime": result.lattice.regime,
                "groups": result.lattice.groups, "edges": edges},
}
print(json.dumps(out, default=float))
"""


def run(src: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{src}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def numbers(value: object) -> list[float]:
    """Every number in a nested structure, in order."""
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in numbers(value[k])]
    if isinstance(value, list | tuple):
        return [x for v in value for x in numbers(v)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="bdf0264", help="commit of the old code")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), args.before],
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        try:
            before = run(worktree / "src")
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO, check=False
            )
    after = run(REPO / "src")
    old, new = numbers(before), numbers(after)
    same_shape = len(old) == len(new)
    diff = max((abs(a - b) for a, b in zip(old, new, strict=False)), default=math.nan)
    report = {
        "before_commit": args.before,
        "n_numbers": [len(old), len(new)],
        "max_abs_diff": diff,
        "same": same_shape
        and diff <= 1e-9
        and before["lattice"]["groups"] == after["lattice"]["groups"],
        "before": before,
        "after": after,
        **provenance(),
    }
    atomic_write_json(REPO / "bench" / "results" / "reproduce_diagnostics.json", report)
    print(f"{len(old)} numbers, max |before - after| = {diff:.3g}, same: {report['same']}")


if __name__ == "__main__":
    main()
