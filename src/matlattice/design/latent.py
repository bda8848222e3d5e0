"""A latent generative model of compositions: a conditional variational autoencoder whose
latent carries property heads, sampled and optimised to propose new compositions.

The encoder maps a composition's atomic fractions and its standardised property value to a
Gaussian in a small latent (the compression-fidelity bottleneck); the decoder maps a latent
point and a property value back to element presence (independent logits) and fractions
(a softmax over the present elements). An ensemble of small heads reads the property from
the latent mean; their spread is the model's uncertainty there. Two ways to propose:

- **conditional sampling**: latent points from the prior, decoded at a chosen property value;
- **latent optimisation** (seed 000's generative traversal): from the encodings of the best
  parents, gradient ascent on ``mean(heads) - risk * std(heads) - density * |z|^2 / 2``, the
  last term the prior's log-density, which keeps the walk where the data are (manifold
  smoothing); each step's point is decoded at the heads' prediction.

Decoded fractions become integer formula units by
:func:`~matlattice.design.moves.nearest_integer_formula`: the smallest unit within
``tolerance`` (L1 of the atomic fractions) of what the decoder says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from matlattice.composition import SYMBOLS, composition_keys, parse_formulas
from matlattice.design.constraints import DesignConstraints, check_compositions
from matlattice.design.moves import nearest_integer_formula, written
from matlattice.errors import InvalidParameterError

__all__ = ["CompositionVAE", "LatentDesigner", "LatentSettings", "latent_generator"]

N_ELEMENTS = len(SYMBOLS)


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
        nn.Linear(hidden, outputs),
    )  # fmt: skip


class CompositionVAE(nn.Module):
    """Encoder, decoder and property heads (module docstring)."""

    def __init__(self, latent_dim: int = 8, hidden: int = 256, n_heads: int = 5):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = _mlp(N_ELEMENTS + 1, hidden, 2 * latent_dim)
        self.decoder = _mlp(latent_dim + 1, hidden, 2 * N_ELEMENTS)
        self.heads = nn.ModuleList(_mlp(latent_dim, 64, 1) for _ in range(n_heads))

    def encode(self, fractions: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_var = self.encoder(torch.cat([fractions, value[:, None]], 1)).chunk(2, 1)
        return mean, log_var.clamp(-8.0, 8.0)

    def decode(self, z: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """``(presence logits, fraction logits)``, each ``(n, 103)``."""
        return self.decoder(torch.cat([z, value[:, None]], 1)).chunk(2, 1)

    def properties(self, z: Tensor) -> Tensor:
        """``(n_heads, n)`` property predictions (standardised) of latent points."""
        return torch.stack([head(z)[:, 0] for head in self.heads])


@dataclass(frozen=True)
class LatentSettings:
    """Training and proposal settings of :class:`LatentDesigner`."""

    latent_dim: int = 8
    hidden: int = 256
    n_heads: int = 5
    epochs: int = 150
    batch_size: int = 256
    lr: float = 2e-3
    beta: float = 0.05
    property_weight: float = 1.0
    max_atoms: int = 20
    max_elements: int = 4
    tolerance: float = 0.1
    risk: float = 1.0
    density: float = 0.1
    steps: int = 60
    step_size: float = 0.05
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("latent_dim", "epochs", "batch_size", "max_atoms", "max_elements", "steps"):
            if getattr(self, name) < 1:
                raise InvalidParameterError(f"{name}={getattr(self, name)} must be at least 1")


def _loss(model: CompositionVAE, x: Tensor, y: Tensor, settings: LatentSettings) -> Tensor:
    mean, log_var = model.encode(x, y)
    z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
    presence, fraction_logits = model.decode(z, y)
    present = (x > 0).float()
    reconstruction = nn.functional.binary_cross_entropy_with_logits(
        presence, present, reduction="none"
    ).sum(1)
    masked = fraction_logits.masked_fill(present == 0, -1e9)
    composition = -(x * torch.log_softmax(masked, 1)).sum(1)
    kl = 0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(1)
    heads = model.properties(z)
    fit = ((heads - y[None]) ** 2).mean(0)
    return (
        reconstruction + composition + settings.beta * kl + settings.property_weight * fit
    ).mean()


class LatentDesigner:
    """Fit the model on labelled compositions, then propose (``generator(parents, n, rng)``:
    latent optimisation from the parents, topped up by conditional samples; with
    ``constraints``, only decoded compositions that pass every check are kept, and the
    sampling goes on for up to ``rounds`` rounds until ``n`` are found)."""

    def __init__(
        self,
        settings: LatentSettings | None = None,
        goal: str = "max",
        constraints: DesignConstraints | None = None,
        rounds: int = 5,
    ):
        if goal not in ("max", "min"):
            raise InvalidParameterError(f"goal={goal!r} must be 'max' or 'min'")
        self.settings = settings or LatentSettings()
        self.goal = goal
        self.constraints = constraints
        self.rounds = int(rounds)

    def fit(self, formulas: list[str], values: np.ndarray) -> LatentDesigner:
        s = self.settings
        values = np.asarray(values, dtype=float)
        if len(formulas) != len(values) or not np.isfinite(values).all() or len(values) < 10:
            raise InvalidParameterError("fit needs at least 10 formulas with finite values")
        torch.manual_seed(s.seed)
        sign = 1.0 if self.goal == "max" else -1.0
        self.centre_, self.scale_ = float(values.mean()), float(values.std() or 1.0)
        x = torch.tensor(parse_formulas(formulas).fractions.toarray(), dtype=torch.float32)
        y = torch.tensor(sign * (values - self.centre_) / self.scale_, dtype=torch.float32)
        self.model_ = CompositionVAE(s.latent_dim, s.hidden, s.n_heads).to(s.device)
        x, y = x.to(s.device), y.to(s.device)
        optimiser = torch.optim.Adam(self.model_.parameters(), lr=s.lr)
        generator = torch.Generator().manual_seed(s.seed)
        self.model_.train()
        for _ in range(s.epochs):
            order = torch.randperm(len(x), generator=generator).to(s.device)
            for start in range(0, len(x), s.batch_size):
                batch = order[start : start + s.batch_size]
                optimiser.zero_grad()
                _loss(self.model_, x[batch], y[batch], s).backward()
                optimiser.step()
        self.model_.eval()
        self.known_ = set(composition_keys(parse_formulas(formulas).fractions))
        return self

    def _decode(self, z: Tensor, value: Tensor) -> list[str | None]:
        """Integer formulas of latent points (None where no valid unit exists)."""
        s = self.settings
        with torch.no_grad():
            presence, fraction_logits = self.model_.decode(z, value)
        out = []
        for p, f in zip(presence.cpu().numpy(), fraction_logits.cpu().numpy(), strict=True):
            chosen = np.argsort(-p)[: s.max_elements]
            chosen = [k for k in chosen if p[k] > 0] or list(np.argsort(-p)[:2])
            chosen = chosen if len(chosen) >= 2 else list(np.argsort(-p)[:2])
            weights = np.exp(f[chosen] - f[chosen].max())
            amounts = nearest_integer_formula(
                {SYMBOLS[k]: w for k, w in zip(chosen, weights / weights.sum(), strict=True)},
                s.max_atoms,
                s.tolerance,
            )
            out.append(written(amounts) if amounts else None)
        return out

    def optimise(self, parents: list[str]) -> tuple[list[str | None], np.ndarray]:
        """Decoded formulas along the latent ascent from ``parents``, with the heads' mean
        (original units, sign of the goal undone) at each decoded point."""
        s, model = self.settings, self.model_
        x = torch.tensor(parse_formulas(parents).fractions.toarray(), dtype=torch.float32)
        x = x.to(s.device)
        with torch.no_grad():
            start = model.properties(model.encode(x, torch.zeros(len(x), device=s.device))[0])
            z, _ = model.encode(x, start.mean(0))
        z = z.clone().requires_grad_(True)
        formulas, scores = [], []
        for _ in range(s.steps):
            heads = model.properties(z)
            objective = heads.mean(0) - s.risk * heads.std(0) - s.density * 0.5 * (z**2).sum(1)
            (grad,) = torch.autograd.grad(objective.sum(), z)
            with torch.no_grad():
                z += s.step_size * grad / (grad.norm(dim=1, keepdim=True) + 1e-8)
                predicted = model.properties(z).mean(0)
            formulas += self._decode(z.detach(), predicted)
            scores += predicted.cpu().tolist()
        sign = 1.0 if self.goal == "max" else -1.0
        return formulas, sign * np.array(scores) * self.scale_ + self.centre_

    def sample(self, n: int, value: float, rng: np.random.Generator) -> list[str | None]:
        """``n`` decoded prior samples at the property ``value`` (original units)."""
        s = self.settings
        sign = 1.0 if self.goal == "max" else -1.0
        z = torch.tensor(rng.standard_normal((n, s.latent_dim)), dtype=torch.float32)
        level = torch.full((n,), sign * (value - self.centre_) / self.scale_)
        return self._decode(z.to(s.device), level.to(s.device))

    def __call__(self, parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        formulas, scores = self.optimise(parents[:100])
        order = np.argsort(-scores if self.goal == "max" else scores, kind="stable")
        found = self._new_and_valid([formulas[i] for i in order if formulas[i]])
        level = float(np.quantile(scores, 0.9 if self.goal == "max" else 0.1))
        for _ in range(self.rounds):
            if len(found) >= n:
                break
            found += self._new_and_valid([f for f in self.sample(4 * n, level, rng) if f])
            found = list(dict.fromkeys(found))
        return found[:n]

    def _new_and_valid(self, formulas: list[str]) -> list[str]:
        """``formulas`` once each, without known compositions and, with constraints, only
        those that pass every check."""
        ranked = list(dict.fromkeys(formulas))
        if not ranked:
            return []
        keys = composition_keys(parse_formulas(ranked).fractions)
        ranked = [f for f, k in zip(ranked, keys, strict=True) if k not in self.known_]
        if self.constraints is None or not ranked:
            return ranked
        checked = check_compositions(ranked, self.constraints)
        return checked.loc[checked["passes"], "formula"].tolist()


def latent_generator(
    formulas: list[str],
    values: np.ndarray,
    constraints: DesignConstraints | None = None,
    settings: LatentSettings | None = None,
):
    """``generator(parents, n, rng)`` of a :class:`LatentDesigner` trained, on its first
    call, on ``formulas`` and ``values`` (higher is better: for several targets, their mean
    rank towards the goals), keeping only proposals that pass ``constraints``."""
    designer = LatentDesigner(settings, "max", constraints or DesignConstraints())

    def generate(parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        if not hasattr(designer, "model_"):
            designer.fit(list(formulas), np.asarray(values, dtype=float))
        return designer(parents, n, rng)

    return generate
