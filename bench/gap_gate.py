"""A metal/non-metal gate for experimental band gaps (issue 25, Matbench lever): does it help?

On each official fold of ``matbench_expt_gap``, in one run with the same seed and settings:

- ``plain``: one attention regressor on every training row (what ``bench/matbench.py`` runs);
- a classifier of ``gap == 0`` (metal) and a regressor trained on the non-metals only;
- ``gate``: 0 where the classifier says metal (probability >= 0.5), else the non-metal
  regressor; ``soft``: (1 - p) x the non-metal regressor (the expected gap under the gate);
- ``plain_gate``: 0 where the classifier says metal, else the plain regressor.

Early stopping uses a composition-level 10 % of the training folds (the estimators'
``val_fraction``); the test fold is never seen. Each fold writes
``bench/results/gap_gate/fold<k>.json`` (kept, so a killed run resumes); the table
``bench/results/gap_gate.md`` gives each variant's MAE over the folds beside the leaderboard.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/gap_gate.py --epochs 200``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from provenance import machine, provenance

RESULTS = Path(__file__).parent / "results"
PER_FOLD = RESULTS / "gap_gate"
TASK = "matbench_expt_gap"
VARIANTS = ("plain", "gate", "soft", "plain_gate")


def _params(args: argparse.Namespace) -> dict:
    return {"latent_dim": 64, "ensemble": args.ensemble, "epochs": args.epochs,
            "patience": args.patience, "batch_size": 128, "lr": 1e-3,
            "element_table": args.table, "random_state": args.seed,
            "num_threads": args.threads}  # fmt: skip


def run_fold(k: int, args: argparse.Namespace) -> dict:
    """The three models of fold ``k`` and the test MAE of each variant."""
    from matlattice.data import load_dataset
    from matlattice.models import LatticeClassifier, LatticeRegressor

    ds = load_dataset(TASK)
    label = ds.properties[0]
    train, test = ds.fold(k)
    start = time.perf_counter()
    params = _params(args)
    plain = LatticeRegressor("attention", **params).fit(train[["formula", label]])
    metal = train.assign(metal=(train[label] == 0).astype(float))[["formula", "metal"]]
    classifier = LatticeClassifier("attention", **params).fit(metal)
    nonmetal = train[train[label] > 0][["formula", label]]
    regressor = LatticeRegressor("attention", **params).fit(nonmetal)

    formulas = test["formula"].tolist()
    truth = test[label].to_numpy(dtype=float)
    p_metal = np.asarray(classifier.predict_proba(formulas), dtype=float)
    said_metal = p_metal >= 0.5
    gap_plain = np.clip(np.asarray(plain.predict(formulas), dtype=float), 0.0, None)
    gap_nonmetal = np.clip(np.asarray(regressor.predict(formulas), dtype=float), 0.0, None)
    predictions = {
        "plain": gap_plain,
        "gate": np.where(said_metal, 0.0, gap_nonmetal),
        "soft": (1.0 - p_metal) * gap_nonmetal,
        "plain_gate": np.where(said_metal, 0.0, gap_plain),
    }
    is_metal = truth == 0
    return {
        "fold": k,
        "mae": {v: float(np.abs(predictions[v] - truth).mean()) for v in VARIANTS},
        "classifier_accuracy": float((said_metal == is_metal).mean()),
        "n_train": len(train),
        "n_train_metals": int((train[label] == 0).sum()),
        "n_test": len(test),
        "seconds": round(time.perf_counter() - start, 1),
        "settings": {"model": "attention", **params},
        **provenance(),
    }


def write_table(args: argparse.Namespace) -> None:
    from matlattice.runtime.files import atomic_write_text

    folds = [json.loads(p.read_text()) for p in sorted(PER_FOLD.glob("fold*.json"))]
    if not folds:
        return
    mae = {v: np.array([f["mae"][v] for f in folds]) for v in VARIANTS}
    here = machine()
    lines = [
        "# A metal/non-metal gate for experimental band gaps (matbench_expt_gap)",
        "",
        f"Machine: {here['platform']}, {here['cpus']} cores ({here['cpu_model']}), CPU; "
        f"date {folds[-1]['date'][:10]}. Command: `{folds[-1]['command']}` "
        f"(settings: {json.dumps(folds[0]['settings'])}).",
        f"Folds done: {len(folds)} of 5 (official folds; each variant scored on the same test "
        "rows in one run). Leaderboard: Darwin 0.2865, Ax/SAASBO CrabNet 0.3310, CrabNet 0.3463.",
        "",
        "| variant | MAE (eV), mean over folds | ± std | vs plain |",
        "|---|---|---|---|",
    ]
    for v in VARIANTS:
        ratio = mae[v].mean() / mae["plain"].mean()
        lines.append(f"| {v} | {mae[v].mean():.4f} | {mae[v].std():.4f} | {ratio:.3f} |")
    accuracy = np.mean([f["classifier_accuracy"] for f in folds])
    lines += ["", f"Metal classifier accuracy on the test folds: {accuracy:.4f}.", ""]
    atomic_write_text(RESULTS / "gap_gate.md", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--ensemble", type=int, default=1)
    parser.add_argument("--table", default="mat2vec")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    bad = [k for k in args.folds if not 0 <= k <= 4]
    if bad:
        parser.error(f"--folds {bad}: matbench_expt_gap has the official folds 0..4")

    from matlattice.runtime.files import atomic_write_json

    PER_FOLD.mkdir(parents=True, exist_ok=True)
    for k in args.folds:
        path = PER_FOLD / f"fold{k}.json"
        if path.is_file() and not args.force:
            kept = json.loads(path.read_text())["settings"]
            if kept != {"model": "attention", **_params(args)}:
                raise SystemExit(f"{path.name} ran with {kept}: rerun with the same settings, "
                                 "or --force to redo every fold")  # fmt: skip
            continue
        record = run_fold(k, args)
        atomic_write_json(path, record)
        print(f"fold {k}: " + ", ".join(f"{v} {m:.4f}" for v, m in record["mae"].items()),
              flush=True)  # fmt: skip
        write_table(args)
    write_table(args)


if __name__ == "__main__":
    main()
