"""The ``lattice.json`` dictionary of an entanglement result: edges with their measures and
intervals, regime and its evidence, groups, weights, helpers, risk gates (with their
intervals and confidence), thresholds, label counts, the number of transfer trainings spent,
and the per-property validation MAE of the joint model (and of single-task models with
transfer)."""

from __future__ import annotations

import numpy as np

from matlattice.entangle.intervals import CONFIDENCE, N_DRAWS
from matlattice.entangle.lattice import GATES, REGIME_THRESHOLDS
from matlattice.entangle.measures import MEASURE_WEIGHTS
from matlattice.entangle.pipeline import EntanglementResult
from matlattice.entangle.transfer import MAX_RUNS

__all__ = ["lattice_summary"]


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _joint_errors(result: EntanglementResult, val) -> dict[str, float | None]:
    tasks = result.lattice.tasks
    pred = np.asarray(result.model.predict(val["formula"].tolist())).reshape(len(val), -1)
    out = {}
    for k, task in enumerate(tasks):
        y = val[task].to_numpy(dtype=float)
        ok = np.isfinite(y)
        out[task] = _finite(np.mean(np.abs(pred[ok, k] - y[ok]))) if ok.any() else None
    return out


def lattice_summary(result: EntanglementResult, val=None) -> dict:
    """The ``lattice.json`` dictionary of ``result`` (strict JSON: NaN becomes null)."""
    lattice, m = result.lattice, result.measures
    edges = []
    for source, target, data in lattice.graph.edges(data=True):
        edges.append({"source": source, "target": target, **data})
    summary = {
        "dataset": result.dataset,
        "tasks": lattice.tasks,
        "label_counts": {t: int(c) for t, c in zip(lattice.tasks, m.label_counts, strict=True)},
        "edges": edges,
        "density": lattice.density,
        "modularity": lattice.modularity,
        "regime": lattice.regime,
        "regime_without_artefacts": lattice.regime_without_artefacts,
        "regime_evidence": lattice.regime_evidence,
        "groups": lattice.groups,
        "communities": lattice.communities,
        "task_weights": lattice.task_weights,
        "helpers": lattice.helpers,
        "risk_gates": lattice.risk_gates,
        "oscillating_edges": [list(pair) for pair in lattice.oscillating],
        "thresholds": {
            "gates": GATES,
            "regime": REGIME_THRESHOLDS,
            "gate_confidence": CONFIDENCE,
            "transfer_max_runs": MAX_RUNS,
            "bootstrap_draws": N_DRAWS,
        },
        "transfer_trainings": m.extra.get("transfer_trainings"),
        "measure_weights": MEASURE_WEIGHTS,
        "n_train": result.n_train,
        "n_val": result.n_val,
    }
    if val is not None:
        summary["val_mae_joint"] = _joint_errors(result, val)
    if m.alone_error is not None:
        summary["val_mae_alone"] = {
            t: _finite(e) for t, e in zip(lattice.tasks, m.alone_error, strict=True)
        }
    return summary
