"""Compression-fidelity sweeps on real data: aflow (all properties), a stratified 50k
subsample of oqmd, and matbench_expt_gap.

Each sweep writes a run folder ``bench/results/fidelity/<name>/`` (config.json, fidelity.json,
figures; the per-width fits are kept in ``bench/fidelity_runs/`` so a killed sweep resumes),
then ``bench/results/fidelity.md`` is rebuilt from every finished ``fidelity.json``: the
8x-compression goal (widest 256 -> 32 keeps >= 97 % of the predictive fidelity) is checked
per dataset, beside the PCA and random-projection baselines at the same widths.

Run: ``.venv/bin/python bench/fidelity.py --sweeps aflow``
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from provenance import provenance

from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"
FOLDER = RESULTS / "fidelity"
WORK = Path(__file__).parent / "fidelity_runs"
DIMS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

SWEEPS = {
    "aflow": {"data": "aflow"},
    "oqmd_50k": {"data": "oqmd", "subsample": 50_000},
    "matbench_expt_gap": {"data": "matbench_expt_gap"},
}


def run(name: str, args: argparse.Namespace) -> None:
    from matlattice.jobs.compression import FidelityConfig, fidelity_run

    spec = SWEEPS[name]
    config = FidelityConfig(
        data=spec["data"],
        dims=DIMS,
        encoder=args.encoder,
        ensemble=args.ensemble,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        lr=args.lr,
        kl_weights=tuple(args.kl_weights),
        vib_dim=args.vib_dim,
        subsample=spec.get("subsample", 0),
        n_jobs=args.jobs,
    )
    start = time.perf_counter()
    summary = fidelity_run(config, WORK / name)
    seconds = time.perf_counter() - start
    out = FOLDER / name
    out.mkdir(parents=True, exist_ok=True)
    for item in (WORK / name).iterdir():
        if item.is_file():
            shutil.copy2(item, out / item.name)
    atomic_write_json(out / "bench.json", {"seconds": seconds, **provenance()})
    print(f"{name}: recommended d = {summary['recommended_dim']} in {seconds / 60:.1f} min")


def _fid(rows: list[dict], d: int) -> float | None:
    return next((r["mean_normalised"] for r in rows if r["d"] == d), None)


def build_table() -> None:
    lines = [
        "# Compression-fidelity on real data",
        "",
        "Mean normalised predictive fidelity (0: mean predictor, 1: the widest learned model) "
        "of one shared bottleneck per width, test part. Goal: at 8x compression from the "
        "widest width (256 -> 32) keep >= 97 %. PCA / RP: the same standardised Magpie "
        "features compressed by PCA or Gaussian random projection, one MLP head on top, "
        "normalised against the same floor and ceiling.",
        "",
        "| sweep | rows (train) | tasks | d=8 | d=16 | d=32 | d=64 | goal (d=32 ≥ 0.97) | "
        "PCA d=32 | RP d=32 | recommended d | knee | adaptive path | erodes first | "
        "train minutes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for folder in sorted(FOLDER.iterdir()) if FOLDER.is_dir() else []:
        path = folder / "fidelity.json"
        if not path.is_file():
            continue
        s = json.loads(path.read_text())
        per = s["per_dim"]
        fits = [p["cost"]["train_s"] for p in per]
        fits += [v.get("train_s") or 0.0 for v in s.get("variational", [])]

        def f(v):
            return "-" if v is None else f"{v:.3f}"

        at32 = _fid(per, 32)
        pca = _fid(s["baselines"].get("pca", []), 32)
        rp = _fid(s["baselines"].get("random_projection", []), 32)
        goal = "-" if at32 is None else ("yes" if at32 >= 0.97 else "no")
        lines.append(
            f"| {folder.name} | {s['n_train']} | {len(s['tasks'])} | {f(_fid(per, 8))} | "
            f"{f(_fid(per, 16))} | {f(at32)} | {f(_fid(per, 64))} | {goal} | {f(pca)} | "
            f"{f(rp)} | {s['recommended_dim']} | {s['knee']} | {s['adaptive_path']} | "
            f"{', '.join(s['erosion_order']['properties'][:2])} | {sum(fits) / 60:.0f} |"
        )
    lines += [
        "",
        "Figures and the full `fidelity.json` of each sweep: `bench/results/fidelity/<sweep>/`; "
        "machine, date and command in its `bench.json`. Train minutes: the sum over all fits "
        "(widths and KL weights) of their training time, ensembles included, on 2 CPU cores.",
        "",
    ]
    atomic_write_text(RESULTS / "fidelity.md", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", nargs="*", default=list(SWEEPS), choices=list(SWEEPS))
    parser.add_argument("--encoder", default="mlp", choices=("mlp", "attention"))
    parser.add_argument("--ensemble", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--kl-weights", type=float, nargs="*", default=[1e-4, 1e-3, 1e-2, 1e-1])
    parser.add_argument("--vib-dim", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    for name in args.sweeps:
        run(name, args)
        build_table()
    build_table()


if __name__ == "__main__":
    main()
