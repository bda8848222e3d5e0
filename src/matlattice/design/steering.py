"""The lattice as feasible manifold (seed 002): what the entanglement lattice says about the
targets of a design, and how the designer uses it.

For every pair of targets the lattice's edge (``lattice.json`` of ``matlattice entangle``,
or measured on the known data) decides:

- a **gated** edge (a duplicate, a trivial transform, a harmful transfer) is not exploited:
  the two targets are taken as independent;
- a **weak** edge (weight below the lattice's grouping floor) couples nothing;
- otherwise the edge's **error correlation** (how the joint model's validation errors of
  the two properties move together) enters the probability of meeting both targets as the
  correlation of the predictive errors, so candidates are judged on the joint, not on
  independent marginals;
- the sign of the **label coupling** (Spearman's rho on co-labelled compositions) against
  the goals says whether the targets agree (both better together) or trade off; a
  trade-off is reported, so a user expects a Pareto front instead of one best material.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matlattice.design.objectives import DesignTarget
from matlattice.errors import InvalidParameterError

__all__ = ["LatticeSteering"]

#: Weight below which an edge couples nothing (the lattice's grouping floor).
WEAK_EDGE = 0.18


def _direction(goal: str) -> float:
    return {"max": 1.0, "min": -1.0}.get(goal, 0.0)


@dataclass
class LatticeSteering:
    """Per target pair: the error correlation used (``correlation``, ``(t, t)``) and what
    the lattice said (``pairs``: one dict per pair with ``edge``, ``used``, ``reading``)."""

    targets: list[str]
    correlation: np.ndarray
    pairs: list[dict] = field(default_factory=list)

    @classmethod
    def from_summary(cls, summary: dict, targets: Sequence[DesignTarget]) -> LatticeSteering:
        """Read a lattice summary (the ``lattice.json`` dict) for ``targets``."""
        names = [t.property for t in targets]
        missing = [p for p in names if p not in summary.get("tasks", [])]
        if missing:
            raise InvalidParameterError(
                f"the lattice has no property {missing}; it holds {summary.get('tasks')}: "
                "measure one over the design's targets"
            )
        edges = {(e["source"], e["target"]): e for e in summary["edges"]}
        correlation = np.eye(len(names))
        pairs = []
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                edge = edges.get((names[i], names[j])) or edges.get((names[j], names[i]))
                used, reading = _read_edge(edge, targets[i], targets[j])
                correlation[i, j] = correlation[j, i] = used
                pairs.append({"targets": [names[i], names[j]], "used": used, "reading": reading,
                              "edge": _edge_record(edge)})  # fmt: skip
        return cls(names, _nearest_correlation(correlation), pairs)

    @classmethod
    def measure(
        cls, known, targets: Sequence[DesignTarget], seed: int = 0, progress=None
    ) -> tuple[LatticeSteering, dict]:
        """Measure the lattice of the targets on the ``known`` frame (one multi-task fit,
        no pairwise trainings) and read it; also the lattice summary, to save."""
        from matlattice.entangle import entanglement_lattice
        from matlattice.entangle.summary import lattice_summary

        names = [t.property for t in targets]
        result = entanglement_lattice(
            known[["formula", *names]], names, transfer=False, seed=seed, progress=progress
        )
        summary = lattice_summary(result, result.val)
        return cls.from_summary(summary, targets), summary

    def covariance(self, std: np.ndarray) -> np.ndarray:
        """``(n, t, t)`` predictive covariance from the spreads ``(n, t)``."""
        std = np.asarray(std, dtype=float)
        return std[:, :, None] * self.correlation[None] * std[:, None, :]

    def report(self) -> list[str]:
        return [p["reading"] for p in self.pairs]


def _read_edge(edge: dict | None, a: DesignTarget, b: DesignTarget) -> tuple[float, str]:
    """(error correlation used, a sentence) for the edge between targets ``a`` and ``b``."""
    pair = f"{a.property} ({a.goal}) and {b.property} ({b.goal})"
    if edge is None:
        return 0.0, f"{pair}: no edge in the lattice; taken as independent"
    if edge.get("gated"):
        risks = ", ".join(edge.get("risk") or []) or "a risk gate"
        return 0.0, f"{pair}: edge gated ({risks}); not exploited, taken as independent"
    weight = float(edge.get("weight") or 0.0)
    if weight < WEAK_EDGE:
        return 0.0, f"{pair}: weak edge (weight {weight:.2f}); taken as independent"
    rho = edge.get("data_coupling")
    agreement = _direction(a.goal) * _direction(b.goal) * (rho or 0.0)
    if rho is None or a.goal == "window" or b.goal == "window":
        kind = "coupled"
    elif agreement > 0:
        kind = "agree (better together)"
    else:
        kind = "trade off (expect a Pareto front)"
    error = edge.get("error_correlation")
    used = float(np.clip(error, -0.95, 0.95)) if error is not None else 0.0
    return used, (
        f"{pair}: edge weight {weight:.2f}, label rank correlation "
        f"{'?' if rho is None else f'{rho:+.2f}'}: they {kind}; errors correlated {used:+.2f}"
    )


def _edge_record(edge: dict | None) -> dict | None:
    if edge is None:
        return None
    keys = ("weight", "data_coupling", "label_dependence", "error_correlation", "gated", "risk")
    return {k: edge.get(k) for k in keys}


def _nearest_correlation(matrix: np.ndarray) -> np.ndarray:
    """The matrix with negative eigenvalues lifted, rescaled to a unit diagonal (pairwise
    correlations read edge by edge need not form a valid matrix for three targets or more)."""
    values, vectors = np.linalg.eigh(matrix)
    fixed = vectors @ np.diag(np.clip(values, 1e-6, None)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / scale[:, None] / scale[None, :]
