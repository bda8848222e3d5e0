"""``matlattice fit``, ``predict`` and ``calibrate``: the run folder's life."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import (
    config_from_file,
    print_rejected,
    progress_bar,
    read_formulas,
    typed_over,
)
from matlattice.cli.options import (
    BatchSize,
    ConfigFile,
    Device,
    ElementTable,
    Ensemble,
    Epochs,
    Executor,
    LatentDim,
    LearningRate,
    Patience,
    RunFolder,
    Seed,
    TableOutput,
    at_least,
    choice_of,
    comma_ints,
    comma_names,
    open_range,
)
from matlattice.cli.tables import console, print_calibration, print_metrics

__all__ = ["calibrate", "fit", "predict"]


def _flag(help_text: str) -> object:
    return typer.Option(help=help_text)


_Model = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.jobs.fit_models:MODELS"), help="rf | attention | mlp"
    ),
]
_Tasks = Annotated[
    str,
    typer.Option(
        help="Comma-separated properties (default: all), or 'auto': one model per task "
        "group the entanglement lattice of the training part recommends."
    ),
]
_Split = Annotated[
    str | None,
    typer.Option(
        callback=choice_of("matlattice.jobs.parts:SPLITS"),
        help="official | random | chemsys | cluster (default: official where it exists).",
    ),
]
_Jobs = Annotated[
    int, typer.Option(callback=at_least(1), help="Processes training ensemble members.")
]
_InitFrom = Annotated[
    Path | None,
    typer.Option(
        exists=True, file_okay=False, help="Run folder whose encoder initialises this model."
    ),
]
_NEstimators = Annotated[int, typer.Option(callback=at_least(1), help="Trees per task (rf).")]
_Forest = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.forest.estimator:FORESTS"),
        help="random | extra (rf): random forest, or extremely randomised trees (no "
        "out-of-bag rows: calibrate on held-out rows).",
    ),
]
_ForestFeatures = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.forest.estimator:FOREST_FEATURES"),
        help="stats | fractions (rf): Magpie statistics, or the element fractions themselves.",
    ),
]
_TaskWeighting = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.networks.task_weighting:WEIGHTINGS"),
        help="equal | uncertainty | gradnorm | pcgrad (multi-task losses).",
    ),
]
_AdapterDim = Annotated[
    int,
    typer.Option(
        callback=at_least(0),
        help="0: hard sharing; > 0: soft sharing, per-task adapters this wide.",
    ),
]
_EarlyStopping = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.networks.training:EARLY_STOPPING"),
        help="mean | per_task (each task keeps the weights of its own best epoch).",
    ),
]
_Precision = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.networks.training:PRECISIONS"),
        help="fp32 | bf16 (the training forward pass under bfloat16 autocast, for GPUs: "
        "on a CPU it measured 5x slower, bench/results/trainer_partial.md).",
    ),
]
_DecisionThreshold = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.thresholds:DECISION_THRESHOLDS"),
        help="half | balanced: hard labels of classification tasks cut at 0.5, or at the "
        "probability that maximises balanced accuracy on held-out training rows.",
    ),
]
_TargetScale = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.estimator.scaling:SPREADS"),
        help="iqr | mean_abs_dev (per-task target scale; mean_abs_dev does not collapse "
        "when most labels share one value).",
    ),
]
_TargetTransform = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.models.estimator.scaling:TRANSFORMS"),
        help="auto | none | log (per-task target transform; auto: log10 for positive "
        "right-skewed tasks).",
    ),
]
_AutoTransfer = Annotated[
    bool, _flag("With --tasks auto: add the pairwise transfer trainings to the lattice.")
]
_Heteroscedastic = Annotated[bool, _flag("Heads also predict their noise (aleatoric spread).")]
_CvMembers = Annotated[
    bool,
    _flag(
        "Member k trains without composition fold k (needs --ensemble K): CV+ prediction "
        "intervals, and the gates of --fine-tune/--helpers/--gate read out-of-fold errors "
        "on the whole training part."
    ),
]
_FineTune = Annotated[
    bool,
    _flag(
        "Pretrain one shared model on all tasks, fine-tune one per task, keep per task the "
        "fine-tuned or the single-task model, whichever validates better."
    ),
]
_Helpers = Annotated[
    bool,
    _flag(
        "Learn each task beside the properties whose transfer into it the lattice measures "
        "as largest; keep per task that model or the single-task one, whichever validates "
        "better."
    ),
]
_Gate = Annotated[
    bool,
    _flag(
        "Train the tasks (or, with --tasks auto, each lattice group) once, each task alone "
        "as well, and keep per task whichever validates better."
    ),
]


def _gate_folds(ctx: typer.Context, param: typer.CallbackParam, value: int) -> int:
    if not ctx.resilient_parsing and (value < 0 or value == 1):
        raise typer.BadParameter(f"{value!r}: expected 0 (the validation gate) or K >= 2")
    return value


_GateFolds = Annotated[
    int,
    typer.Option(
        callback=_gate_folds,
        help="With --fine-tune, --helpers, --gate or --borrow: K >= 2 judges each arm by the "
        "out-of-fold error of K cross-validation models (K times the training), then "
        "retrains the chosen arm on the whole training part; 0: the validation gate.",
    ),
]
_Borrow = Annotated[
    list[str] | None,
    typer.Option(
        help="Borrow another dataset's properties as helper columns, DATASET[:PROPERTY]"
        "[@ROWS] (repeatable; merged per composition, never scored): each task learns "
        "beside the borrowed ones coupled to it, behind the gate of --helpers."
    ),
]


_Preset = Annotated[
    str | None,
    typer.Option(
        callback=choice_of("matlattice.jobs.presets:PRESETS"),
        help="Named settings: fast (the defaults) | accurate (the CrabNet table's attention "
        "ensemble, several times slower); options typed beside it win.",
    ),
]


def fit(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path("runs/fit"),
    model: _Model = "rf",
    tasks: _Tasks = "",
    split: _Split = None,
    seed: Seed = 0,
    latent_dim: LatentDim = 32,
    ensemble: Ensemble = 1,
    epochs: Epochs = 300,
    patience: Patience = 40,
    batch_size: BatchSize = 256,
    lr: LearningRate = 1e-3,
    element_table: ElementTable = "mat2vec",
    device: Device = "cpu",
    jobs: _Jobs = 1,
    executor: Executor = "local",
    init_from: _InitFrom = None,
    resume: Annotated[
        bool, _flag("Continue the unfinished run in --out (refused if it is another run's).")
    ] = False,
    overwrite: Annotated[
        bool, _flag("Replace the run in --out; the old one stays until the new one is complete.")
    ] = False,
    n_estimators: _NEstimators = 500,
    forest: _Forest = "random",
    forest_features: _ForestFeatures = "stats",
    clean: Annotated[bool, _flag("Apply the documented cleaning rules.")] = False,
    folds: Annotated[str, typer.Option(help="Official folds to run, e.g. 0,1 (default all).")] = "",
    task_weighting: _TaskWeighting = "equal",
    adapter_dim: _AdapterDim = 0,
    early_stopping: _EarlyStopping = "mean",
    precision: _Precision = "fp32",
    decision_threshold: _DecisionThreshold = "half",
    target_scale: _TargetScale = "iqr",
    target_transform: _TargetTransform = "auto",
    auto_transfer: _AutoTransfer = False,
    heteroscedastic: _Heteroscedastic = False,
    cv_members: _CvMembers = False,
    fine_tune: _FineTune = False,
    helpers: _Helpers = False,
    gate: _Gate = False,
    gate_folds: _GateFolds = 0,
    borrow: _Borrow = None,
    config: ConfigFile = None,
    preset: _Preset = None,
):
    """Fit a model, score it on the held-out test part, write a run folder."""
    from matlattice.jobs.config import FitConfig
    from matlattice.jobs.fit import fit_run

    settings = FitConfig(
        data=data,
        tasks=comma_names(tasks, "--tasks"),
        split=split,
        seed=seed,
        clean=clean,
        model=model,
        n_estimators=n_estimators,
        forest=forest,
        forest_features=forest_features,
        latent_dim=latent_dim,
        ensemble=ensemble,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        lr=lr,
        element_table=element_table,
        device=device,
        n_jobs=jobs,
        executor=executor,
        init_from=str(init_from) if init_from else None,
        resume=resume,
        overwrite=overwrite,
        folds=comma_ints(folds, "--folds"),
        task_weighting=task_weighting,
        adapter_dim=adapter_dim,
        early_stopping=early_stopping,
        precision=precision,
        decision_threshold=decision_threshold,
        target_scale=target_scale,
        target_transform=target_transform,
        auto_transfer=auto_transfer,
        heteroscedastic=heteroscedastic,
        cv_members=cv_members,
        fine_tune=fine_tune,
        helpers=helpers,
        gate=gate,
        gate_folds=gate_folds,
        borrow=tuple(borrow or ()),
    )
    settings = _file_or_preset(ctx, settings, config, preset)
    with progress_bar(f"fitting {settings.data}") as progress:
        metrics = fit_run(settings, out, progress=progress)
    print_metrics(metrics)
    print_rejected(out)
    console.print(f"run folder: {out}")


def _file_or_preset(ctx: typer.Context, settings, config: Path | None, preset: str | None):
    """The typed ``settings`` laid over a ``--config`` file's or a ``--preset``'s fields."""
    if config is not None and preset is not None:
        raise typer.BadParameter("give --config or --preset, not both")
    renames = {"jobs": "n_jobs"}
    if preset is not None:
        from matlattice.jobs.presets import PRESETS

        return typed_over(ctx, settings, {**PRESETS[preset], "data": settings.data},
                          renames=renames)  # fmt: skip
    if config is not None:
        resolved = config_from_file(config, settings.data, ctx, settings, renames=renames)
        return resolved.replace(resume=settings.resume, overwrite=settings.overwrite)
    return settings


def predict(
    run: RunFolder,
    formulas: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV/parquet with 'formula', or .txt list."
        ),
    ],
    output: TableOutput = Path("predictions.csv"),
    interval: Annotated[
        float | None,
        typer.Option(
            callback=open_range(0.0, 1.0),
            help="Nominal coverage of prediction intervals, e.g. 0.9: adds <p>_lo, <p>_hi, "
            "domain_distance and in_domain.",
        ),
    ] = None,
):
    """Predict every task of a fitted run for new formulas."""
    from matlattice.jobs.predict import predict_run
    from matlattice.runtime.files import atomic_write_table

    frame = read_formulas(str(formulas))
    preds = predict_run(run, frame["formula"].tolist(), interval=interval)
    atomic_write_table(output, preds)
    for task, source in preds.attrs.get("interval_sources", {}).items():
        console.print(f"{task} intervals: {source}", highlight=False, soft_wrap=True)
    console.print(f"{len(preds)} predictions -> {output}")


def calibrate(
    run: RunFolder,
    method: Annotated[
        str,
        typer.Option(
            callback=choice_of("matlattice.uncertainty.calibrators:CALIBRATIONS"),
            help="isotonic | variance_scaling | conformal | conformal_normalised",
        ),
    ] = "isotonic",
):
    """Calibrate a run's uncertainty on its validation part; judge it on its test part."""
    from matlattice.jobs.calibrate import calibrate_run

    summary = calibrate_run(run, method)
    print_calibration(summary)
    console.print(f"calibration -> {run / 'calibration.json'}, {run / 'calibration.png'}")
