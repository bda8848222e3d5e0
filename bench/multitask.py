"""Multi-task vs single-task test MAE per property, with lattice-grouped models.

For each dataset, in one run and with the same encoder settings and the dataset's own
composition-level train/val/test split, through ``matlattice.jobs.fit.fit_run``:

- ``single``: one model per property (the baseline);
- ``joint``: one hard-sharing model on all properties;
- ``grouped``: ``--tasks auto``, one model per group the entanglement lattice (measured on
  the training part only) recommends;
- optional variants: ``grouped_transfer`` (the lattice with its pairwise transfer
  trainings, so the negative-transfer gate can cut edges before grouping), and of the joint
  model task weighting (``uncertainty``, ``gradnorm``, ``pcgrad``) and soft sharing
  (``soft``: per-task adapters), and with per-task early stopping (``*_per_task``: each
  property keeps the weights of its own best validation epoch); ``fine_tuned``
  (``matlattice fit --fine-tune``): one shared model pretrained on all properties, one model
  per property fine-tuned from its encoder, and per property the fine-tuned or the
  single-task model, whichever has the lower validation MAE; ``helpers`` (``matlattice fit
  --helpers``): the lattice of the training part with its pairwise transfer trainings, then
  per property one model learned beside the property whose directed transfer gain into it is
  largest (at least 1 %), its own head kept, or the single-task model, whichever has the
  lower validation MAE; ``borrowed`` (``matlattice fit --borrow``): the same per property,
  beside the properties of another dataset (``--borrow``, default ``BORROW_FROM``) whose
  labels are coupled to its own, merged per composition and never scored.

The goal checked (issue 6): grouped multi-task beats single-task on >= 70 % of the properties
and never loses more than 2 % on any property.

Writes ``bench/results/multitask/<dataset>.json`` and ``bench/results/multitask.md``.
Run folders (models, lattice of the grouping) go to ``bench/.runs/multitask/``.

Run: ``.venv/bin/python bench/multitask.py --datasets aflow mp --seeds 0``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from guard_migration import predates_guards, rescore
from provenance import provenance

from matlattice.data import load_dataset
from matlattice.jobs.config import FitConfig
from matlattice.jobs.fit import fit_run
from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"
FOLDER = RESULTS / "multitask"
RUNS = Path(__file__).parent / ".runs" / "multitask"
VARIANTS = {
    "grouped_transfer": {"tasks": ("auto",), "auto_transfer": True},
    "uncertainty": {"task_weighting": "uncertainty"},
    "gradnorm": {"task_weighting": "gradnorm"},
    "pcgrad": {"task_weighting": "pcgrad"},
    "soft": {"adapter_dim": 8},
    "per_task": {"early_stopping": "per_task"},
    "uncertainty_per_task": {"task_weighting": "uncertainty", "early_stopping": "per_task"},
    "grouped_transfer_per_task": {
        "tasks": ("auto",),
        "auto_transfer": True,
        "early_stopping": "per_task",
    },
    "fine_tuned": {"fine_tune": True},
    "helpers": {"helpers": True},
    "gated": {"gate": True},
    "grouped_gated": {"tasks": ("auto",), "gate": True},
    "borrowed": {},  # the borrow specs: --borrow, else BORROW_FROM[dataset]
}
#: The other datasets a dataset borrows from in the ``borrowed`` variant by default.
BORROW_FROM = {"mp": ("aflow",), "aflow": ("mp",)}
GOAL_SHARE, GOAL_WORST = 0.70, -0.02


def _config(args: argparse.Namespace, data: str, seed: int, **extra) -> FitConfig:
    return FitConfig(
        data=data,
        model=args.model,
        clean=True,
        seed=seed,
        latent_dim=args.latent_dim,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        lr=args.lr,
        target_scale=args.target_scale,
        ensemble=args.ensemble,
        cv_members=args.cv_members,
        n_jobs=args.n_jobs,
        resume=args.resume,
        **extra,
    )


def _fit(config: FitConfig, out: Path, *, rescore_old: bool = False) -> tuple[dict, float]:
    """Metrics of a finished run folder (reused; with ``rescore_old`` re-predicted first if it
    predates the extrapolation guards), or of a fresh fit, and its seconds."""
    done = out / "metrics.json"
    timing = out / "bench_seconds.json"
    if done.is_file() and timing.is_file():
        metrics = json.loads(done.read_text())
        if rescore_old and "rescored" not in metrics and predates_guards(out):
            metrics = rescore(config, out)
        return metrics, json.loads(timing.read_text())["seconds"]
    start = time.perf_counter()
    metrics = fit_run(config, out)
    seconds = time.perf_counter() - start
    if config.resume and timing.is_file():  # the interrupted run's time counts too
        seconds += json.loads(timing.read_text())["seconds"]
    atomic_write_json(timing, {"seconds": seconds})
    return metrics, seconds


def run_dataset(data: str, args: argparse.Namespace) -> dict:
    tasks = load_dataset(data, clean=True).properties
    schemes: dict[str, dict] = {}
    for seed in args.seeds:
        base = RUNS / "_".join([data, *_setting_tags(args)]) / f"seed{seed}"
        runs: dict[str, tuple[dict, float]] = {}
        singles = [
            _fit(
                _config(args, data, seed, tasks=(t,)),
                base / f"single_{t}",
                rescore_old=args.rescore,
            )
            for t in tasks
        ]
        runs["single"] = (
            {"tasks": {t: m["tasks"][t] for t, (m, _) in zip(tasks, singles, strict=True)}},
            sum(s for _, s in singles),
        )
        if args.baselines:
            runs["joint"] = _fit(
                _config(args, data, seed, tasks=tuple(tasks)),
                base / "joint",
                rescore_old=args.rescore,
            )
            runs["grouped"] = _fit(
                _config(args, data, seed, tasks=("auto",)),
                base / "grouped",
                rescore_old=args.rescore,
            )
        for name in args.variants:
            extra = {"tasks": tuple(tasks), **VARIANTS[name]}
            folder = base / _variant_tag(name, data, args)
            if name == "borrowed":
                extra["borrow"] = _borrow_specs(data, args)
            if args.gate_folds:  # the single-task runs are shared with the validation gate's
                extra["gate_folds"] = args.gate_folds
                folder = base / f"{folder.name}_folds{args.gate_folds}"
            runs[name] = _fit(_config(args, data, seed, **extra), folder, rescore_old=args.rescore)
        for name, (metrics, seconds) in runs.items():
            entry = schemes.setdefault(name, {"mae": {t: [] for t in tasks}, "seconds": []})
            for t in tasks:
                entry["mae"][t].append(metrics["tasks"][t]["mae"])
            entry["seconds"].append(seconds)
            if "task_groups" in metrics:
                entry.setdefault("groups", []).append(metrics["task_groups"]["test"])
            for gate in ("fine_tune_gate", "helper_gate", "group_gate"):
                if gate in metrics:
                    entry.setdefault("gate", []).append(metrics[gate]["test"])
        print(f"{data} seed {seed}: {', '.join(runs)} done", flush=True)
    single = {t: float(np.mean(v)) for t, v in schemes["single"]["mae"].items()}
    for entry in schemes.values():
        entry["mean_mae"] = {t: float(np.mean(v)) for t, v in entry["mae"].items()}
        entry["gain_vs_single"] = {  # below 1e-9: the same model, re-predicted (float noise)
            t: _tie((single[t] - entry["mean_mae"][t]) / single[t]) for t in tasks
        }
        gains = np.array(list(entry["gain_vs_single"].values()))
        entry["share_better"] = float((gains > 0).mean())
        entry["worst_gain"] = float(gains.min())
        entry["goal_met"] = bool(entry["share_better"] >= GOAL_SHARE and gains.min() >= GOAL_WORST)
    ds = load_dataset(data, clean=True)
    return {
        "dataset": data,
        "title": _title(data, args),
        "tasks": tasks,
        "units": {t: ds.info.property(t).unit for t in tasks},
        "n_labelled_train": {
            t: int(ds.frame.loc[ds.frame["split"] == "train", t].notna().sum()) for t in tasks
        },
        "seeds": list(args.seeds),
        "settings": {
            k: getattr(args, k)
            for k in (
                "model",
                "latent_dim",
                "epochs",
                "patience",
                "lr",
                "target_scale",
                "ensemble",
                "cv_members",
                "gate_folds",
            )
        },
        "borrow": list(_borrow_specs(data, args)) if "borrowed" in args.variants else None,
        "schemes": schemes,
        **provenance(),
    }


def _setting_tags(args: argparse.Namespace) -> list[str]:
    """Tags of the settings that differ from the default runs (each gets its own run folders
    and result file): the target scale, the CV-member ensemble."""
    tags = [] if args.target_scale == "iqr" else [args.target_scale]
    if args.ensemble > 1:
        tags.append(f"cv{args.ensemble}" if args.cv_members else f"ens{args.ensemble}")
    return tags


def _borrow_specs(data: str, args: argparse.Namespace) -> tuple[str, ...]:
    specs = tuple(args.borrow or BORROW_FROM.get(data, ()))
    if not specs:
        raise SystemExit(f"the borrowed variant needs --borrow for {data}")
    return specs


def _variant_tag(name: str, data: str, args: argparse.Namespace) -> str:
    """A variant's run-folder and file-name tag: its name, for ``borrowed`` with the specs
    when they are not the dataset's default."""
    if name != "borrowed" or not args.borrow or tuple(args.borrow) == BORROW_FROM.get(data):
        return name
    return "_".join([name, *(s.replace(":", "-") for s in args.borrow)])


def _tie(gain: float) -> float:
    return 0.0 if abs(gain) < 1e-9 else float(gain)


def _title(data: str, args: argparse.Namespace) -> str | None:
    """Section title of a run other than the default full table (None for that one)."""
    parts = [] if args.baselines else [", ".join(args.variants)]
    if args.target_scale != "iqr":
        parts.append(f"every model with target scale {args.target_scale}")
    if args.ensemble > 1:
        kind = "CV members (out-of-fold gate)" if args.cv_members else "members"
        parts.append(f"every model an ensemble of {args.ensemble} {kind}")
    if args.gate_folds:
        parts.append(f"gate on {args.gate_folds}-fold out-of-fold errors")
    return f"{data}: {'; '.join(parts)}" if parts else None


def _file_name(data: str, args: argparse.Namespace) -> str:
    """Result file stem: the dataset, then the variants without baselines, then the tags."""
    folds = [f"folds{args.gate_folds}"] if args.gate_folds else []
    variants = [] if args.baselines else [_variant_tag(v, data, args) for v in args.variants]
    return "_".join([data, *variants, *_setting_tags(args), *folds])


def _incoming_transfer(dataset: str) -> dict[str, float] | None:
    """Per property, the largest directed transfer gain into it in the dataset's committed
    lattice with transfer trainings (``bench/results/entangle/<dataset>_transfer``)."""
    path = RESULTS / "entangle" / f"{dataset}_transfer" / "lattice.json"
    if not path.is_file():
        return None
    best: dict[str, float] = {}
    for edge in json.loads(path.read_text())["edges"]:
        gain = edge.get("transfer_gain")
        if gain is not None:
            best[edge["target"]] = max(best.get(edge["target"], -np.inf), gain)
    return best


def _gate_table(r: dict, name: str, scheme: dict) -> list[str]:
    """Per property: how often the gate kept the multi-task model (fine-tuned, or learned
    beside its helpers), its mean gain over the single-task model on the error the gate read
    (validation or out-of-fold; for out-of-fold also each seed's paired 90 % interval), and
    the lattice's best incoming transfer; for ``helpers`` and ``gated`` also each seed's
    partners (helpers or group mates)."""
    incoming = _incoming_transfer(r["dataset"]) or {}
    goal = "met" if scheme["goal_met"] else "not met"
    helpers = any("helpers" in d for g in scheme["gate"] for d in g.values())
    oof = any(d.get("gate_on") == "out_of_fold" for g in scheme["gate"] for d in g.values())
    error, gain_key = ("out-of-fold", "oof_gain") if oof else ("validation", "val_gain")
    lines = [
        f"`{name}`, the {error} gate per property (seeds {r['seeds']}); lattice: the "
        "largest directed transfer gain into the property in "
        f"`entangle/{r['dataset']}_transfer/lattice.json` (seed 0, pairwise trainings on the "
        f"training part); goal **{goal}**.",
        "",
        ("| property | partners (each seed) " if helpers else "| property ")
        + f"| multi-task kept | mean {'out-of-fold' if oof else 'val'} gain over alone "
        + ("| out-of-fold gain, 90 % interval (each seed) " if oof else "")
        + "| lattice: best incoming transfer "
        "| test Δ |",
        "|---|---|---|---|---|" + ("---|" if helpers else "") + ("---|" if oof else ""),
    ]
    for t in r["tasks"]:
        kept = sum(g[t]["chosen"] != "alone" for g in scheme["gate"])
        gains = [g[t][gain_key] for g in scheme["gate"] if g[t].get(gain_key) is not None]
        val_gain = f"{np.mean(gains):+.1%}" if gains else "-"
        lattice = f"{incoming[t]:+.1%}" if t in incoming else "-"
        chosen = (
            "| "
            + "; ".join(_partners(g[t]["helpers"], t, r["tasks"]) for g in scheme["gate"])
            + " "
            if helpers
            else ""
        )
        interval = (
            "| " + "; ".join(_interval(g[t].get("oof_gain_ci90")) for g in scheme["gate"]) + " "
            if oof
            else ""
        )
        lines.append(
            f"| {t} {chosen}| {kept} of {len(scheme['gate'])} | {val_gain} {interval}"
            f"| {lattice} | "
            f"{scheme['gain_vs_single'][t]:+.1%} |"
        )
    return [*lines, ""]


def _partners(partners: list[str], task: str, tasks: list[str]) -> str:
    """A task's partners, ``all others`` when they are every other property."""
    if len(tasks) > 2 and set(partners) == set(tasks) - {task}:
        return "all others"
    return ", ".join(partners) or "-"


def _interval(bounds: list[float] | None) -> str:
    return "-" if bounds is None else f"[{bounds[0]:+.1%}, {bounds[1]:+.1%}]"


def _per_seed(r: dict, name: str) -> str:
    """Share of properties better than single-task and the worst Δ, seed by seed."""
    single, scheme = r["schemes"]["single"]["mae"], r["schemes"][name]["mae"]
    cells = []
    for k in range(len(r["seeds"])):
        gains = np.array([_tie((single[t][k] - scheme[t][k]) / single[t][k]) for t in r["tasks"]])
        cells.append(f"{(gains > 0).mean():.0%} / {gains.min():+.1%}")
    return "; ".join(cells)


def build_table() -> None:
    lines = [
        "# Multi-task vs single-task (issue 6)",
        "",
        "Test MAE per property on each dataset's composition-level test part, mean over seeds. "
        "`single`: one model per property; `joint`: one hard-sharing model on all properties; "
        "`grouped`: one model per task group the entanglement lattice of the training part "
        "recommends (`matlattice fit --tasks auto`); `fine_tuned` (`matlattice fit "
        "--fine-tune`): one model pretrained on all properties, one model per property "
        "fine-tuned from its encoder, and per property the fine-tuned or the single-task "
        "model, whichever has the lower validation MAE (the negative-transfer gate); other "
        "columns are variants of the joint model. Δ: relative change of MAE against "
        "single-task (positive = better). Goal: multi-task beats single-task on ≥ 70 % of "
        "the properties, never loses more than 2 %. Runs trained before the extrapolation "
        "guards were re-predicted with them (`--rescore`; training unchanged).",
        "",
    ]
    for path in [*sorted(FOLDER.glob("*.json")), *sorted(FOLDER.glob("earlier/*.json"))]:
        r = json.loads(path.read_text())
        names = list(r["schemes"])
        s = r["settings"]
        lines += [
            f"## {r.get('title') or r['dataset']}",
            "",
            f"{r['date']}, {r['machine']['cpus']} CPU cores, `{r['command']}`; encoder "
            f"{s['model']}, d = {s['latent_dim']}, ≤ {s['epochs']} epochs (patience "
            f"{s['patience']}), seeds {r['seeds']}.",
            "",
            "| property | unit | train labels | "
            + " | ".join(f"{n} MAE" + ("" if n == "single" else " (Δ)") for n in names)
            + " |",
            "|---|---|---|" + "---|" * len(names),
        ]
        for t in r["tasks"]:
            cells = []
            for n in names:
                e = r["schemes"][n]
                mae = e["mean_mae"][t]
                cells.append(
                    f"{mae:.4g}" if n == "single" else f"{mae:.4g} ({e['gain_vs_single'][t]:+.1%})"
                )
            lines.append(
                f"| {t} | {r['units'][t]} | {r['n_labelled_train'][t]} | "
                + " | ".join(cells)
                + " |"
            )
        lines += [
            "| better than single | | | "
            + " | ".join(
                "-" if n == "single" else f"{r['schemes'][n]['share_better']:.0%}" for n in names
            )
            + " |",
            "| worst Δ | | | "
            + " | ".join(
                "-" if n == "single" else f"{r['schemes'][n]['worst_gain']:+.1%}" for n in names
            )
            + " |",
            "| each seed: better / worst Δ | | | "
            + " | ".join("-" if n == "single" else _per_seed(r, n) for n in names)
            + " |",
            "| train minutes | | | "
            + " | ".join(f"{np.mean(r['schemes'][n]['seconds']) / 60:.1f}" for n in names)
            + " |",
            "",
        ]
        for name, scheme in r["schemes"].items():
            if scheme.get("groups"):
                goal = "met" if scheme["goal_met"] else "not met"
                lines += [
                    f"`{name}`: lattice groups (seed {r['seeds'][0]}) {scheme['groups'][0]}; "
                    f"goal **{goal}**.",
                    "",
                ]
            if scheme.get("gate"):
                lines += _gate_table(r, name, scheme)
    atomic_write_text(RESULTS / "multitask.md", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["aflow", "mp"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--variants", nargs="*", default=[], choices=list(VARIANTS))
    parser.add_argument("--model", default="mlp", choices=("mlp", "attention"))
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--no-baselines",
        dest="baselines",
        action="store_false",
        help="train only single-task and the variants (no joint, no grouped); results go to "
        "<dataset>_<variants>.json beside the full table",
    )
    parser.add_argument(
        "--target-scale",
        default="iqr",
        choices=("iqr", "mean_abs_dev"),
        help="per-task target scale of every model (single-task included); a scale other "
        "than iqr trains in its own run folders and writes <name>_<scale>.json",
    )
    parser.add_argument(
        "--ensemble",
        type=int,
        default=1,
        help="members per model (single-task included); with --cv-members member k never "
        "sees composition fold k and the gates read out-of-fold errors",
    )
    parser.add_argument("--cv-members", action="store_true")
    parser.add_argument(
        "--gate-folds",
        type=int,
        default=0,
        help="the variants' gates judge each arm by K cross-validation models, then retrain "
        "the chosen arm (single-task runs unchanged and shared)",
    )
    parser.add_argument(
        "--borrow",
        nargs="*",
        default=None,
        help="the borrowed variant's specs, DATASET[:PROPERTY][@ROWS] (default: "
        + ", ".join(f"{d} from {' '.join(s)}" for d, s in BORROW_FROM.items())
        + ")",
    )
    parser.add_argument("--n-jobs", type=int, default=1, help="worker processes per model")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="runs without metrics.json resume from their checkpoints (a finished training "
        "reloads; a deleted checkpoint retrains); the time of the interrupted run is added",
    )
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="re-predict finished runs trained before the extrapolation guards "
        "(bench/guard_migration.py; a no-op for runs that have them)",
    )
    args = parser.parse_args()
    FOLDER.mkdir(parents=True, exist_ok=True)
    for data in args.datasets:
        atomic_write_json(FOLDER / f"{_file_name(data, args)}.json", run_dataset(data, args))
        build_table()
    build_table()


if __name__ == "__main__":
    main()
