"""How well a lattice recovers a planted truth: the numbers of the lattice's exam.

:func:`score_lattice` compares a ``lattice.json`` summary with a
:class:`~matlattice.data.planted_suite.PlantedSet`:

- ``group_ari``: adjusted Rand index of the steering ``groups`` against the planted groups,
  over the genuine properties (the artefacts are judged by their gates, since a duplicate
  must never share a group with its original);
- ``community_ari``: the same for the Louvain ``communities``;
- ``within_across_auc``: ROC-AUC of the symmetrised edge weight separating pairs planted in
  one group from pairs across groups (genuine properties);
- ``artefacts_gated``: share of planted (artefact, original) pairs under a pathological gate;
- ``cut_gates_within``: cutting gates (negative transfer, gradient conflict) that fired on a
  pair planted in one group; ``cut_gate_precision``: the share of the fired cutting gates on
  genuine pairs that sit across groups (NaN when none fired);
- ``false_artefact_gates``: pathological gates on pairs of genuine properties.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from matlattice.data.planted_suite import PlantedSet
from matlattice.entangle.risk_gates import PATHOLOGICAL

__all__ = ["CUTTING", "score_lattice"]

CUTTING = {"negative_transfer", "gradient_conflict"}


def _partition_ari(groups: list[list[str]], planted: PlantedSet) -> float:
    """ARI over the genuine properties. An artefact carries its original's data, so it may
    stand in for it: when the original sits apart from its planted group and its artefact
    sits with it, the artefact's group counts as the original's."""
    if not groups:
        return float("nan")
    truth = planted.group_labels()
    found = {t: k for k, g in enumerate(groups) for t in g}
    mates = {t: {m for g in planted.groups if t in g for m in g if m != t} for t in truth}

    def with_mates(task: str) -> int:
        return sum(found.get(m) == found.get(task) for m in mates.get(task, ()))

    label = dict(found)
    for artefact, (original, _) in planted.artefacts.items():
        if artefact in found and original in found:
            stand_in = {**found, original: found[artefact]}
            if sum(stand_in.get(m) == found[artefact] for m in mates[original]) > with_mates(
                original
            ):
                label[original] = found[artefact]
    genuine = [t for t in planted.genuine if t in label]
    return float(adjusted_rand_score([truth[t] for t in genuine], [label[t] for t in genuine]))


def _edge_weights(summary: dict) -> dict[frozenset, float]:
    """Symmetrised weight per unordered pair (mean of the two directions present)."""
    pairs: dict[frozenset, list[float]] = {}
    for edge in summary["edges"]:
        if edge.get("weight") is not None:
            pairs.setdefault(frozenset((edge["source"], edge["target"])), []).append(edge["weight"])
    return {pair: float(np.mean(values)) for pair, values in pairs.items()}


def _auc(summary: dict, planted: PlantedSet) -> float:
    weights, within = _edge_weights(summary), planted.within_pairs()
    genuine = set(planted.genuine)
    pairs = [p for p in weights if p <= genuine]
    labels = [p in within for p in pairs]
    if len(set(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, [weights[p] for p in pairs]))


def score_lattice(summary: dict, planted: PlantedSet) -> dict:
    """The exam's numbers for one lattice (module docstring)."""
    gates = summary["risk_gates"]
    within, genuine = planted.within_pairs(), set(planted.genuine)
    pathological = {frozenset(g["tasks"]) for g in gates if g["kind"] in PATHOLOGICAL}
    artefact_pairs = [frozenset((a, o)) for a, (o, _) in planted.artefacts.items()]
    cutting = [
        frozenset(g["tasks"])
        for g in gates
        if g["kind"] in CUTTING and len(g["tasks"]) == 2 and frozenset(g["tasks"]) <= genuine
    ]
    across = [p for p in cutting if p not in within]
    return {
        "seed": planted.seed,
        "n_tasks": len(planted.tasks),
        "n_groups": sum(len(g) > 1 for g in planted.groups),
        "group_ari": _partition_ari(summary["groups"], planted),
        "community_ari": _partition_ari(summary.get("communities") or [], planted),
        "within_across_auc": _auc(summary, planted),
        "artefacts_gated": float(np.mean([p in pathological for p in artefact_pairs]))
        if artefact_pairs
        else float("nan"),
        "cut_gates_within": len(cutting) - len(across),
        "cut_gate_precision": len(across) / len(cutting) if cutting else float("nan"),
        "false_artefact_gates": sum(1 for p in pathological if p <= genuine),
    }
