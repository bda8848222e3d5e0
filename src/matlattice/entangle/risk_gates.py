"""Risk gates of the entanglement lattice: the evidence that a pair of properties should not
share an encoder, or that a coupling is an artefact of the data.

Every threshold is in :data:`GATES` (those of the lattice's communities and steering too):

- ``negative_transfer``: ``t`` trained with ``s`` is worse than alone by more than
  ``negative_transfer_tol`` (relative validation MAE), with evidence: the upper bound of the
  gain's interval (:mod:`~matlattice.entangle.intervals`, over at least two seeds and the
  validation rows), less the harm ``s`` does to its typical other partner, is below
  ``-negative_transfer_tol``;
- ``gradient_conflict``: the upper bound of the mean gradient cosine (block bootstrap over
  the epochs) below ``conflict_cosine``, and negative in at least ``conflict_persistence``
  of the epochs; with transfer gains measured, only while they leave harm possible (the
  gain's lower bound below ``-negative_transfer_tol`` in one direction at least): on the
  planted suite's development draws, two of three conflicts sat inside planted groups on
  pairs whose trainings together showed no harm;
- ``duplicate`` (pathological): at least ``duplicate_identical`` of the co-labelled rows carry
  equal labels;
- ``trivial_transform`` (pathological): ``|rho| >= trivial_rho`` on at least
  ``artefact_min_count`` co-labelled rows, not a duplicate;
- ``dominant_source`` (pathological, needs a ``source`` column): at least ``source_dominance``
  of the co-labelled rows come from one source while the data hold several;
- ``harmful_source`` (a node, not cutting): with transfer gains measured, a property that
  makes its typical partner worse (the median of the upper bounds of its gains over at
  least three partners below ``-negative_transfer_tol``); a negative transfer from it fires
  only for harm beyond what it does to its typical partner (:func:`source_harm`): on the
  planted suite's development draws the harm of a scarce source was alike inside and
  across planted groups;
- ``asymmetric`` (a node): with transfer gains measured, a property whose incoming gain
  outweighs its outgoing gain, ``(in - out) / (in + out) >= asymmetry``, with ``in`` at least
  ``asymmetry_min_gain``.

The steering groups attract a pair whose combined weight exceeds
``max(group_weight_floor, median weight)`` (:mod:`~matlattice.entangle.grouping`); the
communities count an edge strong above ``max(strong_edge_floor, strong_edge_ratio x median)``.

The two cutting gates record their interval and its confidence in their evidence.
"""

from __future__ import annotations

import numpy as np

from matlattice.entangle.intervals import CONFIDENCE
from matlattice.entangle.measures import CouplingMeasures

__all__ = ["CUT", "GATES", "PATHOLOGICAL", "cut_mask", "find_risk_gates", "source_harm"]

GATES = {
    "negative_transfer_tol": 0.05,
    "conflict_cosine": -0.05,
    "conflict_persistence": 0.6,
    "duplicate_identical": 0.99,
    "trivial_rho": 0.98,
    "artefact_min_count": 20,
    "source_dominance": 0.95,
    "asymmetry": 0.5,
    "asymmetry_min_gain": 0.05,
    "strong_edge_floor": 0.1,
    "group_weight_floor": 0.18,
    "strong_edge_ratio": 2.0,
    "helper_min_gain": 0.01,
    "max_helpers": 1,
}

# the gates that mark a coupling as an artefact of the data, and those that cut an edge
PATHOLOGICAL = {"duplicate", "trivial_transform", "dominant_source"}
CUT = PATHOLOGICAL | {"negative_transfer", "gradient_conflict"}


def find_risk_gates(m: CouplingMeasures) -> list[dict]:
    """Every risk gate that fires, as ``{"kind", "tasks", "evidence"}``: the gates of each
    unordered pair first, then (with transfer gains measured) the directed ones."""
    return [*_pair_gates(m), *_transfer_gates(m)]


def _pair_gates(m: CouplingMeasures) -> list[dict]:
    """Duplicate, trivial transform, dominant source and gradient conflict, pair by pair."""
    tasks, n = m.tasks, len(m.tasks)
    out: list[dict] = []
    for s in range(n):
        for t in range(s + 1, n):
            pair = [tasks[s], tasks[t]]
            count = int(m.data_count[s, t])
            if count >= GATES["artefact_min_count"]:
                out.extend(_artefact_gates(m, s, t, pair, count))
            conflict = _gradient_conflict(m, s, t)
            if conflict is not None:
                out.append({"kind": "gradient_conflict", "tasks": pair, "evidence": conflict})
    return out


def _gradient_conflict(m: CouplingMeasures, s: int, t: int) -> dict | None:
    """The evidence of a gradient conflict between ``s`` and ``t``, or None. With transfer
    gains measured, the direct evidence overrules the proxy: a conflict fires only while the
    trainings leave harm possible (the lower bound of the gain below
    ``-negative_transfer_tol`` in at least one direction)."""
    cos, neg = m.gradient_cosine[s, t], m.gradient_negative_fraction[s, t]
    bounds = m.gradient_cosine_bounds
    high = bounds[1, s, t] if bounds is not None else cos
    if not (high < GATES["conflict_cosine"] and neg >= GATES["conflict_persistence"]):
        return None
    evidence = {
        "mean_cosine": float(cos),
        "interval": _interval(bounds, s, t),
        "confidence": CONFIDENCE,
        "negative_fraction": float(neg),
    }
    if m.transfer_low is not None:
        lows = np.array([m.transfer_low[s, t], m.transfer_low[t, s]], dtype=float)
        if not np.any(lows < -GATES["negative_transfer_tol"]):
            return None
        evidence["transfer_gain_lower_bounds"] = [float(v) for v in lows]
    return evidence


def _artefact_gates(m: CouplingMeasures, s: int, t: int, pair: list[str], count: int) -> list:
    """The pathological gates of a pair with enough co-labelled rows (``count``)."""
    out = []
    same, rho = m.identical_fraction[s, t], m.data_coupling[s, t]
    if same >= GATES["duplicate_identical"]:
        evidence = {"identical_fraction": float(same), "count": count}
        out.append({"kind": "duplicate", "tasks": pair, "evidence": evidence})
    elif np.isfinite(rho) and abs(rho) >= GATES["trivial_rho"]:
        evidence = {"spearman": float(rho), "count": count}
        out.append({"kind": "trivial_transform", "tasks": pair, "evidence": evidence})
    if m.source_share is not None:
        share = m.source_share[s, t]
        if share >= GATES["source_dominance"] and m.extra.get("n_sources", 1) > 1:
            evidence = {"source_share": float(share), "count": count}
            out.append({"kind": "dominant_source", "tasks": pair, "evidence": evidence})
    return out


def _transfer_gates(m: CouplingMeasures) -> list[dict]:
    """Negative transfer per ordered pair, then asymmetric properties (needs transfer gains)."""
    if m.transfer_gain is None:
        return []
    tasks, n, gain = m.tasks, len(m.tasks), m.transfer_gain
    high = m.transfer_high if m.transfer_high is not None else gain
    runs = m.transfer_runs if m.transfer_runs is not None else np.full((n, n), 2)
    typical = source_harm(gain)
    tol = GATES["negative_transfer_tol"]
    out: list[dict] = []
    for s in range(n):
        for t in range(n):
            if s != t and runs[s, t] >= 2 and high[s, t] - typical[s, t] < -tol:
                evidence = {
                    "transfer_gain": float(gain[s, t]),
                    "interval": [_finite(m.transfer_low, s, t), _finite(m.transfer_high, s, t)],
                    "confidence": CONFIDENCE,
                    "runs": int(runs[s, t]),
                    "source_typical_gain": float(typical[s, t]),
                }
                out.append(
                    {
                        "kind": "negative_transfer",
                        "tasks": [tasks[s], tasks[t]],
                        "evidence": evidence,
                    }
                )
    out.extend(_harmful_sources(m, gain, high))
    positive = np.clip(np.nan_to_num(gain, nan=0.0), 0.0, None)
    incoming, outgoing = positive.sum(axis=0), positive.sum(axis=1)
    for t in range(n):
        total = incoming[t] + outgoing[t]
        imbalance = (incoming[t] - outgoing[t]) / total if total > 0 else 0.0
        if imbalance >= GATES["asymmetry"] and incoming[t] >= GATES["asymmetry_min_gain"]:
            evidence = {
                "incoming_gain": float(incoming[t]),
                "outgoing_gain": float(outgoing[t]),
                "imbalance": float(imbalance),
                "label_count": int(m.label_counts[t]),
            }
            out.append({"kind": "asymmetric", "tasks": [tasks[t]], "evidence": evidence})
    return out


def source_harm(gain: np.ndarray, min_partners: int = 3) -> np.ndarray:
    """``(T, T)``: the harm source ``s`` does to its typical partner other than ``t`` (the
    median gain of ``s`` over at least ``min_partners`` other targets, where negative; 0
    otherwise). A negative transfer counts against a pair only beyond it: a source that
    hurts every partner alike (a scarce property, noisy under equal task weights) says
    nothing about one pair."""
    n = len(gain)
    out = np.zeros((n, n))
    for s in range(n):
        for t in range(n):
            others = [gain[s, u] for u in range(n) if u not in (s, t) and np.isfinite(gain[s, u])]
            if s != t and len(others) >= min_partners:
                out[s, t] = min(float(np.median(others)), 0.0)
    return out


def _harmful_sources(m: CouplingMeasures, gain: np.ndarray, high: np.ndarray) -> list[dict]:
    """``harmful_source`` (a node, not cutting): a property whose typical partner (median
    over at least three) is worse trained beside it by more than ``negative_transfer_tol``,
    judged on the upper bounds of the gains."""
    out = []
    for s, task in enumerate(m.tasks):
        partners = [t for t in range(len(m.tasks)) if t != s and np.isfinite(high[s, t])]
        if len(partners) < 3:
            continue
        upper = float(np.median(high[s, partners]))
        if upper < -GATES["negative_transfer_tol"]:
            evidence = {
                "median_gain": float(np.median(gain[s, partners])),
                "median_upper_bound": upper,
                "partners": len(partners),
                "label_count": int(m.label_counts[s]),
            }
            out.append({"kind": "harmful_source", "tasks": [task], "evidence": evidence})
    return out


def _finite(matrix: np.ndarray | None, s: int, t: int) -> float | None:
    return float(matrix[s, t]) if matrix is not None and np.isfinite(matrix[s, t]) else None


def _interval(bounds: np.ndarray | None, s: int, t: int) -> list[float | None]:
    """``[low, high]`` one-sided bounds of a ``(2, T, T)`` bounds array (None: unknown)."""
    return (
        [_finite(bounds[0], s, t), _finite(bounds[1], s, t)] if bounds is not None else [None, None]
    )


def cut_mask(tasks: list[str], gates: list[dict], kinds: set[str] = CUT) -> np.ndarray:
    """``(T, T)`` True for pairs under a gate of one of ``kinds`` (both directions); by
    default the gates that cut an edge."""
    index = {t: i for i, t in enumerate(tasks)}
    cut = np.zeros((len(tasks), len(tasks)), dtype=bool)
    for gate in gates:
        if gate["kind"] in kinds and len(gate["tasks"]) == 2:
            s, t = (index[x] for x in gate["tasks"])
            cut[s, t] = cut[t, s] = True
    return cut
