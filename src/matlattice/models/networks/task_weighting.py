"""How the per-task losses of a multi-task batch become one update.

:class:`TaskBalancer` receives the ``(T,)`` masked losses of a batch (and which tasks had a
label in it) and writes the parameter gradients. Four rules:

- ``"equal"``: the mean of the present tasks' losses.
- ``"uncertainty"`` (Kendall, Gal and Cipolla 2018): one learned log-scale ``s_t`` per task,
  loss ``sum_t exp(-s_t) L_t + s_t`` over the present tasks (the Laplace likelihood of an L1
  loss with scale ``exp(s_t)``), so a noisy task is down-weighted by its own learned noise.
- ``"gradnorm"`` (Chen et al. 2018): weights ``w = T softmax(a)`` scale the losses; ``a`` is
  trained to make each task's gradient norm on the last shared layer,
  ``G_t = w_t |d L_t / d W|``, equal to the mean norm times ``r_t ** alpha``, where ``r_t``
  is the task's loss relative to its first loss, over the mean of those ratios (a task that
  trains slowly is pushed harder). ``alpha`` defaults to 1.5.
- ``"pcgrad"`` (Yu et al. 2020, projecting conflicting gradients): the task gradients on the
  shared encoder are combined by torchjd's ``PCGrad`` aggregator (each gradient is projected
  off the others it conflicts with before summing); the heads get their own task's gradient.

The balancer's own parameters (log-scales, GradNorm logits) are trained by the caller's
optimiser at ``LR_SCALE`` times the network's learning rate (a handful of scalars that must
settle within a short training; see :meth:`TaskBalancer.parameter_groups`) and are saved in
training checkpoints.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from matlattice.errors import InvalidParameterError

__all__ = ["WEIGHTINGS", "TaskBalancer", "last_shared_weight"]

WEIGHTINGS = ("equal", "uncertainty", "gradnorm", "pcgrad")
LR_SCALE = 10.0  # learning rate of the balancer's parameters over the network's


def last_shared_weight(net: nn.Module) -> Tensor:
    """The weight matrix of the encoder's last linear layer (GradNorm's ``W``)."""
    linears = [m for m in net.encoder.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InvalidParameterError("the encoder has no linear layer for GradNorm to measure")
    return linears[-1].weight


class TaskBalancer(nn.Module):
    """Turns per-task losses into gradients by one of :data:`WEIGHTINGS`.

    Parameters
    ----------
    kind : one of :data:`WEIGHTINGS`
    n_tasks : T
    gradnorm_alpha : GradNorm's restoring strength (``"gradnorm"`` only)
    """

    def __init__(self, kind: str, n_tasks: int, *, gradnorm_alpha: float = 1.5) -> None:
        super().__init__()
        if kind not in WEIGHTINGS:
            raise InvalidParameterError(f"task_weighting={kind!r}; expected one of {WEIGHTINGS}")
        self.kind = kind
        self.n_tasks = n_tasks
        self.gradnorm_alpha = gradnorm_alpha
        if kind == "uncertainty":
            self.log_scale = nn.Parameter(torch.zeros(n_tasks))
        if kind == "gradnorm":
            self.logits = nn.Parameter(torch.zeros(n_tasks))
            self.register_buffer("initial_loss", torch.full((n_tasks,), float("nan")))

    def parameter_groups(self, lr: float) -> list[dict]:
        """Optimiser groups for the balancer's parameters: ``LR_SCALE * lr``, no decay."""
        params = list(self.parameters())
        return [{"params": params, "lr": LR_SCALE * lr, "weight_decay": 0.0}] if params else []

    def weights(self) -> Tensor:
        """``(T,)`` current effective task weights (detached), for the training history."""
        with torch.no_grad():
            if self.kind == "uncertainty":
                return torch.exp(-self.log_scale)
            if self.kind == "gradnorm":
                return self.n_tasks * torch.softmax(self.logits, dim=0)
            return torch.ones(self.n_tasks)

    def backward(
        self,
        per_task: Tensor,
        present: Tensor,
        net: nn.Module,
        embedding: Tensor,
        extra: Tensor | None = None,
    ) -> None:
        """Write the gradients of one batch into ``.grad`` of ``net`` and of the balancer.

        ``per_task`` is ``(T,)`` (0 where ``present`` is False), ``embedding`` the shared
        ``(batch, d)`` representation the heads read, ``extra`` a shared-only loss term (the
        variational bottleneck's weighted KL) added unweighted.
        """
        index = torch.nonzero(present).flatten()
        if len(index) == 0:
            return
        if self.kind == "pcgrad" and len(index) > 1:
            if extra is not None:
                raise InvalidParameterError(
                    "task_weighting='pcgrad' does not support a variational bottleneck"
                )
            self._pcgrad(per_task, index, net, embedding)
            return
        if self.kind == "uncertainty":
            s = self.log_scale[index]
            loss = (torch.exp(-s) * per_task[index] + s).mean()
        elif self.kind == "gradnorm":
            loss = self._gradnorm(per_task, index, net)
        else:
            loss = per_task[index].mean()
        if extra is not None:
            loss = loss + extra
        loss.backward()

    def _gradnorm(self, per_task: Tensor, index: Tensor, net: nn.Module) -> Tensor:
        """The weighted loss for the network; the GradNorm gradient goes to ``self.logits``."""
        losses = per_task[index]
        fresh = torch.isnan(self.initial_loss[index])
        if fresh.any():
            self.initial_loss[index[fresh]] = losses.detach()[fresh].clamp_min(1e-8)
        shared = last_shared_weight(net)
        norms = torch.stack(
            [torch.autograd.grad(loss, shared, retain_graph=True)[0].norm() for loss in losses]
        )  # (p,) |dL_t/dW|; G_t = w_t * norm_t is exact for a scalar weight
        w = self.n_tasks * torch.softmax(self.logits, dim=0)
        g = w[index] * norms
        ratio = losses.detach() / self.initial_loss[index]
        target = (g.mean() * (ratio / ratio.mean()) ** self.gradnorm_alpha).detach()
        balance = (g - target).abs().sum()
        self.logits.grad = torch.autograd.grad(balance, self.logits)[0]
        return (w[index].detach() * losses).mean()

    def _pcgrad(self, per_task: Tensor, index: Tensor, net: nn.Module, embedding: Tensor) -> None:
        from torchjd.aggregation import PCGrad
        from torchjd.autojac import jac_to_grad, mtl_backward

        shared = [p for p in net.encoder.parameters() if p.requires_grad]
        losses = [per_task[t] for t in index.tolist()]
        # the task losses share graph nodes (one cat of the heads, one masked reduction)
        mtl_backward(losses, embedding, shared_params=shared, retain_graph=True)
        jac_to_grad(shared, PCGrad())
