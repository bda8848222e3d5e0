"""Scoring design candidates in batches over an executor: the same predictions as one call
(:func:`~matlattice.design.designer.model_predictor`), with the formulas cut into batches that
run in local worker processes or as Ray tasks (each batch a task carrying the model)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from matlattice.design.designer import Predictor, model_predictor
from matlattice.runtime.executor import get_executor

__all__ = ["batched_predictor", "predict_batch"]

MIN_BATCH = 2_000  # formulas per task at least: below it, shipping the model costs more


def predict_batch(job: tuple) -> tuple:
    """One batch in a worker: ``(model, properties, joint, formulas) -> (mean, std, cov)``
    with one torch thread."""
    import torch

    model, properties, joint, formulas = job
    torch.set_num_threads(1)
    if str(getattr(model, "device", "cpu")).startswith("cuda"):
        model.device = "cuda"  # a Ray task sees only the GPU it was granted (its own copy)
    return model_predictor(model, properties, joint)(list(formulas))


def batched_predictor(
    model,
    properties: Sequence[str],
    joint: bool = False,
    *,
    executor: str = "local",
    n_jobs: int = 1,
) -> Predictor:
    """:func:`model_predictor` whose calls are cut into batches run by ``executor``
    (``"local"`` with ``n_jobs`` processes, or ``"ray"``); with ``n_jobs=1`` locally it is
    :func:`model_predictor` itself. A single network's MC-dropout spread is random, so it
    stays in this process whatever the executor."""
    here = model_predictor(model, properties, joint)  # checks the properties, here and now
    dropout = model._interval_mc_samples(0) if hasattr(model, "_interval_mc_samples") else 0
    if (executor == "local" and n_jobs <= 1) or dropout:
        return here
    gpus = 1.0 if str(getattr(model, "device", "cpu")).startswith("cuda") else 0.0
    pool = get_executor(executor, n_jobs, num_gpus=gpus if executor == "ray" else 0.0)
    workers = max(int(n_jobs), 2)

    def predict(formulas: list[str]):
        size = max(MIN_BATCH, math.ceil(len(formulas) / workers))
        if len(formulas) <= size:
            return here(formulas)
        jobs = [
            (model, list(properties), joint, formulas[i : i + size])
            for i in range(0, len(formulas), size)
        ]
        parts = pool.map(predict_batch, jobs)
        mean = np.concatenate([p[0] for p in parts])
        std = np.concatenate([p[1] for p in parts])
        cov = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
        return mean, std, cov

    return predict
