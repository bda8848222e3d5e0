"""The closed loop beyond its pool (issue 23, item 7): open-ended campaigns that grow their
pool with a design generator, on real data with hidden labels, against the same campaign on
a fixed pool, in the same run.

Each task hides every composition of 15 % of the chemical systems (seed 0) and draws a pool
of ``--pool-size`` labelled compositions from the rest. The oracle knows every labelled
composition of the dataset, so a generated composition is measured if the dataset holds it
and is otherwise "not measurable", which still uses one measurement (a failed attempt).

Methods: ``random`` and ``ucb@rf`` on the fixed pool; ``ucb@rf`` growing its pool by
``--generate`` compositions per ask from the built-in same-group substitution, from
pymatgen's ion exchange (the Szymanski-Bartel peer) and from the substitutions mined from the
pool itself (matlattice.design). Reported per method, mean over seeds: the share of the
pool's top found (the fixed-pool score), and beyond the pool: compositions as good as the
pool's top ``--top`` share (and how many in held-out systems), how far the best measured
value lies past the pool's best, the share of campaigns that climbed past it, how many
proposals were not measurable.

Writes ``bench/results/closed_loop/<task>.json`` (+ ``.png``) and
``bench/results/closed_loop.md``; campaign databases go to ``bench/.runs/closed_loop/`` and
resume.

Run: ``.venv/bin/python bench/closed_loop.py --seeds 5``
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from provenance import provenance

from matlattice.design import campaign_generator
from matlattice.discovery.benchmark import campaign_benchmark
from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"
FOLDER = RESULTS / "closed_loop"
RUNS = Path(__file__).parent / ".runs" / "closed_loop"
TASKS = {
    "aflow_bulk_max": dict(data="aflow", target="bulk_modulus", goal="max"),
    "aflow_kappa_min": dict(data="aflow", target="thermal_conductivity", goal="min"),
}
GROWERS = ("substitution", "ion_exchange", "mined")


def methods(generate: int) -> tuple[str, ...]:
    grown = [f"ucb@rf+generate={generate}+generator={g}" for g in GROWERS]
    return ("random", "ucb@rf", *grown)


def run_task(name: str, args: argparse.Namespace) -> dict:
    spec = TASKS[name]
    start = time.perf_counter()
    summary = campaign_benchmark(
        spec["data"],
        spec["target"],
        RUNS / name,
        goal=spec["goal"],
        methods=methods(args.generate),
        pool_size=args.pool_size,
        initial=args.initial,
        budget=args.budget,
        batch=args.batch,
        seeds=tuple(range(args.seeds)),
        top=args.top,
        hold_out=args.hold_out,
        generator_factory=campaign_generator,
        progress=lambda msg: print(f"{name}: {msg}", flush=True),
    )
    summary.update({"benchmark": name, "wall_seconds": time.perf_counter() - start})
    summary.update(provenance())
    FOLDER.mkdir(parents=True, exist_ok=True)
    atomic_write_json(FOLDER / f"{name}.json", summary)
    shutil.copyfile(RUNS / name / "campaign.png", FOLDER / f"{name}.png")
    return summary


def build_table() -> None:
    lines = [
        "# The closed loop beyond its pool (issue 23)",
        "",
        "Campaigns on AFLOW with every composition of 15 % of the chemical systems hidden from "
        "the pool; the oracle knows every labelled composition, and a proposal the data do "
        "not hold is not measurable and still uses one measurement. Means over seeds. "
        "*pool top found*: share of the pool's top set found at the budget; *beyond top*: "
        "measured compositions outside the pool as good as the pool's top set (*held-out*: "
        "of them, in hidden systems); *best past pool*: best measured minus the pool's best "
        "(in the goal's direction); *climbed*: share of campaigns whose best beat the pool's "
        "best; *not measurable*: failed attempts.",
        "",
    ]
    for path in sorted(FOLDER.glob("*.json")):
        r = json.loads(path.read_text())
        task = r["task"]
        lines += [
            f"## {r['benchmark']}",
            "",
            f"{r['date']}, {r['machine']['cpus']} CPU cores, `{r['command']}`; "
            f"{task['data']}: {task['target']} ({task['goal']}), pool {r['pool_size']} "
            f"({r['n_best']} in its top {task['top']:.0%}), hold-out {task['hold_out']}, "
            f"initial {r['initial']}, budget {r['budget']}, batch {r['batch']}, "
            f"{len(r['seeds'])} seeds. ![curves]({path.stem}.png)",
            "",
            "| method | pool top found | beyond top | held-out | best past pool | climbed "
            "| generated measured | not measurable | s / campaign |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, m in r["acquisitions"].items():
            b = m["beyond_pool"]
            lines.append(
                f"| {name} | {m['found_at_budget']:.2f} | {b['beyond_top']:.1f} "
                f"| {b['held_out_top']:.1f} | {b['best_gain']:+.3g} "
                f"| {b['climbed_past_pool']:.0%} | {b['generated']:.1f} "
                f"| {b['unmeasurable']:.1f} | {m['seconds_per_campaign']:.0f} |"
            )
        lines.append("")
    atomic_write_text(RESULTS / "closed_loop.md", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=2000)
    parser.add_argument("--initial", type=int, default=20)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--top", type=float, default=0.05)
    parser.add_argument("--hold-out", type=float, default=0.15)
    parser.add_argument("--generate", type=int, default=20)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    for name in [] if args.table_only else args.tasks:
        run_task(name, args)
        build_table()
        print(f"{name}: done", flush=True)
    build_table()


if __name__ == "__main__":
    main()
