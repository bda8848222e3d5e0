"""Test metrics of a fit run: per task and part, and their mean and spread over folds."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

__all__ = ["aggregate_parts", "score_task"]


def score_task(
    kind: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None
) -> dict[str, float]:
    """Test metrics of one task: MAE/RMSE/R² for regression; ROC-AUC/accuracy for classes.

    ``roc_auc`` uses predicted probabilities; ``balanced_accuracy`` uses hard labels (the
    number the Matbench leaderboard calls "ROC-AUC" for classification, matbench issue #137).
    """
    if kind == "regression":
        return {
            "mae": float(mean_absolute_error(y_true, y_pred)),
            "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
            "r2": float(r2_score(y_true, y_pred)),
        }
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
    }
    if proba is not None and len(np.unique(y_true)) == 2:
        out["roc_auc"] = float(roc_auc_score(y_true, proba))
    return out


def aggregate_parts(per_part: list[dict], tasks: list[str]) -> dict:
    if len(per_part) == 1:
        return {"tasks": per_part[0]["tasks"]}
    merged: dict[str, dict] = {}
    for task in tasks:
        rows = [p["tasks"][task] for p in per_part]
        summary: dict = {}
        for key in rows[0]:
            vals = np.array([r[key] for r in rows], dtype=float)
            if key.startswith("n_"):
                summary[key] = int(vals.sum()) if key == "n_test" else int(vals.mean())
            else:
                summary[key] = float(vals.mean())
                summary[f"{key}_std"] = float(vals.std(ddof=0))
        summary["folds"] = rows
        merged[task] = summary
    return {"tasks": merged, "n_folds": len(per_part)}
