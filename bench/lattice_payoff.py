"""Do the lattice's edges predict the payoff of learning two properties together?

Seed 002 calls the edge weight a metric of multi-task viability. On real data (aflow, mp)
this measures every ordered pair's transfer gain with an interval (``--runs`` seeds for every
pair, plus the validation rows' bootstrap) and the lattice's measures from one multi-task
fit without the transfer trainings (so the combined weight holds no transfer term and the
comparison is not circular), then reports per measure the Spearman correlation with the
gains, with a bootstrap interval over the pairs (the gains redrawn from their intervals in
each draw).

    python bench/lattice_payoff.py --data aflow --runs 3 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm, spearmanr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MEASURES = (
    "weight",
    "label_dependence",
    "gradient_cosine",
    "affinity",
    "representation_alignment",
    "head_cka",
    "data_coupling",
    "error_correlation",
)


def measure_matrix(result, name: str) -> np.ndarray:
    m = result.measures
    if name == "weight":
        return result.lattice.weight
    values = getattr(m, name)
    return np.abs(values) if name == "data_coupling" else values


def payoff_table(result, evidence, rng, draws: int = 1000) -> dict:
    """Per measure: Spearman with the gains over the ordered pairs, and its 90 % interval."""
    n = len(result.lattice.tasks)
    off = ~np.eye(n, dtype=bool)
    se = (evidence.high - evidence.gain) / norm.ppf(0.95)
    out = {}
    for name in MEASURES:
        x = measure_matrix(result, name)
        ok = off & np.isfinite(x) & np.isfinite(evidence.gain)
        xs, gs, ses = x[ok], evidence.gain[ok], np.nan_to_num(se[ok])
        point = float(spearmanr(xs, gs)[0])
        samples = []
        for _ in range(draws):
            pick = rng.integers(0, len(xs), len(xs))
            noisy = gs[pick] + ses[pick] * rng.standard_normal(len(xs))
            samples.append(spearmanr(xs[pick], noisy)[0])
        low, high = np.nanpercentile(samples, [5, 95])
        out[name] = {
            "spearman": point,
            "interval_90": [float(low), float(high)],
            "pairs": int(ok.sum()),
        }
    return out


def write_table() -> Path:
    """``results/lattice_payoff.md`` from every dataset's JSON record."""
    records = [
        json.loads(p.read_text())
        for p in sorted((HERE / "results" / "lattice_payoff").glob("*.json"))
    ]
    lines = [
        "# Do the lattice's edges predict the payoff of learning two properties together?",
        "",
        "Spearman correlation between each measure (from one multi-task fit without the "
        "pairwise trainings, so the weight holds no transfer term) and the measured transfer "
        "gain of every ordered pair (mean over `runs` seeds; 90 % interval: bootstrap over "
        "the pairs with the gains redrawn from their own intervals). Command: "
        "`python bench/lattice_payoff.py --data NAME --runs 3 --jobs 2`.",
        "",
    ]
    for r in records:
        lines += [
            f"## {r['data']}: {len(r['tasks'])} properties, {r['runs']} runs per pair, "
            f"{r['trainings']} trainings",
            "",
            f"Machine: {r['machine'].get('cpu_model', '?')} ({r['machine']['cpus']} CPUs); "
            f"{r['date']}; commit {r['git']['commit'][:7]}.",
            "",
            "| measure | Spearman with the gain | 90 % interval | ordered pairs |",
            "|---|---|---|---|",
        ]
        for name, row in r["payoff"].items():
            low, high = row["interval_90"]
            lines.append(
                f"| {name} | {row['spearman']:.2f} | [{low:.2f}, {high:.2f}] | {row['pairs']} |"
            )
        lines.append("")
    out = HERE / "results" / "lattice_payoff.md"
    out.write_text("\n".join(lines) + "\n")
    return out


def main() -> None:
    from provenance import provenance

    from matlattice.data import load_dataset
    from matlattice.entangle import entanglement_lattice
    from matlattice.entangle.pipeline import DEFAULT_MODEL, split_frame
    from matlattice.entangle.risk_gates import GATES
    from matlattice.entangle.transfer import transfer_gains
    from matlattice.jobs.compression import subsample_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="aflow")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--subsample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table-only", action="store_true", help="rewrite the table, run nothing")
    args = parser.parse_args()
    if args.table_only:
        print(write_table())
        return
    ds = subsample_dataset(load_dataset(args.data), args.subsample, args.seed)
    result = entanglement_lattice(ds, transfer=False, seed=args.seed)
    _, train, val, tasks = split_frame(ds, None, 0.15, args.seed)
    params = {**DEFAULT_MODEL, "random_state": args.seed, "ensemble": 1, "num_threads": 1}
    evidence = transfer_gains(
        train, val, tasks, params, tolerance=GATES["negative_transfer_tol"],
        executor="local", n_jobs=args.jobs, seed=args.seed, min_runs=args.runs,
    )  # fmt: skip
    table = payoff_table(result, evidence, np.random.default_rng(args.seed))
    record = {
        "data": args.data,
        "subsample": args.subsample,
        "runs": args.runs,
        "tasks": tasks,
        "trainings": evidence.trainings,
        "gain": evidence.gain.tolist(),
        "gain_interval": [evidence.low.tolist(), evidence.high.tolist()],
        "payoff": table,
        **provenance(),
    }
    out = HERE / "results" / "lattice_payoff" / f"{args.data}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, allow_nan=True) + "\n")
    print(json.dumps(table, indent=1))
    write_table()


if __name__ == "__main__":
    main()
