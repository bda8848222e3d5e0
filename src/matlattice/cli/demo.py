"""``matlattice demo``: the whole pipeline on the default dataset, in one command."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import print_rejected, progress_bar
from matlattice.cli.options import at_least
from matlattice.cli.tables import (
    console,
    print_calibration,
    print_fidelity,
    print_lattice,
    print_metrics,
)

__all__ = ["demo"]

DEMO_CAMPAIGN_TARGETS = {"aflow": "bulk_modulus"}
DEMO_DESIGN_TARGETS = {"aflow": ("bulk_modulus:max", "shear_modulus:max")}


def demo(
    out: Annotated[Path, typer.Option(help="Run folder.")] = Path("runs/demo"),
    data: Annotated[str, typer.Option(help="Dataset.")] = "aflow",
    epochs: Annotated[
        int, typer.Option(callback=at_least(1), help="Maximum epochs of the attention model.")
    ] = 40,
    latent_dim: Annotated[int, typer.Option(callback=at_least(1), help="Embedding width d.")] = 32,
):
    """Fetch -> audit -> featurise -> fit an attention ensemble with a d-wide embedding on the
    cleaned data -> test metrics and parity plot -> uncertainty calibration -> a small
    compression-fidelity sweep -> the entanglement lattice of its properties -> a short
    discovery campaign (RF + UCB against random choice on hidden labels) -> new compositions
    designed for two targets with the fitted model -> one HTML report of it all.

    Each stage prints its result as soon as it ends."""
    stages = [
        ("fetch", _fetch),
        ("audit", _audit),
        ("featurize", _featurize),
        ("fit", _fit),
        ("calibrate", _calibrate),
        ("fidelity", _fidelity),
        ("lattice", _lattice),
        ("campaign", _campaign),
        ("design", _design),
        ("report", _report),
    ]
    settings = {"out": out, "data": data, "epochs": epochs, "latent_dim": latent_dim}
    results: dict = {}
    begin = time.perf_counter()
    for k, (name, stage) in enumerate(stages, start=1):
        start = time.perf_counter()
        with progress_bar(f"demo {k}/{len(stages)}: {name}") as progress:
            results[name] = stage(settings, results, progress)
        console.print(
            f"[dim]stage {k}/{len(stages)} {name}: {time.perf_counter() - start:.0f} s[/]"
        )
    console.print(
        f"demo done in {time.perf_counter() - begin:.0f} s; test MAE: "
        + json.dumps(
            {t: float(f"{m['mae']:.4g}") for t, m in results["fit"]["tasks"].items() if "mae" in m}
        )
    )


def _fetch(settings: dict, results: dict, progress) -> None:
    from matlattice.data.fetch import SOURCES, fetch_source

    for name in SOURCES:
        progress(name)
        console.print(f"fetched {name}: {fetch_source(name)}")


def _audit(settings: dict, results: dict, progress):
    from matlattice.data.audit import audit_dataset

    out = settings["out"]
    audit = audit_dataset(settings["data"])
    audit.to_json(out / "audit.json")
    console.print(f"audit: {len(audit.findings)} findings -> {out / 'audit.json'}")
    return audit


def _featurize(settings: dict, results: dict, progress) -> None:
    import pandas as pd

    from matlattice.data import load_dataset
    from matlattice.represent import ElementStatsFeaturizer
    from matlattice.runtime.files import atomic_write_table

    out = settings["out"]
    formulas = load_dataset(settings["data"]).frame["formula"].tolist()
    start = time.perf_counter()
    featurizer = ElementStatsFeaturizer("magpie", missing="mean").fit()
    loaded = time.perf_counter()
    X = featurizer.transform(formulas)
    done = time.perf_counter()
    feats = pd.DataFrame(X, columns=featurizer.get_feature_names_out())
    feats.insert(0, "formula", formulas)
    atomic_write_table(out / "features.parquet", feats)
    console.print(
        f"features: {X.shape} -> {out / 'features.parquet'}; featurisation "
        f"{len(X) / max(done - loaded, 1e-9):,.0f} formulas/s (parse + statistics), "
        f"element table loaded in {loaded - start:.2f} s"
    )


def _fit(settings: dict, results: dict, progress) -> dict:
    from matlattice.jobs.config import FitConfig
    from matlattice.jobs.fit import fit_run

    out = settings["out"] / "fit"
    config = FitConfig(
        data=settings["data"],
        model="attention",
        epochs=settings["epochs"],
        patience=10,
        latent_dim=settings["latent_dim"],
        ensemble=2,
        clean=True,
        overwrite=True,  # a rerun of the demo fits afresh; the old run stays until then
    )
    metrics = fit_run(config, out, progress=progress)
    print_metrics(metrics)
    print_rejected(out)
    console.print(f"metrics -> {out / 'metrics.json'}; parity plot -> {out / 'parity.png'}")
    return metrics


def _calibrate(settings: dict, results: dict, progress) -> dict:
    from matlattice.jobs.calibrate import calibrate_run

    out = settings["out"] / "fit"
    calibration = calibrate_run(out, "isotonic")
    print_calibration(calibration)
    console.print(f"calibration -> {out / 'calibration.json'}, {out / 'calibration.png'}")
    return calibration


def _fidelity(settings: dict, results: dict, progress) -> dict:
    from matlattice.jobs.compression import FidelityConfig, fidelity_run

    folder = settings["out"] / "fidelity"
    config = FidelityConfig(
        data=settings["data"],
        dims=(2, 4, 8, 16, 32, 64),
        ensemble=2,
        epochs=30,
        patience=8,
        probe_size=1000,
    )
    sweep = fidelity_run(config, folder, progress=progress)
    print_fidelity(sweep)
    console.print(f"fidelity sweep -> {folder} (fidelity.json, figures)")
    return sweep


def _lattice(settings: dict, results: dict, progress) -> dict:
    from matlattice.jobs.entangle import EntangleConfig, entangle_run

    folder = settings["out"] / "lattice"
    config = EntangleConfig(
        data=settings["data"], model_params={"epochs": 30, "patience": 8}, transfer=False
    )
    lattice = entangle_run(config, folder, progress=progress)
    print_lattice(lattice)
    console.print(f"lattice -> {folder} (lattice.json, lattice.png, edge_heatmap.png)")
    return lattice


def _campaign(settings: dict, results: dict, progress) -> dict:
    from matlattice.discovery.benchmark import campaign_benchmark

    folder = settings["out"] / "campaign"
    target = DEMO_CAMPAIGN_TARGETS.get(settings["data"], results["lattice"]["tasks"][0])
    campaign = campaign_benchmark(
        settings["data"],
        target,
        folder,
        methods=("ucb@rf", "random"),
        pool_size=1000,
        initial=20,
        budget=100,
        batch=10,
        seeds=(0, 1, 2),
        top=0.02,
        progress=progress,
    )
    for name, m in campaign["acquisitions"].items():
        console.print(
            f"campaign {name}: found {m['found_at_budget']:.0%} of the top 2 % of "
            f"{campaign['task']['target']} in {campaign['budget']} of {campaign['pool_size']}"
        )
    console.print(f"campaign -> {folder} (campaign.json, campaign.png)")
    return campaign


def _design(settings: dict, results: dict, progress) -> dict:
    from matlattice.jobs.design import DesignConfig, design_run

    folder = settings["out"] / "design"
    lattice_tasks = results["lattice"]["tasks"]
    targets = DEMO_DESIGN_TARGETS.get(
        settings["data"], tuple(f"{t}:max" for t in lattice_tasks[:2])
    )
    config = DesignConfig(
        data=settings["data"],
        targets=targets,
        n=200,
        generators=("evolution", "ion_exchange"),  # the mined prior is slower to score
        model_run=str(settings["out"] / "fit"),
    )
    record = design_run(config, folder, overwrite=True, progress=progress)
    console.print(
        f"design: {record['candidates']} new compositions for {', '.join(record['targets'])}; "
        f"mean P(meet every target) {record['mean_p_meet']:.2f} -> {folder / 'candidates.csv'}"
    )
    return record


def _report(settings: dict, results: dict, progress) -> dict:
    from matlattice.report.build import write_report

    path = settings["out"] / "report.html"
    written = write_report([settings["out"]], path, title="matlattice demo", progress=progress)
    console.print(f"report -> {path} ({written['bytes'] / 1e6:.1f} MB, open it in a browser)")
    return written
