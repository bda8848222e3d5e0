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
    """Looks up a hidden label of the pool (benchmarks), with optional Gaussian noise of
    standard deviation ``noise`` (the property's unit), seeded."""

    def __init__(self, frame: pd.DataFrame, target: str, noise: float = 0.0, seed: int = 0):
        labelled = frame.dropna(subset=[target])
        self._values = dict(zip(labelled["formula"], labelled[target].astype(float), strict=True))
        self.noise = noise
        self._rng = np.random.default_rng(seed)

    def __call__(self, formulas: list[str]) -> pd.DataFrame:
        missing = [f for f in formulas if f not in self._values]
        if missing:
            raise MatlatticeError(f"the oracle has no label for {missing[:5]}")
        values = np.array([self._values[f] for f in formulas])
        if self.noise:
            values = values + self._rng.normal(0.0, self.noise, len(values))
        return pd.DataFrame({"formula": list(formulas), "value": values})
