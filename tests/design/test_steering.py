"""The lattice steers a design: gated and weak edges are not exploited, a strong edge's error
correlation enters the joint probability, and its label coupling against the goals says
whether the targets agree or trade off."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.design.objectives import meet_probability, parse_target
from matlattice.design.steering import LatticeSteering
from matlattice.errors import InvalidParameterError


def _summary(**edge) -> dict:
    base = {"source": "a", "target": "b", "weight": 0.6, "data_coupling": -0.5,
            "error_correlation": -0.7, "gated": False, "risk": []}  # fmt: skip
    return {"tasks": ["a", "b", "c"], "edges": [{**base, **edge}]}


def test_a_strong_edge_couples_the_errors_and_names_the_agreement():
    targets = [parse_target("a:max"), parse_target("b:min")]
    steering = LatticeSteering.from_summary(_summary(), targets)
    assert steering.correlation[0, 1] == pytest.approx(-0.7, abs=1e-3)
    assert "they agree (better together)" in steering.report()[0]
    traded = LatticeSteering.from_summary(
        _summary(), [parse_target("a:max"), parse_target("b:max")]
    )
    assert "trade off" in traded.report()[0]


@pytest.mark.parametrize(
    ("edge", "said"),
    [({"gated": True, "risk": ["duplicate"]}, "gated (duplicate); not exploited"),
     ({"weight": 0.05}, "weak edge (weight 0.05)")],
)  # fmt: skip
def test_gated_and_weak_edges_are_not_exploited(edge, said):
    steering = LatticeSteering.from_summary(
        _summary(**edge), [parse_target("a:max"), parse_target("b:min")]
    )
    assert steering.correlation[0, 1] == 0.0 and said in steering.report()[0]


def test_the_joint_probability_follows_the_steered_correlation():
    targets = [parse_target("a:0,10"), parse_target("b:0,10")]
    steering = LatticeSteering.from_summary(_summary(error_correlation=0.9), targets)
    mean, std = np.zeros((1, 2)), np.ones((1, 2))
    joint = meet_probability(targets, mean, std, steering.covariance(std), draws=20_000)
    assert joint[0] == pytest.approx(0.25 + np.arcsin(0.9) / (2 * np.pi), abs=0.01)


def test_a_lattice_without_the_targets_is_refused():
    with pytest.raises(InvalidParameterError, match=r"no property \['z'\]"):
        LatticeSteering.from_summary(_summary(), [parse_target("a:max"), parse_target("z:min")])
