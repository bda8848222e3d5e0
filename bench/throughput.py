"""Training and prediction throughput per encoder on this machine, RF peer in the same run.

Training: samples/s over measured epochs on real formulas (OQMD band gap). Prediction:
formulas/s for ``predict`` on 100,000 real formulas, parsing and featurisation included.
Writes ``bench/results/throughput.{json,md}``.

Run: ``.venv/bin/python bench/throughput.py``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from provenance import provenance

from matlattice.data import load_dataset
from matlattice.models import LatticeRegressor, MultiTaskForest
from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    ds = load_dataset("crabnet:OQMD_Bandgap")
    train = ds.train.sample(20_000, random_state=0)[["formula", "band_gap"]]
    val = ds.val.sample(2_000, random_state=0)[["formula", "band_gap"]]
    formulas = ds.frame["formula"].sample(100_000, random_state=1).tolist()
    threads = torch.get_num_threads()
    rows = []
    for encoder in ("attention", "mlp"):
        epochs = 3
        start = time.perf_counter()
        model = LatticeRegressor(
            encoder,
            latent_dim=32,
            epochs=epochs,
            patience=epochs,
            batch_size=256,
            num_threads=threads,
        )
        model.fit(train, X_val=val)
        train_s = time.perf_counter() - start
        model.predict(formulas[:1000])  # warm-up
        start = time.perf_counter()
        model.predict(formulas)
        predict_s = time.perf_counter() - start
        rows.append(
            {
                "model": f"LatticeRegressor({encoder!r}, latent_dim=32)",
                "train_samples_per_s": epochs * len(train) / train_s,
                "predict_formulas_per_s": len(formulas) / predict_s,
                "note": f"{epochs} epochs on {len(train):,} rows incl. input building",
            }
        )
    start = time.perf_counter()
    forest = MultiTaskForest(n_estimators=100).fit(train["formula"].tolist(), train[["band_gap"]])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    forest.predict(formulas)
    predict_s = time.perf_counter() - start
    rows.append(
        {
            "model": "MultiTaskForest (RF peer, 100 trees)",
            "train_samples_per_s": len(train) / fit_s,
            "predict_formulas_per_s": len(formulas) / predict_s,
            "note": "one fit (all trees) on 20,000 rows",
        }
    )
    result = {**provenance(), "rows": rows}
    result["machine"].update(torch_threads=threads, device="cpu")
    atomic_write_json(args.out / "throughput.json", result)
    atomic_write_text(
        args.out / "throughput.md",
        "\n".join(
            [
                "# Throughput per encoder (CPU)",
                "",
                f"{result['date']}; {result['machine']['platform']}, "
                f"{result['machine']['cpus']} cores, "
                f"{threads} torch threads; command `{result['command']}`",
                "",
                "| model | train samples/s | predict formulas/s | note |",
                "|---|---|---|---|",
                *(
                    f"| {r['model']} | {r['train_samples_per_s']:,.0f} | "
                    f"{r['predict_formulas_per_s']:,.0f} | {r['note']} |"
                    for r in rows
                ),
                "",
            ]
        ),
    )
    print(np.round([[r["train_samples_per_s"], r["predict_formulas_per_s"]] for r in rows]))


if __name__ == "__main__":
    main()
