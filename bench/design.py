"""Rediscovery on held-out chemical systems: do the designers propose the materials that were
hidden from them?

For each task and hold-out seed, every composition of a seeded 15 % of the chemical systems
is hidden (:func:`matlattice.design.hold_out_systems`); each method sees the rest and
proposes N new compositions (never a training composition); the hidden compositions meeting
the target are counted among the first 100 and the first N, by exact composition. The
methods run side by side in one process: random SMACT-valid enumeration over the training
elements (the floor), data-mined ion exchange from the best training compositions (the
Szymanski-Bartel peer), the evolutionary search scored by a random forest trained on the
training part, and the combined designer (ion-exchange and evolutionary children pooled and
ranked by the same forest, at most five per chemical system).

    python bench/design.py --seeds 3 --n 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TASKS = {
    "aflow_bulk_modulus_top5": {"data": "aflow", "property": "bulk_modulus", "goal": "max"},
    "aflow_thermal_conductivity_bottom5": {
        "data": "aflow",
        "property": "thermal_conductivity",
        "goal": "min",
    },
}
SHARE = 0.05
METHODS = ("random", "ion_exchange", "evolution", "combined")


def targets_of(frame, held, task) -> tuple[set[str], float]:
    """Keys of the held-out compositions meeting the task, and the threshold (on all labels)."""
    from matlattice.data.parts import frame_keys

    values = frame[task["property"]].to_numpy(dtype=float)
    if task["goal"] == "max":
        threshold = float(np.quantile(values, 1 - SHARE))
        meets = values >= threshold
    else:
        threshold = float(np.quantile(values, SHARE))
        meets = values <= threshold
    keys = frame_keys(frame)
    return set(keys[held & meets]), threshold


def novel(candidates: list[str], known: set[str], n: int) -> list[str]:
    """The first ``n`` candidates whose composition is neither known nor repeated."""
    from matlattice.design.rediscovery import candidate_keys

    out, seen = [], set()
    for formula, key in zip(candidates, candidate_keys(candidates), strict=True):
        if key and key not in known and key not in seen:
            seen.add(key)
            out.append(formula)
            if len(out) == n:
                break
    return out


def describe(candidates: list[str], targets: set[str], seconds: float) -> dict:
    from matlattice.design import check_compositions, rediscovery_recall
    from matlattice.design.evolution import chemical_system

    checked = check_compositions(candidates)
    return {
        **rediscovery_recall(candidates, targets, ks=(100, len(candidates) or 1)),
        "proposed": len(candidates),
        "valid": float(checked["passes"].mean()) if len(checked) else float("nan"),
        "systems": len({chemical_system(c) for c in candidates}),
        "seconds": round(seconds, 1),
    }


def run(task_name: str, seed: int, n: int, methods: tuple[str, ...]) -> dict:
    from matlattice.data import load_dataset
    from matlattice.data.parts import frame_keys
    from matlattice.design import IonExchange, RandomEnumeration, hold_out_systems
    from matlattice.design.evolution import EvolutionarySearch, capped_best
    from matlattice.models import MultiTaskForest

    task = TASKS[task_name]
    frame = load_dataset(task["data"]).frame
    frame = frame[frame[task["property"]].notna()].reset_index(drop=True)
    held = hold_out_systems(frame, 0.15, seed)
    targets, threshold = targets_of(frame, held, task)
    train = frame[~held]
    known = set(frame_keys(train))
    sign = 1.0 if task["goal"] == "max" else -1.0
    parents = train.sort_values(task["property"], ascending=sign < 0)["formula"].tolist()
    start = time.perf_counter()
    forest = MultiTaskForest(n_estimators=200, random_state=seed, n_jobs=2)
    forest.fit(train["formula"].tolist(), train[[task["property"]]])
    model_seconds = time.perf_counter() - start

    def score(formulas: list[str]) -> np.ndarray:
        return sign * np.asarray(forest.predict(formulas), dtype=float).reshape(-1)

    made: dict[str, list[str]] = {}
    results = {}
    for method in methods:
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        if method == "random":
            made[method] = novel(RandomEnumeration()(parents, 3 * n, rng), known, n)
        elif method == "ion_exchange":
            made[method] = novel(IonExchange(top=1000)(parents, 5 * n, rng), known, 5 * n)
        elif method == "evolution":
            search = EvolutionarySearch(score, population=200, generations=8, children=3000)
            made[method] = novel(search(parents, 2 * n, rng), known, 2 * n)
        elif method == "combined":
            pool = list(dict.fromkeys(made["ion_exchange"] + made["evolution"]))
            made[method] = capped_best(pool, score(pool), n, per_system=5)
        seconds = time.perf_counter() - start
        results[method] = describe(made[method][:n], targets, seconds)
        print(task_name, seed, method, json.dumps(results[method]), flush=True)
    return {
        "task": task_name,
        "seed": seed,
        "threshold": threshold,
        "train_rows": int((~held).sum()),
        "held_out_rows": int(held.sum()),
        "model_seconds": round(model_seconds, 1),
        "methods": results,
    }


def main() -> None:
    from provenance import provenance

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--label", default="design")
    args = parser.parse_args()
    runs = [run(t, s, args.n, tuple(args.methods)) for t in args.tasks for s in range(args.seeds)]
    record = {"n": args.n, "runs": runs, **provenance()}
    out = HERE / "results" / f"{args.label}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()
