"""Predicted powder patterns and matching: a strained copy of one structure is matched back
to it, with its strain, among the other structure types of the same formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matlattice.errors import DataFormatError
from matlattice.structure.prototypes import decorate
from matlattice.structure.xrd import match_pattern, xrd_pattern


def test_rock_salt_pattern_has_its_reflections():
    built = dict(decorate("NaCl"))["rocksalt"]
    built.scale_lattice(5.64**3)
    pattern = xrd_pattern(built)
    strongest = pattern.loc[pattern["intensity"].idxmax()]
    assert strongest["hkl"] == "200" and strongest["two_theta"] == pytest.approx(31.7, abs=0.1)
    assert pattern["intensity"].max() == pytest.approx(100.0)


@pytest.mark.parametrize("seed", range(4))
def test_a_strained_measurement_is_matched_to_its_structure(seed):
    rng = np.random.default_rng(seed)
    formula = ["NaCl", "ZnO", "TiO2", "CaF2"][seed]
    built = dict(decorate(formula))
    name = list(built)[rng.integers(len(built))]
    strain = float(rng.uniform(-0.03, 0.03))
    measured = built[name].copy()
    measured.scale_lattice(measured.volume * (1 + strain) ** 3)
    peaks = xrd_pattern(measured)
    noisy = peaks.assign(intensity=peaks["intensity"] * rng.uniform(0.8, 1.2, len(peaks)))
    table = match_pattern(noisy[["two_theta", "intensity"]], built)
    assert table.iloc[0]["name"] == name
    assert table.iloc[0]["strain"] == pytest.approx(strain, abs=0.003)


def test_bad_patterns_are_refused():
    built = dict(decorate("NaCl"))
    with pytest.raises(DataFormatError, match="intensity"):
        match_pattern(pd.DataFrame({"two_theta": [20, 30, 40]}), built)
    with pytest.raises(DataFormatError, match="row 1"):
        match_pattern(pd.DataFrame({"two_theta": [20, 200, 40], "intensity": [1, 2, 3]}), built)
