"""A fidelity run folder: config in, ``fidelity.json`` and figures out, resumable.

``RUN/config.json`` (the :class:`FidelityConfig`), ``RUN/fidelity.json`` (the contract of
:func:`~matlattice.compression.fidelity_sweep`), ``RUN/*.png`` (the figures), ``RUN/fits/`` (one
finished fit per width and seed: a rerun into the same folder skips them).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.compression.sweep import DEFAULT_DIMS, chemical_family, fidelity_sweep
from matlattice.data import Dataset, load_dataset
from matlattice.data.rejections import write_rejected
from matlattice.errors import MatlatticeError
from matlattice.jobs.config import JobConfig
from matlattice.report.fidelity_plots import save_fidelity_figures
from matlattice.runtime.files import atomic_write_json, json_safe

__all__ = ["FidelityConfig", "fidelity_run", "stratified_subsample", "subsample_dataset"]


@dataclass(frozen=True)
class FidelityConfig(JobConfig):
    """Everything that defines a fidelity sweep; saved as ``config.json`` beside its results.

    ``subsample`` > 0 keeps that many rows of each split part, stratified by chemical family
    (:func:`~matlattice.compression.chemical_family`) so rare families keep their share.
    """

    data: str
    dims: tuple[int, ...] = DEFAULT_DIMS
    encoder: str = "mlp"
    tasks: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0,)
    ensemble: int = 3
    epochs: int = 200
    patience: int = 25
    batch_size: int = 256
    lr: float = 1e-3
    element_table: str = "mat2vec"
    device: str = "cpu"
    kl_weights: tuple[float, ...] = ()
    vib_dim: int | None = None
    baselines: bool = True
    k: int = 10
    probe_size: int = 2000
    threshold: float = 0.97
    alpha: float = 1.0
    beta: float = 0.01
    executor: str = "local"
    n_jobs: int = 1
    split_seed: int = 0
    subsample: int = 0
    clean: bool = True


def stratified_subsample(frame: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of ``frame``, each chemical family keeping its share (at least one row)."""
    if n <= 0 or n >= len(frame):
        return frame
    families = chemical_family(frame["formula"].tolist())
    rng = np.random.default_rng(seed)
    keep = []
    for family in np.unique(families):
        rows = np.flatnonzero(families == family)
        take = max(1, round(n * len(rows) / len(frame)))
        keep.append(rng.choice(rows, size=min(take, len(rows)), replace=False))
    return frame.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)


def subsample_dataset(ds: Dataset, n: int, seed: int = 0) -> Dataset:
    """``ds`` cut to about ``n`` rows (0: unchanged): 80/10/10 of ``n`` from its train, val and
    test parts, each by :func:`stratified_subsample`, so no composition changes part."""
    if not n:
        return ds
    frame = ds.frame
    if "split" not in frame.columns:
        raise MatlatticeError("--subsample needs a dataset with a train/val/test split")
    share = {"train": 0.8, "val": 0.1, "test": 0.1}
    parts = [
        stratified_subsample(frame[frame["split"] == part], round(n * share[part]), seed)
        for part in ("train", "val", "test")
    ]
    return type(ds)(ds.info, pd.concat(parts, ignore_index=True), ds.report, ds.records)


def _config_record(config: FidelityConfig) -> dict:
    from importlib.metadata import version

    return {
        "config": config.to_dict(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {p: version(p) for p in ("matlattice", "numpy", "torch", "scikit-learn")},
        "python": platform.python_version(),
    }


def fidelity_run(
    config: FidelityConfig, out: Path, *, progress: Callable[[str], None] | None = None
) -> dict:
    """Run (or resume) the sweep of ``config`` into ``out``; return the summary dict.
    ``progress`` hears ``"fits k/n"`` as each fit ends."""
    out = Path(out)
    saved = out / "config.json"
    if saved.is_file():
        previous = FidelityConfig.from_json(saved)
        if previous != config:
            raise MatlatticeError(
                f"{out} holds a sweep with another config; choose a new --out folder (or "
                f"rerun it with --config {saved})"
            )
    atomic_write_json(saved, _config_record(config))
    ds = load_dataset(config.data, clean=config.clean)
    write_rejected(ds.report, out)
    data = subsample_dataset(ds, config.subsample, config.split_seed)
    result = fidelity_sweep(
        data,
        config.dims,
        encoder=config.encoder,
        tasks=config.tasks or None,
        seeds=config.seeds,
        ensemble=config.ensemble,
        model_params={
            "epochs": config.epochs,
            "patience": config.patience,
            "batch_size": config.batch_size,
            "lr": config.lr,
            "element_table": config.element_table,
            "device": config.device,
        },
        kl_weights=config.kl_weights,
        vib_dim=config.vib_dim,
        baselines=config.baselines,
        k=config.k,
        probe_size=config.probe_size,
        threshold=config.threshold,
        alpha=config.alpha,
        beta=config.beta,
        executor=config.executor,
        n_jobs=config.n_jobs,
        split_seed=config.split_seed,
        cache_dir=out / "fits",
        progress=progress,
    )
    summary = json_safe(result.to_dict())
    if config.subsample:
        summary["subsample"] = {"rows": config.subsample, "stratified_by": "chemical family"}
    atomic_write_json(out / "fidelity.json", summary)
    save_fidelity_figures(summary, out)
    return summary
