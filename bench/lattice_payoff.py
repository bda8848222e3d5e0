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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
