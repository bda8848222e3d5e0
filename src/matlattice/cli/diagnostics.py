"""``matlattice fidelity`` (compression-fidelity sweep) and ``matlattice entangle`` (property
entanglement lattice): the two diagnostics of a dataset's learned representation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import check_rerun, print_rejected, progress_bar
from matlattice.cli.options import (
    BatchSize,
    Device,
    ElementTable,
    Epochs,
    Executor,
    LatentDim,
    LearningRate,
    Patience,
    RerunConfig,
    Seed,
    at_least,
    choice_of,
    comma_floats,
    comma_ints,
    comma_names,
    open_range,
)
from matlattice.cli.tables import console, print_fidelity, print_lattice

__all__ = ["entangle", "fidelity"]


def fidelity(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path(
        "runs/fidelity"
    ),
    dims: Annotated[str, typer.Option(help="Bottleneck widths.")] = "1,2,4,8,16,32,64,128",
    model: Annotated[
        str,
        typer.Option(
            callback=choice_of("matlattice.models.networks.encoders:ENCODERS"),
            help="Encoder: mlp | attention",
        ),
    ] = "mlp",
    tasks: Annotated[str, typer.Option(help="Comma-separated properties (default: all).")] = "",
    seeds: Annotated[str, typer.Option(help="One model per width and seed.")] = "0",
    ensemble: Annotated[
        int, typer.Option(callback=at_least(1), help="Members per model (uncertainty).")
    ] = 3,
    epochs: Epochs = 200,
    patience: Patience = 25,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    element_table: ElementTable = "mat2vec",
    kl_weights: Annotated[
        str, typer.Option(help="KL weights of a variational bottleneck to sweep, e.g. 0,1e-3,1e-2.")
    ] = "",
    vib_dim: Annotated[
        int, typer.Option(callback=at_least(0), help="Width of the variational bottleneck.")
    ] = 0,
    baselines: Annotated[bool, typer.Option(help="Also PCA and random projection.")] = True,
    k: Annotated[int, typer.Option(callback=at_least(1), help="Neighbours for k-NN overlap.")] = 10,
    threshold: Annotated[
        float,
        typer.Option(
            callback=open_range(0.0, 1.0, high_closed=True),
            help="Fidelity share kept by the choice.",
        ),
    ] = 0.97,
    alpha: Annotated[float, typer.Option(help="Adaptive loop: fidelity weight.")] = 1.0,
    beta: Annotated[float, typer.Option(help="Adaptive loop: cost weight.")] = 0.01,
    executor: Executor = "local",
    jobs: Annotated[int, typer.Option(callback=at_least(1), help="Widths trained at once.")] = 1,
    subsample: Annotated[
        int, typer.Option(callback=at_least(0), help="Rows kept, stratified (0: all).")
    ] = 0,
    device: Device = "cpu",
    seed: Seed = 0,
    config: RerunConfig = None,
):
    """Compression-fidelity sweep: what each embedding width keeps, what it costs, which to use."""
    from matlattice.jobs.compression import FidelityConfig, fidelity_run

    if config is not None:
        check_rerun(ctx, config, data, FidelityConfig.fields_in(config))
        settings = FidelityConfig.from_json(config)
    else:
        weights = comma_floats(kl_weights, "--kl-weights")
        settings = FidelityConfig(
            data=data,
            dims=_widths(dims),
            encoder=model,
            tasks=comma_names(tasks, "--tasks"),
            seeds=_seeds(seeds),
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
    with progress_bar(f"fidelity sweep on {settings.data}") as progress:
        progress(f"{len(settings.dims)} widths x {len(settings.seeds)} seeds")
        summary = fidelity_run(settings, out, progress=progress)
    print_fidelity(summary)
    print_rejected(out)
    console.print(f"run folder: {out} (fidelity.json, figures)")


def entangle(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path(
        "runs/entangle"
    ),
    tasks: Annotated[str, typer.Option(help="Comma-separated properties (default: all).")] = "",
    latent_dim: LatentDim = 16,
    epochs: Epochs = 80,
    patience: Patience = 15,
    lr: LearningRate = 1e-3,
    transfer: Annotated[
        bool, typer.Option(help="Run the single- and two-task trainings (transfer gain).")
    ] = True,
    probe_size: Annotated[
        int, typer.Option(callback=at_least(1), help="Rows of the probe batch.")
    ] = 1024,
    executor: Executor = "local",
    jobs: Annotated[
        int, typer.Option(callback=at_least(1), help="Transfer trainings at once.")
    ] = 1,
    device: Device = "cpu",
    seed: Seed = 0,
    subsample: Annotated[
        int,
        typer.Option(
            callback=at_least(0),
            help="Rows kept (80/10/10 of train/val/test), stratified (0: all).",
        ),
    ] = 0,
    borrow: Annotated[
        list[str] | None,
        typer.Option(
            help="Add another dataset's properties to the lattice, DATASET[:PROPERTY][@ROWS] "
            "(repeatable; merged per composition, as in fit --borrow)."
        ),
    ] = None,
    config: RerunConfig = None,
):
    """Property entanglement lattice: coupling between properties, regime, risk gates, groups."""
    from matlattice.jobs.entangle import EntangleConfig, entangle_run

    if config is not None:
        check_rerun(ctx, config, data, EntangleConfig.fields_in(config))
        settings = EntangleConfig.from_json(config)
    else:
        settings = EntangleConfig(
            data=data,
            tasks=comma_names(tasks, "--tasks"),
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
    with progress_bar(f"entanglement lattice of {settings.data}") as progress:
        progress(
            "multi-task fit with coupling monitor" + (", transfer trainings" if transfer else "")
        )
        summary = entangle_run(settings, out, progress=progress)
    print_lattice(summary)
    print_rejected(out)
    console.print(f"run folder: {out} (lattice.json, lattice.png, edge_heatmap.png)")


def _widths(text: str) -> tuple[int, ...]:
    """``--dims``: one or more bottleneck widths, each at least 1."""
    widths = comma_ints(text, "--dims")
    if not widths or min(widths) < 1:
        raise typer.BadParameter(f"--dims {text!r}; expected widths >= 1, e.g. 2,4,8")
    return widths


def _seeds(text: str) -> tuple[int, ...]:
    """``--seeds``: one model per width and seed, so at least one seed >= 0."""
    seeds = comma_ints(text, "--seeds")
    if not seeds or min(seeds) < 0:
        raise typer.BadParameter(f"--seeds {text!r}; expected seeds >= 0, e.g. 0,1,2")
    return seeds
