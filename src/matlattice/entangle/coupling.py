"""Coupling measures between pairs of properties (seed 002, PEL).

Every function returns a ``(T, T)`` matrix over the ``T`` tasks, ``M[s, t]`` read as the coupling
from source ``s`` to target ``t`` (symmetric measures are symmetric); the diagonal is NaN.

- :func:`data_coupling`: Spearman rank correlation of the labels on co-labelled materials,
  with the co-label counts.
- :func:`task_gradients`, :func:`gradient_cosines`: cosine of two task gradients on the shared
  (encoder) parameters; negative = the tasks pull the shared weights apart.
- :func:`lookahead_affinity`: inter-task affinity of Task Affinity Grouping (Fifty et al.
  2021), ``Z[s, t] = 1 - L_t(theta - lr * g_s) / L_t(theta)``: how much one SGD step on task
  ``s`` alone lowers task ``t``'s loss (directed); :func:`relative_affinity` divides by the
  self-affinity ``Z[t, t]`` so that the value no longer depends on the step size.
- :func:`head_alignment`: where in the shared embedding each head reads. Head ``t``'s
  sensitivity ``J_t = d y_t / d u`` to the whitened embedding ``u`` (``(n, r)``) gives
  ``C_t = J_t^T J_t / n``; the alignment
  is ``<C_s, C_t>_F / (|C_s| |C_t|)`` in [0, 1] (1: the two heads read the same embedding
  directions with the same emphasis). Each head's direction ``z_t`` (the seed's latent
  vector of a property) is the unit top eigenvector of ``C_t``, signed along the mean
  sensitivity; ``z_s . z_t`` is returned beside.
- :func:`head_activation_cka`: linear CKA between the hidden activations of two heads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.func import functional_call

from matlattice.compression.metrics import linear_cka
from matlattice.models.networks.training import masked_task_losses

__all__ = [
    "data_coupling",
    "gradient_cosines",
    "head_activation_cka",
    "head_alignment",
    "lookahead_affinity",
    "relative_affinity",
    "task_gradients",
    "task_losses",
]


def data_coupling(labels: pd.DataFrame, min_count: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Spearman correlation of every pair of label columns on their co-labelled rows.

    ``labels`` is ``(n, T)`` with NaN for unlabelled entries. Returns ``(rho, count)``, both
    ``(T, T)``: ``rho`` is NaN where fewer than ``min_count`` rows carry both labels.
    """
    present = labels.notna().to_numpy(dtype=float)
    count = (present.T @ present).astype(int)
    rho = labels.corr(method="spearman", min_periods=min_count).to_numpy(dtype=float, copy=True)
    np.fill_diagonal(rho, np.nan)
    return rho, count


def task_losses(
    net: nn.Module, inputs: tuple[Tensor, ...], targets: Tensor, is_class: Tensor
) -> Tensor:
    """``(T,)`` masked loss of each task on one batch (0 for a task with no label in it)."""
    return masked_task_losses(net(*inputs), targets, is_class)[0]


def shared_parameters(net: nn.Module) -> dict[str, Tensor]:
    """The trainable parameters every task shares: those of ``net.encoder``."""
    return {f"encoder.{name}": p for name, p in net.encoder.named_parameters() if p.requires_grad}


def task_gradients(
    net: nn.Module, inputs: tuple[Tensor, ...], targets: Tensor, is_class: Tensor
) -> tuple[Tensor, Tensor]:
    """Per-task gradients on the shared parameters: ``(G, losses)``, ``G`` is ``(T, P)``.

    A task with no label in the batch gets a zero row.
    """
    shared = list(shared_parameters(net).values())
    losses = task_losses(net, inputs, targets, is_class)
    rows = []
    for t in range(len(losses)):
        grads = torch.autograd.grad(losses[t], shared, retain_graph=True, allow_unused=True)
        rows.append(
            torch.cat(
                [
                    (g if g is not None else torch.zeros_like(p)).reshape(-1)
                    for g, p in zip(grads, shared, strict=True)
                ]
            )
        )
    return torch.stack(rows), losses.detach()


def gradient_cosines(gradients: Tensor) -> np.ndarray:
    """``(T, T)`` cosine similarity of the rows of ``gradients``; NaN for a zero gradient."""
    g = gradients.detach().double()
    norms = g.norm(dim=1)
    cos = (g @ g.T) / torch.outer(norms, norms)
    cos[torch.outer(norms, norms) == 0] = float("nan")
    out = cos.numpy()
    np.fill_diagonal(out, np.nan)
    return out


def lookahead_affinity(
    net: nn.Module,
    inputs: tuple[Tensor, ...],
    targets: Tensor,
    is_class: Tensor,
    gradients: Tensor,
    losses: Tensor,
    lr: float = 0.01,
) -> np.ndarray:
    """``(T, T)`` Task Affinity Grouping lookahead ``Z[s, t] = 1 - L_t(after step on s) / L_t``.

    ``gradients`` and ``losses`` come from :func:`task_gradients` on the same batch; the step
    is plain SGD of size ``lr`` on the shared parameters only. Positive: a step for ``s``
    helps ``t``. NaN where ``s`` has no gradient or ``t`` no loss. The diagonal holds the
    self-affinity ``Z[t, t]``, the scale of :func:`relative_affinity`.
    """
    shared = shared_parameters(net)
    params = dict(net.named_parameters())
    sizes = [p.numel() for p in shared.values()]
    out = np.full((len(losses), len(losses)), np.nan)
    with torch.no_grad():
        for s in range(len(losses)):
            if not torch.any(gradients[s] != 0):
                continue
            steps = torch.split(gradients[s], sizes)
            moved = dict(params)
            for (name, p), step in zip(shared.items(), steps, strict=True):
                moved[name] = p - lr * step.reshape(p.shape)
            after = masked_task_losses(functional_call(net, moved, inputs), targets, is_class)[0]
            for t in range(len(losses)):
                if losses[t] > 0:
                    out[s, t] = float(1.0 - after[t] / losses[t])
    return out


def relative_affinity(affinity: np.ndarray) -> np.ndarray:
    """``Z[s, t] / Z[t, t]``: how much a step on ``s`` lowers ``t``'s loss, as a share of what a
    step on ``t`` itself does (1: as much; to first order ``g_s . g_t / |g_t|^2``). NaN where
    the self-affinity is not positive; NaN diagonal."""
    diag = np.diag(affinity).copy()
    scale = np.where(np.isfinite(diag) & (diag > 0), diag, np.nan)
    out = affinity / scale[None, :]
    np.fill_diagonal(out, np.nan)
    return out


def _whitened_sensitivities(
    net: nn.Module, inputs: tuple[Tensor, ...], rel_eig: float = 1e-3
) -> list[Tensor]:
    """Per head, ``(n, r)`` gradient of its output with respect to the *whitened* embedding.

    The embedding ``z`` (``(n, d)``) is PCA-whitened on ``inputs``, keeping the ``r``
    components with variance above ``rel_eig`` times the largest: ``z = mu + W u`` with
    ``W = U_r S_r^{1/2}``, so ``dy/du = (dy/dz) W``. In whitened coordinates the measure does
    not depend on how the encoder happens to spread (or duplicate) a factor over the columns
    of ``z``: any invertible linear re-encoding of the embedding gives the same alignment.
    """
    with torch.no_grad():
        z = net.embed(*inputs)
    zd = z.detach().double()
    centred = zd - zd.mean(dim=0)
    var, vecs = torch.linalg.eigh(centred.T @ centred / max(len(zd) - 1, 1))
    keep = var > rel_eig * var.max().clamp_min(1e-30)
    basis = vecs[:, keep] * var[keep].sqrt()  # (d, r)
    z = z.detach().requires_grad_(True)
    out = []
    for head in net.heads:
        (grad,) = torch.autograd.grad(head(z).sum(), z)
        out.append(grad.detach().double() @ basis)
    return out


def head_alignment(net: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(alignment, direction_dot)``, both ``(T, T)``: see the module docstring.

    Both are computed in the whitened embedding (:func:`_whitened_sensitivities`).
    """
    was_training = net.training
    net.eval()
    sens = _whitened_sensitivities(net, inputs)
    net.train(was_training)
    covs = [j.T @ j / len(j) for j in sens]  # (r, r) each
    directions = []
    for j, c in zip(sens, covs, strict=True):
        _, vecs = torch.linalg.eigh(c)
        top = vecs[:, -1]
        if float(j.mean(dim=0) @ top) < 0:
            top = -top
        directions.append(top)
    n = len(covs)
    align = np.full((n, n), np.nan)
    dots = np.full((n, n), np.nan)
    for s in range(n):
        for t in range(n):
            if s == t:
                continue
            norm = covs[s].norm() * covs[t].norm()
            align[s, t] = float((covs[s] * covs[t]).sum() / norm) if norm > 0 else np.nan
            dots[s, t] = float(directions[s] @ directions[t])
    return align, dots


def head_activation_cka(net: nn.Module, inputs: tuple[Tensor, ...]) -> np.ndarray:
    """``(T, T)`` linear CKA between the hidden activations of every pair of heads.

    A head is ``Sequential(act, dropout, Linear, act, Linear)``; its hidden activations are the
    output of all but its last layer, ``(n, head_hidden)``.
    """
    was_training = net.training
    net.eval()
    with torch.no_grad():
        z = net.embed(*inputs)
        hidden = [head[:-1](z).double().numpy() for head in net.heads]
    net.train(was_training)
    n = len(hidden)
    out = np.full((n, n), np.nan)
    for s in range(n):
        for t in range(s + 1, n):
            out[s, t] = out[t, s] = linear_cka(hidden[s], hidden[t])
    return out
