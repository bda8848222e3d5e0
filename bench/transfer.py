"""Transfer / multi-fidelity: pretrain on plentiful DFT band gaps, fine-tune on scarce
experimental ones, against training from scratch with the same settings.

Source: OQMD band gap (CrabNet's OQMD_Bandgap train/val files, optionally subsampled).
Target: ``matbench_expt_gap`` on the official 5 folds (early stopping on a composition-level
10 % of the training folds). Same architecture, seeds and budget for both arms; the only
difference is the encoder's initial weights (``init_from``).

Writes ``bench/results/transfer.{json,md}``.

Run: ``.venv/bin/python bench/transfer.py --source-rows 60000``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from provenance import provenance

from matlattice.composition import composition_keys, parse_formulas
from matlattice.data import load_dataset
from matlattice.data.splits import random_split
from matlattice.models import LatticeRegressor
from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-rows", type=int, default=60_000)
    parser.add_argument("--source-epochs", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--folds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    common = dict(
        latent_dim=args.latent_dim, element_table="mat2vec", batch_size=128, random_state=0
    )

    start = time.perf_counter()
    source = load_dataset("crabnet:OQMD_Bandgap")
    train = source.train.sample(min(args.source_rows, len(source.train)), random_state=0)
    val = source.val.sample(min(args.source_rows // 8, len(source.val)), random_state=0)
    pretrained = LatticeRegressor("attention", epochs=args.source_epochs, patience=10, **common)
    pretrained.fit(train[["formula", "band_gap"]], X_val=val[["formula", "band_gap"]])
    source_s = time.perf_counter() - start

    target = load_dataset("matbench_expt_gap")
    arms: dict[str, list[float]] = {"scratch": [], "transfer": []}
    seconds = {"scratch": 0.0, "transfer": 0.0}
    for k in args.folds:
        fold_train, fold_test = target.fold(k)
        keys = composition_keys(parse_formulas(fold_train["formula"].tolist()).fractions)
        part = random_split(keys, (0.9, 0.1, 0.0), seed=0)
        fit_part = fold_train[part == "train"][["formula", "expt_gap"]]
        val_part = fold_train[part == "val"][["formula", "expt_gap"]]
        for arm in arms:
            t0 = time.perf_counter()
            model = LatticeRegressor(
                "attention", epochs=args.epochs, patience=args.patience, **common
            )
            model.fit(fit_part, X_val=val_part, init_from=pretrained if arm == "transfer" else None)
            pred = model.predict(fold_test["formula"].tolist())
            arms[arm].append(float(np.mean(np.abs(pred - fold_test["expt_gap"].to_numpy()))))
            seconds[arm] += time.perf_counter() - t0
            print(f"fold {k} {arm}: MAE {arms[arm][-1]:.4f} eV", flush=True)
    summary = {
        arm: {
            "mae": float(np.mean(v)),
            "mae_std": float(np.std(v)),
            "folds": v,
            "seconds": seconds[arm],
        }
        for arm, v in arms.items()
    }
    gain = summary["scratch"]["mae"] - summary["transfer"]["mae"]
    result = {
        **provenance(),
        "source": {
            "data": "crabnet:OQMD_Bandgap (DFT)",
            "train_rows": len(train),
            "val_rows": len(val),
            "epochs": args.source_epochs,
            "best_val_loss": pretrained.train_info_[0]["best_val_loss"],
            "seconds": source_s,
        },
        "target": {"data": "matbench_expt_gap (experimental)", "folds": args.folds},
        "arms": summary,
        "mae_gain_eV": gain,
        "relative_gain": gain / summary["scratch"]["mae"],
    }
    atomic_write_json(RESULTS / "transfer.json", result)
    atomic_write_text(
        RESULTS / "transfer.md",
        "\n".join(
            [
                "# Transfer: DFT band gaps (OQMD) -> experimental band gaps (matbench_expt_gap)",
                "",
                f"- date {result['date']}; {result['machine']['platform']}, "
                f"{result['machine']['cpus']} cores, CPU; command `{result['command']}`",
                f"- source: {len(train):,} OQMD band gaps (subsample of the CrabNet train file), "
                f"{args.source_epochs} epochs max, {source_s / 60:.1f} min",
                f"- target: official folds {args.folds}; same architecture, seeds and budget in "
                "both arms; only the encoder's initial weights differ",
                "",
                "| arm | test MAE (eV), mean ± std over folds | time |",
                "|---|---|---|",
                *(
                    f"| {arm} | {s['mae']:.4f} ± {s['mae_std']:.4f} | {s['seconds'] / 60:.1f} min |"
                    for arm, s in summary.items()
                ),
                "",
                f"Gain from pretraining: {gain:+.4f} eV ({100 * result['relative_gain']:+.1f} %).",
                "",
            ]
        ),
    )
    print(result["arms"], result["mae_gain_eV"])


if __name__ == "__main__":
    main()
