"""Which element table wins where? Every table ``elementembeddings`` ships, one encoder, one
budget, four CrabNet sets (issue 25, seeds 000 and 001: foundation-model and text-derived
element embeddings beside the classic ones).

For each (set, table): our attention encoder (``matlattice.jobs.fit.fit_run``, one member,
``--epochs`` epochs with early stopping on the official val part, the same seed) trained on
the set's official train part (cut to ``--train-rows`` for the large sets, the same rows for
every table) and scored on the official test part. Elements a table lacks get the column
mean (``models.networks.inputs.element_matrix``); how many test rows hold one is recorded.

A study is one budget (``--study``: ``element_tables`` and names that start with it): each
(set, table, seed) writes ``bench/results/<study>/<set>__<table>__seed<k>.json`` (kept, so a
killed run resumes; ``--force`` redoes), then ``bench/results/<study>.md`` is rebuilt: test
MAE per set and table (the mean over the seeds done, with the spread when there are
several), rank within the set, and the mean rank over sets.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/element_tables.py --epochs 60``
Seeds: ``... --study element_tables_seeds --tables cgnf mat2vec --seeds 0 1 2 --epochs 100``
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import time
from pathlib import Path

from provenance import provenance, recorded_machines

RESULTS = Path(__file__).parent / "results"
RUNS = Path(__file__).parent / ".runs" / "element_tables"
SETS = ("aflow__ael_shear_modulus_vrh", "mp_bulk_modulus", "aflow__Egap", "mp_e_hull")


def run_pair(name: str, table: str, seed: int, args: argparse.Namespace) -> dict:
    """One table on one set with one seed: the fit and its test MAE."""
    import torch
    from crabnet_table import subsample_file

    from matlattice.composition import parse_formulas
    from matlattice.data import load_dataset
    from matlattice.jobs.config import FitConfig
    from matlattice.jobs.fit import fit_run
    from matlattice.represent import load_element_table

    torch.set_num_threads(args.threads)
    ds = load_dataset(f"crabnet:{name}")
    task = ds.properties[0]
    train, note = ds.train, ""
    run = RUNS / f"{name}__{table}__seed{seed}"
    shutil.rmtree(run, ignore_errors=True)
    data = f"crabnet:{name}"
    if args.train_rows and len(train) > args.train_rows:
        train = train.sample(args.train_rows, random_state=0)  # the same rows for every table
        note = f"train cut to {args.train_rows} of {len(ds.train)} rows"
        data = subsample_file(run, train, ds.val, ds.test, task)
    lacks = ~load_element_table(table).available  # (103,) by atomic number - 1
    fractions = parse_formulas(ds.test["formula"].tolist()).fractions
    with_missing = int((fractions[:, lacks].sum(axis=1) > 0).sum()) if lacks.any() else 0
    config = FitConfig(data=data, model="attention", element_table=table, ensemble=1,
                       epochs=args.epochs, patience=args.patience, latent_dim=64,
                       batch_size=128, seed=seed, n_jobs=1)  # fmt: skip
    start = time.perf_counter()
    metrics = fit_run(config, run)
    return {"set": name, "table": table, "seed": seed, "task": task,
            "mae": metrics["tasks"][task]["mae"],
            "seconds": time.perf_counter() - start, "n_train": len(train), "note": note,
            "test_rows_with_missing_elements": with_missing,
            "epochs": args.epochs, "budget": _budget(args, seed), "config": config.to_dict(),
            **provenance()}  # fmt: skip


def _budget(args: argparse.Namespace, seed: int) -> dict:
    return {"epochs": args.epochs, "patience": args.patience, "train_rows": args.train_rows,
            "seed": seed}  # fmt: skip


def _check_same_budget(path: Path, args: argparse.Namespace, seed: int) -> None:
    """A kept pair counts only if it ran on this budget: one study, one budget."""
    kept = json.loads(path.read_text()).get("budget")
    if kept != _budget(args, seed):
        raise SystemExit(f"{path.name} ran with budget {kept}, not {_budget(args, seed)}: "
                         "rerun with the same settings, another --study, or --force to redo "
                         "every pair")  # fmt: skip


def _maes_by_pair(records: list[dict]) -> dict[tuple[str, str], list[float]]:
    """Test MAEs of each (set, table), one per seed done."""
    maes: dict[tuple[str, str], list[float]] = {}
    for r in records:
        maes.setdefault((r["set"], r["table"]), []).append(r["mae"])
    return maes


def _cell(maes: list[float], rank: int, seeds: int) -> str:
    """Mean MAE, ± half the range over seeds, rank; the seed count when fewer than the study's."""
    fewer = f", {len(maes)} of {seeds} seeds" if len(maes) < seeds else ""
    if len(maes) == 1:
        return f"{maes[0]:.4g} ({rank}{fewer})"
    spread = max(maes) - min(maes)
    return f"{sum(maes) / len(maes):.4g} ±{spread / 2:.2g} ({rank}{fewer})"


def write_table(args: argparse.Namespace) -> None:
    from matlattice.runtime.files import atomic_write_text

    per_pair = RESULTS / args.study
    records = [json.loads(p.read_text()) for p in sorted(per_pair.glob("*.json"))]
    maes = _maes_by_pair(records)
    mae = {key: sum(v) / len(v) for key, v in maes.items()}
    ran = {r["set"] for r in records}  # every set of the study, not only this call's --sets
    sets = [s for s in dict.fromkeys([*SETS, *sorted(ran)]) if s in ran]
    tables = sorted({r["table"] for r in records})
    rank = {}
    for s in sets:
        ordered = sorted((mae[(s, t)], t) for t in tables if (s, t) in mae)
        rank.update({(s, t): i for i, (_, t) in enumerate(ordered, 1)})
    mean_rank = {t: sum(rank[(s, t)] for s in sets if (s, t) in rank)
                 / max(1, sum((s, t) in rank for s in sets)) for t in tables}  # fmt: skip
    seeds = sorted({r["budget"]["seed"] for r in records})
    budget = {k: v for k, v in records[0]["budget"].items() if k != "seed"}
    lines = [f"# Element tables ({args.study}): one encoder, one budget", "",
             f"Machine: {recorded_machines(records)}, CPU. Per pair and seed: "
             f"`bench/results/{args.study}/<set>__<table>__seed<k>.json` (command, config, "
             "seconds). Test MAE on the official test part: the mean over seeds, ± half the "
             "range when there are several (rank of the mean within the set).",
             f"Budget of every pair: {budget}, seeds {seeds}, one member, latent 64, batch 128.",
             f"Runs done: {len(records)}; a table's mean rank is over the sets it has run on "
             "so far.", "",
             "| table | " + " | ".join(sets) + " | mean rank |",
             "|---|" + "---|" * (len(sets) + 1)]  # fmt: skip
    for t in sorted(tables, key=mean_rank.get):
        cells = [_cell(maes[(s, t)], rank[(s, t)], len(seeds)) if (s, t) in maes else "-"
                 for s in sets]  # fmt: skip
        lines.append(f"| {t} | " + " | ".join(cells) + f" | {mean_rank[t]:.1f} |")
    lacking = sorted({f"{r['table']} on {r['set']}: {r['test_rows_with_missing_elements']}"
                      for r in records if r["test_rows_with_missing_elements"]})  # fmt: skip
    lines += ["", "Test rows holding an element the table lacks (given the column mean): "
              + ("; ".join(lacking) or "none") + "."]  # fmt: skip
    atomic_write_text(RESULTS / f"{args.study}.md", "\n".join([*lines, ""]))


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, by name, a study outside ``bench/results`` or another bench's folder, and
    sets, tables or seeds that cannot run (exit 2, no traceback)."""
    from matlattice.data.registry import list_datasets
    from matlattice.represent import ELEMENT_TABLES

    if not re.fullmatch(r"element_tables[a-z0-9_]*", args.study):
        parser.error(f"--study {args.study!r}: expected element_tables followed by letters, "
                     "digits or _ (a folder of bench/results this script owns)")  # fmt: skip
    known = {name.removeprefix("crabnet:") for name in list_datasets("crabnet")}
    unknown = [s for s in args.sets if s not in known] + [
        t for t in args.tables if t not in ELEMENT_TABLES
    ]
    if unknown or not args.sets or not args.tables:
        parser.error(f"--sets {args.sets} --tables {args.tables}: unknown {unknown or 'none'}; "
                     "expected CrabNet set names and elementembeddings tables, at least one "
                     "of each")  # fmt: skip
    if min(args.seeds) < 0 or len(set(args.seeds)) < len(args.seeds):
        parser.error(f"--seeds {args.seeds}: expected distinct seeds >= 0")


def main() -> None:
    from matlattice.represent import ELEMENT_TABLES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--study",
        default="element_tables",
        help="one budget per study: bench/results/<study>/ and <study>.md",
    )
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--tables", nargs="*", default=list(ELEMENT_TABLES))
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--train-rows", type=int, default=10000, help="0: the full train part")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    _check_arguments(parser, args)
    from matlattice.runtime.files import atomic_write_json

    per_pair = RESULTS / args.study
    per_pair.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:  # seeds outermost: a stopped run leaves whole seeds behind
        for name in args.sets:
            for table in args.tables:
                path = per_pair / f"{name}__{table}__seed{seed}.json"
                if path.is_file() and not args.force:
                    _check_same_budget(path, args, seed)
                    continue
                record = run_pair(name, table, seed, args)
                atomic_write_json(path, record)
                print(f"{name} {table} seed {seed}: MAE {record['mae']:.4g} "
                      f"({record['seconds']:.0f} s)", flush=True)  # fmt: skip
                write_table(args)
    write_table(args)


if __name__ == "__main__":
    main()
