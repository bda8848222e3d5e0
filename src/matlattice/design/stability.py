"""Thermodynamic plausibility: a candidate's predicted distance to the convex hull of the
known phases (:class:`~matlattice.composition.hull.HullReference`); with the model's
spread, the probability that it lies within ``within`` eV/atom of the hull joins the
probability of meeting the targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matlattice.composition.hull import HullReference
from matlattice.errors import InvalidParameterError

__all__ = ["HullReference", "StabilityObjective"]


@dataclass
class StabilityObjective:
    """Within ``within`` eV/atom of the known hull: the hull of ``reference`` and a
    ``predict(formulas) -> (mean, std)`` of the formation energy (eV/atom)."""

    reference: HullReference
    predict: Callable[[list[str]], tuple[np.ndarray, np.ndarray]]
    within: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.within < np.inf:
            raise InvalidParameterError(f"within={self.within}; expected eV/atom >= 0")

    def __call__(self, formulas: list[str]) -> pd.DataFrame:
        mean, std = self.predict(list(formulas))
        return self.reference.stability(formulas, mean, std, self.within)
