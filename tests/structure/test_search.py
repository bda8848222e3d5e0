"""Structure search on a potential with a known answer (EMT): close-packed metals come out
close-packed, checkpoints resume without recomputing and refuse other settings, collapsed
structures are caught."""

from __future__ import annotations

import numpy as np
import pytest

from matlattice.errors import CheckpointMismatchError
from matlattice.structure.search import collapsed, search_structures

CLOSE_PACKED = {225, 194}  # fcc, hcp (EMT puts them within a few meV/atom)


@pytest.mark.parametrize(
    ("seed", "metals"), [(0, ("Cu", "Au")), (1, ("Ni", "Al")), (2, ("Au", "Al", "Cu", "Ni"))]
)
def test_fcc_metals_relax_to_close_packed_ground_states(emt, seed, metals):
    # three draws of random candidates; every metal in two of them
    rows = search_structures(list(metals), emt, n_random=3, seed=seed, chunk=8)
    for metal in metals:
        ranked = sorted((r for r in rows if r.formula == metal), key=lambda r: r.rank)
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
        assert ranked[0].spacegroup in CLOSE_PACKED, (metal, ranked[0])
        energies = [r.energy_per_atom for r in ranked]
        assert energies == sorted(energies)
        bcc = next(r for r in ranked if r.source == "bcc")
        assert bcc.energy_per_atom > ranked[0].energy_per_atom


def test_a_search_resumes_from_its_checkpoint_and_refuses_other_settings(emt, tmp_path):
    first = search_structures(["Cu", "Au"], emt, n_random=2, chunk=4, checkpoint=tmp_path)
    calls = emt.calls
    again = search_structures(["Cu", "Au"], emt, n_random=2, chunk=4, checkpoint=tmp_path)
    assert emt.calls == calls  # every chunk read back, none relaxed again
    assert [(r.formula, r.rank, r.energy_per_atom) for r in again] == [
        (r.formula, r.rank, r.energy_per_atom) for r in first
    ]
    assert again[0].structure == first[0].structure
    with pytest.raises(CheckpointMismatchError, match="other candidates"):
        search_structures(["Ni", "Au"], emt, n_random=2, chunk=4, checkpoint=tmp_path)


def test_repeated_minima_are_marked(emt):
    rows = search_structures(["Cu3Au"], emt, n_random=6, seed=3)
    for row in rows:
        if row.same_as:
            twin = next(r for r in rows if r.rank == row.same_as)
            assert twin.same_as == 0 and twin.rank < row.rank
            assert abs(row.energy_per_atom - twin.energy_per_atom) < 0.01


def test_collapsed_structures_are_recognised():
    from pymatgen.core import Lattice, Structure

    fine = Structure(Lattice.cubic(4.0), ["Cl", "Cl"], [[0, 0, 0], [0.5, 0, 0]])
    squeezed = Structure(Lattice.cubic(4.0), ["Cl", "Cl"], [[0, 0, 0], [0.3, 0, 0]])
    tiny = Structure(Lattice.cubic(1.0), ["Cl"], [[0, 0, 0]])
    assert not collapsed(fine)
    assert collapsed(squeezed)  # 1.2 Å apart: 0.6 of the radii sum (Cl2 holds 1.99)
    assert collapsed(tiny)  # 1 Å^3 per atom


def test_a_relaxation_that_blows_up_stops_with_no_energy():
    from pymatgen.core import Lattice, Structure

    from matlattice.structure.relax import relax_batch

    class Broken:
        name, mp2020_corrected = "broken", True

        def predict(self, structures):
            return [{"energy": np.nan, "forces": np.zeros((len(s), 3)),
                     "stress": np.zeros((3, 3))} for s in structures]  # fmt: skip

    out = relax_batch([Structure(Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]])], Broken())
    assert np.isnan(out[0].energy) and not out[0].converged


@pytest.mark.parametrize("pressure", [-5.0, 5.0])
def test_a_relaxation_squeezing_or_swelling_the_cell_stops_at_the_volume_change(pressure):
    """A planted potential whose stress always pushes the cell one way (no minimum): the
    relaxation stops, unconverged and with no energy, once the volume has changed by the
    factor VOLUME_CHANGE (before the neighbour lists of a collapsed cell grow)."""
    from pymatgen.core import Lattice, Structure

    from matlattice.structure.relax import VOLUME_CHANGE, relax_batch

    class Pushing:
        name, mp2020_corrected = "pushing", True

        def predict(self, structures):
            return [{"energy": -1.0, "forces": np.zeros((len(s), 3)),
                     "stress": pressure * np.eye(3)} for s in structures]  # fmt: skip

    start = Structure(Lattice.cubic(5.0), ["Cu", "Cu"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    steady = Structure(Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]])
    out = relax_batch([start], Pushing(), steps=2000)[0]
    assert np.isnan(out.energy) and not out.converged and out.steps < 2000
    ratio = out.structure.volume / start.volume
    # ASE's sign: a positive stress pulls the cell in
    assert ratio < 1.3 / VOLUME_CHANGE if pressure > 0 else ratio > VOLUME_CHANGE / 1.3
    assert relax_batch([steady], Pushing(), steps=1)[0].energy == -1.0  # one step: no change


def test_a_raw_potential_ranks_by_energy_on_the_corrected_scale(
    emt, monkeypatch, warm_structure_cache
):
    """Planted structure-dependent corrections (as MP2020's peroxide correction is): a raw
    potential's structures are ranked by energy plus correction, not by raw energy, and the
    stability table's formation energy carries the same correction."""
    import matlattice.structure.corrections as corrections
    from matlattice.structure.predict import stability_table

    def planted(items):  # +1 eV/atom on the close-packed structures, the raw winners
        return np.array([1.0 if i.get_space_group_info(0.1)[1] in CLOSE_PACKED else 0.0
                         for i in items])  # fmt: skip

    raw = search_structures(["Cu"], emt, n_random=3, seed=0)
    assert min(raw, key=lambda r: r.rank).spacegroup in CLOSE_PACKED
    monkeypatch.setattr(corrections, "mp2020_corrections", planted)
    emt.mp2020_corrected = False
    rows = search_structures(["Cu"], emt, n_random=3, seed=0)
    ranked = sorted(rows, key=lambda r: r.rank)
    keys = [r.energy_per_atom + r.energy_correction for r in ranked]
    assert keys == sorted(keys)
    assert ranked[0].spacegroup not in CLOSE_PACKED and ranked[0].energy_correction == 0.0
    assert {r.energy_correction for r in ranked if r.spacegroup in CLOSE_PACKED} == {1.0}
    table = stability_table(rows, emt, hull="none")
    assert np.allclose(table["energy_correction"], [r.energy_correction for r in rows])
    monkeypatch.setattr(
        corrections, "mp2020_corrections", lambda items: np.full(len(items), np.nan)
    )
    excluded = sorted(search_structures(["Cu"], emt, n_random=3, seed=0), key=lambda r: r.rank)
    energies = [r.energy_per_atom for r in excluded]  # the scheme excludes all: raw order
    assert energies == sorted(energies)
