"""Measure a dataset's lattice: one multi-task fit with a coupling monitor, head probes, label
statistics and (optionally) the pairwise transfer trainings.

:func:`entanglement_lattice` is the Python entry point behind ``matlattice entangle``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matlattice.data import Dataset, load_dataset
from matlattice.data.parts import KEY, resolve_parts
from matlattice.entangle.coupling import data_coupling, head_activation_cka, head_alignment
from matlattice.entangle.dependence import label_dependence
from matlattice.entangle.intervals import draw_bounds, epoch_draws
from matlattice.entangle.lattice import Lattice, build_lattice
from matlattice.entangle.measures import CouplingMeasures
from matlattice.entangle.monitor import CouplingMonitor
from matlattice.entangle.risk_gates import GATES
from matlattice.entangle.transfer import transfer_gains
from matlattice.errors import InvalidParameterError

__all__ = [
    "DEFAULT_MODEL",
    "EntanglementResult",
    "entanglement_lattice",
    "error_correlation",
    "split_frame",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = {
    "encoder": "mlp",
    "latent_dim": 16,
    "hidden": (256, 128),
    "dropout": 0.0,
    "epochs": 80,
    "patience": 15,
    "batch_size": 256,
    "lr": 1e-3,
}


@dataclass
class EntanglementResult:
    """A lattice and everything behind it."""

    dataset: str
    lattice: Lattice
    measures: CouplingMeasures
    model: object
    n_train: int
    n_val: int
    val: pd.DataFrame | None = None


def split_frame(
    data: Dataset | pd.DataFrame | str, tasks: list[str] | None, val_fraction: float, seed: int
) -> tuple[str, pd.DataFrame, pd.DataFrame, list[str]]:
    """``(name, train, val, tasks)``: a dataset's own train/val parts when it has them,
    otherwise a composition-level random split of a frame with a ``formula`` column
    (:func:`~matlattice.data.parts.resolve_parts`)."""
    if isinstance(data, str):
        data = load_dataset(data)
    if isinstance(data, Dataset):
        name, frame = data.name, data.frame
        tasks = list(tasks or data.properties)
    else:
        name, frame = "frame", data
        if "formula" not in frame:
            raise InvalidParameterError("the frame needs a 'formula' column")
        meta = ("formula", "split", "source", KEY)
        tasks = list(tasks or [c for c in frame.columns if c not in meta])
    missing = [t for t in tasks if t not in frame]
    if missing:
        raise InvalidParameterError(f"tasks {missing} are not columns of {name}")
    if len(tasks) < 2:
        raise InvalidParameterError(f"tasks={tasks}; a lattice needs at least two properties")
    parts = resolve_parts(frame, None, fractions=(1 - val_fraction, val_fraction, 0.0), seed=seed)
    train, val = frame[parts == "train"], frame[parts == "val"]
    keep = ["formula", *tasks, *(["source"] if "source" in frame else [])]
    return name, train[keep].reset_index(drop=True), val[keep].reset_index(drop=True), tasks


def _identical_fraction(labels: np.ndarray) -> np.ndarray:
    """``(T, T)`` fraction of co-labelled rows whose two labels are equal."""
    n = labels.shape[1]
    out = np.full((n, n), np.nan)
    for s in range(n):
        for t in range(s + 1, n):
            both = np.isfinite(labels[:, s]) & np.isfinite(labels[:, t])
            if both.any():
                same = np.isclose(labels[both, s], labels[both, t], rtol=1e-9, atol=1e-12)
                out[s, t] = out[t, s] = float(same.mean())
    return out


def _source_share(train: pd.DataFrame, tasks: list[str]) -> tuple[np.ndarray | None, int]:
    """Largest one-source share of the co-labelled rows per pair, and the number of sources."""
    if "source" not in train:
        return None, 1
    n = len(tasks)
    out = np.full((n, n), np.nan)
    present = train[tasks].notna().to_numpy()
    source = train["source"].astype(str).to_numpy()
    for s in range(n):
        for t in range(s + 1, n):
            both = present[:, s] & present[:, t]
            if both.any():
                _, counts = np.unique(source[both], return_counts=True)
                out[s, t] = out[t, s] = counts.max() / both.sum()
    return out, int(train["source"].nunique())


def error_correlation(model, val: pd.DataFrame, tasks: list[str], min_count: int = 10):
    """``(T, T)`` Pearson correlation of the validation errors of every pair of properties on
    their co-labelled rows (NaN below ``min_count`` rows)."""
    pred = np.asarray(model.predict(val["formula"].tolist())).reshape(len(val), -1)
    errors = pd.DataFrame(val[tasks].to_numpy(dtype=float) - pred, columns=tasks)
    out = errors.corr(method="pearson", min_periods=min_count).to_numpy(dtype=float, copy=True)
    np.fill_diagonal(out, np.nan)
    return out


def _nanmean_epochs(stack: np.ndarray) -> np.ndarray:
    """Mean over epochs (axis 0) ignoring NaN, NaN where an entry was never measured."""
    finite = np.isfinite(stack)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def entanglement_lattice(
    data: Dataset | pd.DataFrame | str,
    tasks: list[str] | None = None,
    *,
    model_params: dict | None = None,
    transfer: bool = True,
    probe_size: int = 1024,
    val_fraction: float = 0.15,
    executor: str = "local",
    n_jobs: int = 1,
    seed: int = 0,
    device: str = "cpu",
    num_threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> EntanglementResult:
    """Measure every coupling between the ``tasks`` of ``data`` and build the lattice.

    Parameters
    ----------
    data : a registry name, a :class:`Dataset` or a DataFrame with ``formula`` and property
        columns (NaN = unlabelled; an optional ``source`` column enables the one-source gate)
    tasks : properties to couple (default: all)
    model_params : :class:`~matlattice.models.LatticeRegressor` settings over
        :data:`DEFAULT_MODEL` (hard sharing: one encoder and bottleneck, one head per task)
    transfer : run the ``T + T(T-1)/2`` single- and two-task trainings for the transfer gain
        (the directed measure behind the negative-transfer and asymmetry gates)
    probe_size : rows of the probe batch for gradient, affinity and head measures
    val_fraction : validation share when ``data`` has no val part (composition-level split)
    executor, n_jobs : where the transfer trainings run (``"local"`` processes or ``"ray"``)
    seed : seeds the split, the models, the probe and the community detection
    progress : hears the joint model's epochs and the transfer trainings (``k/n``)
    """
    from matlattice.models import LatticeRegressor

    name, train, val, tasks = split_frame(data, tasks, val_fraction, seed)
    params = {**DEFAULT_MODEL, **(model_params or {})}
    params.update(random_state=seed, device=device, num_threads=num_threads, ensemble=1)
    labels = train[tasks].to_numpy(dtype=float)
    rho, count = data_coupling(train[tasks])
    dependence = label_dependence(train[tasks], seed=seed)
    share, n_sources = _source_share(train, tasks)

    monitor = CouplingMonitor(probe_size, lookahead_lr=float(params["lr"]), seed=seed)
    model = LatticeRegressor(**params).fit(
        train[["formula", *tasks]], X_val=val, monitor=monitor, progress=_epochs(progress, params)
    )
    net = getattr(model.members_[0], "primary", model.members_[0])  # one snapshot
    alignment, dots = head_alignment(net, monitor.probe_inputs)
    cka = head_activation_cka(net, monitor.probe_inputs)
    cosines = np.stack(monitor.cosines_)
    measures = CouplingMeasures(
        tasks=tasks,
        label_counts=np.isfinite(labels).sum(axis=0),
        data_coupling=rho,
        data_count=count,
        label_dependence=dependence,
        identical_fraction=_identical_fraction(labels),
        gradient_cosine=_nanmean_epochs(cosines),
        gradient_negative_fraction=_nanmean_epochs(
            np.where(np.isfinite(cosines), cosines < 0, np.nan)
        ),
        gradient_trajectory=cosines,
        affinity=_nanmean_epochs(np.stack(monitor.affinities_)),
        affinity_trajectory=np.stack(monitor.affinities_),
        representation_alignment=alignment,
        direction_dot=dots,
        head_cka=cka,
        source_share=share,
        extra={"n_sources": n_sources},
    )
    measures.error_correlation = error_correlation(model, val, tasks)
    rng = np.random.default_rng(seed)
    measures.gradient_cosine_bounds = np.stack(draw_bounds(epoch_draws(cosines, rng)))
    measures.affinity_bounds = np.stack(draw_bounds(epoch_draws(measures.affinity_trajectory, rng)))
    if transfer:
        pair_params = {**params, "num_threads": 1 if n_jobs > 1 else num_threads}
        trainings = (lambda k, n: progress(f"transfer trainings {k}/{n}")) if progress else None
        evidence = transfer_gains(
            train,
            val,
            tasks,
            pair_params,
            tolerance=GATES["negative_transfer_tol"],
            executor=executor,
            n_jobs=n_jobs,
            seed=seed,
            progress=trainings,
        )
        measures.transfer_gain, measures.alone_error = evidence.gain, evidence.alone
        measures.pair_error = evidence.pair
        measures.transfer_low, measures.transfer_high = evidence.low, evidence.high
        measures.transfer_runs = evidence.runs
        measures.extra["transfer_trainings"] = evidence.trainings
    lattice = build_lattice(measures, seed=seed)
    return EntanglementResult(name, lattice, measures, model, len(train), len(val), val)


def _epochs(progress: Callable[[str], None] | None, params: dict):
    """The joint model's epoch reporter: ``"joint model, epoch e/E"``."""
    if progress is None:
        return None
    return lambda member, record: progress(
        f"joint model, epoch {int(record['epoch']) + 1}/{params['epochs']}"
    )
