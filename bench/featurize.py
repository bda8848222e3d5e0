"""Magpie featurisation benchmark: matlattice's ElementStatsFeaturizer vs matminer, same formulas.

Run from the repository root with matlattice's venv::

    .venv/bin/python bench/featurize.py

The matminer side runs in its own venv (``bash bench/peers/setup_matminer.sh`` creates it), as a
subprocess in the same run on the same formulas. Both sides run single-threaded
(``OMP/OPENBLAS/MKL_NUM_THREADS=1``) and pinned to the same one CPU; both timings include
parsing the formula strings. The first ``--compare`` formulas are compared feature by feature.
Writes ``bench/results/featurize.json`` and ``bench/results/featurize.md``.

Formulas: the deduplicated union of five real bundled datasets (``SOURCES``), sorted, permuted
with ``numpy.random.default_rng(seed)``, keeping in that order the first ``n`` formulas that
matlattice's parser and pymatgen's ``Composition`` both accept and whose elements both Magpie
tables have (elementembeddings' magpie.csv stops at Bk, Z = 97).
"""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _var in THREAD_VARS:  # before numpy/scipy are imported, and inherited by the peer process
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from provenance import REPO, provenance  # noqa: E402

from matlattice.runtime.files import atomic_write_text  # noqa: E402

PEER_VENV = REPO / "bench" / ".peers" / "matminer"
PEER_PYTHON = PEER_VENV / "bin" / "python"
PEER_SCRIPT = REPO / "bench" / "peers" / "matminer_featurize.py"
SETUP_HINT = "bash bench/peers/setup_matminer.sh"
RESULTS = REPO / "bench" / "results"
SOURCES = ("mp", "oqmd", "aflow", "matbench_expt_gap", "matbench_steels")
#: matminer's stat names -> ours (``ElementStatsFeaturizer`` names).
STAT_NAMES = {
    "minimum": "min",
    "maximum": "max",
    "range": "range",
    "mean": "mean",
    "avg_dev": "avg_dev",
    "mode": "mode",
}
REL_TOL = 1e-6  # a value differs when |a - b| > REL_TOL * max(|a|, |b|) + ABS_FLOOR
ABS_FLOOR = 1e-9  # rounding noise around 0 (e.g. avg_dev of one-element formulas)
EXPLICIT_ONE = re.compile(r"[A-Z][a-z]?1(?![0-9.])")


# --------------------------------------------------------------------------- peer venv


def require_peer() -> Path:
    """The peer venv's python; exits non-zero with setup instructions if it is not usable."""
    problem = None
    if not PEER_PYTHON.exists():
        problem = f"the matminer peer venv is missing ({PEER_VENV.relative_to(REPO)})"
    else:
        probe = subprocess.run(
            [str(PEER_PYTHON), "-c", "import matminer.featurizers.composition"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            problem = f"the matminer peer venv is broken: {probe.stderr.strip()[-300:]}"
    if problem:
        print(
            f"error: {problem}\ncreate it with:\n    {SETUP_HINT}\nthen rerun this benchmark.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return PEER_PYTHON


def run_peer(args: list[str]) -> None:
    """Run the peer featurisation script with ``args`` (raises if it fails)."""
    command = [str(require_peer()), str(PEER_SCRIPT), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"matminer peer failed ({done.returncode}):\n{done.stderr[-3000:]}")


def matminer_table(workdir: Path) -> dict[str, dict[str, list[float | None]]]:
    """Matminer's Magpie element values ``{property: {symbol: [imputed, raw]}}``."""
    path = workdir / "matminer_table.json"
    run_peer(["--table", str(path)])
    return json.loads(path.read_text())


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class Pool:
    """Candidate formulas (sorted, unique) and the sources each one occurs in."""

    formulas: list[str]
    sources: dict[str, tuple[str, ...]]


def load_pool(allowed_symbols: set[str]) -> Pool:
    """Unique formulas of ``SOURCES`` that our parser accepts, with elements in both tables."""
    from matlattice.composition import SYMBOLS, parse_formulas
    from matlattice.data import load_dataset

    where: dict[str, list[str]] = {}
    for name in SOURCES:
        for formula in load_dataset(name).frame["formula"].astype(str).unique():
            where.setdefault(formula, []).append(name)
    formulas = sorted(where)
    batch = parse_formulas(formulas, errors="report")
    fractions = batch.fractions.tocsr()
    allowed = np.array([s in allowed_symbols for s in SYMBOLS])
    bad_element = np.asarray(fractions[:, np.flatnonzero(~allowed)].sum(axis=1)).ravel() > 0
    keep = batch.valid & ~bad_element
    kept = [f for f, ok in zip(formulas, keep, strict=True) if ok]
    return Pool(formulas=kept, sources={f: tuple(where[f]) for f in kept})


def draw(pool: Pool, n: int, seed: int, allowed_symbols: set[str]) -> list[str]:
    """``n`` formulas in the order of a seeded permutation of the pool that pymatgen accepts."""
    from pymatgen.core import Composition

    chosen: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index in np.random.default_rng(seed).permutation(len(pool.formulas)):
            formula = pool.formulas[index]
            try:
                symbols = {el.symbol for el in Composition(formula).element_composition}
            except Exception:  # pymatgen rejects it: matminer could not featurise it
                continue
            if symbols <= allowed_symbols:
                chosen.append(formula)
                if len(chosen) == n:
                    return chosen
    raise ValueError(f"only {len(chosen)} usable formulas, asked for {n}")


def allowed_elements(table: dict[str, dict[str, list[float | None]]]) -> set[str]:
    """Symbols both Magpie tables have: ours (any value) and matminer's (any raw value)."""
    from matlattice.composition import SYMBOLS
    from matlattice.represent import load_element_table

    ours = {s for s, ok in zip(SYMBOLS, load_element_table("magpie").available, strict=True) if ok}
    theirs = {s for s in SYMBOLS if any(v[s][1] is not None for v in table.values())}
    return ours & theirs


def describe_sample(formulas: list[str], pool: Pool) -> dict[str, Any]:
    """Where the sampled formulas come from and which formula syntax they exercise."""
    return {
        "from_source": {s: sum(s in pool.sources[f] for f in formulas) for s in SOURCES},
        "with_parentheses": sum("(" in f for f in formulas),
        "with_decimals": sum("." in f for f in formulas),
        "with_explicit_1": sum(bool(EXPLICIT_ONE.search(f)) for f in formulas),
        "max_elements": max(len(re.findall(r"[A-Z]", f)) for f in formulas),
        "pool_size": len(pool.formulas),
    }


# --------------------------------------------------------------------------- timing


def time_ours(formulas: list[str], repeats: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Best/median wall time of ``ElementStatsFeaturizer("magpie").fit().transform``."""
    t0 = time.perf_counter()
    from matlattice.represent import ElementStatsFeaturizer

    ElementStatsFeaturizer("magpie").fit().transform(formulas[:10])  # imports, table cache
    warmup_s = time.perf_counter() - t0  # 10 formulas; the table may already be cached
    times = []
    features = np.empty(0)
    for _ in range(repeats):
        t = time.perf_counter()
        features = ElementStatsFeaturizer("magpie").fit().transform(formulas)
        times.append(time.perf_counter() - t)
    best, median = min(times), statistics.median(times)
    return features, {
        "times_s": times,
        "best_s": best,
        "median_s": median,
        "repeats": repeats,
        "formulas_per_s_best": len(formulas) / best,
        "formulas_per_s_median": len(formulas) / median,
        "warmup_s": warmup_s,
    }


def time_matminer(formulas: list[str], repeats: int, workdir: Path) -> tuple[np.ndarray, dict]:
    """Run the peer script on ``formulas``; its features and timing JSON."""
    src, feats, timing = (workdir / n for n in ("formulas.json", "mm.npy", "mm_timing.json"))
    src.write_text(json.dumps(formulas))
    t = time.perf_counter()
    run_peer(
        [
            "--formulas",
            str(src),
            "--features",
            str(feats),
            "--timing",
            str(timing),
            "--repeats",
            str(repeats),
        ]
    )
    result = json.loads(timing.read_text())
    result["subprocess_wall_s"] = time.perf_counter() - t
    return np.load(feats), result


# --------------------------------------------------------------------------- accuracy


def compare(ours: np.ndarray, theirs: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Per feature: max abs/rel difference, NaN mismatches and rows beyond tolerance."""
    rows = []
    for j, name in enumerate(names):
        a, b = ours[:, j], theirs[:, j]
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        both = ~nan_a & ~nan_b
        diff = np.abs(a - b)
        scale = np.maximum(np.abs(a), np.abs(b))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=(scale > 0) & both)
        rel[diff <= ABS_FLOOR] = 0.0
        off = both & (diff > REL_TOL * scale + ABS_FLOOR)
        rows.append(
            {
                "feature": name,
                "max_abs_diff": float(diff[both].max(initial=0.0)),
                "max_rel_diff": float(rel[both].max(initial=0.0)),
                "n_differing": int(off.sum()),
                "n_nan_ours": int(nan_a.sum()),
                "n_nan_matminer": int(nan_b.sum()),
                "n_nan_mismatch": int((nan_a != nan_b).sum()),
                "_rows": np.flatnonzero(off | (nan_a != nan_b)),
            }
        )
    return rows


def table_differences(table: dict[str, dict[str, list[float | None]]]) -> dict[str, dict]:
    """Elements whose Magpie value differs between the two tables, with the likely cause."""
    from matlattice.composition import SYMBOLS
    from matlattice.represent import load_element_table

    ours = load_element_table("magpie")
    out: dict[str, dict] = {}
    for j, prop in enumerate(ours.labels):
        raw = np.array([np.nan if v[1] is None else v[1] for v in table[prop].values()])
        table_mean = float(np.nanmean(raw))  # matminer's imputation: over all rows it has
        median_97 = float(np.nanmedian(raw[:97]))  # Z = 1..97: the elements magpie.csv has
        for z, symbol in enumerate(SYMBOLS):
            mine = ours.values[z, j]
            imputed, original = table[prop][symbol]
            if np.isnan(mine) or imputed is None or np.isclose(mine, imputed, rtol=1e-12):
                continue
            if original is None:
                theirs = (
                    "the mean of its table"
                    if np.isclose(imputed, table_mean, rtol=1e-9)
                    else "a value"
                )
                ee = "the median over H-Bk" if np.isclose(mine, median_97, rtol=1e-9) else "a value"
                cause = (
                    f"'Missing' in matminer's {prop}.table: matminer imputes {theirs} "
                    f"({imputed:.6g}), elementembeddings' magpie.csv has {ee} "
                    f"({mine:.6g})"
                )
            else:
                cause = (
                    f"matminer's {prop}.table has {original:.6g}, "
                    f"elementembeddings' magpie.csv {mine:.6g}"
                )
            out.setdefault(prop, {})[symbol] = {
                "ours": float(mine),
                "matminer": imputed,
                "matminer_raw": original,
                "cause": cause,
            }
    return out


def split_name(name: str) -> tuple[str, str]:
    """``"magpie_avg_dev_GSvolume_pa"`` -> ``("avg_dev", "GSvolume_pa")``."""
    rest = name.removeprefix("magpie_")
    stat = next(
        s for s in sorted(STAT_NAMES.values(), key=len, reverse=True) if rest.startswith(f"{s}_")
    )
    return stat, rest[len(stat) + 1 :]


def mode_tie(formula: str, weights: np.ndarray, symbols: list[str]) -> str | None:
    """Why ``mode`` can differ for a formula: ``None``, ``"rounding"`` or ``"near"``.

    ``"rounding"``: pymatgen's amounts of the top elements are exactly equal but our
    fractions are not (off by rounding), so ours picks one instead of the smallest value.
    ``"near"``: the top amounts differ but lie within ``np.isclose``, which matminer treats
    as a tie.
    """
    from pymatgen.core import Composition

    top = np.sort(weights)[::-1]
    if top.size < 2 or top[0] == top[1] or not np.isclose(top[1], top[0]):
        return None
    amounts = {el.symbol: a for el, a in Composition(formula).element_composition.items()}
    order = np.argsort(weights)[::-1]
    first, second = amounts[symbols[order[0]]], amounts[symbols[order[1]]]
    return "rounding" if first == second else "near"


def explain(row: dict[str, Any], formulas: list[str], tables: dict[str, dict]) -> str:
    """Reason for a differing feature, checked against the formulas that differ."""
    from matlattice.composition import SYMBOLS, parse_formulas

    stat, prop = split_name(row["feature"])
    bad = [formulas[i] for i in row["_rows"]]
    if row["n_nan_mismatch"]:
        return f"NaN on one side only in {row['n_nan_mismatch']} formulas"
    fractions = parse_formulas(bad).fractions.tocsr()
    culprits: set[str] = set()
    ties: dict[str, list[str]] = {"rounding": [], "near": []}
    unexplained = []
    for i, formula in enumerate(bad):
        start, stop = fractions.indptr[i], fractions.indptr[i + 1]
        symbols = [SYMBOLS[z] for z in fractions.indices[start:stop]]
        hit = set(symbols) & set(tables.get(prop, {}))
        tie = mode_tie(formula, fractions.data[start:stop], symbols) if stat == "mode" else None
        if hit:
            culprits |= hit
        elif tie:
            ties[tie].append(formula)
        else:
            unexplained.append(formula)
    by_cause: dict[str, list[str]] = {}
    for symbol in sorted(culprits):
        by_cause.setdefault(tables[prop][symbol]["cause"], []).append(symbol)
    reasons = [f"{', '.join(symbols)}: {cause}" for cause, symbols in by_cause.items()]
    if ties["rounding"]:
        reasons.append(
            f"mode tie broken by rounding ({len(ties['rounding'])} formulas, e.g. "
            f"{ties['rounding'][0]}): the top elements have exactly equal amounts, but "
            "matlattice's parsed fractions differ in the last bit, so ours takes one of them "
            "instead of the smallest value (matminer: np.isclose on the amounts, then min)"
        )
    if ties["near"]:
        reasons.append(
            f"mode near-tie ({len(ties['near'])} formulas, e.g. {ties['near'][0]}): matminer "
            "counts amounts within np.isclose (rtol 1e-5) of the largest as tied and takes "
            "the smallest value; ours needs exact equality"
        )
    if unexplained:
        reasons.append(f"unexplained for {len(unexplained)} formulas, e.g. {unexplained[:3]}")
    return "; ".join(reasons)


def accuracy(
    ours: np.ndarray,
    theirs: np.ndarray,
    names: list[str],
    formulas: list[str],
    tables: dict[str, dict],
) -> dict[str, Any]:
    """Summary and differing-feature list for one comparison."""
    rows = compare(ours, theirs, names)
    differing = []
    for row in rows:
        if row["n_differing"] or row["n_nan_mismatch"]:
            example = formulas[int(row["_rows"][0])]
            differing.append(
                {
                    **{k: v for k, v in row.items() if k != "_rows"},
                    "example_formula": example,
                    "reason": explain(row, formulas, tables),
                }
            )
    return {
        "n_formulas": len(formulas),
        "criterion": f"|a-b| > {REL_TOL:g}*max(|a|,|b|) + {ABS_FLOOR:g}",
        "max_abs_diff": max(r["max_abs_diff"] for r in rows),
        "max_rel_diff": max(r["max_rel_diff"] for r in rows),
        "n_features_differing": len(differing),
        "n_formulas_differing": len(set().union(*[set(r["_rows"]) for r in rows])),
        "nan_ours": int(np.isnan(ours).sum()),
        "nan_matminer": int(np.isnan(theirs).sum()),
        "differing_features": differing,
        "per_feature": [{k: v for k, v in r.items() if k != "_rows"} for r in rows],
    }


# --------------------------------------------------------------------------- reporting


def markdown(result: dict[str, Any]) -> str:
    """Short human-readable summary of ``result``."""
    m, ours, mm = result["machine"], result["ours"], result["matminer"]
    acc, full = result["accuracy"], result["accuracy_all"]
    lines = [
        "# Magpie featurisation: matlattice vs matminer",
        "",
        "| | |",
        "| --- | --- |",
        f"| machine | {m['cpu_model']}, nproc {m['cpus']}, pinned to CPU {result['cpu']}, "
        f"1 thread |",
        f"| platform | `{m['platform']}` |",
        f"| date | {result['date']} |",
        f"| command | `{result['command']}` |",
        f"| formulas | {result['n_formulas']:,} (seed {result['seed']}; "
        f"{', '.join(f'{k} {v}' for k, v in result['sample']['from_source'].items())}) |",
        f"| matlattice {result['versions']['ours']['matlattice']} | "
        f"**{ours['formulas_per_s_best']:,.0f} formulas/s** best of {ours['repeats']} "
        f"({ours['best_s']:.3f} s; median {ours['formulas_per_s_median']:,.0f}/s), "
        "parsing included |",
        f"| matminer {mm['versions']['matminer']} | **{mm['formulas_per_s_best']:,.0f} "
        f"formulas/s** best of {mm['repeats']} ({mm['best_s']:.2f} s, of which pymatgen "
        f"Composition parsing {min(mm['parse_s']):.2f} s), n_jobs=1 |",
        f"| ratio | **{result['speedup_best']:,.0f}x** (best vs best; median vs median "
        f"{result['speedup_median']:,.0f}x) |",
        f"| accuracy, first {acc['n_formulas']:,} | max abs diff {acc['max_abs_diff']:.3g}, "
        f"max rel diff {acc['max_rel_diff']:.3g}; {acc['n_features_differing']} of 132 "
        f"features and {acc['n_formulas_differing']} formulas differ "
        f"({acc['criterion']}) |",
        f"| accuracy, all {full['n_formulas']:,} | max abs diff {full['max_abs_diff']:.3g}, "
        f"max rel diff {full['max_rel_diff']:.3g}; {full['n_features_differing']} features, "
        f"{full['n_formulas_differing']} formulas differ |",
        f"| NaN | ours {full['nan_ours']}, matminer {full['nan_matminer']} (all formulas) |",
        "",
    ]
    for title, block in (
        (f"first {acc['n_formulas']:,} formulas", acc),
        (f"all {full['n_formulas']:,} formulas", full),
    ):
        lines += [f"## Differing features, {title}", ""]
        if not block["differing_features"]:
            lines += ["None.", ""]
            continue
        reasons: dict[str, int] = {}
        for d in block["differing_features"]:
            reasons.setdefault(d["reason"], len(reasons) + 1)
        lines += [
            "| feature | formulas | max abs | max rel | example | reason |",
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        lines += [
            f"| {d['feature']} | {d['n_differing']} | {d['max_abs_diff']:.4g} | "
            f"{d['max_rel_diff']:.3g} | `{d['example_formula']}` | "
            f"[{reasons[d['reason']]}] |"
            for d in block["differing_features"]
        ]
        lines += ["", *[f"[{i}] {text}" for text, i in reasons.items()], ""]
    if result["table_differences"]:
        lines += [
            "## Element values that differ between the two Magpie tables",
            "",
            "Where a matminer `.table` file says 'Missing', matminer imputes the mean of "
            "that table and elementembeddings' magpie.csv (our source) has another "
            "filled-in value (the median over H-Bk where noted). Formulas in the sample "
            f"with any of these elements: {result['sample']['with_table_diff_elements']} "
            f"of {result['n_formulas']:,}.",
            "",
        ]
        lines += [
            f"- {prop} {sym}: matminer {v['matminer']:.6g}, ours {v['ours']:.6g} "
            f"({v['cause'].split(': ', 1)[1]})"
            for prop, per in result["table_differences"].items()
            for sym, v in per.items()
        ]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="formulas (default 20000)")
    parser.add_argument("--compare", type=int, default=1_000, help="formulas compared")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats, ours")
    parser.add_argument("--matminer-repeats", type=int, default=1, help="timed repeats, peer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cpu",
        type=int,
        default=min(os.sched_getaffinity(0)),
        help="the one CPU both sides are pinned to",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)

    require_peer()
    os.sched_setaffinity(0, {args.cpu})  # inherited by the matminer subprocess
    with tempfile.TemporaryDirectory(prefix="featurize-bench-") as tmp:
        workdir = Path(tmp)
        table = matminer_table(workdir)
        allowed = allowed_elements(table)
        pool = load_pool(allowed)
        formulas = draw(pool, args.n, args.seed, allowed)
        print(f"{len(formulas)} formulas from a pool of {len(pool.formulas)}", file=sys.stderr)

        from matlattice.represent import ElementStatsFeaturizer

        ours_x, ours = time_ours(formulas, args.repeats)
        print(f"matlattice: {ours['formulas_per_s_best']:,.0f} formulas/s", file=sys.stderr)
        mm_x, mm = time_matminer(formulas, args.matminer_repeats, workdir)
        print(f"matminer:   {mm['formulas_per_s_best']:,.0f} formulas/s", file=sys.stderr)

    names = list(ElementStatsFeaturizer("magpie").fit().get_feature_names_out())
    expected = [
        f"magpie_{STAT_NAMES[label.split()[1]]}_{label.split()[2]}"
        for label in mm["feature_labels"]
    ]
    if expected != names:
        raise RuntimeError("feature order differs from matminer's; cannot compare columns")
    tables = table_differences(table)
    k = min(args.compare, len(formulas))
    sample = describe_sample(formulas, pool)
    odd = {sym for per in tables.values() for sym in per}
    sample["with_table_diff_elements"] = sum(
        bool(odd & set(re.findall(r"[A-Z][a-z]?", f))) for f in formulas
    )
    stamp = provenance(
        packages=("matlattice", "numpy", "scipy", "pandas", "elementembeddings", "pymatgen")
    )
    result: dict[str, Any] = {
        "benchmark": "magpie featurisation (132 features), matlattice vs matminer",
        **stamp,
        "cpu": args.cpu,
        "versions": {
            "ours": {"python": stamp["machine"]["python"], **stamp["versions"]},
            "matminer_side": {"python": mm["python"], **mm["versions"]},
        },
        "n_formulas": len(formulas),
        "seed": args.seed,
        "sources": list(SOURCES),
        "sample": sample,
        "ours": ours,
        "matminer": {k_: v for k_, v in mm.items() if k_ != "feature_labels"},
        "speedup_best": ours["formulas_per_s_best"] / mm["formulas_per_s_best"],
        "speedup_median": ours["formulas_per_s_median"] / mm["formulas_per_s_median"],
        "accuracy": accuracy(ours_x[:k], mm_x[:k], names, formulas[:k], tables),
        "accuracy_all": accuracy(ours_x, mm_x, names, formulas, tables),
        "table_differences": tables,
    }
    result["accuracy_all"].pop("per_feature")
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "featurize.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(args.out / "featurize.md", markdown(result))
    print(
        f"ratio {result['speedup_best']:,.1f}x; wrote {args.out / 'featurize.json'} and "
        f"{args.out / 'featurize.md'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
