"""Formation energies and hull distances: planted energies with hand-computed answers; the
MP2020 corrections a raw potential needs; a stability table from a potential with elemental
references relaxed and cached."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matlattice.errors import MissingElementError
from matlattice.structure.corrections import mp2020_corrections
from matlattice.structure.hull import formation_energies, hull_distances, known_phases

#: planted A-B phases: AB at -1.0, A2B at -0.5 (above the A..AB tie line at -0.667)
PHASES = pd.DataFrame({"formula": ["CuAu", "Cu2Au"], "formation_energy_per_atom": [-1.0, -0.5]})


def test_formation_energy_subtracts_the_elements_by_atomic_fraction():
    refs = {"Na": -1.3, "Cl": -1.8}
    out = formation_energies(["NaCl", "Na2Cl"], [-3.6, -2.8], refs)
    assert np.allclose(out, [-3.6 + 1.55, -2.8 - (2 * -1.3 - 1.8) / 3])
    with pytest.raises(MissingElementError, match="O"):
        formation_energies(["NaO2"], [-4.0], refs)


def test_hull_distance_is_signed_and_leaves_the_composition_itself_out():
    out = hull_distances(["Cu2Au", "CuAu", "Cu3Au", "CuAu"], [-0.5, -1.0, -0.3, -0.2], PHASES)
    # Cu2Au against A..AB: the hull at x_Au = 1/3 is -2/3
    assert out[0] == pytest.approx(-0.5 + 2 / 3)
    # CuAu against Cu2Au (its own entry left out): the hull at x = 1/2 is -0.375
    assert out[1] == pytest.approx(-1.0 + 0.375)
    # Cu3Au at x = 1/4: on the Cu..CuAu line, -0.5
    assert out[2] == pytest.approx(-0.3 + 0.5)
    assert out[3] == pytest.approx(-0.2 + 0.375)


@pytest.mark.parametrize("seed", range(5))
def test_random_planted_hulls_agree_with_a_direct_lower_envelope(seed):
    rng = np.random.default_rng(seed)
    n = [int(k) for k in rng.choice(np.arange(1, 10), 6, replace=False)]
    formulas = [f"Cu{k}Au{10 - k}" for k in n]
    energies = -rng.uniform(0.0, 1.0, len(n))
    known = pd.DataFrame({"formula": formulas, "formation_energy_per_atom": energies})
    probe = rng.integers(1, 10)
    x = np.array([0.0, *(1 - np.array(n) / 10), 1.0])
    e = np.array([0.0, *energies, 0.0])
    others = [i for i, k in enumerate(n) if k != probe]
    grid_x = np.array([0.0, *x[1:-1][others], 1.0])
    grid_e = np.array([0.0, *e[1:-1][others], 0.0])
    target = 1 - probe / 10
    # the lower envelope at target: the lowest chord between points on either side
    left, right = grid_x <= target, grid_x >= target
    chords = [ea + (eb - ea) * (target - xa) / (xb - xa) if xb > xa else ea
              for xa, ea in zip(grid_x[left], grid_e[left], strict=True)
              for xb, eb in zip(grid_x[right], grid_e[right], strict=True)]  # fmt: skip
    distance = hull_distances([f"Cu{probe}Au{10 - probe}"], [-0.4], known)[0]
    assert distance == pytest.approx(-0.4 - min(chords), abs=1e-9)


def test_known_phases_come_from_materials_project():
    phases = known_phases(["Na", "Cl"])
    assert "NaCl" in set(phases["formula"])
    nacl = phases.set_index("formula").loc["NaCl", "formation_energy_per_atom"]
    assert -2.2 < nacl < -1.9  # MP's corrected formation energy of rock salt, about -2.03


def test_mp2020_corrections_of_anions_and_u_metals():
    out = mp2020_corrections(["NaCl", "Fe2O3", "Cu", "Al2O3"])
    assert out[0] == pytest.approx(-0.307, abs=1e-3)  # Cl correction over 2 atoms
    assert out[1] < out[3] < 0  # oxide plus the Fe GGA/GGA+U mixing correction
    assert out[2] == 0.0


def test_stability_table_relaxes_references_once_and_caches_them(emt, structure_cache):
    from matlattice.structure.predict import predict_structures

    table, found = predict_structures(["CuAu", "Cu3Au"], emt, hull="none", n_random=2)
    assert len(table) == len(found)
    assert {"formation_energy_per_atom", "e_above_hull", "rank"} <= set(table.columns)
    assert table["e_above_hull"].isna().all()
    cached = structure_cache / "structure" / "elements-emt.json"
    assert cached.is_file()
    calls = emt.calls
    predict_structures(["CuAu"], emt, hull="none", n_random=0, prototypes=True)
    searched = emt.calls - calls
    again = emt.calls
    predict_structures(["CuAu"], emt, hull="none", n_random=0, prototypes=True)
    assert emt.calls - again == searched  # the elements came from the cache both times


def test_second_opinion_ranks_a_stopped_structure_last_and_agrees_only_on_energies(
    emt, structure_cache
):
    """A second potential that stops one structure (no energy) neither crashes the ranking
    nor makes that structure the second potential's best."""
    from matlattice.structure.predict import second_opinion
    from matlattice.structure.search import search_structures

    found = search_structures(["Cu3Au"], emt, n_random=2, seed=0)
    first = [f for f in found if f.same_as == 0][:3]
    stopped = first[0].structure.composition

    class StopsTheBest:
        name, mp2020_corrected = "stops", True

        def predict(self, structures):
            out = emt.predict(structures)
            for s, p in zip(structures, out, strict=True):
                if s.composition == stopped and np.allclose(
                    s.lattice.abc, first[0].structure.lattice.abc
                ):
                    p["energy"] = np.nan
            return out

    table = second_opinion(found, StopsTheBest(), top=3, hull="none")
    assert table["rank"].dtype.kind == "i"
    nan = table[~np.isfinite(table["energy_per_atom"])]
    assert len(nan) == 1 and nan["rank"].iloc[0] == len(table)  # last, not first
    assert table.loc[table["rank"] == 1, "energy_per_atom"].notna().all()


@pytest.mark.slow
def test_known_phases_of_many_elements_are_every_composition_within_them():
    """Forty elements (a benchmark's sample) must not enumerate 2^40 chemical systems: the
    phases are those whose elements all lie in the set, as a direct check finds."""
    from pymatgen.core import Composition

    from matlattice.structure.hull import _reference_table

    elements = [
        "Li",
        "Na",
        "K",
        "Mg",
        "Ca",
        "Sr",
        "Ba",
        "Al",
        "Ga",
        "In",
        "Si",
        "Ge",
        "Sn",
        "N",
        "P",
        "As",
        "Sb",
        "O",
        "S",
        "Se",
        "Te",
        "F",
        "Cl",
        "Br",
        "I",
        "Ti",
        "V",
        "Cr",
        "Mn",
        "Fe",
        "Co",
        "Ni",
        "Cu",
        "Zn",
        "Y",
        "Zr",
        "Nb",
        "Mo",
        "Ag",
        "B",
    ]
    phases = known_phases(elements)
    table, _ = _reference_table("matbench_mp_e_form")
    direct = {
        Composition(f).reduced_formula
        for f in table["formula"]
        if len(Composition(f)) > 1 and {str(e) for e in Composition(f)} <= set(elements)
    }
    assert set(phases["formula"]) == direct and len(direct) > 10_000


@pytest.mark.slow
def test_a_potential_hull_names_the_known_phases_it_lacks(emt, warm_structure_cache, monkeypatch):
    """A known phase the potential could not relax (planted: Cu3Au) is named in
    ``hull_missing`` of every row of its chemical system, and only there."""
    import matlattice.structure.predict as predict
    from matlattice.structure.hull import known_phases
    from matlattice.structure.search import search_structures

    known = set(known_phases({"Cu", "Au"})["formula"])
    assert "Cu3Au" in known
    monkeypatch.setattr(
        predict,
        "phase_energies",
        lambda formulas, potential: {f: -3.5 for f in formulas if f != "Cu3Au"},
    )
    rows = search_structures(["CuAu", "Cu", "Au"], emt, n_random=1, prototypes=True)
    table = predict.stability_table(rows, emt, hull="potential")
    by_formula = table.groupby("formula")["hull_missing"].agg(set)
    assert by_formula["CuAu"] == {"Cu3Au"}
    assert by_formula["Cu"] == {""} and by_formula["Au"] == {""}
    assert "hull_missing" not in predict.stability_table(rows, emt, hull="dft")
