"""Gradient coupling and lookahead affinity tracked through training, epoch by epoch.

:class:`CouplingMonitor` plugs into ``LatticeRegressor.fit(..., monitor=...)``. Before training
it draws a fixed probe batch from the training rows, stratified so that every task has labels
in it (a scarce task would otherwise be absent); after every epoch it measures, on that batch,
the cosine between every pair of task gradients on the shared encoder and the Task Affinity
Grouping lookahead. The per-epoch matrices are the edge trajectories of the lattice.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from matlattice.entangle.coupling import (
    gradient_cosines,
    lookahead_affinity,
    relative_affinity,
    task_gradients,
)

__all__ = ["CouplingMonitor"]


class CouplingMonitor:
    """Per-epoch ``(T, T)`` gradient cosines and lookahead affinities on a probe batch.

    Parameters
    ----------
    probe_size : rows in the probe batch (at most; fewer when the training set is smaller)
    lookahead_lr : SGD step of the affinity lookahead
    seed : seeds the probe draw

    Attributes (after training)
    ---------------------------
    cosines_, affinities_ : lists (one per epoch) of ``(T, T)`` arrays (the affinity relative
        to each target's self-affinity)
    probe_ : the probe rows' indices into the training inputs
    """

    def __init__(self, probe_size: int = 1024, lookahead_lr: float = 0.01, seed: int = 0) -> None:
        self.probe_size = probe_size
        self.lookahead_lr = lookahead_lr
        self.seed = seed

    def start(self, inputs: tuple[Tensor, ...], targets: Tensor, is_class: Tensor) -> None:
        """Draw the probe batch: an equal share of labelled rows per task, then fill."""
        rng = np.random.default_rng(self.seed)
        labelled = (~torch.isnan(targets)).numpy()
        n, n_tasks = labelled.shape
        share = max(self.probe_size // max(n_tasks, 1), 1)
        chosen: set[int] = set()
        for t in range(n_tasks):
            rows = np.flatnonzero(labelled[:, t])
            chosen.update(rng.choice(rows, min(share, len(rows)), replace=False).tolist())
        rest = np.setdiff1d(np.arange(n), np.fromiter(chosen, int, len(chosen)))
        extra = max(min(self.probe_size, n) - len(chosen), 0)
        chosen.update(rng.choice(rest, min(extra, len(rest)), replace=False).tolist())
        self.probe_ = np.sort(np.fromiter(chosen, int, len(chosen)))
        index = torch.as_tensor(self.probe_)
        self._inputs = tuple(x[index] for x in inputs)
        self._targets = targets[index]
        self._is_class = is_class
        self.cosines_: list[np.ndarray] = []
        self.affinities_: list[np.ndarray] = []

    def epoch_end(self, epoch: int, net: nn.Module) -> None:
        """Measure both couplings on the probe batch (eval mode; weights left untouched)."""
        device = next(net.parameters()).device
        inputs = tuple(x.to(device) for x in self._inputs)
        targets, is_class = self._targets.to(device), self._is_class.to(device)
        net.eval()
        gradients, losses = task_gradients(net, inputs, targets, is_class)
        self.cosines_.append(gradient_cosines(gradients.cpu()))
        affinity = lookahead_affinity(
            net, inputs, targets, is_class, gradients, losses, lr=self.lookahead_lr
        )
        self.affinities_.append(relative_affinity(affinity))
        net.zero_grad(set_to_none=True)

    @property
    def probe_inputs(self) -> tuple[Tensor, ...]:
        return self._inputs
