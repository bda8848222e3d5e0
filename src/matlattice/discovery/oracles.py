"""Oracles: what measures a proposed candidate. A benchmark's hidden-label lookup (with
optional measurement noise); any callable ``formulas -> DataFrame(formula, value)`` works the
same way (a simulation, a robot's driver), and a lab without one drives the campaign through
``ask``/``tell`` directly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matlattice.errors import MatlatticeError

__all__ = ["HiddenLabelOracle"]


class HiddenLabelOracle:
    """Looks up hidden labels of the pool (benchmarks), with optional Gaussian noise of
    standard deviation ``noise`` (the property's unit), seeded.

    ``target``: one column (the answer has ``formula, value``) or several (objectives of a
    multi-objective campaign: the answer has ``formula`` and those columns).
    """

    def __init__(
        self, frame: pd.DataFrame, target: str | list[str], noise: float = 0.0, seed: int = 0
    ):
        self.targets = [target] if isinstance(target, str) else list(target)
        self._single = isinstance(target, str)
        labelled = frame.dropna(subset=self.targets)
        rows = labelled[self.targets].to_numpy(dtype=float)
        self._values = dict(zip(labelled["formula"], rows, strict=True))
        self.noise = noise
        self._rng = np.random.default_rng(seed)

    def __call__(self, formulas: list[str]) -> pd.DataFrame:
        missing = [f for f in formulas if f not in self._values]
        if missing:
            raise MatlatticeError(f"the oracle has no label for {missing[:5]}")
        values = np.array([self._values[f] for f in formulas]).reshape(len(formulas), -1)
        if self.noise:
            values = values + self._rng.normal(0.0, self.noise, values.shape)
        columns = ["value"] if self._single else self.targets
        answer = pd.DataFrame(values, columns=columns)
        answer.insert(0, "formula", list(formulas))
        return answer
