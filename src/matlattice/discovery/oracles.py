"""Oracles: what measures a proposed candidate. A benchmark's hidden-label lookup (with
optional measurement noise); any callable ``formulas -> DataFrame(formula, value)`` works the
same way (a simulation, a robot's driver), and a lab without one drives the campaign through
``ask``/``tell`` directly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError, MatlatticeError

__all__ = ["HiddenLabelOracle"]


class HiddenLabelOracle:
    """Looks up hidden labels of the pool (benchmarks), with optional Gaussian noise of
    standard deviation ``noise`` (the property's unit), seeded.

    ``target``: one column (the answer has ``formula, value``) or several (objectives of a
    multi-objective campaign: the answer has ``formula`` and those columns).

    ``open_ended=True`` (one target) answers for compositions a campaign generated too: a
    formula is looked up as written, else by composition (``Fe2O3`` finds ``Fe4O6``'s label;
    several rows of one composition give their mean), and one the labels do not hold is
    answered with an empty value, which a campaign records as not measurable.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        target: str | list[str],
        noise: float = 0.0,
        seed: int = 0,
        *,
        open_ended: bool = False,
    ):
        self.targets = [target] if isinstance(target, str) else list(target)
        self._single = isinstance(target, str)
        if open_ended and not self._single:
            raise InvalidParameterError(
                f"open_ended=True with targets {self.targets}; expected one target"
            )
        labelled = frame.dropna(subset=self.targets)
        rows = labelled[self.targets].to_numpy(dtype=float)
        self._values = dict(zip(labelled["formula"], rows, strict=True))
        self._by_key: dict[str, np.ndarray] | None = None
        if open_ended:
            from matlattice.data.parts import frame_keys

            means = labelled.assign(_key=frame_keys(labelled)).groupby("_key")[self.targets]
            self._by_key = {k: v.to_numpy(float) for k, v in means.mean().iterrows()}
        self.noise = noise
        self._rng = np.random.default_rng(seed)

    def _lookup(self, formulas: list[str]) -> np.ndarray:
        """``(n, n_targets)`` labels; NaN rows for unknown compositions when open-ended."""
        if self._by_key is None:
            missing = [f for f in formulas if f not in self._values]
            if missing:
                raise MatlatticeError(f"the oracle has no label for {missing[:5]}")
            return np.array([self._values[f] for f in formulas]).reshape(len(formulas), -1)
        from matlattice.composition import composition_keys, parse_formulas

        keys = composition_keys(parse_formulas(list(formulas), errors="report").fractions)
        nothing = np.full(len(self.targets), np.nan)
        rows = [
            self._values[f] if f in self._values else self._by_key.get(k, nothing)
            for f, k in zip(formulas, keys, strict=True)
        ]
        return np.array(rows, dtype=float).reshape(len(formulas), -1)

    def __call__(self, formulas: list[str]) -> pd.DataFrame:
        values = self._lookup(list(formulas))
        if self.noise:
            values = values + self._rng.normal(0.0, self.noise, values.shape)
        columns = ["value"] if self._single else self.targets
        answer = pd.DataFrame(values, columns=columns)
        answer.insert(0, "formula", list(formulas))
        return answer
