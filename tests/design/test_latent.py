"""The latent generative model reconstructs compositions, reads the property from its
latent, and proposes new compositions that climb the property."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from matlattice.composition import formula_keys
from matlattice.design import DesignConstraints, check_compositions
from matlattice.design.latent import LatentDesigner, LatentSettings
from matlattice.design.moves import integer_amounts
from matlattice.errors import InvalidParameterError

pytestmark = pytest.mark.slow

OXIDES = [f"{m}{a}O{b}" for m in ("Mg", "Ca", "Sr", "Ba", "Zn", "Ni") for a, b in ((1, 1), (2, 3))]
HALIDES = [f"{m}{x}{k}" for m in ("Na", "K", "Rb") for x in ("F", "Cl", "Br") for k in ("", "2")]


def _planted() -> tuple[list[str], np.ndarray]:
    """Oxides score high (oxygen share), halides low: the property lives in the chemistry."""
    formulas = OXIDES + HALIDES
    values = []
    for formula in formulas:
        amounts = dict(integer_amounts(formula))
        values.append(10.0 * amounts.get("O", 0) / sum(amounts.values()))
    return formulas, np.array(values)


@pytest.fixture(scope="module")
def designer():
    torch.set_num_threads(1)
    formulas, values = _planted()
    settings = LatentSettings(latent_dim=4, hidden=64, epochs=300, batch_size=16, steps=30)
    return LatentDesigner(settings).fit(formulas, values)


def test_the_heads_read_the_property_from_the_latent(designer):
    formulas, values = _planted()
    decoded, predicted = designer.optimise(formulas)
    assert len(decoded) == len(predicted) == 30 * len(formulas)
    walk = predicted.reshape(30, len(formulas))
    assert np.corrcoef(walk[0], values)[0, 1] > 0.6  # the first step still ranks the parents
    assert walk[-1].mean() > walk[0].mean() + 1.0  # and the ascent climbs


def test_proposals_are_new_and_lean_to_the_better_chemistry(designer):
    formulas, _ = _planted()
    proposals = designer(formulas, 20, np.random.default_rng(0))
    assert proposals and len(set(proposals)) == len(proposals)
    assert not set(formula_keys(proposals)) & set(formula_keys(formulas))
    with_oxygen = np.mean(["O" in dict(integer_amounts(p)) for p in proposals])
    assert with_oxygen >= 0.5


def test_with_constraints_every_proposal_passes_the_checks(designer):
    formulas, _ = _planted()
    rules = DesignConstraints(max_atoms=6, deny=frozenset({"Ni"}))
    designer.constraints = rules
    try:
        proposals = designer(formulas, 15, np.random.default_rng(1))
    finally:
        designer.constraints = None
    assert len(proposals) >= 3  # a world of 30 compounds leaves few new valid ones
    assert check_compositions(proposals, rules)["passes"].all()


def test_bad_settings_and_goals_are_refused():
    with pytest.raises(InvalidParameterError, match="epochs=0"):
        LatentSettings(epochs=0)
    with pytest.raises(InvalidParameterError, match="goal='up'"):
        LatentDesigner(goal="up")
