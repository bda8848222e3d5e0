"""The stability monitor of a campaign: how far each refit moves the surrogate's predictions.

After every fit the campaign predicts a fixed, seeded probe set of the pool it was created
with and compares the predictions with the previous model's: ``probe_shift`` (mean absolute
change over the previous predictions' standard deviation) and ``probe_rank_corr`` (Spearman
correlation of the two rankings). The records live in the store's models table (``info``
JSON); :func:`stability_table` reads them back.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

__all__ = ["probe_info", "probe_set", "stability_table"]


def probe_set(original: list[str], size: int, seed: int) -> list[str]:
    """``min(size, len(original))`` formulas of ``original`` (the pool the campaign was
    created with), a seeded draw kept in pool order: the same on every call and resume."""
    size = min(int(size), len(original))
    rng = np.random.default_rng([seed, 7717])
    pick = np.sort(rng.choice(len(original), size, replace=False))
    return [original[i] for i in pick]


def probe_info(probe: np.ndarray, models: pd.DataFrame) -> dict:
    """The ``info`` record of a new model: its ``probe_mean`` ``(p,)`` and, against the
    last model of ``models`` (the store's models table), ``probe_shift`` and
    ``probe_rank_corr``."""
    probe = np.asarray(probe, dtype=float).reshape(-1)
    info: dict = {"probe_mean": [round(float(v), 6) for v in probe]}
    if not len(models):
        return info
    last = json.loads(models["info"].iloc[-1]).get("probe_mean")
    if last is not None and len(last) == len(probe):
        last = np.asarray(last, dtype=float)
        info["probe_shift"] = float(np.abs(probe - last).mean() / (last.std() + 1e-12))
        varied = probe.std() > 0 and last.std() > 0  # else no ranking to compare
        info["probe_rank_corr"] = (
            float(spearmanr(probe, last).statistic) if varied else float("nan")
        )
    return info


def stability_table(models: pd.DataFrame) -> pd.DataFrame:
    """One row per model version of the store's models table: ``iteration, n_train,
    fit_seconds, probe_shift, probe_rank_corr`` (NaN for the first model)."""
    infos = [json.loads(i) for i in models["info"]]
    return pd.DataFrame(
        {
            "iteration": models["iteration"],
            "n_train": models["n_train"],
            "fit_seconds": models["fit_seconds"],
            "probe_shift": [i.get("probe_shift", np.nan) for i in infos],
            "probe_rank_corr": [i.get("probe_rank_corr", np.nan) for i in infos],
        }
    )
