"""The hull of known phases: a known phase never lies above it, a composition between two
phases on it lies at their tie line, implausible energies stay out, and the designer ranks by
the probability of lying near it."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.design.stability import HullReference
from matlattice.errors import InvalidParameterError

FE_O = (["FeO", "Fe2O3", "FeO2", "Fe3O"], [-1.5, -1.7, -1.0, 0.3])


def test_hull_energies_of_an_iron_oxide_system():
    hull = HullReference(*FE_O)
    energies = hull.hull_energy(["Fe3O4", "FeO2", "FeO", "Fe"])
    # Fe3O4 = FeO + Fe2O3: (2 atoms x -1.5 + 5 atoms x -1.7) / 7 atoms
    assert energies[0] == pytest.approx((2 * -1.5 + 5 * -1.7) / 7, abs=1e-6)
    assert energies[1] < -1.0  # FeO2 (-1.0) sits above the Fe2O3-O tie line
    assert energies[2] == pytest.approx(-1.5) and energies[3] == pytest.approx(0.0)
    table = hull.stability(["Fe3O4", "FeO2"], np.array([-1.65, -1.0]), np.array([0.05, 0.05]))
    assert table["e_above_hull"].iloc[0] == pytest.approx(-1.65 - energies[0])  # a new phase
    assert table["p_stable"].iloc[0] > 0.9 and table["p_stable"].iloc[1] < 0.01


@pytest.mark.parametrize("seed", range(6))
def test_no_known_phase_lies_above_the_hull_it_spans(seed):
    rng = np.random.default_rng(seed)
    formulas = [f"Ti{a}O{b}" for a in range(1, 5) for b in range(1, 5)] + ["TiS2", "TiOS"]
    energies = rng.uniform(-3.0, 0.5, len(formulas))
    hull = HullReference(formulas, energies)
    assert (hull.hull_energy(formulas) <= energies + 1e-9).all()


def test_implausible_energies_are_left_out_and_nothing_plausible_is_refused():
    hull = HullReference([*FE_O[0], "Fe4O"], [*FE_O[1], -198.7])
    assert hull.left_out == 1 and hull.hull_energy(["Fe4O"])[0] > -1.0
    with pytest.raises(InvalidParameterError, match="no formation energy"):
        HullReference(["FeO"], [np.nan])
