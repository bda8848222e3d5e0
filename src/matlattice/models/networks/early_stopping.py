"""Early stopping for :func:`~matlattice.models.networks.training.train_network`: the best
weights by mean validation loss, or per task, and the result they make.

With ``early_stopping="mean"`` training stops when the mean validation loss over tasks has not
improved (by more than 1e-7) for ``patience`` epochs and keeps the weights of its best epoch.
With ``"per_task"`` it stops when neither the mean nor any task's own validation loss has
improved, and keeps each task's best weights too (one copy per distinct best epoch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

__all__ = ["EarlyStopping", "TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """Best weights (by mean validation loss) and the per-epoch history; with per-task early
    stopping also each task's best weights and epoch (tasks sharing an epoch share a state)."""

    state_dict: dict[str, Tensor]
    best_epoch: int
    best_val_loss: float
    history: list[dict[str, float]]
    epochs_run: int
    task_states: list[dict[str, Tensor]] | None = None
    task_best_epochs: list[int] | None = None


@dataclass
class EarlyStopping:
    """Early stopping: the best weights by mean validation loss and, with ``per_task``, each
    task's best validation loss, its epoch and the weights of those epochs (``snapshots``);
    ``history`` holds every epoch's record. All of it travels in the checkpoints."""

    per_task: bool
    best_state: dict[str, Tensor]
    task_best_val: list[float]
    task_best_epoch: list[int]
    start_epoch: int = 0
    best_val: float = math.inf
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    snapshots: dict[int, dict[str, Tensor]] = field(default_factory=dict)  # epoch -> weights

    @classmethod
    def start(cls, net: nn.Module, n_tasks: int, per_task: bool) -> EarlyStopping:
        best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        return cls(per_task, best_state, [math.inf] * n_tasks, [-1] * n_tasks)

    def restore(self, state: dict) -> None:
        """Continue from a checkpoint written by :meth:`state`."""
        self.best_state = state["best_model"]
        self.start_epoch, self.best_val = int(state["epoch"]) + 1, float(state["best_val"])
        self.best_epoch, self.bad_epochs = int(state["best_epoch"]), int(state["bad_epochs"])
        self.history = list(state["history"])
        if self.per_task and "task_best_epoch" in state:
            self.task_best_val = [float(v) for v in state["task_best_val"]]
            self.task_best_epoch = [int(e) for e in state["task_best_epoch"]]
            self.snapshots = {int(e): w for e, w in state["snapshots"].items()}

    def update(self, epoch: int, val_loss: float, task_val: Tensor, net: nn.Module) -> None:
        """Track the best weights after ``epoch`` given its mean and its ``(n_tasks,)``
        validation losses (NaN: a task without a label)."""
        labelled = ~torch.isnan(task_val)
        improved = [
            t
            for t in range(len(self.task_best_val))
            if self.per_task and labelled[t] and float(task_val[t]) < self.task_best_val[t] - 1e-7
        ]
        mean_improved = val_loss < self.best_val - 1e-7
        current = None
        if mean_improved or improved:  # one copy serves every tracker
            current = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if mean_improved:
            self.best_val, self.best_epoch, self.best_state = val_loss, epoch, current
        if not self.per_task:
            self.bad_epochs = 0 if mean_improved else self.bad_epochs + 1
            return
        for t in improved:
            self.task_best_val[t], self.task_best_epoch[t] = float(task_val[t]), epoch
        if improved:
            self.snapshots[epoch] = current
        self.snapshots = {e: w for e, w in self.snapshots.items() if e in self.task_best_epoch}
        self.bad_epochs = 0 if improved or mean_improved else self.bad_epochs + 1

    def state(self, epoch: int) -> dict:
        """The checkpoint fields that :meth:`restore` reads."""
        return {
            "best_model": self.best_state,
            "epoch": epoch,
            "best_val": self.best_val,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "history": self.history,
            "task_best_val": self.task_best_val,
            "task_best_epoch": self.task_best_epoch,
            "snapshots": self.snapshots,
        }

    def result(self) -> TrainResult:
        """The best weights on the CPU; with per-task stopping, each task's too."""
        cpu_state = _to_cpu(self.best_state)
        n_epochs = len(self.history)
        if not self.per_task:
            return TrainResult(cpu_state, self.best_epoch, self.best_val, self.history, n_epochs)
        # a task never labelled in the val part keeps the best-mean weights
        task_epochs = [e if e in self.snapshots else self.best_epoch for e in self.task_best_epoch]
        cpu_snapshots = {e: _to_cpu(w) for e, w in self.snapshots.items()}
        task_states = [cpu_snapshots.get(e, cpu_state) for e in task_epochs]
        return TrainResult(
            cpu_state,
            self.best_epoch,
            self.best_val,
            self.history,
            n_epochs,
            task_states,
            task_epochs,
        )


def _to_cpu(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k: v.detach().cpu() for k, v in state.items()}
