"""The arrays an estimator trains on: training and early-stopping rows as composition
fractions and target matrices, from formulas, frames or a :class:`~matlattice.data.Dataset`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matlattice.composition import composition_keys
from matlattice.data.dataset import Dataset
from matlattice.data.parts import KEY, resolve_parts
from matlattice.errors import InvalidParameterError
from matlattice.models.estimator.inference import targets_frame
from matlattice.represent.composition_stats import as_fractions

__all__ = ["TrainingData", "training_data"]


@dataclass(frozen=True)
class TrainingData:
    """Training and validation rows.

    ``fractions`` ``(n, 103)`` and ``val_fractions`` ``(n_val, 103)`` are CSR atomic
    fractions; ``values`` ``(n, n_tasks)`` and ``val_values`` ``(n_val, n_tasks)`` the raw
    targets in each task's unit, NaN where unlabelled, columns in the order of ``tasks``.
    """

    tasks: list[str]
    fractions: sp.csr_matrix
    values: np.ndarray
    val_fractions: sp.csr_matrix
    val_values: np.ndarray


def training_data(
    X: object, y: object, X_val: object, y_val: object, *, val_fraction: float, seed: int
) -> TrainingData:
    """Training and early-stopping rows of an estimator's ``fit`` arguments.

    A :class:`Dataset` with a split (and no ``y`` or ``X_val``) trains on its train part and
    stops on its val part; without ``X_val`` a composition-level ``val_fraction`` of the
    training rows (seeded by ``seed``) is held out; ``X_val``'s target columns are matched to
    the training ones by name. The parts come from :func:`~matlattice.data.parts.resolve_parts`
    (grouped by a frame's ``composition_key`` column where it has one).
    """
    if isinstance(X, Dataset) and y is None and X_val is None:
        frame = X.frame
        if "split" not in frame:
            raise InvalidParameterError(
                f"{X.name} has folds; pass Dataset.fold(k)[0] frames instead"
            )
        parts = resolve_parts(frame, "official")
        X_val, X = frame[parts == "val"], frame[parts == "train"]
    formulas, targets = targets_frame(X, y)
    fractions = as_fractions(formulas)
    values = targets.to_numpy(dtype=float)
    if X_val is None:
        source = X.frame if isinstance(X, Dataset) else X
        keyed = isinstance(source, pd.DataFrame) and KEY in source.columns
        rows = source if keyed else composition_keys(fractions)
        parts = resolve_parts(
            rows, "random", fractions=(1 - val_fraction, val_fraction, 0.0), seed=seed
        )
        val = parts == "val"
        val_fractions, val_values = fractions[val], values[val]
        fractions, values = fractions[~val], values[~val]
    else:
        val_formulas, val_targets = targets_frame(X_val, y_val)
        val_fractions = as_fractions(val_formulas)
        val_values = val_targets[list(targets.columns)].to_numpy(dtype=float)
    if not np.isfinite(val_values).any():
        raise InvalidParameterError(
            f"the validation part for early stopping has no labelled rows ({len(val_values)} "
            f"rows, from {fractions.shape[0] + len(val_values)} training rows): give more "
            "distinct compositions or X_val with labels"
        )
    if not np.isfinite(values).any():
        raise InvalidParameterError("the training part has no labelled rows to learn from")
    return TrainingData(
        [str(c) for c in targets.columns], fractions, values, val_fractions, val_values
    )
