"""The lattice's exam in miniature: the groups and gates of `entanglement_lattice` on a few
generated planted sets, drawn from seeds that neither the development (1000 and up) nor the
exam (0-19, ``bench/lattice_validity.py``) uses. The full exam runs the CLI with its
defaults on twenty sets; this runs without the pairwise transfer trainings, to stay quick."""

from __future__ import annotations

import pytest

from matlattice.data.planted_suite import planted_set
from matlattice.entangle import entanglement_lattice
from matlattice.entangle.validity import score_lattice


@pytest.fixture(scope="module")
def formulas(aflow):
    return aflow.frame["formula"].sample(1500, random_state=0).tolist()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3000, 3001])
def test_groups_and_gates_recover_a_generated_planted_set(formulas, seed):
    planted = planted_set(formulas, seed)
    result = entanglement_lattice(planted.frame, transfer=False, seed=0, num_threads=1)
    summary = {
        "groups": result.lattice.groups,
        "communities": result.lattice.communities,
        "risk_gates": result.lattice.risk_gates,
        "edges": [
            {"source": s, "target": t, "weight": d["weight"]}
            for s, t, d in result.lattice.graph.edges(data=True)
        ],
    }
    score = score_lattice(summary, planted)
    assert score["artefacts_gated"] == 1.0, result.lattice.risk_gates
    assert score["cut_gates_within"] == 0, result.lattice.risk_gates
    assert score["false_artefact_gates"] == 0
    assert score["within_across_auc"] >= 0.9
    assert score["group_ari"] >= 0.7, (result.lattice.groups, planted.groups)
