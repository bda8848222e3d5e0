"""The entanglement lattice: a graph of properties, its regime, its risk gates and its steering.

From :class:`~matlattice.entangle.measures.CouplingMeasures`, :func:`build_lattice` makes a
networkx ``DiGraph`` (node per property, edge ``s -> t`` per ordered pair with every measure and
the combined weight) and derives:

- **density** ``rho = sum w_st sigma(z_s . z_t) / sum sigma(z_s . z_t)`` over ordered pairs
  (the seed's ``sum w_ij sigma(z_i . z_j)``, normalised to [0, 1]);
- **communities** (Louvain on the strong edges of the symmetrised weight, gated edges cut)
  and their **modularity**: the structure the regime reads;
- **risk gates** (:mod:`~matlattice.entangle.risk_gates`; :data:`GATES` holds every
  threshold): negative transfer, gradient conflict, the pathological duplicate, trivial
  transform and dominant source, and asymmetric properties;
- the **regime** of seed 002 Table 1 (:func:`classify_regime`);
- **steering**: task groups (:func:`~matlattice.entangle.grouping.consensus_groups`: the
  partition that maximises the within-group coupling above the lattice's typical level,
  made over redrawn weights so that a pair is split only when most draws split it; gated
  pairs never together; each edge's ``together`` is its share of draws in one group), task
  weights (inverse square root of the label count, mean 1, so a scarce task is not drowned),
  per-edge oscillation flags with damped (exponential moving average) weights, and with
  transfer gains measured, **helpers** per property (:func:`recommend_helpers`: the
  properties whose directed transfer gain into it is largest and above ``helper_min_gain``,
  for an auxiliary-task model that learns it beside them).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from matlattice.entangle.grouping import (
    consensus_groups,
    correlation_clusters,
    steering_groups,
    weight_draws,
)
from matlattice.entangle.measures import CouplingMeasures
from matlattice.entangle.risk_gates import GATES, PATHOLOGICAL, cut_mask, find_risk_gates

__all__ = [
    "GATES",
    "REGIME_THRESHOLDS",
    "Lattice",
    "build_lattice",
    "classify_regime",
    "correlation_clusters",
    "recommend_helpers",
    "steering_groups",
]

REGIME_THRESHOLDS = {
    "sparse_density": 0.15,
    "structured_modularity": 0.1,
    "asymmetric_imbalance": 0.5,
    "dynamic_std": 0.2,
    "oscillation_flip_rate": 0.6,
    "oscillation_std": 0.1,
    "dynamic_oscillating_share": 0.25,
}

_EMA = 0.3  # damping: weight of the newest epoch in the moving average


@dataclass
class Lattice:
    """The lattice of one dataset; see the module docstring for every field."""

    graph: nx.DiGraph
    tasks: list[str]
    weight: np.ndarray
    density: float
    modularity: float
    groups: list[list[str]]
    regime: str
    regime_evidence: dict
    regime_without_artefacts: str
    risk_gates: list[dict]
    task_weights: dict[str, float]
    oscillating: list[tuple[str, str]] = field(default_factory=list)
    communities: list[list[str]] = field(default_factory=list)
    helpers: dict[str, list[str]] = field(default_factory=dict)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def density(weight: np.ndarray, direction_dot: np.ndarray) -> float:
    """``sum w sigma(z.z) / sum sigma(z.z)`` over ordered pairs with a finite weight."""
    s = _sigmoid(np.nan_to_num(direction_dot, nan=0.0))
    ok = np.isfinite(weight)
    np.fill_diagonal(ok, False)
    return float((weight[ok] * s[ok]).sum() / s[ok].sum()) if ok.any() else 0.0


def _communities(tasks: list[str], sym: np.ndarray, seed: int) -> tuple[list[list[str]], float]:
    """Louvain communities of the undirected weighted graph of the strong edges, and their
    modularity. An edge is strong when its weight is at least ``max(strong_edge_floor,
    strong_edge_ratio * median weight)``: every pair carries some weight, and on a complete
    graph a property coupled to nothing would still be pulled into some community."""
    off = sym[~np.eye(len(tasks), dtype=bool)]
    off = off[np.isfinite(off)]
    cutoff = (
        max(GATES["strong_edge_floor"], GATES["strong_edge_ratio"] * float(np.median(off)))
        if off.size
        else np.inf
    )
    g = nx.Graph()
    g.add_nodes_from(tasks)
    for s in range(len(tasks)):
        for t in range(s + 1, len(tasks)):
            if np.isfinite(sym[s, t]) and sym[s, t] >= cutoff:
                g.add_edge(tasks[s], tasks[t], weight=float(sym[s, t]))
    if g.number_of_edges() == 0:
        return [[t] for t in tasks], 0.0
    parts = nx.community.louvain_communities(g, weight="weight", seed=seed)
    groups = sorted((sorted(p, key=tasks.index) for p in parts), key=lambda p: tasks.index(p[0]))
    return groups, float(nx.community.modularity(g, parts, weight="weight"))


def recommend_helpers(
    tasks: list[str],
    gain: np.ndarray | None,
    gates: list[dict],
    *,
    min_gain: float | None = None,
    max_helpers: int | None = None,
) -> dict[str, list[str]]:
    """Per property ``t``, up to ``max_helpers`` properties ``s`` to learn it beside: those
    with the largest directed transfer gain ``gain[s, t]`` (relative validation MAE of ``t``
    trained with ``s`` against alone), at least ``min_gain``, best first. A pair under a
    pathological gate (duplicate, trivial transform, one dominant source) never helps: its
    gain is an artefact. Directed on purpose: a scarce property may borrow from a plentiful
    one that it would hurt in return, which a partition into groups cannot express.

    Properties without a helper are left out; with no transfer gains (``gain`` None) the
    answer is empty. Defaults: ``GATES["helper_min_gain"]`` and ``GATES["max_helpers"]``.
    """
    if gain is None:
        return {}
    min_gain = GATES["helper_min_gain"] if min_gain is None else float(min_gain)
    max_helpers = int(GATES["max_helpers"] if max_helpers is None else max_helpers)
    artefact = cut_mask(tasks, gates, PATHOLOGICAL)
    out: dict[str, list[str]] = {}
    for t, target in enumerate(tasks):
        ranked = sorted(
            (
                (-float(gain[s, t]), s)
                for s in range(len(tasks))
                if s != t
                and not artefact[s, t]
                and np.isfinite(gain[s, t])
                and gain[s, t] >= min_gain
            ),
        )
        if ranked and max_helpers > 0:
            out[target] = [tasks[s] for _, s in ranked[:max_helpers]]
    return out


def _dynamics(trajectory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per edge, the std of the weight over the second half of the epochs and the rate of
    direction flips of its first difference (oscillation): both ``(T, T)``."""
    if len(trajectory) < 4:
        shape = trajectory.shape[1:]
        return np.zeros(shape), np.zeros(shape)
    late = trajectory[len(trajectory) // 2 :]
    with warnings.catch_warnings():  # the diagonal is NaN in every epoch
        warnings.simplefilter("ignore", RuntimeWarning)
        std = np.nanstd(late, axis=0)
    steps = np.diff(late, axis=0)
    if len(steps) < 2:  # one step cannot flip
        return std, np.zeros(trajectory.shape[1:])
    flips = (np.sign(steps[1:]) * np.sign(steps[:-1]) < 0).mean(axis=0)
    return std, flips


def _oscillating(std: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """``(T, T)`` True for edges whose weight flips direction often and by a visible amount."""
    th = REGIME_THRESHOLDS
    return (flips > th["oscillation_flip_rate"]) & (std > th["oscillation_std"])


def _damped(trajectory: np.ndarray) -> np.ndarray:
    """``(T, T)`` exponential moving average of the per-epoch weight (the damped weight)."""
    out = np.nan_to_num(trajectory[0], nan=0.0) if len(trajectory) else None
    for frame in trajectory[1:]:
        out = (1 - _EMA) * out + _EMA * np.nan_to_num(frame, nan=0.0)
    return out


def classify_regime(
    density_value: float,
    modularity_value: float,
    n_groups: int,
    imbalance: float,
    dynamic_std: float,
    oscillating_share: float,
    pathological: bool,
) -> str:
    """The regime of seed 002 Table 1, by the first rule that holds (thresholds in
    :data:`REGIME_THRESHOLDS`):

    1. ``pathological``: an artefact gate fired (duplicate, trivial transform, one source);
    2. ``dynamic``: edge weights still move late in training (median std over the second half
       of the epochs above ``dynamic_std``) or at least ``dynamic_oscillating_share`` of the
       edges oscillate (their epoch-to-epoch change flips direction in more than
       ``oscillation_flip_rate`` of the late epochs with a std above ``oscillation_std``;
       noise alone flips about half the time, so flips without amplitude do not count);
    3. ``asymmetric``: the mean directional imbalance ``|w_st - w_ts| / (w_st + w_ts)`` over
       the stronger half of the pairs is at least ``asymmetric_imbalance``;
    4. ``structured``: two or more communities of at least two properties each, with
       modularity at least ``structured_modularity``;
    5. ``sparse``: density below ``sparse_density``;
    6. ``dense`` otherwise.
    """
    th = REGIME_THRESHOLDS
    if pathological:
        return "pathological"
    if dynamic_std > th["dynamic_std"] or oscillating_share >= th["dynamic_oscillating_share"]:
        return "dynamic"
    if imbalance >= th["asymmetric_imbalance"]:
        return "asymmetric"
    if n_groups >= 2 and modularity_value >= th["structured_modularity"]:
        return "structured"
    if density_value < th["sparse_density"]:
        return "sparse"
    return "dense"


def _imbalance(weight: np.ndarray) -> float:
    """Mean ``|w_st - w_ts| / (w_st + w_ts)`` over the stronger half of the unordered pairs."""
    n = len(weight)
    rows = []
    for s in range(n):
        for t in range(s + 1, n):
            a, b = weight[s, t], weight[t, s]
            if np.isfinite(a) and np.isfinite(b) and a + b > 0:
                rows.append((a + b, abs(a - b) / (a + b)))
    if not rows:
        return 0.0
    rows.sort(reverse=True)
    strong = rows[: max(len(rows) // 2, 1)]
    return float(np.mean([r[1] for r in strong]))


def _regime(m, weight, direction_dot, cut, seed) -> tuple[str, dict, list[list[str]], float]:
    sym = 0.5 * (weight + weight.T)
    sym = np.where(cut, 0.0, sym)
    groups, modularity = _communities(m.tasks, sym, seed)
    kept = np.where(cut, np.nan, weight)
    rho = density(kept, direction_dot)
    std, flips = _dynamics(m.weight_trajectory())
    off = ~np.eye(len(m.tasks), dtype=bool)
    evidence = {
        "density": rho,
        "modularity": modularity,
        "n_groups": sum(len(g) >= 2 for g in groups),
        "imbalance": _imbalance(kept),
        "dynamic_std": float(np.nanmedian(std[off])) if off.any() else 0.0,
        "oscillating_share": float(_oscillating(std, flips)[off].mean()) if off.any() else 0.0,
    }
    regime = classify_regime(
        rho,
        modularity,
        evidence["n_groups"],
        evidence["imbalance"],
        evidence["dynamic_std"],
        evidence["oscillating_share"],
        pathological=False,
    )
    return regime, evidence, groups, modularity


def build_lattice(measures: CouplingMeasures, seed: int = 0) -> Lattice:
    """The lattice of ``measures``: graph, density, communities, regime, gates, steering."""
    m = measures
    tasks, n = m.tasks, len(m.tasks)
    weight = m.weight()
    gates = find_risk_gates(m)
    cut = cut_mask(tasks, gates)
    pathological = any(g["kind"] in PATHOLOGICAL for g in gates)
    regime_clean, evidence, communities, modularity = _regime(m, weight, m.direction_dot, cut, seed)
    draws = weight_draws(m, np.random.default_rng(seed))
    groups, together = consensus_groups(tasks, draws, cut)
    regime = "pathological" if pathological else regime_clean
    rho_all = density(weight, m.direction_dot)

    trajectory = m.weight_trajectory()
    std, flips = _dynamics(trajectory)
    damped = _damped(trajectory) if len(trajectory) else np.full((n, n), np.nan)
    swinging = _oscillating(std, flips)
    oscillating = [
        (tasks[s], tasks[t]) for s in range(n) for t in range(s + 1, n) if swinging[s, t]
    ]

    risk_by_edge: dict[tuple[str, str], list[str]] = {}
    for gate in gates:
        if len(gate["tasks"]) == 2:
            a, b = gate["tasks"]
            risk_by_edge.setdefault((a, b), []).append(gate["kind"])
            if gate["kind"] != "negative_transfer":  # symmetric gates mark both directions
                risk_by_edge.setdefault((b, a), []).append(gate["kind"])
    asymmetric = {g["tasks"][0] for g in gates if g["kind"] == "asymmetric"}

    graph = nx.DiGraph(regime=regime, density=rho_all)
    for i, task in enumerate(tasks):
        graph.add_node(task, label_count=int(m.label_counts[i]), asymmetric=task in asymmetric)

    def value(matrix, s, t):
        return None if matrix is None or not np.isfinite(matrix[s, t]) else float(matrix[s, t])

    def bounds(pair, s, t):
        return None if pair is None else [value(pair[0], s, t), value(pair[1], s, t)]

    transfer_bounds = (
        None if m.transfer_low is None else np.stack([m.transfer_low, m.transfer_high])
    )

    for s in range(n):
        for t in range(n):
            if s == t:
                continue
            risks = list(risk_by_edge.get((tasks[s], tasks[t]), []))
            if tasks[t] in asymmetric:
                risks.append("asymmetric")
            graph.add_edge(
                tasks[s],
                tasks[t],
                weight=value(weight, s, t),
                data_coupling=value(m.data_coupling, s, t),
                label_dependence=value(m.label_dependence, s, t),
                co_labelled=int(m.data_count[s, t]),
                gradient_cosine=value(m.gradient_cosine, s, t),
                gradient_cosine_interval=bounds(m.gradient_cosine_bounds, s, t),
                gradient_negative_fraction=value(m.gradient_negative_fraction, s, t),
                affinity=value(m.affinity, s, t),
                affinity_interval=bounds(m.affinity_bounds, s, t),
                transfer_gain=value(m.transfer_gain, s, t),
                transfer_gain_interval=bounds(transfer_bounds, s, t),
                transfer_runs=None if m.transfer_runs is None else int(m.transfer_runs[s, t]),
                representation_alignment=value(m.representation_alignment, s, t),
                direction_dot=value(m.direction_dot, s, t),
                head_cka=value(m.head_cka, s, t),
                error_correlation=value(m.error_correlation, s, t),
                weight_damped=value(damped, s, t),
                oscillating=(tasks[min(s, t)], tasks[max(s, t)]) in oscillating,
                gated=bool(cut[s, t]),
                together=float(together[s, t]),
                risk=risks,
            )
    counts = np.maximum(m.label_counts.astype(float), 1.0)
    raw = np.sqrt(counts.max() / counts)
    task_weights = {t: float(w) for t, w in zip(tasks, raw / raw.mean(), strict=True)}
    evidence["density_with_gated"] = rho_all
    return Lattice(
        graph=graph,
        tasks=list(tasks),
        weight=weight,
        density=evidence["density"],
        modularity=modularity,
        groups=groups,
        regime=regime,
        regime_evidence=evidence,
        regime_without_artefacts=regime_clean,
        risk_gates=gates,
        task_weights=task_weights,
        oscillating=oscillating,
        communities=communities,
        helpers=recommend_helpers(tasks, m.transfer_gain, gates),
    )
