"""Two fidelities with costs: a cheap, approximate measurement of the target (a DFT band gap
for an experimental one) or a cheaper coupled property, and the expensive target itself.

The surrogate is the autoregressive model of Kennedy and O'Hagan (2000):
``f_main(x) = rho f_cheap(x) + b + delta(x)``. One surrogate learns ``f_cheap`` from every
cheap result; ``rho`` and ``b`` come from a least-squares fit on the materials measured at
both fidelities (their measured cheap values); a second surrogate learns the discrepancy
``delta`` from the main results. Where the cheap value of a candidate is measured it is used
as is, otherwise predicted, so

``mu_main = rho c(x) + b + mu_delta(x)``, ``sigma_main^2 = rho^2 sigma_cheap(x)^2 +
sigma_delta(x)^2`` (``sigma_cheap = 0`` where measured).

Choosing the fidelity follows the multi-fidelity UCB rule of Kandasamy et al. (2016): the
candidates are ranked by the acquisition on the main fidelity; a chosen candidate whose cheap
value is unknown and whose main uncertainty is dominated by the cheap part
(``rho^2 sigma_cheap^2 > sigma_delta^2``) is measured cheaply first; otherwise at the main
fidelity. Budgets and curves count cost, in units of the costs given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matlattice.errors import InvalidParameterError, MatlatticeError

__all__ = ["AR1Prediction", "MultiFidelityOracle", "ar1_predict", "cheap_first"]


class MultiFidelityOracle:
    """Hidden labels at two fidelities (benchmarks): ``sources = {"main": (frame, column),
    "<cheap>": (frame, column)}``. ``oracle(formulas, fidelity)`` answers ``formula, value``;
    a material the cheap source does not hold gets NaN (it cannot be measured that way)."""

    def __init__(self, sources: dict[str, tuple[pd.DataFrame, str]]):
        if "main" not in sources or len(sources) != 2:
            raise InvalidParameterError(
                f"sources {sorted(sources)}: expected 'main' and one cheap fidelity"
            )
        self._values = {
            name: dict(
                zip(
                    frame.dropna(subset=[col])["formula"],
                    frame.dropna(subset=[col])[col].astype(float),
                    strict=True,
                )
            )
            for name, (frame, col) in sources.items()
        }

    def available(self, fidelity: str, formulas: list[str]) -> np.ndarray:
        """``(n,)`` bool: which materials the ``fidelity`` source can measure."""
        values = self._values[fidelity]
        return np.array([f in values for f in formulas])

    def __call__(self, formulas: list[str], fidelity: str = "main") -> pd.DataFrame:
        if fidelity not in self._values:
            raise InvalidParameterError(
                f"fidelity={fidelity!r}; expected one of {sorted(self._values)}"
            )
        values = self._values[fidelity]
        if fidelity == "main":
            missing = [f for f in formulas if f not in values]
            if missing:
                raise MatlatticeError(f"the oracle has no label for {missing[:5]}")
        return pd.DataFrame(
            {"formula": list(formulas), "value": [values.get(f, np.nan) for f in formulas]}
        )


@dataclass(frozen=True)
class AR1Prediction:
    """Main-fidelity prediction of the candidates, each ``(n,)``, and the fitted link."""

    mean: np.ndarray
    std: np.ndarray
    cheap_std: np.ndarray  # rho * sigma_cheap: the part a cheap measurement would remove
    delta_std: np.ndarray
    rho: float
    offset: float


def _fit_predict(factory: Callable[[], object], formulas: list[str], y, query: list[str]):
    model = factory()
    model.fit(list(formulas), np.asarray(y, dtype=float))
    mean, std = model.predict(list(query), return_std=True)
    return np.asarray(mean, float).reshape(-1), np.asarray(std, float).reshape(-1)


def ar1_predict(
    factory: Callable[[], object],
    main: pd.DataFrame,
    cheap: pd.DataFrame,
    candidates: list[str],
) -> AR1Prediction:
    """Fit the autoregressive two-fidelity surrogate and predict the candidates.

    ``main`` and ``cheap``: measured ``formula, value`` rows of each fidelity; ``factory``
    makes a surrogate taking formulas (``fit(formulas, y)``, ``predict(X, return_std=True)``).
    With fewer than three materials measured at both fidelities, ``rho = 0``: the cheap
    fidelity is ignored until it can be linked.
    """
    cheap_known = dict(zip(cheap["formula"], cheap["value"].astype(float), strict=True))
    query = list(dict.fromkeys([*main["formula"], *candidates]))
    if len(cheap) >= 2:
        c_mean, c_std = _fit_predict(factory, cheap["formula"], cheap["value"], query)
    else:
        c_mean, c_std = np.zeros(len(query)), np.zeros(len(query))
    known = np.array([f in cheap_known for f in query])
    c_value = np.where(known, [cheap_known.get(f, 0.0) for f in query], c_mean)
    c_std = np.where(known, 0.0, c_std)
    index = {f: i for i, f in enumerate(query)}
    rows = np.array([index[f] for f in main["formula"]])
    y = main["value"].to_numpy(float)
    paired = known[rows]
    rho, offset = 0.0, 0.0
    if paired.sum() >= 3:
        rho, offset = np.polyfit(c_value[rows][paired], y[paired], 1)
    residual = y - (rho * c_value[rows] + offset)
    d_mean, d_std = _fit_predict(factory, main["formula"], residual, candidates)
    cand = np.array([index[f] for f in candidates], dtype=int)
    cheap_std = abs(rho) * c_std[cand]
    return AR1Prediction(
        mean=rho * c_value[cand] + offset + d_mean,
        std=np.sqrt(cheap_std**2 + d_std**2),
        cheap_std=cheap_std,
        delta_std=d_std,
        rho=float(rho),
        offset=float(offset),
    )


def cheap_first(prediction: AR1Prediction, can_measure_cheap: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: measure the candidate at the cheap fidelity first (its cheap value is
    unknown but measurable, and it dominates the main uncertainty)."""
    return np.asarray(can_measure_cheap, bool) & (prediction.cheap_std > prediction.delta_std)
