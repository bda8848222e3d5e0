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


def gain_views(gain: np.ndarray) -> dict[str, np.ndarray]:
    """Three readings of the ordered gains ``[s, t]``: as measured; symmetric (the mean of
    both directions, which is all a symmetric edge can hope to predict); and with the
    source's and the target's main effects removed (two-way residual: what is left for the
    pair itself once "this source helps everyone" and "this target gains from anyone" are
    taken out)."""
    off = ~np.eye(len(gain), dtype=bool)
    g = np.where(off, gain, np.nan)
    symmetric = (g + g.T) / 2
    residual = g.copy()
    for _ in range(20):  # alternating row/column centring of the off-diagonal entries
        residual -= np.nanmean(residual, axis=1, keepdims=True)
        residual -= np.nanmean(residual, axis=0, keepdims=True)
    return {"ordered": g, "symmetric": symmetric, "pair_residual": residual}


def main_effect_share(gain: np.ndarray) -> float:
    """Share of the ordered gains' variance that the source and target main effects explain."""
    g = gain_views(gain)
    total = np.nanvar(g["ordered"])
    return float(1 - np.nanvar(g["pair_residual"]) / total) if total > 0 else float("nan")


def payoff_table(measures: dict[str, np.ndarray], evidence, rng, draws: int = 1000) -> dict:
    """Per measure and per view of the gain (:func:`gain_views`): Spearman over the pairs,
    with a 90 % interval (bootstrap over the pairs, the gains redrawn from their intervals)."""
    se = (evidence.high - evidence.gain) / norm.ppf(0.95)
    noisy_gains = [
        evidence.gain + np.nan_to_num(se) * rng.standard_normal(se.shape) for _ in range(draws)
    ]
    views = gain_views(evidence.gain)
    redrawn = [gain_views(g) for g in noisy_gains]
    out = {}
    for name, x in measures.items():
        out[name] = {}
        for view, target in views.items():
            upper = np.triu(np.ones_like(x, dtype=bool), 1) if view == "symmetric" else True
            ok = upper & np.isfinite(x) & np.isfinite(target)
            xs = x[ok]
            samples = []
            for draw in redrawn:
                pick = rng.integers(0, len(xs), len(xs))
                samples.append(spearmanr(xs[pick], draw[view][ok][pick])[0])
            low, high = np.nanpercentile(samples, [5, 95])
            out[name][view] = {
                "spearman": float(spearmanr(xs, target[ok])[0]),
                "interval_90": [float(low), float(high)],
                "pairs": int(ok.sum()),
            }
    return out


def gain_summary(gain, low, high) -> dict:
    """How many ordered gains the runs resolve away from zero, their typical size against
    their interval's half-width, and the share of the main effects."""
    off = ~np.eye(len(gain), dtype=bool)
    return {
        "resolved_positive": int(((low > 0) & off).sum()),
        "resolved_negative": int(((high < 0) & off).sum()),
        "median_abs_gain": float(np.nanmedian(np.abs(gain[off]))),
        "median_half_width": float(np.nanmedian((high - low)[off] / 2)),
        "main_effect_share": main_effect_share(gain),
    }


VIEW_NAMES = {
    "ordered": "ordered gain",
    "symmetric": "both directions' mean",
    "pair_residual": "pair residual",
}


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
        "gain `1 - MAE(target with source) / MAE(target alone)` of every pair (mean over "
        "`runs` seeds), read three ways: the ordered gain; the mean of both directions (a "
        "symmetric edge can at best predict this); the pair residual, once the source's and "
        "the target's main effects are removed. 90 % intervals: bootstrap over the pairs "
        "with the gains redrawn from their own intervals. Command: `python "
        "bench/lattice_payoff.py --data NAME --runs 3 --jobs 2 --subsample 6000`.",
        "",
    ]
    for r in records:
        summary = r["gain_summary"]
        lines += [
            f"## {r['data']}: {len(r['tasks'])} properties ({r['subsample'] or 'all'} rows), "
            f"{r['runs']} runs per pair, {r['trainings']} trainings",
            "",
            f"Machine: {r['machine'].get('cpu_model', '?')} ({r['machine']['cpus']} CPUs); "
            f"{r['date']}; commit {r['git']['commit'][:7]}.",
            "",
            f"Gains resolved away from zero: {summary['resolved_positive']} positive, "
            f"{summary['resolved_negative']} negative of {len(r['tasks']) * (len(r['tasks']) - 1)}"
            f" ordered pairs; median |gain| {summary['median_abs_gain']:.3f} against a median "
            f"interval half-width of {summary['median_half_width']:.3f}; the source and target "
            f"main effects explain {summary['main_effect_share']:.0%} of the gains' variance.",
            "",
            "| measure | " + " | ".join(VIEW_NAMES.values()) + " |",
            "|---|" + "---|" * len(VIEW_NAMES),
        ]
        for name, views in r["payoff"].items():
            cells = [
                f"{v['spearman']:.2f} [{v['interval_90'][0]:.2f}, {v['interval_90'][1]:.2f}]"
                for v in (views[k] for k in VIEW_NAMES)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += [
            "",
            f"Pairs: {views['ordered']['pairs']} ordered, {views['symmetric']['pairs']} unordered.",
            "",
        ]
    reading = HERE / "results" / "lattice_payoff_reading.md"
    if reading.is_file():
        lines += [reading.read_text().strip(), ""]
    out = HERE / "results" / "lattice_payoff.md"
    out.write_text("\n".join(lines) + "\n")
    return out


class _Evidence:
    """The stored gains, as payoff_table reads them."""

    def __init__(self, record: dict):
        self.gain = np.array(record["gain"], dtype=float)
        self.low, self.high = (np.array(x, dtype=float) for x in record["gain_interval"])


def measure(args) -> dict:
    """Train: the lattice's measures and every pair's transfer gains, as a JSON record."""
    from provenance import provenance

    from matlattice.data import load_dataset
    from matlattice.entangle import entanglement_lattice
    from matlattice.entangle.pipeline import DEFAULT_MODEL, split_frame
    from matlattice.entangle.risk_gates import GATES
    from matlattice.entangle.transfer import transfer_gains
    from matlattice.jobs.compression import subsample_dataset

    ds = subsample_dataset(load_dataset(args.data), args.subsample, args.seed)
    result = entanglement_lattice(ds, transfer=False, seed=args.seed)
    _, train, val, tasks = split_frame(ds, None, 0.15, args.seed)
    params = {**DEFAULT_MODEL, "random_state": args.seed, "ensemble": 1, "num_threads": 1}
    evidence = transfer_gains(
        train, val, tasks, params, tolerance=GATES["negative_transfer_tol"],
        executor="local", n_jobs=args.jobs, seed=args.seed, min_runs=args.runs,
    )  # fmt: skip
    return {
        "data": args.data,
        "subsample": args.subsample,
        "runs": args.runs,
        "tasks": tasks,
        "trainings": evidence.trainings,
        "gain": evidence.gain.tolist(),
        "gain_interval": [evidence.low.tolist(), evidence.high.tolist()],
        "measures": {m: measure_matrix(result, m).tolist() for m in MEASURES},
        **provenance(),
    }


def main() -> None:
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
    record = measure(args)
    measures = {m: np.array(v, dtype=float) for m, v in record["measures"].items()}
    evidence = _Evidence(record)
    record["payoff"] = payoff_table(measures, evidence, np.random.default_rng(args.seed))
    record["gain_summary"] = gain_summary(evidence.gain, evidence.low, evidence.high)
    out = HERE / "results" / "lattice_payoff" / f"{args.data}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, allow_nan=True) + "\n")
    print(json.dumps(record["gain_summary"], indent=1))
    write_table()


if __name__ == "__main__":
    main()
