"""Training ensemble members: the job a worker process receives, its seeding, transfer of
encoder weights, running the members (in worker processes or in turn), turning their results
into networks, the composition folds of CV members and MC-dropout switching."""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from matlattice.errors import MatlatticeError
from matlattice.models.networks.encoders import MultiTaskNet
from matlattice.models.networks.routing import route_snapshots
from matlattice.models.networks.training import TrainConfig, TrainingMonitor, train_network
from matlattice.runtime.executor import get_executor

__all__ = [
    "MemberJob",
    "composition_folds",
    "dropout_on",
    "member_jobs",
    "member_nets",
    "run_member",
    "run_members",
]


def composition_folds(keys: np.ndarray, k: int, seed: int) -> np.ndarray:
    """``(n,)`` fold index in ``0..k-1`` per row: a seeded hash of each composition key.

    A composition falls in the same fold whatever rows a model is fitted on, so the CV
    members of two models of one seed (a property alone and beside its helpers, a shared
    model and its fine-tuned copies) hold out the same compositions. Fold sizes are equal
    up to hashing noise (about 1/sqrt(n/k) relative).
    """
    unique, inverse = np.unique(np.asarray(keys, dtype=str), return_inverse=True)
    salt = int(seed).to_bytes(8, "little", signed=True)
    folds = np.array(
        [
            int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8, salt=salt).digest()) % k
            for key in unique
        ],
        dtype=np.int64,
    )
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


def member_jobs(
    estimator,
    source,
    data: tuple,
    fold: np.ndarray | None,
    checkpoint_dir: Path | None,
    resume: bool,
) -> list[MemberJob]:
    """One job per member of ``estimator``'s ensemble. ``data`` is ``(train_inputs,
    train_targets, val_inputs, val_targets, is_class)``; with ``fold`` (``(n_train,)`` fold
    index per training row, CV members) member k trains without the rows of fold k."""
    train_inputs, train_targets, *rest = data
    jobs = []
    for m in range(int(estimator.ensemble)):
        if fold is None:
            member_data = data
        else:
            keep = torch.as_tensor(fold != m)
            member_data = (tuple(x[keep] for x in train_inputs), train_targets[keep], *rest)
        jobs.append(
            MemberJob(
                estimator=estimator,
                member=m,
                source=source,
                data=member_data,
                checkpoint=Path(checkpoint_dir) / f"member{m}.pt" if checkpoint_dir else None,
                resume=resume,
            )
        )
    return jobs


def run_member(
    job: MemberJob,
    progress: Callable[[str, dict], None] | None = None,
    monitor: TrainingMonitor | None = None,
    *,
    worker: bool = False,
):
    """Build, initialise (seeded; optionally from ``job.source``) and train one member
    (``worker``: in a worker process or Ray task, with one torch thread)."""
    est, m = job.estimator, job.member
    torch.manual_seed(est.random_state + m)  # initial weights depend only on the seed
    net = est._build_net()
    if job.source is not None:
        transfer_encoder(job.source, m, net)
    config = est._train_config(est.random_state + m)
    if worker or multiprocessing.parent_process() is not None:  # one thread per worker
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


def run_member_in_worker(job: MemberJob):
    """One member in a spawned worker process: one torch thread."""
    return run_member(job, worker=True)


def run_member_on_ray(job: MemberJob):
    """One member as a Ray task: one torch thread; on a GPU, the one Ray granted (it narrows
    ``CUDA_VISIBLE_DEVICES`` to it, so ``cuda:N`` of the driver is ``cuda`` here; the job is
    this task's own copy)."""
    if job.estimator.device.startswith("cuda"):
        job.estimator.device = "cuda"
    return run_member(job, worker=True)


def run_members(
    jobs: list[MemberJob],
    n_jobs: int,
    progress: Callable[[str, dict], None] | None = None,
    monitor: TrainingMonitor | None = None,
    executor: str = "local",
) -> list:
    """Train every member: with ``executor="ray"`` as Ray tasks (one CPU each, one GPU each
    on a CUDA device), else in up to ``n_jobs`` spawned worker processes (one thread each,
    faster than threads for small models), or with ``n_jobs <= 1`` here in turn (``monitor``
    probes member 0). Off this process ``progress`` hears each member's last epoch only."""
    n_jobs = min(n_jobs, len(jobs))
    if executor == "local" and n_jobs <= 1:
        return [run_member(job, progress, monitor if job.member == 0 else None) for job in jobs]
    gpus = 1.0 if jobs and jobs[0].estimator.device.startswith("cuda") else 0.0
    pool = get_executor(executor, n_jobs, num_gpus=gpus)
    results = pool.map(run_member_on_ray if executor == "ray" else run_member_in_worker, jobs)
    if progress is not None:
        for m, result in enumerate(results):
            progress(f"member {m + 1}/{len(jobs)}", result.history[-1])
    return results


def member_nets(
    build_net: Callable[[], nn.Module], results: list, tasks: list[str]
) -> tuple[list[nn.Module], list[dict]]:
    """Each member's network in eval mode (with per-task early stopping, each task served by
    the weights of its own best epoch) and its training summary (best epoch, best validation
    loss, epochs run and, per task, its best epoch)."""
    nets, infos = [], []
    for result in results:
        if result.task_states is None:
            net = build_net()
            net.load_state_dict(result.state_dict)
        else:
            net = route_snapshots(
                build_net,
                result.state_dict,
                result.best_epoch,
                result.task_states,
                result.task_best_epochs,
            )
        net.eval()
        nets.append(net)
        info = {
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "epochs_run": result.epochs_run,
        }
        if result.task_best_epochs is not None:
            info["task_best_epochs"] = dict(zip(tasks, result.task_best_epochs, strict=True))
        infos.append(info)
    return nets, infos
