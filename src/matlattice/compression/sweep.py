"""The compression-fidelity sweep: one shared-bottleneck model per width, measured five ways.

For each width ``d`` (and seed) one multi-task model is trained on all selected properties
through one shared bottleneck of width ``d``; the job returns its test predictions, ensemble
spread, a probe sample of its embedding, a reconstruction score and its costs. The sweep then
compares every width with a mean-predictor floor and with the widest model:

- predictive fidelity per property (MAE/RMSE/R², ROC-AUC for classes) and its normalised
  value in [0, 1] (0: mean predictor or chance, 1: the widest model);
- neighbourhood fidelity: k-NN overlap and trustworthiness against the uncompressed
  (standardised Magpie) features, k-NN overlap and linear CKA against the widest embedding;
- reconstruction fidelity: a decoder (MLP) trained on the frozen embedding to rebuild the
  standardised features and the fractional composition, R² on the test probe;
- uncertainty fidelity: miscalibration area of the ensemble spread;
- cost: parameters, bytes per material (float32), train seconds, predictions per second;
- the erosion order of properties and of chemical families.

PCA and random projection of the same features are measured at the same widths as baselines,
and a variational bottleneck swept over its KL weight gives fidelity against measured rate.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.compression.baselines import compression_baselines
from matlattice.compression.choose import (
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    DEFAULT_THRESHOLD,
    adaptive_width,
    knee_dim,
    pareto_front,
    recommended_dim,
)
from matlattice.compression.scoring import (
    SweepScoring,
    erosion,
    variational_entries,
    width_entry,
)
from matlattice.compression.width import (
    WidthJob,
    _CachedJob,
    _job_name,
    _run_cached,
    _standard_features,
)
from matlattice.data import Dataset, load_dataset
from matlattice.data.parts import resolve_parts
from matlattice.errors import InvalidParameterError
from matlattice.runtime.executor import get_executor

__all__ = ["FidelityResult", "chemical_family", "fidelity_sweep"]

log = logging.getLogger(__name__)
DEFAULT_DIMS = (1, 2, 4, 8, 16, 32, 64, 128)

_FAMILIES = (
    ("halide", {"F", "Cl", "Br", "I"}),
    ("oxide", {"O"}),
    ("chalcogenide", {"S", "Se", "Te"}),
    ("pnictide", {"N", "P", "As", "Sb"}),
    ("carbide/boride/hydride", {"C", "B", "H"}),
)


def chemical_family(formulas: Sequence[str]) -> np.ndarray:
    """A coarse chemical family per formula, by its anion-like elements, first match in the
    order halide, oxide, chalcogenide, pnictide, carbide/boride/hydride; else intermetallic."""
    present = parse_formulas(list(formulas)).fractions.tolil().rows
    labels = []
    for cols in present:
        symbols = {SYMBOLS[c] for c in cols}
        labels.append(next((name for name, s in _FAMILIES if symbols & s), "intermetallic"))
    return np.array(labels)


@dataclass
class FidelityResult:
    """The sweep's findings; ``to_dict()`` is the ``fidelity.json`` contract."""

    summary: dict
    embeddings: dict[int, np.ndarray] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict:
        return self.summary

    @property
    def recommended_dim(self) -> int:
        return int(self.summary["recommended_dim"])


# --- plan: the parts, the tasks, the probe and the fits -------------------------------------
@dataclass(frozen=True)
class _SweepPlan:
    """What a sweep measures: its parts, tasks, widths, seeds and probe rows of the test part."""

    name: str
    encoder: str
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    tasks: list[str]
    classification: bool
    dims: list[int]
    seeds: list[int]
    ensemble: int
    probe: np.ndarray
    params: dict
    k: int
    split_seed: int

    def jobs(self, kl_weights: Sequence[float], vib_width: int, num_threads: int) -> list[WidthJob]:
        """One fit per width and seed, then one per KL weight and seed at ``vib_width``."""
        common = dict(
            encoder=self.encoder,
            tasks=tuple(self.tasks),
            classification=self.classification,
            train=self.train[["formula", *self.tasks]],
            val=self.val[["formula", *self.tasks]],
            test_formulas=tuple(self.test["formula"]),
            probe=self.probe,
            model_params=self.params,
            num_threads=num_threads,
        )
        jobs = [WidthJob(d=d, seed=s, **common) for d in self.dims for s in self.seeds]
        return jobs + [
            WidthJob(d=vib_width, seed=s, kl_weight=float(w), **common)
            for w in kl_weights
            for s in self.seeds
        ]


def _resolve_data(data, tasks, split_seed: int):
    """(train, val, test, tasks, classification, name) from a Dataset, name, path or frame.

    A dataset's own parts, or for official folds fold 0 as the test part and a seeded
    composition-level 10 % of the other folds as val; a frame is split 80/10/10 by composition
    (:func:`~matlattice.data.parts.resolve_parts`, seeded by ``split_seed``).
    """
    name = "frame"
    kinds: dict[str, str] = {}
    if isinstance(data, str | os.PathLike):
        data = load_dataset(data)
    if isinstance(data, Dataset):
        name = data.name
        kinds = {p.name: p.task for p in data.info.properties}
        if "split" not in data.frame.columns:  # official folds: fold 0 is the test part
            train_all, test = data.fold(0)
            parts = resolve_parts(train_all, "random", fractions=(0.9, 0.1, 0.0), seed=split_seed)
            train, val = train_all[parts == "train"], train_all[parts == "val"]
        else:
            parts = resolve_parts(data.frame, "official")
            train, val, test = (data.frame[parts == p] for p in ("train", "val", "test"))
    elif isinstance(data, pd.DataFrame):
        if "formula" not in data.columns:
            raise InvalidParameterError(
                f"the frame needs a 'formula' column; it has {list(data.columns)}"
            )
        parts = resolve_parts(data, "random", seed=split_seed)
        train, val, test = (data[parts == p] for p in ("train", "val", "test"))
    else:
        raise InvalidParameterError(
            f"data of type {type(data).__name__}; expected a Dataset, name or frame"
        )
    skip = {"formula", "split", "fold", "entry_id"}
    available = [
        c for c in train.columns if c not in skip and pd.api.types.is_numeric_dtype(train[c])
    ]
    tasks = list(tasks) if tasks else available
    missing = [t for t in tasks if t not in available]
    if missing:
        raise InvalidParameterError(f"tasks {missing} are not in the data; choose from {available}")
    task_kinds = {kinds.get(t, "regression") for t in tasks}
    if len(task_kinds) > 1:
        raise InvalidParameterError(
            "mix of regression and classification tasks; sweep them separately"
        )
    classification = task_kinds == {"classification"}
    frames = [f.reset_index(drop=True) for f in (train, val, test)]
    return (*frames, tasks, classification, name)


def _plan(data, dims, tasks, *, encoder, seeds, ensemble, model_params, k, probe_size, split_seed):
    """The :class:`_SweepPlan` of :func:`fidelity_sweep`'s arguments (validated)."""
    dims = sorted({int(d) for d in dims})
    if not dims or dims[0] < 1:
        raise InvalidParameterError(f"dims={dims!r}; need positive widths")
    if len(dims) < 2:
        raise InvalidParameterError("a sweep needs at least two widths")
    train, val, test, tasks, classification, name = _resolve_data(data, tasks, split_seed)
    n_probe = min(probe_size, len(test))
    if n_probe <= 2 * k:  # trustworthiness needs k < n / 2
        raise InvalidParameterError(
            f"the test part gives {n_probe} probe rows; neighbourhoods of k = {k} need more "
            f"than 2k = {2 * k}: lower --k or use more data"
        )
    rng = np.random.default_rng(split_seed)
    probe = np.sort(rng.permutation(len(test))[:n_probe])
    params = {"ensemble": int(ensemble), **(model_params or {})}
    return _SweepPlan(
        name,
        encoder,
        train,
        val,
        test,
        tasks,
        classification,
        dims,
        list(seeds),
        int(ensemble),
        probe,
        params,
        k,
        split_seed,
    )


def _default_threads() -> int:
    """Torch's thread count (which honours ``OMP_NUM_THREADS``), else the core count."""
    import torch

    return int(torch.get_num_threads() or os.cpu_count() or 1)


# --- the sweep -----------------------------------------------------------------------------
def fidelity_sweep(
    data: object,
    dims: Sequence[int] = DEFAULT_DIMS,
    *,
    encoder: str = "mlp",
    tasks: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    ensemble: int = 3,
    model_params: dict | None = None,
    kl_weights: Sequence[float] = (),
    vib_dim: int | None = None,
    baselines: bool = True,
    k: int = 10,
    probe_size: int = 2000,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    executor: str = "local",
    n_jobs: int = 1,
    split_seed: int = 0,
    cache_dir: Path | None = None,
    num_threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> FidelityResult:
    """Measure what each bottleneck width keeps and loses, what it costs, and choose one.

    Parameters
    ----------
    data : a :class:`~matlattice.data.Dataset`, a registry name or file path, or a DataFrame
        with ``formula`` and property columns (split 80/10/10 by composition, seeded)
    dims : widths of the shared bottleneck
    encoder : ``"mlp"`` (Magpie features) or ``"attention"`` (element tokens)
    tasks : properties to compress together (default: all)
    seeds : one model per width and seed; metrics are averaged over seeds
    ensemble : members per model (their spread is the uncertainty that is calibrated)
    model_params : other :class:`~matlattice.models.LatticeRegressor` parameters (epochs...)
    kl_weights : KL weights of a variational bottleneck of width ``vib_dim`` (default: the
        widest) to sweep: the rate axis
    baselines : also measure PCA and random projection of the features at the same widths
    k : neighbours for k-NN overlap and trustworthiness
    probe_size : test materials whose embeddings are compared (neighbourhoods are O(n²))
    threshold : ``recommended_dim`` keeps at least this share of the widest model's mean
        normalised predictive fidelity
    alpha, beta : weights of the adaptive widening loop (see :mod:`matlattice.compression.choose`)
    executor, n_jobs : ``"local"`` processes (``n_jobs`` at once) or ``"ray"``
    split_seed : seed of the split (frames without one) and of the probe sample
    cache_dir : folder keeping each finished fit; a rerun with the same folder resumes
    num_threads : torch threads per fit (default: the cores shared among ``n_jobs`` workers)
    progress : called with ``"fits k/n"`` as each fit ends
    """
    plan = _plan(
        data,
        dims,
        tasks,
        encoder=encoder,
        seeds=seeds,
        ensemble=ensemble,
        model_params=model_params,
        k=k,
        probe_size=probe_size,
        split_seed=split_seed,
    )
    n_workers = max(int(n_jobs), 1)
    threads = num_threads or max(_default_threads() // n_workers, 1)
    vib_width = int(vib_dim or plan.dims[-1])
    jobs = plan.jobs(kl_weights, vib_width, threads)
    log.info("fidelity sweep on %s: %d fits", plan.name, len(jobs))
    cached = [
        _CachedJob(job, Path(cache_dir) / _job_name(job) if cache_dir is not None else None)
        for job in jobs
    ]
    report = (lambda done, total: progress(f"fits {done}/{total}")) if progress else None
    results = get_executor(executor, n_workers).map(_run_cached, cached, progress=report)
    summary = _summarise(
        plan,
        results,
        vib_width=vib_width,
        baselines=baselines,
        threshold=threshold,
        alpha=alpha,
        beta=beta,
    )
    embeddings = {
        r["d"]: r["embedding"]
        for r in results
        if r["kl_weight"] is None and r["seed"] == plan.seeds[0]
    }
    return FidelityResult(summary, embeddings)


# --- score: the fidelity.json summary ------------------------------------------------------
def _summarise(
    plan: _SweepPlan,
    results: list[dict],
    *,
    vib_width: int,
    baselines: bool,
    threshold: float,
    alpha: float,
    beta: float,
) -> dict:
    """The ``fidelity.json`` dictionary of a plan's fit ``results``."""
    dims, tasks, classification, k = plan.dims, plan.tasks, plan.classification, plan.k
    plain = [r for r in results if r["kl_weight"] is None]
    by_dim = {d: [r for r in plain if r["d"] == d] for d in dims}
    widest_by_seed = {r["seed"]: r for r in by_dim[dims[-1]]}
    scoring = SweepScoring.build(plan.train, plan.test, tasks, classification, by_dim[dims[-1]])
    probe_formulas = plan.test["formula"].to_numpy()[plan.probe]
    _, features = _standard_features(plan.train["formula"], probe_formulas)
    families = chemical_family(probe_formulas)
    per_dim = [
        width_entry(d, by_dim[d], scoring, features, families, widest_by_seed, k) for d in dims
    ]
    fid = [p["mean_normalised"] for p in per_dim]
    skill_by_dim = {p["d"]: p["skill"] for p in per_dim}
    chosen, path = adaptive_width(skill_by_dim.__getitem__, dims, alpha=alpha, beta=beta)
    front = pareto_front([p["cost"]["bytes_per_material"] for p in per_dim], fid)
    variational = [r for r in results if r["kl_weight"] is not None]
    return {
        "dataset": plan.name,
        "encoder": plan.encoder,
        "tasks": list(tasks),
        "task_type": "classification" if classification else "regression",
        "dims": dims,
        "seeds": list(plan.seeds),
        "ensemble": plan.ensemble,
        "n_train": len(plan.train),
        "n_val": len(plan.val),
        "n_test": len(plan.test),
        "n_probe": len(plan.probe),
        "k": k,
        "floor": {t: float(scoring.floor[t]) for t in tasks},
        "per_dim": per_dim,
        "erosion_order": erosion(per_dim, tasks, threshold),
        "baselines": (
            compression_baselines(
                plan.train,
                plan.test,
                tasks,
                plan.probe,
                dims,
                scoring.floor,
                scoring.ceiling,
                scoring.key,
                classification,
                widest_by_seed,
                k,
                plan.split_seed,
            )
            if baselines
            else {}
        ),
        "variational": variational_entries(variational, vib_width, scoring, features, k),
        "pareto_front": [dims[i] for i in front],
        "knee": knee_dim(dims, fid),
        "recommended_dim": recommended_dim(dims, fid, threshold),
        "threshold": threshold,
        "adaptive": {"alpha": alpha, "beta": beta, "chosen": chosen, "steps": path},
        "adaptive_path": [step["d"] for step in path if step["accepted"]],
        "model_params": plan.params,
    }
