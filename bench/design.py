"""Rediscovery on held-out chemical systems: do the designers propose the materials that were
hidden from them?

For each task and hold-out seed, every composition of a seeded 15 % of the chemical systems
is hidden (:func:`matlattice.design.hold_out_systems`); each method sees the rest and
proposes N new compositions (never a training composition); the hidden compositions meeting
the target are counted among the first 100 and the first N, by exact composition. The
methods run side by side in one process: random SMACT-valid enumeration over the training
elements (the floor), data-mined ion exchange from the best training compositions (the
Szymanski-Bartel peer), and ours: mined substitution ranked by the designer (model's
probability of meeting the target times the substitution prior), the evolutionary search
under the same score, and the combined designer (all pools ranked by that score).

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
    "aflow_bulk_modulus_top5": {"data": "aflow", "targets": ["bulk_modulus:max"], "share": 0.05},
    "aflow_thermal_conductivity_bottom5": {
        "data": "aflow",
        "targets": ["thermal_conductivity:min"],
        "share": 0.05,
    },
    "aflow_band_gap_1.1-1.7": {"data": "aflow", "targets": ["Egap:1.1,1.7"], "share": 0.05},
    "aflow_stiff_low_expansion_top10": {
        "data": "aflow",
        "targets": ["bulk_modulus:max", "thermal_expansion:min"],
        "share": 0.10,
    },
}
METHODS = ("random", "ion_exchange", "mined", "evolution", "latent", "combined", "steered")
NAMES = {
    "random": "random valid enumeration (floor)",
    "ion_exchange": "ion exchange (Szymanski-Bartel peer)",
    "mined": "mined substitution, ranked (ours)",
    "evolution": "evolution under the same score (ours)",
    "latent": "latent (conditional VAE) proposals, same ranking (ours)",
    "combined": "combined designer (ours)",
    "steered": "combined designer, lattice-steered (ours)",
}


def task_frame(task: dict):
    """The dataset's rows with every target property labelled, and the parsed targets."""
    from matlattice.data import load_dataset
    from matlattice.design.objectives import parse_target

    targets = [parse_target(t, share=task["share"]) for t in task["targets"]]
    frame = load_dataset(task["data"]).frame
    labelled = np.logical_and.reduce([frame[t.property].notna() for t in targets])
    columns = ["formula"] + [t.property for t in targets]
    return frame.loc[labelled, columns].reset_index(drop=True), targets


def targets_of(frame, held, targets) -> tuple[set[str], list[str]]:
    """Keys of the held-out compositions meeting every target, with bounds set on all
    labels (the truth; the designers set theirs on the training labels only)."""
    from matlattice.data.parts import frame_keys

    meets = np.ones(len(frame), dtype=bool)
    described = []
    for target in targets:
        truth = target.resolve(frame[target.property].to_numpy(dtype=float))
        meets &= truth.met(frame[target.property].to_numpy(dtype=float))
        described.append(truth.describe())
    return set(frame_keys(frame)[held & meets]), described


def novel(candidates: list[str], known: set[str], n: int) -> list[str]:
    """The first ``n`` candidates whose composition is neither known nor repeated."""
    from matlattice.discovery.generators import unseen

    return unseen(candidates, known, n)


def describe(candidates: list[str], targets: set[str], seconds: float, n: int) -> dict:
    from matlattice.composition.hull import formula_systems
    from matlattice.design import check_compositions, rediscovery_recall

    checked = check_compositions(candidates)
    return {
        **rediscovery_recall(candidates, targets, ks=(100, n)),  # fewer than n: counted as is
        "proposed": len(candidates),
        "valid": float(checked["passes"].mean()) if len(checked) else float("nan"),
        "systems": len(set(formula_systems(candidates))),
        "seconds": round(seconds, 1),
    }


def reachable(targets: set[str], frame, held) -> float:
    """Share of the hidden targets that pass the designers' checks (the ceiling of recall
    for every method that proposes only valid compositions)."""
    from matlattice.data.parts import frame_keys
    from matlattice.design import check_compositions

    keys = frame_keys(frame)
    formulas = frame.loc[held & np.isin(keys, list(targets)), "formula"].tolist()
    first = {}
    for f, k in zip(formulas, keys[held & np.isin(keys, list(targets))], strict=True):
        first.setdefault(k, f)
    return float(check_compositions(list(first.values()))["passes"].mean())


def run(task_name: str, seed: int, n: int, methods: tuple[str, ...]) -> dict:
    from matlattice.data.parts import frame_keys
    from matlattice.design import IonExchange, RandomEnumeration, hold_out_systems
    from matlattice.design.designer import Designer, goal_rank, model_predictor, parent_order
    from matlattice.design.evolution import EvolutionarySearch
    from matlattice.design.latent import LatentSettings, latent_generator
    from matlattice.design.mined import MinedSubstitution
    from matlattice.design.steering import LatticeSteering
    from matlattice.models import MultiTaskForest

    task = TASKS[task_name]
    frame, targets = task_frame(task)
    held = hold_out_systems(frame, 0.15, seed)
    truth, described = targets_of(frame, held, targets)
    train = frame[~held].reset_index(drop=True)
    known = set(frame_keys(train))
    properties = [t.property for t in targets]
    start = time.perf_counter()
    forest = MultiTaskForest(n_estimators=200, random_state=seed, n_jobs=1)
    forest.fit(train["formula"].tolist(), train[properties])
    model_seconds = time.perf_counter() - start
    designer = Designer(model_predictor(forest, properties), targets)
    parents = parent_order(train, designer.resolved_targets(train))
    made: dict[str, list[str]] = {}
    results = {}
    for method in methods:
        if method == "steered" and len(targets) < 2:
            continue  # steering reads the edges between targets
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        if method == "random":
            made[method] = novel(RandomEnumeration()(parents, 3 * n, rng), known, n)
        elif method == "ion_exchange":
            made[method] = novel(IonExchange(top=1000)(parents, 5 * n, rng), known, 5 * n)
        elif method == "mined":
            designer.generators = {"mined": MinedSubstitution()}
            made[method] = designer.design(train, n, seed)["formula"].tolist()
        elif method == "evolution":
            search = EvolutionarySearch(
                designer.ranking_score(train), population=200, generations=8,
                children=3000,
            )  # fmt: skip
            made[method] = novel(search(parents, 2 * n, rng), known, 2 * n)
        elif method == "latent":
            latent = latent_generator(
                train["formula"].tolist(), goal_rank(train, designer.resolved_targets(train)),
                settings=LatentSettings(epochs=60, seed=seed),
            )  # fmt: skip
            pool = latent(parents, 5 * n, rng)
            designer.generators = {"latent": lambda p, k, r, pool=pool: pool}
            made[method] = designer.design(train, n, seed)["formula"].tolist()
            made["latent_pool"] = pool
        elif method == "combined":
            pools = {
                m: made[k]
                for m, k in (("ion_exchange", "ion_exchange"), ("evolution", "evolution"),
                             ("latent", "latent_pool"))
                if k in made
            }  # fmt: skip
            designer.generators = {
                "mined": MinedSubstitution(),
                **{m: (lambda p, k, r, pool=pool: pool) for m, pool in pools.items()},
            }
            made[method] = designer.design(train, n, seed)["formula"].tolist()
        elif method == "steered":
            steering, _ = LatticeSteering.measure(train, targets, seed)
            print(task_name, seed, "lattice:", "; ".join(steering.report()), flush=True)
            designer.steering = steering
            made[method] = designer.design(train, n, seed)["formula"].tolist()
            designer.steering = None
        seconds = time.perf_counter() - start
        results[method] = describe(made[method][:n], truth, seconds, n)
        print(task_name, seed, method, json.dumps(results[method]), flush=True)
    return {
        "task": task_name,
        "seed": seed,
        "targets": described,
        "train_rows": int((~held).sum()),
        "held_out_rows": int(held.sum()),
        "reachable": reachable(truth, frame, held),
        "model_seconds": round(model_seconds, 1),
        "methods": results,
    }


def write_table(record: dict, out: Path) -> None:
    """The markdown table beside the JSON: per task, each method's mean over seeds."""
    lines = [
        "# Inverse design: rediscovery of held-out chemical systems",
        "",
        f"Machine: {record['machine'].get('cpu_model', '?')} ({record['machine']['cpus']} "
        f"CPUs); {record['date']}; commit {record['git']['commit'][:7]}; command "
        f"`{record['command']}`.",
        "",
        "Every composition of a seeded 15 % of the chemical systems is hidden; each method "
        f"proposes {record['n']} new compositions (never a training one); found = hidden "
        "compositions meeting every target among them, by exact composition. Means over "
        "the hold-out seeds; 'reachable' is the share of hidden targets that pass the "
        "validity checks every method here keeps to.",
        "",
    ]
    for task in dict.fromkeys(r["task"] for r in record["runs"]):
        runs = [r for r in record["runs"] if r["task"] == task]
        n_targets = [r["methods"][next(iter(r["methods"]))]["targets"] for r in runs]
        lines += [
            f"## {task}: {'; '.join(runs[0]['targets'])}",
            "",
            f"Seeds {len(runs)}; hidden targets per seed {n_targets}; reachable "
            f"{np.mean([r['reachable'] for r in runs]):.0%}; model fit "
            f"{np.mean([r['model_seconds'] for r in runs]):.0f} s.",
            "",
            "| method | found@100 | found@N | recall@N | x peer | valid | systems | s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        peer = [r["methods"].get("ion_exchange", {}).get(f"found@{record['n']}") for r in runs]
        at_n = f"recall@{record['n']}"
        for method in runs[0]["methods"]:
            rows = [r["methods"][method] for r in runs]
            found = [m[f"found@{record['n']}"] for m in rows]
            ratio = sum(found) / sum(peer) if None not in peer and sum(peer) else float("nan")
            lines.append(
                f"| {NAMES[method]} | {np.mean([m['found@100'] for m in rows]):.1f} | "
                f"{np.mean(found):.1f} ({', '.join(map(str, found))}) | "
                f"{np.mean([m[at_n] for m in rows]):.2f} | {ratio:.1f} | "
                f"{np.mean([m['valid'] for m in rows]):.2f} | "
                f"{np.mean([m['systems'] for m in rows]):.0f} | "
                f"{np.mean([m['seconds'] for m in rows]):.0f} |"
            )
        lines.append("")
    reading = out.with_name(f"{out.stem}_reading.md")
    if reading.is_file():
        lines += [reading.read_text().strip(), ""]
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    from provenance import provenance

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--label", default="design")
    parser.add_argument(
        "--resume", action="store_true", help="keep the finished (task, seed) runs of --label"
    )
    parser.add_argument("--table-only", action="store_true", help="rewrite the table only")
    args = parser.parse_args()
    out = HERE / "results" / f"{args.label}.json"
    if args.table_only:
        write_table(json.loads(out.read_text()), out.with_suffix(".md"))
        return
    runs = json.loads(out.read_text())["runs"] if args.resume and out.is_file() else []
    done = {(r["task"], r["seed"]) for r in runs}
    for task in args.tasks:
        for seed in range(args.seeds):
            if (task, seed) in done:
                continue
            runs.append(run(task, seed, args.n, tuple(args.methods)))
            record = {
                "n": args.n,
                "runs": runs,
                **provenance(),
            }
            out.write_text(json.dumps(record, indent=1) + "\n")  # after every run
            write_table(record, out.with_suffix(".md"))
    print(out)


if __name__ == "__main__":
    main()
