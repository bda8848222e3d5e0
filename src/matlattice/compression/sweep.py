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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.manifold import trustworthiness

from matlattice.composition import formula_keys, parse_formulas
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
from matlattice.compression.metrics import (
    linear_cka,
    miscalibration_area,
    normalised_fidelity,
    per_sample_knn_overlap,
    predictive_scores,
)
from matlattice.compression.width import (
    BYTES_PER_VALUE,
    WidthJob,
    _CachedJob,
    _job_name,
    _run_cached,
    _standard_features,
    mean_finite,
)
from matlattice.data import Dataset, load_dataset
from matlattice.data.splits import random_split
from matlattice.errors import InvalidParameterError
from matlattice.runtime.executor import get_executor

__all__ = ["FidelityResult", "chemical_family", "fidelity_sweep"]

log = logging.getLogger(__name__)
DEFAULT_DIMS = (1, 2, 4, 8, 16, 32, 64, 128)


# --- the sweep -----------------------------------------------------------------------------
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
    from matlattice.composition import SYMBOLS

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


def _keys(frame: pd.DataFrame) -> np.ndarray:
    return formula_keys(frame["formula"])


def _resolve_data(data, tasks, split_seed: int):
    """(train, val, test, tasks, classification, name) from a Dataset, name, path or frame."""
    name = "frame"
    kinds: dict[str, str] = {}
    if isinstance(data, str | os.PathLike):
        data = load_dataset(data)
    if isinstance(data, Dataset):
        name = data.name
        kinds = {p.name: p.task for p in data.info.properties}
        frame = data.frame
        if "split" not in frame.columns:  # official folds: fold 0 is the test part
            train_all, test = data.fold(0)
            parts = random_split(_keys(train_all), (0.9, 0.1, 0.0), seed=split_seed)
            train, val = train_all[parts == "train"], train_all[parts == "val"]
        else:
            train, val, test = data.train, data.val, data.test
    elif isinstance(data, pd.DataFrame):
        if "formula" not in data.columns:
            raise InvalidParameterError(
                f"the frame needs a 'formula' column; it has {list(data.columns)}"
            )
        parts = random_split(_keys(data), seed=split_seed)
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


def _default_threads() -> int:
    """Torch's thread count (which honours ``OMP_NUM_THREADS``), else the core count."""
    import torch

    return int(torch.get_num_threads() or os.cpu_count() or 1)


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
    """
    dims = sorted({int(d) for d in dims})
    if not dims or dims[0] < 1:
        raise InvalidParameterError(f"dims={dims!r}; need positive widths")
    if len(dims) < 2:
        raise InvalidParameterError("a sweep needs at least two widths")
    train, val, test, tasks, classification, name = _resolve_data(data, tasks, split_seed)
    if len(test) < k + 2:
        raise InvalidParameterError(
            f"the test part has {len(test)} rows; need more than k + 1 = {k + 1}"
        )
    rng = np.random.default_rng(split_seed)
    probe = np.sort(rng.permutation(len(test))[: min(probe_size, len(test))])
    params = {"ensemble": int(ensemble), **(model_params or {})}
    n_workers = max(int(n_jobs), 1)
    threads = num_threads or max(_default_threads() // n_workers, 1)
    common = dict(
        encoder=encoder,
        tasks=tuple(tasks),
        classification=classification,
        train=train[["formula", *tasks]],
        val=val[["formula", *tasks]],
        test_formulas=tuple(test["formula"]),
        probe=probe,
        model_params=params,
        num_threads=threads,
    )
    jobs = [WidthJob(d=d, seed=s, **common) for d in dims for s in seeds]
    vib_width = int(vib_dim or dims[-1])
    jobs += [
        WidthJob(d=vib_width, seed=s, kl_weight=float(w), **common)
        for w in kl_weights
        for s in seeds
    ]
    log.info("fidelity sweep on %s: %d fits", name, len(jobs))
    cached = [
        _CachedJob(job, Path(cache_dir) / _job_name(job) if cache_dir is not None else None)
        for job in jobs
    ]
    results = get_executor(executor, n_workers).map(_run_cached, cached)
    plain = [r for r in results if r["kl_weight"] is None]
    variational = [r for r in results if r["kl_weight"] is not None]

    y_test = test[tasks].to_numpy(dtype=float)
    y_train = train[tasks].to_numpy(dtype=float)
    probe_formulas = test["formula"].to_numpy()[probe]
    _, features = _standard_features(train["formula"], probe_formulas)
    families = chemical_family(probe_formulas)

    # floors: the mean predictor (regression) or chance (classification)
    floor = {}
    for j, t in enumerate(tasks):
        if classification:
            floor[t] = 0.5
        else:
            const = np.full(len(y_test), np.nanmean(y_train[:, j]))
            floor[t] = predictive_scores(y_test[:, j], const)["mae"]
    key = "roc_auc" if classification else "mae"

    def task_scores(result: dict) -> dict[str, dict[str, float]]:
        return {
            t: predictive_scores(y_test[:, j], result["mean"][:, j], classification=classification)
            for j, t in enumerate(tasks)
        }

    by_dim = {d: [r for r in plain if r["d"] == d] for d in dims}
    widest = by_dim[dims[-1]]
    widest_by_seed = {r["seed"]: r for r in widest}
    ceiling = {t: mean_finite([task_scores(r)[t][key] for r in widest]) for t in tasks}

    def normalised(scores: dict[str, dict[str, float]]) -> dict[str, float]:
        return {t: normalised_fidelity(scores[t][key], floor[t], ceiling[t]) for t in tasks}

    def skill(scores: dict[str, dict[str, float]]) -> float:
        """Fidelity against the floor and a perfect model (needs no widest model)."""
        perfect = 1.0 if classification else 0.0
        return mean_finite([normalised_fidelity(scores[t][key], floor[t], perfect) for t in tasks])

    per_dim = []
    for d in dims:
        runs = by_dim[d]
        scores = [task_scores(r) for r in runs]
        predictive = {}
        for t in tasks:
            entry = {m: mean_finite([s[t][m] for s in scores]) for m in scores[0][t]}
            entry["normalised"] = normalised_fidelity(entry[key], floor[t], ceiling[t])
            predictive[t] = entry
        overlap_features = [per_sample_knn_overlap(features, r["embedding"], k) for r in runs]
        overlap_widest = [
            per_sample_knn_overlap(widest_by_seed[r["seed"]]["embedding"], r["embedding"], k)
            for r in runs
        ]
        miscal = (
            [
                mean_finite(
                    [
                        miscalibration_area(y_test[:, j], r["mean"][:, j], r["std"][:, j])
                        for j in range(len(tasks))
                    ]
                )
                for r in runs
            ]
            if not classification
            else [float("nan")]
        )
        mean_overlap = np.mean(overlap_widest, axis=0)
        per_dim.append(
            {
                "d": d,
                "predictive": predictive,
                "mean_normalised": mean_finite([predictive[t]["normalised"] for t in tasks]),
                "mean_normalised_std": float(
                    np.std([mean_finite(list(normalised(s).values())) for s in scores])
                ),
                "skill": mean_finite([skill(s) for s in scores]),
                "knn_overlap": {
                    "features": float(np.mean(overlap_features)),
                    "widest": float(np.mean(overlap_widest)),
                },
                "knn_overlap_by_family": {
                    fam: float(mean_overlap[families == fam].mean())
                    for fam in sorted(set(families))
                },
                "trustworthiness": mean_finite(
                    [float(trustworthiness(features, r["embedding"], n_neighbors=k)) for r in runs]
                ),
                "cka": mean_finite(
                    [
                        linear_cka(widest_by_seed[r["seed"]]["embedding"], r["embedding"])
                        for r in runs
                    ]
                ),
                "reconstruction_r2": mean_finite(
                    [np.mean(list(r["reconstruction"].values())) for r in runs]
                ),
                "reconstruction_r2_parts": {
                    part: mean_finite([r["reconstruction"][part] for r in runs])
                    for part in runs[0]["reconstruction"]
                },
                "miscalibration_area": mean_finite(miscal),
                "cost": {
                    "params": int(runs[0]["params"]),
                    "bytes_per_material": d * BYTES_PER_VALUE,
                    "train_s": mean_finite([r["train_s"] for r in runs]),
                    "predict_per_s": mean_finite([r["predict_per_s"] for r in runs]),
                },
            }
        )

    fid = [p["mean_normalised"] for p in per_dim]
    skill_by_dim = {p["d"]: p["skill"] for p in per_dim}
    chosen, path = adaptive_width(skill_by_dim.__getitem__, dims, alpha=alpha, beta=beta)
    front = pareto_front([p["cost"]["bytes_per_material"] for p in per_dim], fid)
    summary = {
        "dataset": name,
        "encoder": encoder,
        "tasks": list(tasks),
        "task_type": "classification" if classification else "regression",
        "dims": dims,
        "seeds": list(seeds),
        "ensemble": int(ensemble),
        "n_train": len(train),
        "n_val": len(val),
        "n_test": len(test),
        "n_probe": len(probe),
        "k": k,
        "floor": {t: float(floor[t]) for t in tasks},
        "per_dim": per_dim,
        "erosion_order": _erosion(per_dim, tasks, threshold),
        "baselines": (
            compression_baselines(
                train,
                test,
                tasks,
                probe,
                dims,
                floor,
                ceiling,
                key,
                classification,
                widest_by_seed,
                k,
                split_seed,
            )
            if baselines
            else {}
        ),
        "variational": _variational(variational, vib_width, task_scores, normalised, features, k),
        "pareto_front": [dims[i] for i in front],
        "knee": knee_dim(dims, fid),
        "recommended_dim": recommended_dim(dims, fid, threshold),
        "threshold": threshold,
        "adaptive": {"alpha": alpha, "beta": beta, "chosen": chosen, "steps": path},
        "adaptive_path": [step["d"] for step in path if step["accepted"]],
        "model_params": params,
    }
    embeddings = {r["d"]: r["embedding"] for r in plain if r["seed"] == seeds[0]}
    return FidelityResult(summary, embeddings)


def _erosion(per_dim: list[dict], tasks: Sequence[str], threshold: float) -> dict:
    """Which properties and chemical families lose fidelity first as the width shrinks.

    A property's ``needs_d`` is the smallest width at which it keeps ``threshold`` of its
    widest fidelity; properties needing wider embeddings erode first. Families are ordered by
    their k-NN overlap with the widest embedding at the narrowest width (lowest first).
    """
    needs = {}
    for t in tasks:
        ok = [p["d"] for p in per_dim if p["predictive"][t]["normalised"] >= threshold]
        needs[t] = min(ok) if ok else per_dim[-1]["d"]
    narrowest = per_dim[0]
    tasks_order = sorted(tasks, key=lambda t: (-needs[t], narrowest["predictive"][t]["normalised"]))
    fam = narrowest["knn_overlap_by_family"]
    return {
        "properties": tasks_order,
        "needs_d": needs,
        "families": sorted(fam, key=lambda f: fam[f]),
        "family_overlap_at_narrowest": fam,
    }


def _variational(results, width, task_scores, normalised, features, k) -> list[dict]:
    """Fidelity against measured rate for the variational bottleneck, one entry per weight."""
    out = []
    for w in sorted({r["kl_weight"] for r in results}):
        runs = [r for r in results if r["kl_weight"] == w]
        out.append(
            {
                "kl_weight": w,
                "d": width,
                "rate_nats": mean_finite([r["rate_nats"] for r in runs]),
                "train_s": mean_finite([r["train_s"] for r in runs]),
                "mean_normalised": mean_finite(
                    [mean_finite(list(normalised(task_scores(r)).values())) for r in runs]
                ),
                "knn_overlap": mean_finite(
                    [
                        float(per_sample_knn_overlap(features, r["embedding"], k).mean())
                        for r in runs
                    ]
                ),
                "reconstruction_r2": mean_finite(
                    [np.mean(list(r["reconstruction"].values())) for r in runs]
                ),
            }
        )
    return out
