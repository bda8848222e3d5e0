"""Neural encoders that end in an explicit bottleneck of width ``latent_dim`` (the embedding).

Two families, both mapping a batch of compositions to a ``(batch, latent_dim)`` embedding:

- :class:`MLPEncoder` on standardised composition features (e.g. Magpie statistics);
- :class:`AttentionEncoder` over element tokens (the CrabNet/Roost family): an element table
  vector per element (frozen or trainable) plus a sinusoidal encoding of the element's
  fraction and log-fraction, transformer layers with a padding mask, and pooling weighted
  by fraction. Batched and masked: no Python loop per material.

:class:`MultiTaskNet` puts one small head per task on top of the embedding.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import Tensor, nn

__all__ = ["ENCODERS", "AttentionEncoder", "MLPEncoder", "MultiTaskNet", "fraction_encoding"]

ENCODERS = ("attention", "mlp")  # over element tokens, or over composition statistics


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in pairwise(sizes):
        layers += [nn.Linear(a, b), nn.SiLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """Features -> hidden layers -> bottleneck.

    ``forward(x)``: x is a ``(batch, n_features)`` float tensor of standardised features;
    returns the ``(batch, latent_dim)`` embedding.
    """

    def __init__(
        self,
        n_features: int,
        latent_dim: int,
        hidden: tuple[int, ...] = (512, 256),
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.body = _mlp([n_features, *hidden], dropout)
        self.bottleneck = nn.Linear(hidden[-1] if hidden else n_features, latent_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.bottleneck(self.body(x))


def fraction_encoding(fractions: Tensor, dim: int) -> Tensor:
    """Sinusoidal encoding of atomic fractions on a linear and a log scale.

    Parameters
    ----------
    fractions : ``(batch, k)`` tensor in (0, 1] (0 at padding positions)
    dim : even output width; half encodes the fraction, half its log.

    Returns
    -------
    ``(batch, k, dim)`` tensor
    """
    half = dim // 2
    freqs = torch.exp(
        torch.arange(0, half, 2, device=fractions.device, dtype=fractions.dtype)
        * (-math.log(1000.0) / max(half, 1))
    )  # (half/2,)
    lin = fractions.unsqueeze(-1) * 100.0 * freqs  # (b, k, half/2)
    logf = torch.log10(fractions.clamp_min(1e-6)).unsqueeze(-1)  # in [-6, 0]
    log = (logf + 6.0) * 20.0 * freqs
    enc = torch.cat([lin.sin(), lin.cos(), log.sin(), log.cos()], dim=-1)
    if enc.shape[-1] < dim:  # dim not divisible by 4
        enc = torch.nn.functional.pad(enc, (0, dim - enc.shape[-1]))
    return enc


class AttentionEncoder(nn.Module):
    """Set attention over element tokens, pooled by fraction, ending in a bottleneck.

    Parameters
    ----------
    element_table : ``(103, p)`` tensor of element vectors (rows of missing elements filled)
    latent_dim : width of the embedding
    d_model, n_heads, n_layers, dim_feedforward, dropout : transformer sizes
    trainable_elements : whether the element vectors are fine-tuned

    ``forward(elements, fractions)``: left-aligned tokens as :func:`element_tokens` builds them;
    elements ``(batch, k)`` long (column index ``Z - 1``,
    any value at padding), fractions ``(batch, k)`` float with 0 at padding.
    """

    def __init__(
        self,
        element_table: Tensor,
        latent_dim: int,
        *,
        d_model: int = 128,
        n_heads: int = 4,
        n_layers: int = 3,
        dim_feedforward: int = 256,
        dropout: float = 0.1,
        trainable_elements: bool = False,
    ) -> None:
        super().__init__()
        self.elements = nn.Embedding.from_pretrained(
            element_table.float(), freeze=not trainable_elements
        )
        self.project = nn.Linear(element_table.shape[1], d_model)
        self.frac_scale = nn.Parameter(torch.tensor(1.0))
        self.d_model = d_model
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            dim_feedforward,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.transformer = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.bottleneck = nn.Sequential(
            nn.Linear(d_model, d_model), nn.SiLU(), nn.Linear(d_model, latent_dim)
        )

    def forward(self, elements: Tensor, fractions: Tensor) -> Tensor:
        # tokens are left-aligned: drop the padding columns no sample of this batch uses
        width = max(int((fractions > 0).sum(dim=1).max()), 1) if len(fractions) else 1
        elements, fractions = elements[:, :width], fractions[:, :width]
        pad = fractions <= 0  # (b, k) True at padding
        tokens = self.project(self.elements(elements))  # (b, k, d_model)
        tokens = tokens + self.frac_scale * fraction_encoding(fractions, self.d_model)
        hidden = self.norm(self.transformer(tokens, src_key_padding_mask=pad))  # (b, k, d)
        weights = fractions.masked_fill(pad, 0.0)
        weights = weights / weights.sum(dim=1, keepdim=True)  # (b, k), rows sum to 1
        pooled = torch.einsum("bk,bkd->bd", weights, hidden)  # (b, d_model)
        return self.bottleneck(pooled)


class MultiTaskNet(nn.Module):
    """An encoder, then one head per task on the shared ``latent_dim`` embedding.

    ``forward(*inputs)`` returns ``(batch, n_tasks)`` predictions in scaled target units
    (logits for classification tasks); ``embed(*inputs)`` returns the embedding.

    With ``variational=True`` the encoder must output ``2 * latent_dim`` columns, read as the
    mean and log-variance of a Gaussian posterior ``q(z|x)`` (a variational information
    bottleneck). In training mode ``forward`` samples ``z`` and stores the batch-mean KL
    divergence to ``N(0, I)`` in ``self.kl`` (nats per material), which the trainer adds to the
    loss with weight ``kl_weight``; in eval mode it uses the mean. ``embed`` returns the mean.

    ``heteroscedastic=True`` gives every head a second output, the log-variance of a Gaussian
    around its prediction (aleatoric noise, in scaled units squared); ``forward`` still
    returns the means and leaves the ``(batch, n_tasks)`` log-variances in ``self.log_var``.

    ``adapter_dim > 0`` switches from hard to soft sharing: each task gets a small residual
    adapter ``z_t = z + U_t silu(D_t z)`` (``D_t``: ``latent_dim -> adapter_dim``, ``U_t``
    zero-initialised, so training starts from hard sharing) and its head reads ``z_t``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        latent_dim: int,
        n_tasks: int,
        head_hidden: int = 64,
        dropout: float = 0.0,
        *,
        variational: bool = False,
        adapter_dim: int = 0,
        heteroscedastic: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.variational = variational
        self.heteroscedastic = heteroscedastic
        self.log_var: Tensor | None = None
        self.adapter_dim = adapter_dim
        self.adapters = nn.ModuleList(_adapter(latent_dim, adapter_dim) for _ in range(n_tasks))
        self.latent_dim = latent_dim
        self.kl: Tensor | None = None
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.SiLU(),
                nn.Dropout(dropout),
                nn.Linear(latent_dim, head_hidden),
                nn.SiLU(),
                nn.Linear(head_hidden, 2 if heteroscedastic else 1),
            )
            for _ in range(n_tasks)
        )

    def posterior(self, *inputs: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance, each ``(batch, latent_dim)`` (variational nets only)."""
        out = self.encoder(*inputs)
        mean, log_var = out[:, : self.latent_dim], out[:, self.latent_dim :]
        return mean, log_var.clamp(-12.0, 8.0)

    def rate(self, *inputs: Tensor) -> Tensor:
        """``(batch,)`` KL divergence of ``q(z|x)`` from ``N(0, I)`` in nats: the rate."""
        mean, log_var = self.posterior(*inputs)
        return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1)

    def embed(self, *inputs: Tensor) -> Tensor:
        if self.variational:
            return self.posterior(*inputs)[0]
        return self.encoder(*inputs)

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.forward_with_embedding(*inputs)[0]

    def forward_with_embedding(self, *inputs: Tensor) -> tuple[Tensor, Tensor]:
        """``((batch, n_tasks) predictions, (batch, latent_dim) shared embedding z)``."""
        if self.variational:
            mean, log_var = self.posterior(*inputs)
            if self.training:
                self.kl = 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()
                z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
            else:
                z = mean
        else:
            z = self.encoder(*inputs)  # (b, latent_dim)
        if self.adapter_dim:
            outs = [
                head(z + adapt(z)) for head, adapt in zip(self.heads, self.adapters, strict=True)
            ]
        else:
            outs = [head(z) for head in self.heads]
        if self.heteroscedastic:
            self.log_var = torch.cat([o[:, 1:] for o in outs], dim=1).clamp(-12.0, 8.0)
            outs = [o[:, :1] for o in outs]
        return torch.cat(outs, dim=1), z  # (b, n_tasks), (b, latent_dim)


def _adapter(latent_dim: int, adapter_dim: int) -> nn.Module:
    """A residual bottleneck adapter (identity at initialisation); empty when ``adapter_dim=0``."""
    if adapter_dim <= 0:
        return nn.Identity()
    up = nn.Linear(adapter_dim, latent_dim)
    nn.init.zeros_(up.weight)
    nn.init.zeros_(up.bias)
    return nn.Sequential(nn.Linear(latent_dim, adapter_dim), nn.SiLU(), up)
