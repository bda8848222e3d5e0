"""Training one ensemble member: the job a worker process receives, its seeding, transfer
of encoder weights, the composition folds of CV members and MC-dropout switching."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from matlattice.errors import MatlatticeError
from matlattice.models.encoders import MultiTaskNet
from matlattice.models.training import TrainConfig, TrainingMonitor, train_network

__all__ = ["MemberJob", "composition_folds", "dropout_on", "run_member"]


def composition_folds(keys: np.ndarray, k: int, seed: int) -> np.ndarray:
    """``(n,)`` fold index in ``0..k-1`` per row, whole compositions per fold, seeded."""
    unique, inverse = np.unique(np.asarray(keys), return_inverse=True)
    folds = np.random.default_rng(seed).permutation(len(unique)) % k
    return folds[inverse]


def dropout_on(net: nn.Module, seed: int) -> None:
    """Dropout layers in training mode (the rest in eval mode), seeded: MC dropout."""
    torch.manual_seed(seed)
    for module in net.modules():
        if isinstance(module, nn.Dropout):
            module.train()


@dataclass(frozen=True)
class MemberJob:
    """Everything one ensemble member needs to train (picklable for worker processes)."""

    estimator: object
    member: int
    source: object | None
    data: tuple
    checkpoint: Path | None
    resume: bool


def run_member(
    job: MemberJob,
    progress: Callable[[str, dict], None] | None = None,
    monitor: TrainingMonitor | None = None,
):
    """Build, initialise (seeded; optionally from ``job.source``) and train one member."""
    est, m = job.estimator, job.member
    torch.manual_seed(est.random_state + m)  # initial weights depend only on the seed
    net = est._build_net()
    if job.source is not None:
        transfer_encoder(job.source, m, net)
    config = est._train_config(est.random_state + m)
    if multiprocessing.parent_process() is not None:  # a worker: one thread per process
        config = TrainConfig(**{**config.to_dict(), "num_threads": 1})
    label = f"member {m + 1}/{est.ensemble}"
    train_inputs, train_targets, val_inputs, val_targets, is_class = job.data
    return train_network(
        net,
        train_inputs,
        train_targets,
        val_inputs,
        val_targets,
        is_class,
        config,
        checkpoint=job.checkpoint,
        resume=job.resume,
        progress=(lambda rec: progress(label, rec)) if progress else None,
        lengths=(train_inputs[1] > 0).sum(dim=1) if est.encoder == "attention" else None,
        on_epoch=monitor.epoch_end if monitor is not None else None,
    )


def transfer_encoder(source, member: int, net: MultiTaskNet) -> None:
    """Copy the encoder weights of ``source``'s member (cycling) into ``net``."""
    src = source.members_[member % len(source.members_)].encoder.state_dict()
    try:
        net.encoder.load_state_dict(src, strict=True)
    except RuntimeError as exc:
        raise MatlatticeError(
            "init_from model has a different encoder architecture (encoder, latent_dim, "
            f"d_model, layers, element table must match): {exc}"
        ) from exc
