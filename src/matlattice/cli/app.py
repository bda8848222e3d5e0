"""Command line: ``matlattice data|featurize|fit|predict|demo``; parse, call the API, print."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from matlattice.cli.campaign import campaign_app
from matlattice.cli.common import friendly_errors as _friendly_errors
from matlattice.cli.common import progress_bar as _progress
from matlattice.cli.common import read_formulas as _read_formulas
from matlattice.cli.demo import demo
from matlattice.cli.tables import (
    console,
    fmt,
    print_calibration,
    print_fidelity,
    print_lattice,
    print_metrics,
)

app = typer.Typer(
    help="matlattice: materials representation learning on real data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: list, info, fetch, audit.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(campaign_app, name="campaign")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False):
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# --- data ------------------------------------------------------------------------------------
@data_app.command("list")
def data_list(kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None):
    """List the registered datasets."""
    from matlattice.data import REGISTRY

    table = Table("name", "kind", "properties", "title")
    for name, info in REGISTRY.items():
        if kind is None or info.kind == kind:
            table.add_row(name, info.kind, ", ".join(info.property_names), info.title)
    console.print(table)


@data_app.command("info")
def data_info(name: str):
    """Metadata of a dataset (sizes and splits too, when its data are cached)."""
    from matlattice.data import dataset_info, load_dataset
    from matlattice.data.fetch import is_cached

    with _friendly_errors():
        info = dataset_info(name)
        console.print(f"[bold]{info.name}[/] ({info.kind}): {info.title}")
        console.print(
            f"source:   {info.source}\ncitation: {info.citation}\nlicence:  {info.licence}"
        )
        console.print(f"splits:   {info.splits}")
        if info.notes:
            console.print(f"notes:    {info.notes}")
        table = Table("property", "unit", "task", "physical", "plausible", "description")
        for p in info.properties:
            table.add_row(p.name, p.unit, p.task, str(p.physical), str(p.plausible), p.description)
        console.print(table)
        source = "matminer" if info.kind == "transport" else "crabnet"
        if is_cached(source):
            ds = load_dataset(name)
            parts = (
                ds.frame["split"].value_counts().to_dict()
                if "split" in ds.frame
                else ds.frame["fold"].value_counts().sort_index().to_dict()
            )
            console.print(f"rows: {len(ds)}  parts: {parts}")
            console.print(f"load report: {ds.report.summary()}")
        else:
            console.print(f"(not cached: run `matlattice data fetch {source}` for sizes)")


@data_app.command("fetch")
def data_fetch(
    sources: Annotated[list[str] | None, typer.Argument(help="crabnet, matbench, matminer")] = None,
    wheel: Annotated[
        Path | None, typer.Option(help="Use this wheel file (still verified).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if cached.")] = False,
):
    """Download the pinned wheels with pip, verify their sha256 and cache their data."""
    from matlattice.data.fetch import SOURCES, fetch_source

    names = sources or list(SOURCES)
    if wheel is not None and len(names) != 1:
        raise typer.BadParameter("--wheel needs exactly one source name")
    with _friendly_errors():
        for name in names:
            start = time.perf_counter()
            path = fetch_source(name, wheel=wheel, force=force)
            console.print(f"{name}: {path} ({time.perf_counter() - start:.1f} s)")


@data_app.command("audit")
def data_audit(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write findings as JSON.")] = None,
):
    """Audit a dataset: statistics per property and the faults found."""
    from matlattice.data.audit import audit_dataset

    with _friendly_errors():
        result = audit_dataset(data)
    stats = Table("property", "unit", "n", "coverage", "min", "median", "max")
    for name, s in result.properties.items():
        stats.add_row(
            name,
            s["unit"],
            str(s["n_records"]),
            f"{s['coverage']:.1%}",
            fmt(s.get("min")),
            fmt(s.get("median")),
            fmt(s.get("max")),
        )
    console.print(
        f"[bold]{result.dataset}[/]: {result.n_rows} rows from {result.n_records} records"
    )
    console.print(stats)
    findings = Table("kind", "property", "count", "examples")
    for f in result.findings:
        findings.add_row(
            f["kind"], f["property"] or "-", str(f["count"]), "; ".join(map(str, f["examples"][:3]))
        )
    console.print(findings)
    if json_out:
        result.to_json(json_out)
        console.print(f"wrote {json_out}")


# --- featurize / fit / predict ------------------------------------------------------------------
@app.command()
def featurize(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet with 'formula'.")],
    table: Annotated[str, typer.Option(help="Element table (elementembeddings).")] = "magpie",
    stats: Annotated[
        str, typer.Option(help="Comma-separated statistics.")
    ] = "min,max,range,mean,avg_dev,mode",
    missing: Annotated[str, typer.Option(help="raise | nan | mean")] = "raise",
    output: Annotated[Path, typer.Option("--output", "-o", help="Output .parquet or .csv")] = Path(
        "features.parquet"
    ),
):
    """Composition-weighted element statistics for every formula of DATA."""
    from matlattice.represent import ElementStatsFeaturizer
    from matlattice.runtime.files import atomic_write_table

    with _friendly_errors():
        frame = _read_formulas(data)
        start = time.perf_counter()
        featurizer = ElementStatsFeaturizer(table, stats=tuple(stats.split(",")), missing=missing)
        X = featurizer.fit_transform(frame["formula"].tolist())
        elapsed = time.perf_counter() - start
        out = pd.DataFrame(X, columns=featurizer.get_feature_names_out())
        out.insert(0, "formula", frame["formula"].to_numpy())
        atomic_write_table(output, out)
    console.print(
        f"{X.shape[0]} formulas x {X.shape[1]} features in {elapsed:.2f} s "
        f"({X.shape[0] / max(elapsed, 1e-9):,.0f} formulas/s) -> {output}"
    )


@app.command()
def fit(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path("runs/fit"),
    model: Annotated[str, typer.Option(help="rf | attention | mlp")] = "rf",
    tasks: Annotated[
        str,
        typer.Option(
            help="Comma-separated properties (default: all), or 'auto': one model per task "
            "group the entanglement lattice of the training part recommends."
        ),
    ] = "",
    split: Annotated[
        str | None,
        typer.Option(
            help="official | random | chemsys | cluster (default: official where it exists)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of splits, forests and networks.")] = 0,
    latent_dim: Annotated[int, typer.Option(help="Embedding width d (attention, mlp).")] = 32,
    ensemble: Annotated[int, typer.Option(help="Ensemble members (attention, mlp).")] = 1,
    epochs: Annotated[int, typer.Option(help="Maximum epochs (attention, mlp).")] = 300,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs.")] = 40,
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = 256,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-3,
    element_table: Annotated[str, typer.Option(help="Element table of the tokens.")] = "mat2vec",
    device: Annotated[str, typer.Option(help="cpu | cuda")] = "cpu",
    jobs: Annotated[int, typer.Option(help="Processes training ensemble members.")] = 1,
    init_from: Annotated[
        Path | None,
        typer.Option(help="Run folder whose encoder initialises this model (transfer)."),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Resume from the run's checkpoints.")] = False,
    n_estimators: Annotated[int, typer.Option(help="Trees per task (rf).")] = 500,
    clean: Annotated[bool, typer.Option(help="Apply the documented cleaning rules.")] = False,
    folds: Annotated[str, typer.Option(help="Official folds to run, e.g. 0,1 (default all).")] = "",
    task_weighting: Annotated[
        str, typer.Option(help="equal | uncertainty | gradnorm | pcgrad (multi-task losses).")
    ] = "equal",
    adapter_dim: Annotated[
        int, typer.Option(help="0: hard sharing; > 0: soft sharing, per-task adapters this wide.")
    ] = 0,
    early_stopping: Annotated[
        str,
        typer.Option(help="mean | per_task (each task keeps the weights of its own best epoch)."),
    ] = "mean",
    target_scale: Annotated[
        str,
        typer.Option(
            help="iqr | mean_abs_dev (per-task target scale; mean_abs_dev does not collapse "
            "when most labels share one value)."
        ),
    ] = "iqr",
    auto_transfer: Annotated[
        bool,
        typer.Option(help="With --tasks auto: add the pairwise transfer trainings to the lattice."),
    ] = False,
    heteroscedastic: Annotated[
        bool, typer.Option(help="Heads also predict their noise (aleatoric spread).")
    ] = False,
    cv_members: Annotated[
        bool,
        typer.Option(
            help="Member k trains without composition fold k (needs --ensemble K): CV+ "
            "prediction intervals, and the gates of --fine-tune/--helpers/--gate read "
            "out-of-fold errors on the whole training part."
        ),
    ] = False,
    fine_tune: Annotated[
        bool,
        typer.Option(
            help="Pretrain one shared model on all tasks, fine-tune one per task, keep per "
            "task the fine-tuned or the single-task model, whichever validates better."
        ),
    ] = False,
    helpers: Annotated[
        bool,
        typer.Option(
            help="Learn each task beside the properties whose transfer into it the lattice "
            "measures as largest; keep per task that model or the single-task one, whichever "
            "validates better."
        ),
    ] = False,
    gate: Annotated[
        bool,
        typer.Option(
            help="Train the tasks (or, with --tasks auto, each lattice group) once, each task "
            "alone as well, and keep per task whichever validates better."
        ),
    ] = False,
    gate_folds: Annotated[
        int,
        typer.Option(
            help="With --fine-tune, --helpers, --gate or --borrow: K >= 2 judges each arm by the "
            "out-of-fold error of K cross-validation models (K times the training), then "
            "retrains the chosen arm on the whole training part; 0: the validation gate."
        ),
    ] = 0,
    borrow: Annotated[
        list[str] | None,
        typer.Option(
            help="Borrow another dataset's properties as helper columns, DATASET[:PROPERTY]"
            "[@ROWS] (repeatable; merged per composition, never scored): each task learns "
            "beside the borrowed ones coupled to it, behind the gate of --helpers."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Re-run exactly the config.json of an earlier run (other options ignored)."
        ),
    ] = None,
):
    """Fit a model, score it on the held-out test part, write a run folder."""
    from matlattice.jobs.fit import MODELS, SPLITS, FitConfig, fit_run
    from matlattice.models.estimator.scaling import SPREADS
    from matlattice.models.networks.task_weighting import WEIGHTINGS

    if split is not None and split not in SPLITS:
        raise typer.BadParameter(f"--split {split!r}; expected one of {', '.join(SPLITS)}")
    if model not in MODELS:
        raise typer.BadParameter(f"--model {model!r}; expected one of {', '.join(MODELS)}")
    if task_weighting not in WEIGHTINGS:
        raise typer.BadParameter(
            f"--task-weighting {task_weighting!r}; expected one of {', '.join(WEIGHTINGS)}"
        )
    if early_stopping not in ("mean", "per_task"):
        raise typer.BadParameter(f"--early-stopping {early_stopping!r}; expected mean or per_task")
    if target_scale not in SPREADS:
        raise typer.BadParameter(
            f"--target-scale {target_scale!r}; expected one of {', '.join(SPREADS)}"
        )
    if config is not None:
        settings = FitConfig.from_json(config)
    else:
        settings = FitConfig(
            data=data,
            tasks=tuple(t for t in tasks.split(",") if t),
            split=split,
            seed=seed,
            clean=clean,
            model=model,
            n_estimators=n_estimators,
            latent_dim=latent_dim,
            ensemble=ensemble,
            epochs=epochs,
            patience=patience,
            batch_size=batch_size,
            lr=lr,
            element_table=element_table,
            device=device,
            n_jobs=jobs,
            init_from=str(init_from) if init_from else None,
            resume=resume,
            folds=tuple(int(k) for k in folds.split(",") if k),
            task_weighting=task_weighting,
            adapter_dim=adapter_dim,
            early_stopping=early_stopping,
            target_scale=target_scale,
            auto_transfer=auto_transfer,
            heteroscedastic=heteroscedastic,
            cv_members=cv_members,
            fine_tune=fine_tune,
            helpers=helpers,
            gate=gate,
            gate_folds=gate_folds,
            borrow=tuple(borrow or ()),
        )
    with _friendly_errors(), _progress(f"fitting {settings.data}") as progress:
        metrics = fit_run(settings, out, progress=progress)
    print_metrics(metrics)
    console.print(f"run folder: {out}")


def _ints(text: str, option: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"{option} {text!r}; expected comma-separated integers") from None


@app.command()
def fidelity(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path(
        "runs/fidelity"
    ),
    dims: Annotated[str, typer.Option(help="Bottleneck widths.")] = "1,2,4,8,16,32,64,128",
    model: Annotated[str, typer.Option(help="Encoder: mlp | attention")] = "mlp",
    tasks: Annotated[str, typer.Option(help="Comma-separated properties (default: all).")] = "",
    seeds: Annotated[str, typer.Option(help="One model per width and seed.")] = "0",
    ensemble: Annotated[int, typer.Option(help="Members per model (uncertainty).")] = 3,
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 200,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs.")] = 25,
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = 256,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-3,
    element_table: Annotated[str, typer.Option(help="Element table (attention).")] = "mat2vec",
    kl_weights: Annotated[
        str, typer.Option(help="KL weights of a variational bottleneck to sweep, e.g. 0,1e-3,1e-2.")
    ] = "",
    vib_dim: Annotated[int, typer.Option(help="Width of the variational bottleneck.")] = 0,
    baselines: Annotated[bool, typer.Option(help="Also PCA and random projection.")] = True,
    k: Annotated[int, typer.Option(help="Neighbours for k-NN overlap.")] = 10,
    threshold: Annotated[float, typer.Option(help="Fidelity share kept by the choice.")] = 0.97,
    alpha: Annotated[float, typer.Option(help="Adaptive loop: fidelity weight.")] = 1.0,
    beta: Annotated[float, typer.Option(help="Adaptive loop: cost weight.")] = 0.01,
    executor: Annotated[str, typer.Option(help="local | ray")] = "local",
    jobs: Annotated[int, typer.Option(help="Widths trained at once.")] = 1,
    subsample: Annotated[int, typer.Option(help="Rows kept, stratified (0: all).")] = 0,
    device: Annotated[str, typer.Option(help="cpu | cuda")] = "cpu",
    seed: Annotated[int, typer.Option(help="Seed of the split and the probe sample.")] = 0,
    config: Annotated[
        Path | None, typer.Option(help="Re-run the config.json of an earlier sweep.")
    ] = None,
):
    """Compression-fidelity sweep: what each embedding width keeps, what it costs, which to use."""
    from matlattice.jobs.compression import FidelityConfig, fidelity_run

    if config is not None:
        settings = FidelityConfig.from_json(config)
    else:
        try:
            weights = tuple(float(w) for w in kl_weights.split(",") if w.strip())
        except ValueError:
            raise typer.BadParameter(f"--kl-weights {kl_weights!r}; expected numbers") from None
        settings = FidelityConfig(
            data=data,
            dims=_ints(dims, "--dims"),
            encoder=model,
            tasks=tuple(t for t in tasks.split(",") if t),
            seeds=_ints(seeds, "--seeds"),
            ensemble=ensemble,
            epochs=epochs,
            patience=patience,
            batch_size=batch_size,
            lr=lr,
            element_table=element_table,
            device=device,
            kl_weights=weights,
            vib_dim=vib_dim or None,
            baselines=baselines,
            k=k,
            threshold=threshold,
            alpha=alpha,
            beta=beta,
            executor=executor,
            n_jobs=jobs,
            split_seed=seed,
            subsample=subsample,
        )
    with _friendly_errors(), _progress(f"fidelity sweep on {settings.data}") as progress:
        progress(f"{len(settings.dims)} widths x {len(settings.seeds)} seeds")
        summary = fidelity_run(settings, out)
    print_fidelity(summary)
    console.print(f"run folder: {out} (fidelity.json, figures)")


@app.command()
def entangle(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path(
        "runs/entangle"
    ),
    tasks: Annotated[str, typer.Option(help="Comma-separated properties (default: all).")] = "",
    latent_dim: Annotated[int, typer.Option(help="Shared bottleneck width.")] = 16,
    epochs: Annotated[int, typer.Option(help="Maximum epochs per model.")] = 80,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs.")] = 15,
    lr: Annotated[float, typer.Option(help="Peak learning rate (also the lookahead step).")] = 1e-3,
    transfer: Annotated[
        bool, typer.Option(help="Run the single- and two-task trainings (transfer gain).")
    ] = True,
    probe_size: Annotated[int, typer.Option(help="Rows of the probe batch.")] = 1024,
    executor: Annotated[str, typer.Option(help="local | ray")] = "local",
    jobs: Annotated[int, typer.Option(help="Transfer trainings at once.")] = 1,
    device: Annotated[str, typer.Option(help="cpu | cuda")] = "cpu",
    seed: Annotated[int, typer.Option(help="Seed of the split, models and probe.")] = 0,
    subsample: Annotated[
        int, typer.Option(help="Rows kept (80/10/10 of train/val/test), stratified (0: all).")
    ] = 0,
    borrow: Annotated[
        list[str] | None,
        typer.Option(
            help="Add another dataset's properties to the lattice, DATASET[:PROPERTY][@ROWS] "
            "(repeatable; merged per composition, as in fit --borrow)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Re-run the config.json of an earlier lattice.")
    ] = None,
):
    """Property entanglement lattice: coupling between properties, regime, risk gates, groups."""
    from matlattice.jobs.entangle import EntangleConfig, entangle_run

    if config is not None:
        settings = EntangleConfig.from_json(config)
    else:
        settings = EntangleConfig(
            data=data,
            tasks=tuple(t for t in tasks.split(",") if t),
            model_params={
                "latent_dim": latent_dim,
                "epochs": epochs,
                "patience": patience,
                "lr": lr,
            },
            transfer=transfer,
            probe_size=probe_size,
            executor=executor,
            n_jobs=jobs,
            seed=seed,
            device=device,
            subsample=subsample,
            borrow=tuple(borrow or ()),
        )
    with _friendly_errors(), _progress(f"entanglement lattice of {settings.data}") as progress:
        progress(
            "multi-task fit with coupling monitor" + (", transfer trainings" if transfer else "")
        )
        summary = entangle_run(settings, out)
    print_lattice(summary)
    console.print(f"run folder: {out} (lattice.json, lattice.png, edge_heatmap.png)")


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="Run folder written by `matlattice fit`.")],
    formulas: Annotated[Path, typer.Argument(help="CSV/parquet with 'formula', or .txt list.")],
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("predictions.csv"),
    interval: Annotated[
        float | None,
        typer.Option(
            help="Nominal coverage of prediction intervals, e.g. 0.9: adds <p>_lo, <p>_hi, "
            "domain_distance and in_domain."
        ),
    ] = None,
):
    """Predict every task of a fitted run for new formulas."""
    from matlattice.jobs.predict import predict_run
    from matlattice.runtime.files import atomic_write_table

    if interval is not None and not 0 < interval < 1:
        raise typer.BadParameter(f"--interval {interval!r}; expected a coverage in (0, 1)")
    with _friendly_errors():
        frame = _read_formulas(str(formulas))
        preds = predict_run(run, frame["formula"].tolist(), interval=interval)
        atomic_write_table(output, preds)
    console.print(f"{len(preds)} predictions -> {output}")


@app.command()
def calibrate(
    run: Annotated[Path, typer.Argument(help="Run folder written by `matlattice fit`.")],
    method: Annotated[
        str,
        typer.Option(help="isotonic | variance_scaling | conformal | conformal_normalised"),
    ] = "isotonic",
):
    """Calibrate a run's uncertainty on its validation part; judge it on its test part."""
    from matlattice.jobs.calibrate import calibrate_run
    from matlattice.uncertainty.calibrators import CALIBRATIONS

    if method not in CALIBRATIONS:
        raise typer.BadParameter(f"--method {method!r}; expected one of {', '.join(CALIBRATIONS)}")
    with _friendly_errors():
        summary = calibrate_run(run, method)
    print_calibration(summary)
    console.print(f"calibration -> {run / 'calibration.json'}, {run / 'calibration.png'}")


app.command()(demo)


if __name__ == "__main__":  # pragma: no cover
    app()
