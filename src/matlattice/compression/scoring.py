"""Score the width fits of a compression-fidelity sweep: the mean-predictor floor and the
widest-model ceiling, one ``per_dim`` entry of ``fidelity.json`` per width, the erosion order
and the rate axis of the variational bottleneck.

Every fit result is the dictionary of :func:`~matlattice.compression.width.fit_width`: test
means ``mean`` and spreads ``std`` ``(n_test, n_tasks)``, a probe ``embedding``
``(n_probe, d)``, ``reconstruction`` R² per part, ``params``, ``train_s``, ``predict_per_s``
and ``rate_nats``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.manifold import trustworthiness

from matlattice.compression.metrics import (
    linear_cka,
    miscalibration_area,
    normalised_fidelity,
    per_sample_knn_overlap,
    predictive_scores,
)
from matlattice.compression.width import BYTES_PER_VALUE, mean_finite

__all__ = ["SweepScoring", "erosion", "variational_entries", "width_entry"]


@dataclass(frozen=True)
class SweepScoring:
    """The test targets ``y_test`` ``(n_test, n_tasks)`` and the floor and ceiling each task's
    score is normalised between (MAE for regression, ROC-AUC for classification)::

        normalised = (score - floor) / (ceiling - floor)

    The floor is the mean predictor (regression) or chance, 0.5 (classification); the
    ceiling the widest model's score, averaged over seeds.
    """

    tasks: tuple[str, ...]
    y_test: np.ndarray
    classification: bool
    floor: dict[str, float]
    ceiling: dict[str, float]

    @property
    def key(self) -> str:
        """The score that is normalised: ``"roc_auc"`` or ``"mae"``."""
        return "roc_auc" if self.classification else "mae"

    @classmethod
    def build(
        cls,
        train: pd.DataFrame,
        test: pd.DataFrame,
        tasks: Sequence[str],
        classification: bool,
        widest: list[dict],
    ) -> SweepScoring:
        """Floors from the training targets, ceilings from the ``widest`` fits."""
        y_test = test[list(tasks)].to_numpy(dtype=float)
        y_train = train[list(tasks)].to_numpy(dtype=float)
        floor = {}
        for j, t in enumerate(tasks):
            if classification:
                floor[t] = 0.5
            else:
                const = np.full(len(y_test), np.nanmean(y_train[:, j]))
                floor[t] = predictive_scores(y_test[:, j], const)["mae"]
        scoring = cls(tuple(tasks), y_test, classification, floor, {})
        ceiling = {
            t: mean_finite([scoring.task_scores(r)[t][scoring.key] for r in widest]) for t in tasks
        }
        return dataclasses.replace(scoring, ceiling=ceiling)

    def task_scores(self, result: dict) -> dict[str, dict[str, float]]:
        """Predictive scores of one fit per task."""
        return {
            t: predictive_scores(
                self.y_test[:, j], result["mean"][:, j], classification=self.classification
            )
            for j, t in enumerate(self.tasks)
        }

    def normalised(self, scores: dict[str, dict[str, float]]) -> dict[str, float]:
        """Normalised fidelity per task, between the floor and the widest model."""
        return {
            t: normalised_fidelity(scores[t][self.key], self.floor[t], self.ceiling[t])
            for t in self.tasks
        }

    def skill(self, scores: dict[str, dict[str, float]]) -> float:
        """Fidelity against the floor and a perfect model (needs no widest model)."""
        perfect = 1.0 if self.classification else 0.0
        return mean_finite(
            [normalised_fidelity(scores[t][self.key], self.floor[t], perfect) for t in self.tasks]
        )


def width_entry(
    d: int,
    runs: list[dict],
    scoring: SweepScoring,
    features: np.ndarray,
    families: np.ndarray,
    widest_by_seed: dict[int, dict],
    k: int,
) -> dict:
    """The ``per_dim`` entry of width ``d`` from its fits ``runs`` (one per seed).

    ``features`` ``(n_probe, n_features)`` are the standardised features of the probe,
    ``families`` ``(n_probe,)`` its chemical families, ``widest_by_seed`` the widest fit of
    each seed (neighbourhoods and CKA compare against the widest embedding of the same seed).
    """
    tasks = scoring.tasks
    scores = [scoring.task_scores(r) for r in runs]
    predictive = {}
    for t in tasks:
        entry = {m: mean_finite([s[t][m] for s in scores]) for m in scores[0][t]}
        entry["normalised"] = normalised_fidelity(
            entry[scoring.key], scoring.floor[t], scoring.ceiling[t]
        )
        predictive[t] = entry
    widest = [widest_by_seed[r["seed"]]["embedding"] for r in runs]
    overlap_features = [per_sample_knn_overlap(features, r["embedding"], k) for r in runs]
    overlap_widest = [
        per_sample_knn_overlap(w, r["embedding"], k) for w, r in zip(widest, runs, strict=True)
    ]
    mean_overlap = np.mean(overlap_widest, axis=0)
    return {
        "d": d,
        "predictive": predictive,
        "mean_normalised": mean_finite([predictive[t]["normalised"] for t in tasks]),
        "mean_normalised_std": float(
            np.std([mean_finite(list(scoring.normalised(s).values())) for s in scores])
        ),
        "skill": mean_finite([scoring.skill(s) for s in scores]),
        "knn_overlap": {
            "features": float(np.mean(overlap_features)),
            "widest": float(np.mean(overlap_widest)),
        },
        "knn_overlap_by_family": {
            fam: float(mean_overlap[families == fam].mean()) for fam in sorted(set(families))
        },
        "trustworthiness": mean_finite(
            [float(trustworthiness(features, r["embedding"], n_neighbors=k)) for r in runs]
        ),
        "cka": mean_finite(
            [linear_cka(w, r["embedding"]) for w, r in zip(widest, runs, strict=True)]
        ),
        "reconstruction_r2": mean_finite(
            [np.mean(list(r["reconstruction"].values())) for r in runs]
        ),
        "reconstruction_r2_parts": {
            part: mean_finite([r["reconstruction"][part] for r in runs])
            for part in runs[0]["reconstruction"]
        },
        "miscalibration_area": mean_finite(_miscalibration(runs, scoring)),
        "cost": {
            "params": int(runs[0]["params"]),
            "bytes_per_material": d * BYTES_PER_VALUE,
            "train_s": mean_finite([r["train_s"] for r in runs]),
            "predict_per_s": mean_finite([r["predict_per_s"] for r in runs]),
        },
    }


def _miscalibration(runs: list[dict], scoring: SweepScoring) -> list[float]:
    """Miscalibration area of each fit's ensemble spread, averaged over tasks (NaN for
    classification)."""
    if scoring.classification:
        return [float("nan")]
    y = scoring.y_test
    return [
        mean_finite(
            [
                miscalibration_area(y[:, j], r["mean"][:, j], r["std"][:, j])
                for j in range(len(scoring.tasks))
            ]
        )
        for r in runs
    ]


def erosion(per_dim: list[dict], tasks: Sequence[str], threshold: float) -> dict:
    """Which properties and chemical families lose fidelity first as the width shrinks.

    A property's ``needs_d`` is the smallest width at which it keeps ``threshold`` of its
    widest fidelity; properties needing wider embeddings erode first. Families are ordered by
    their k-NN overlap with the widest embedding at the narrowest width (lowest first).
    """
    needs = {}
    for t in tasks:
        ok = [p["d"] for p in per_dim if p["predictive"][t]["normalised"] >= threshold]
        needs[t] = min(ok) if ok else per_dim[-1]["d"]
    narrowest = per_dim[0]
    tasks_order = sorted(tasks, key=lambda t: (-needs[t], narrowest["predictive"][t]["normalised"]))
    fam = narrowest["knn_overlap_by_family"]
    return {
        "properties": tasks_order,
        "needs_d": needs,
        "families": sorted(fam, key=lambda f: fam[f]),
        "family_overlap_at_narrowest": fam,
    }


def variational_entries(
    results: list[dict], width: int, scoring: SweepScoring, features: np.ndarray, k: int
) -> list[dict]:
    """Fidelity against measured rate for the variational bottleneck, one entry per weight."""
    out = []
    for w in sorted({r["kl_weight"] for r in results}):
        runs = [r for r in results if r["kl_weight"] == w]
        out.append(
            {
                "kl_weight": w,
                "d": width,
                "rate_nats": mean_finite([r["rate_nats"] for r in runs]),
                "train_s": mean_finite([r["train_s"] for r in runs]),
                "mean_normalised": mean_finite(
                    [
                        mean_finite(list(scoring.normalised(scoring.task_scores(r)).values()))
                        for r in runs
                    ]
                ),
                "knn_overlap": mean_finite(
                    [
                        float(per_sample_knn_overlap(features, r["embedding"], k).mean())
                        for r in runs
                    ]
                ),
                "reconstruction_r2": mean_finite(
                    [np.mean(list(r["reconstruction"].values())) for r in runs]
                ),
            }
        )
    return out
