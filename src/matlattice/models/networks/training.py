"""Training loop: masked multi-task loss, AdamW, warm-up + cosine (or one-cycle) schedule,
early stopping on validation loss, gradient clipping, seeded, checkpoint every epoch, resume.

Checkpoints are written atomically with ``torch.save`` and read with
``torch.load(weights_only=True)``: tensors and plain containers only, never pickle.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor, nn

from matlattice.errors import CheckpointMismatchError, InvalidParameterError
from matlattice.models.networks.early_stopping import EarlyStopping, TrainResult
from matlattice.models.networks.task_weighting import TaskBalancer

__all__ = [
    "EARLY_STOPPING",
    "PRECISIONS",
    "TrainConfig",
    "TrainResult",
    "TrainingMonitor",
    "masked_loss",
    "masked_task_losses",
    "train_network",
]

log = logging.getLogger(__name__)
EARLY_STOPPING = ("mean", "per_task")  # stop on the mean validation loss, or per task
PRECISIONS = ("fp32", "bf16")  # of the training forward pass


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (all JSON-serialisable).

    Attributes
    ----------
    epochs : int
        Maximum number of epochs.
    batch_size : int
    lr : float
        Peak learning rate of AdamW.
    weight_decay : float
    warmup_frac : float
        Fraction of all steps spent warming up linearly (``"cosine"`` schedule).
    schedule : {"cosine", "onecycle"}
    patience : int
        Stop after this many epochs without a better validation loss.
    clip_norm : float
        Gradient-norm clipping threshold.
    seed : int
    device : str
        ``"cpu"`` or ``"cuda"`` (or ``"cuda:0"``...).
    num_threads : int or None
        Torch CPU threads (default: all cores).
    kl_weight : float
        Weight of the KL term of a variational bottleneck (nets with ``variational=True``).
    task_weighting : {"equal", "uncertainty", "gradnorm", "pcgrad"}
        How the per-task losses combine (see :mod:`matlattice.models.networks.task_weighting`).
    precision : {"fp32", "bf16"}
        ``"bf16"``: the training forward pass under bfloat16 autocast (losses, gradients
        of the weights, the optimiser and every evaluation stay in float32); on a CPU with
        AVX-512 BF16 or a recent GPU, faster per step (``bench/trainer.py`` measures speed
        and accuracy).
    early_stopping : {"mean", "per_task"}
        ``"mean"``: stop when the mean validation loss over tasks has not improved for
        ``patience`` epochs and keep the weights of its best epoch. ``"per_task"``: stop when
        neither the mean nor any task's own validation loss has improved for ``patience``
        epochs (so training runs at least as long as with ``"mean"``, along the same
        trajectory) and keep, for each task, the weights of its own best epoch
        (``TrainResult.task_states``; see :mod:`matlattice.models.networks.routing`).
    """

    epochs: int = 300
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_frac: float = 0.05
    schedule: str = "cosine"
    patience: int = 40
    clip_norm: float = 1.0
    seed: int = 0
    device: str = "cpu"
    num_threads: int | None = None
    kl_weight: float = 0.0
    task_weighting: str = "equal"
    early_stopping: str = "mean"
    precision: str = "fp32"

    def to_dict(self) -> dict:
        return asdict(self)


class TrainingMonitor(Protocol):
    """Probes a network while it trains (e.g. the task-coupling monitor of ``entangle``).

    ``start`` receives the training inputs, the ``(n, n_tasks)`` scaled targets (NaN =
    unlabelled) and the ``(n_tasks,)`` classification mask before training;
    ``epoch_end(epoch, net)`` is called after every epoch of the first ensemble member.
    """

    def start(self, inputs: tuple[Tensor, ...], targets: Tensor, is_class: Tensor) -> None: ...

    def epoch_end(self, epoch: int, net: nn.Module) -> None: ...


def masked_task_losses(
    pred: Tensor, target: Tensor, is_class: Tensor, log_var: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``((n_tasks,) mean loss over each task's labelled entries, (n_tasks,) bool present)``.

    Regression tasks use L1 on scaled targets, or with ``log_var`` (a heteroscedastic head's
    ``(batch, n_tasks)`` log-variances) the Gaussian negative log-likelihood
    ``0.5 (log s^2 + (y - pred)^2 / s^2)``; classification tasks binary cross-entropy on
    logits. ``pred`` and ``target`` are ``(batch, n_tasks)`` (NaN target = unlabelled);
    ``is_class`` is ``(n_tasks,)``. A task with no label in the batch has loss 0.
    """
    mask = ~torch.isnan(target)
    safe = torch.where(mask, target, torch.zeros_like(target))
    l1 = (pred - safe).abs()
    if log_var is not None:
        l1 = 0.5 * (log_var + (pred - safe) ** 2 * torch.exp(-log_var))
    bce = nn.functional.binary_cross_entropy_with_logits(pred, safe.clamp(0, 1), reduction="none")
    per_entry = torch.where(is_class.unsqueeze(0), bce, l1) * mask
    count = mask.sum(dim=0)  # (n_tasks,)
    return per_entry.sum(dim=0) / count.clamp_min(1), count > 0


def masked_loss(pred: Tensor, target: Tensor, is_class: Tensor) -> Tensor:
    """Mean over the tasks labelled in the batch of :func:`masked_task_losses`."""
    per_task, present = masked_task_losses(pred, target, is_class)
    return per_task[present].mean() if present.any() else pred.sum() * 0.0


def _schedule(optimizer, config: TrainConfig, total_steps: int):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=config.lr,
            total_steps=max(total_steps, 1),
            pct_start=max(config.warmup_frac, 0.05),
        )
    if config.schedule != "cosine":
        raise InvalidParameterError(
            f"schedule={config.schedule!r}; expected 'cosine' or 'onecycle'"
        )
    warmup = max(int(config.warmup_frac * total_steps), 1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(total_steps - warmup, 1)
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _batches(
    n: int,
    batch_size: int,
    generator: torch.Generator | None,
    lengths: Tensor | None = None,
    pool: int = 50,
):
    """Index batches: shuffled when ``generator`` is given, in order otherwise.

    With ``lengths`` (``(n,)`` tokens per sample) the shuffle is length-bucketed: the random
    order is cut into pools of ``pool`` batches, each pool is sorted by length and cut into
    batches, and the batches are shuffled. Batches then hold samples of similar length, so
    little compute goes to padding, while each epoch still sees a fresh random order.
    """
    if generator is None:
        order = torch.arange(n)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
        return
    order = torch.randperm(n, generator=generator)
    if lengths is None:
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
        return
    lengths = lengths.cpu()
    batches = []
    step = batch_size * pool
    for start in range(0, n, step):
        chunk = order[start : start + step]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches += list(chunk.split(batch_size))
    for b in torch.randperm(len(batches), generator=generator).tolist():
        yield batches[b]


def evaluate_loss(
    net: nn.Module,
    inputs: tuple[Tensor, ...],
    targets: Tensor,
    is_class: Tensor,
    batch_size: int = 4096,
) -> float:
    """Validation loss over a whole set (same weighting as training)."""
    return _mean_labelled(evaluate_task_losses(net, inputs, targets, is_class, batch_size))


def evaluate_task_losses(
    net: nn.Module,
    inputs: tuple[Tensor, ...],
    targets: Tensor,
    is_class: Tensor,
    batch_size: int = 4096,
) -> Tensor:
    """``(n_tasks,)`` loss of each task over a whole set; NaN for a task with no label."""
    net.eval()
    preds, log_vars = [], []
    with torch.no_grad():
        for idx in _batches(len(targets), batch_size, None):
            preds.append(net(*(x[idx] for x in inputs)))
            if getattr(net, "log_var", None) is not None:
                log_vars.append(net.log_var)
    net.train()
    per_task, present = masked_task_losses(
        torch.cat(preds), targets, is_class, torch.cat(log_vars) if log_vars else None
    )
    return torch.where(present, per_task, torch.full_like(per_task, math.nan)).cpu()


def train_network(
    net: nn.Module,
    train_inputs: tuple[Tensor, ...],
    train_targets: Tensor,
    val_inputs: tuple[Tensor, ...],
    val_targets: Tensor,
    is_class: Tensor,
    config: TrainConfig,
    *,
    checkpoint: Path | None = None,
    resume: bool = False,
    progress: Callable[[dict[str, float]], None] | None = None,
    lengths: Tensor | None = None,
    on_epoch: Callable[[int, nn.Module], None] | None = None,
) -> TrainResult:
    """Train ``net`` and return its best weights by validation loss.

    Parameters
    ----------
    net : module whose ``forward(*inputs)`` gives ``(batch, n_tasks)``
    train_inputs, val_inputs : tuples of tensors with the samples on dim 0
    train_targets, val_targets : ``(n, n_tasks)`` scaled targets, NaN = unlabelled
    is_class : ``(n_tasks,)`` bool
    checkpoint : file to write after every epoch (atomically); with ``resume=True`` an
        existing checkpoint is loaded and training continues after its last epoch.
    progress : called after every epoch with ``{"epoch", "train_loss", "val_loss", "lr"}``
    lengths : ``(n_train,)`` tokens per training sample; when given, batches are
        length-bucketed (see :func:`_batches`) so padded encoders waste little compute.
    """
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = torch.device(config.device)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    net.to(device)
    train_inputs = tuple(x.to(device) for x in train_inputs)
    val_inputs = tuple(x.to(device) for x in val_inputs)
    train_targets, val_targets = train_targets.to(device), val_targets.to(device)
    is_class = is_class.to(device)
    n_tasks = int(is_class.shape[0])
    run = _Optimisation.start(net, config, device, n_tasks, len(train_targets), generator)
    stopping = EarlyStopping.start(net, n_tasks, config.early_stopping == "per_task")
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        run.restore(net, state)
        stopping.restore(state)
        log.info("resumed from %s at epoch %d", checkpoint, stopping.start_epoch)
    net.train()
    for epoch in range(stopping.start_epoch, config.epochs):
        if stopping.bad_epochs >= config.patience:
            break
        batches = _batches(len(train_targets), config.batch_size, generator, lengths)
        train_loss = _train_epoch(net, train_inputs, train_targets, is_class, batches, run, config)
        task_val = evaluate_task_losses(net, val_inputs, val_targets, is_class)
        val_loss = _mean_labelled(task_val)
        record = _epoch_record(epoch, train_loss, val_loss, task_val, run, config)
        stopping.history.append(record)
        if on_epoch is not None:
            on_epoch(epoch, net)
            net.train()
        stopping.update(epoch, val_loss, task_val, net)
        if checkpoint is not None:
            _save_checkpoint(Path(checkpoint), {**run.state(net), **stopping.state(epoch)})
        if progress is not None:
            progress(record)
    return stopping.result()


@dataclass
class _Optimisation:
    """What a training step updates besides the net: the trainable ``params``, the task
    ``balancer``, AdamW, its learning-rate ``scheduler`` and the shuffling ``generator``."""

    params: list[nn.Parameter]
    balancer: TaskBalancer
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator

    @classmethod
    def start(
        cls,
        net: nn.Module,
        config: TrainConfig,
        device: torch.device,
        n_tasks: int,
        n_train: int,
        generator: torch.Generator,
    ) -> _Optimisation:
        params = [p for p in net.parameters() if p.requires_grad]
        balancer = TaskBalancer(config.task_weighting, n_tasks).to(device)
        if config.early_stopping not in EARLY_STOPPING:
            raise InvalidParameterError(
                f"early_stopping={config.early_stopping!r}; expected 'mean' or 'per_task'"
            )
        if config.precision not in PRECISIONS:
            raise InvalidParameterError(
                f"precision={config.precision!r}; expected one of {PRECISIONS}"
            )
        if config.task_weighting == "pcgrad" and getattr(net, "variational", False):
            raise InvalidParameterError(
                "task_weighting='pcgrad' does not support a variational bottleneck"
            )
        optimizer = torch.optim.AdamW(
            [{"params": params}, *balancer.parameter_groups(config.lr)],
            lr=config.lr,
            weight_decay=config.weight_decay,
        )
        steps_per_epoch = math.ceil(n_train / config.batch_size)
        scheduler = _schedule(optimizer, config, steps_per_epoch * config.epochs)
        return cls(params, balancer, optimizer, scheduler, generator)

    def restore(self, net: nn.Module, state: dict) -> None:
        """Load the net, the optimiser state and the random state from a checkpoint."""
        try:
            net.load_state_dict(state["model"])
        except RuntimeError as exc:  # missing, unexpected or differently shaped weights
            first = str(exc).strip().splitlines()[-1].strip()
            raise CheckpointMismatchError(
                f"the checkpoint holds a network of another shape ({first}); it was written "
                "with other settings (latent_dim, encoder, tasks, ...): resume with the "
                "settings it was written with, or start without --resume in a new folder"
            ) from exc
        if "balancer" in state:  # checkpoints written before task weighting existed lack it
            self.balancer.load_state_dict(state["balancer"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])

    def state(self, net: nn.Module) -> dict:
        """The checkpoint fields that :meth:`restore` reads."""
        return {
            "model": net.state_dict(),
            "balancer": self.balancer.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        }


def _train_epoch(
    net: nn.Module,
    inputs: tuple[Tensor, ...],
    targets: Tensor,
    is_class: Tensor,
    batches: Iterator[Tensor],
    run: _Optimisation,
    config: TrainConfig,
) -> float:
    """One pass over ``batches`` of the training rows; the mean training loss per sample."""
    device = targets.device
    total, count = 0.0, 0
    for idx in batches:
        idx = idx.to(device)
        with torch.autocast(device.type, torch.bfloat16, enabled=config.precision == "bf16"):
            pred, embedding = _forward(net, tuple(x[idx] for x in inputs))
        pred = pred.float()
        embedding = embedding.float() if embedding is not None else None
        per_task, present = masked_task_losses(
            pred, targets[idx], is_class, getattr(net, "log_var", None)
        )
        extra = config.kl_weight * net.kl if getattr(net, "variational", False) else None
        run.optimizer.zero_grad(set_to_none=True)
        run.balancer.backward(per_task, present, net, embedding, extra)
        loss = per_task[present].mean() if present.any() else per_task.sum()
        nn.utils.clip_grad_norm_(run.params, config.clip_norm)
        run.optimizer.step()
        run.scheduler.step()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
    return total / max(count, 1)


def _epoch_record(
    epoch: int,
    train_loss: float,
    val_loss: float,
    task_val: Tensor,
    run: _Optimisation,
    config: TrainConfig,
) -> dict[str, float]:
    """The history line of one epoch: losses, learning rate, task weights, per-task losses."""
    record = {
        "epoch": float(epoch),
        "train_loss": train_loss,
        "val_loss": val_loss,
        "lr": float(run.optimizer.param_groups[0]["lr"]),
    }
    if config.task_weighting != "equal":
        record.update({f"weight_{t}": float(w) for t, w in enumerate(run.balancer.weights().cpu())})
    if config.early_stopping == "per_task":
        record.update({f"val_loss_{t}": float(v) for t, v in enumerate(task_val)})
    return record


def _mean_labelled(task_losses: Tensor) -> float:
    """Mean of the ``(n_tasks,)`` losses over the tasks with a label (0 if none has)."""
    labelled = ~torch.isnan(task_losses)
    return float(task_losses[labelled].mean()) if labelled.any() else 0.0


def _forward(net: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, Tensor | None]:
    """Predictions and, where the net exposes it, the shared embedding the heads read."""
    if hasattr(net, "forward_with_embedding"):
        return net.forward_with_embedding(*inputs)
    return net(*inputs), None


def _save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
