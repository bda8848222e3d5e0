"""One width of a compression-fidelity sweep: train a shared-bottleneck model and measure it.

``fit_width`` runs in a worker process (or a Ray task): it returns test means and spreads, the
embedding of a probe sample, a decoder's reconstruction R², the rate of a variational
bottleneck, and costs. ``_run_cached`` keeps each finished result as ``.npz`` + ``.json`` (no
pickle) so that a killed sweep resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.runtime.files import atomic_write, atomic_write_json

__all__ = ["BYTES_PER_VALUE", "WidthJob", "fit_width", "mean_finite"]

BYTES_PER_VALUE = 4  # float32 embeddings


def mean_finite(values: list[float]) -> float:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


# --- one width -----------------------------------------------------------------------------
@dataclass(frozen=True)
class WidthJob:
    """Everything one (width, seed[, KL weight]) fit needs; picklable for worker processes."""

    d: int
    seed: int
    encoder: str
    tasks: tuple[str, ...]
    classification: bool
    train: pd.DataFrame
    val: pd.DataFrame
    test_formulas: tuple[str, ...]
    probe: np.ndarray
    model_params: dict = field(default_factory=dict)
    kl_weight: float | None = None
    num_threads: int = 1
    reconstruction_rows: int = 5000


def _standard_features(train_formulas, other_formulas) -> tuple[np.ndarray, np.ndarray]:
    """Magpie statistics standardised with training statistics (NaN -> 0)."""
    from matlattice.represent import ElementStatsFeaturizer

    featurizer = ElementStatsFeaturizer("magpie", missing="mean").fit()
    a, b = featurizer.transform(list(train_formulas)), featurizer.transform(list(other_formulas))
    mean, std = np.nanmean(a, axis=0), np.nanstd(a, axis=0)
    std[~(std > 0)] = 1.0
    return (np.nan_to_num((a - mean) / std), np.nan_to_num((b - mean) / std))


def _mlp_map(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, seed: int, epochs: int = 80
) -> np.ndarray:
    """Predictions of a small MLP (``width -> 256 -> outputs``) fitted on (z, y) pairs: Adam,
    mini-batches, inputs and outputs standardised, NaN targets left out of the loss. Used
    as the decoder of the reconstruction score and as the head of the baselines."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    z_mean, z_std = z_train.mean(axis=0), z_train.std(axis=0)
    # near-constant columns (e.g. the last PCA components of collinear features) are not
    # blown up to unit variance: that would turn rounding noise into signal
    z_std = np.maximum(z_std, 1e-3 * z_std.max() + 1e-12)
    y_mean, y_std = np.nanmean(y_train, axis=0), np.nanstd(y_train, axis=0) + 1e-8
    zt = torch.tensor((z_train - z_mean) / z_std, dtype=torch.float32)
    yt = torch.tensor((y_train - y_mean) / y_std, dtype=torch.float32)
    labelled = ~torch.isnan(yt)
    yt = torch.nan_to_num(yt)
    net = nn.Sequential(nn.Linear(zt.shape[1], 256), nn.SiLU(), nn.Linear(256, yt.shape[1]))
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-5)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(zt), generator=generator).split(256):
            err = (net(zt[idx]) - yt[idx]).pow(2) * labelled[idx]
            loss = err.sum() / labelled[idx].sum().clamp_min(1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        out = net(torch.tensor((z_test - z_mean) / z_std, dtype=torch.float32)).numpy()
    return out * y_std + y_mean


def _reconstruction_r2(
    emb_train: np.ndarray,
    emb_test: np.ndarray,
    train_formulas: Sequence[str],
    test_formulas: Sequence[str],
    seed: int,
) -> dict[str, float]:
    """R² of a decoder that rebuilds the standardised Magpie features and the fractional
    composition from the frozen embedding (variance-weighted over output columns)."""
    from sklearn.metrics import r2_score

    feat_train, feat_test = _standard_features(train_formulas, test_formulas)
    frac_train = parse_formulas(list(train_formulas)).fractions
    frac_test = parse_formulas(list(test_formulas)).fractions
    used = np.flatnonzero(np.asarray(frac_train.sum(axis=0)).ravel() > 0)
    targets = {
        "features": (feat_train, feat_test),
        "composition": (frac_train[:, used].toarray(), frac_test[:, used].toarray()),
    }
    out = {}
    for name, (y_train, y_test) in targets.items():
        pred = _mlp_map(emb_train, y_train, emb_test, seed)
        out[name] = float(r2_score(y_test, pred, multioutput="variance_weighted"))
    return out


def fit_width(job: WidthJob) -> dict:
    """Train one shared-bottleneck model of width ``job.d`` and measure it (runs in a worker)."""
    import torch

    from matlattice.models import LatticeClassifier, LatticeRegressor

    torch.set_num_threads(max(int(job.num_threads), 1))
    cls = LatticeClassifier if job.classification else LatticeRegressor
    params = {**job.model_params, "num_threads": job.num_threads}
    model = cls(
        job.encoder, latent_dim=job.d, random_state=job.seed, kl_weight=job.kl_weight, **params
    )
    columns = ["formula", *job.tasks]
    start = time.perf_counter()
    model.fit(job.train[columns], X_val=job.val[columns])
    train_s = time.perf_counter() - start
    test = list(job.test_formulas)
    start = time.perf_counter()
    if job.classification:
        mean, std = model.predict_proba(test, return_std=True)
    else:
        mean, std = model.predict(test, return_std=True)
    predict_s = time.perf_counter() - start
    mean = np.asarray(mean).reshape(len(test), -1)
    std = np.asarray(std).reshape(len(test), -1)
    probe = [test[i] for i in job.probe]
    embedding = model.transform(probe)
    rng = np.random.default_rng(job.seed)
    train_formulas = job.train["formula"].to_numpy()
    rows = rng.permutation(len(train_formulas))[: job.reconstruction_rows]
    reconstruction = _reconstruction_r2(
        model.transform(list(train_formulas[rows])),
        embedding,
        train_formulas[rows],
        probe,
        job.seed,
    )
    rate = float(np.mean(model.rate(test))) if job.kl_weight is not None else None
    return {
        "d": job.d,
        "seed": job.seed,
        "kl_weight": job.kl_weight,
        "mean": mean,
        "std": std,
        "embedding": embedding,
        "reconstruction": reconstruction,
        "rate_nats": rate,
        "params": int(sum(p.numel() for p in model.members_[0].parameters())),
        "train_s": train_s,
        "predict_per_s": len(test) / max(predict_s, 1e-9),
        "epochs_run": [t["epochs_run"] for t in model.train_info_],
    }


_ARRAYS = ("mean", "std", "embedding")


@dataclass(frozen=True)
class _CachedJob:
    job: WidthJob
    path: Path | None


def _job_name(job: WidthJob) -> str:
    kl = "" if job.kl_weight is None else f"_kl{job.kl_weight:g}"
    return f"d{job.d}_seed{job.seed}{kl}"


def _run_cached(item: _CachedJob) -> dict:
    """``fit_width`` with its result kept in ``item.path`` (``.npz`` arrays + ``.json``):
    a finished width is loaded instead of refitted, so a killed sweep resumes."""
    if item.path is None:
        return fit_width(item.job)
    # names hold dots (KL weights such as 0.0001): append, never replace, a suffix
    arrays = item.path.with_name(item.path.name + ".npz")
    meta = item.path.with_name(item.path.name + ".json")
    if arrays.is_file() and meta.is_file():
        result = json.loads(meta.read_text())
        with np.load(arrays, allow_pickle=False) as stored:
            result.update({k: stored[k] for k in _ARRAYS})
        return result
    result = fit_width(item.job)
    atomic_write(arrays, lambda tmp: _savez(tmp, {k: result[k] for k in _ARRAYS}))
    atomic_write_json(meta, {k: v for k, v in result.items() if k not in _ARRAYS})
    return result


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
