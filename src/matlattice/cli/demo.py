"""``matlattice demo``: the whole pipeline on the default dataset, in one command."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from matlattice.cli.common import friendly_errors as _friendly_errors
from matlattice.cli.common import progress_bar as _progress
from matlattice.cli.tables import (
    console,
    print_calibration,
    print_fidelity,
    print_lattice,
    print_metrics,
)

__all__ = ["demo"]

DEMO_CAMPAIGN_TARGETS = {"aflow": "bulk_modulus"}


def demo(
    out: Annotated[Path, typer.Option(help="Run folder.")] = Path("runs/demo"),
    data: Annotated[str, typer.Option(help="Dataset.")] = "aflow",
    epochs: Annotated[int, typer.Option(help="Maximum epochs of the attention model.")] = 40,
    latent_dim: Annotated[int, typer.Option(help="Embedding width d.")] = 32,
):
    """Fetch -> audit -> featurise -> fit an attention ensemble with a d-wide embedding on the
    cleaned data -> test metrics and parity plot -> uncertainty calibration -> a small
    compression-fidelity sweep -> the entanglement lattice of its properties -> a short
    discovery campaign (RF + UCB against random choice on hidden labels)."""
    from matlattice.data.audit import audit_dataset
    from matlattice.data.fetch import SOURCES, fetch_source
    from matlattice.jobs.fit import FitConfig, fit_run
    from matlattice.represent import ElementStatsFeaturizer
    from matlattice.runtime.files import atomic_write_table

    with _friendly_errors():
        steps = [
            "fetch",
            "audit",
            "featurize",
            "fit",
            "calibrate",
            "fidelity",
            "lattice",
            "campaign",
        ]
        with _progress("demo") as progress:
            progress(steps[0])
            for name in SOURCES:
                fetch_source(name)
            progress(steps[1])
            audit = audit_dataset(data)
            audit.to_json(out / "audit.json")
            progress(steps[2])
            from matlattice.data import load_dataset

            frame = load_dataset(data).frame
            start = time.perf_counter()
            featurizer = ElementStatsFeaturizer("magpie", missing="mean")
            X = featurizer.fit_transform(frame["formula"].tolist())
            rate = len(X) / (time.perf_counter() - start)
            feats = pd.DataFrame(X, columns=featurizer.get_feature_names_out())
            feats.insert(0, "formula", frame["formula"].to_numpy())
            atomic_write_table(out / "features.parquet", feats)
            progress(steps[3])
            metrics = fit_run(
                FitConfig(
                    data=data,
                    model="attention",
                    epochs=epochs,
                    patience=10,
                    latent_dim=latent_dim,
                    ensemble=2,
                    clean=True,
                ),
                out,
                progress=lambda t: progress(f"fit {t}"),
            )
            progress(steps[4])
            from matlattice.jobs.calibrate import calibrate_run

            calibration = calibrate_run(out, "isotonic")
            progress(steps[5])
            from matlattice.jobs.compression import FidelityConfig, fidelity_run

            sweep = fidelity_run(
                FidelityConfig(
                    data=data,
                    dims=(2, 4, 8, 16, 32, 64),
                    ensemble=2,
                    epochs=30,
                    patience=8,
                    probe_size=1000,
                ),
                out / "fidelity",
            )
            progress(steps[6])
            from matlattice.jobs.entangle import EntangleConfig, entangle_run

            lattice = entangle_run(
                EntangleConfig(
                    data=data, model_params={"epochs": 30, "patience": 8}, transfer=False
                ),
                out / "lattice",
            )
            progress(steps[7])
            from matlattice.discovery.benchmark import campaign_benchmark

            target = DEMO_CAMPAIGN_TARGETS.get(data, lattice["tasks"][0])
            campaign = campaign_benchmark(
                data,
                target,
                out / "campaign",
                methods=("ucb@rf", "random"),
                pool_size=1000,
                initial=20,
                budget=100,
                batch=10,
                seeds=(0, 1, 2),
                top=0.02,
            )
    console.print(f"audit: {len(audit.findings)} findings -> {out / 'audit.json'}")
    console.print(f"features: {X.shape} at {rate:,.0f} formulas/s -> {out / 'features.parquet'}")
    print_metrics(metrics)
    console.print(f"metrics -> {out / 'metrics.json'}; parity plot -> {out / 'parity.png'}")
    print_calibration(calibration)
    console.print(f"calibration -> {out / 'calibration.json'}, {out / 'calibration.png'}")
    print_fidelity(sweep)
    console.print(f"fidelity sweep -> {out / 'fidelity'} (fidelity.json, figures)")
    print_lattice(lattice)
    console.print(f"lattice -> {out / 'lattice'} (lattice.json, lattice.png, edge_heatmap.png)")
    for name, m in campaign["acquisitions"].items():
        console.print(
            f"campaign {name}: found {m['found_at_budget']:.0%} of the top 2 % of "
            f"{campaign['task']['target']} in {campaign['budget']} of {campaign['pool_size']}"
        )
    console.print(f"campaign -> {out / 'campaign'} (campaign.json, campaign.png)")
    console.print(
        "test MAE: "
        + json.dumps(
            {t: float(f"{m['mae']:.4g}") for t, m in metrics["tasks"].items() if "mae" in m}
        )
    )
