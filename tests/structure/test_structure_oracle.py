"""The structure oracle closes campaigns by physics on a stand-in potential (EMT): its answers
are the structure stage's (computed once, stored, reused), a composition without a crystal is
not measurable, ``campaign measure`` runs ask/compute/tell to the budget, and ``campaign run
--oracle`` benchmarks acquisitions on computed labels with a second potential as the cheap
fidelity."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.discovery.structure_oracle import StructureOracle
from matlattice.errors import DataFormatError, InvalidParameterError
from matlattice.structure.predict import predict_structures

runner = CliRunner()
POOL = ["Cu3Au", "CuAu", "CuAu3", "Ni3Al", "NiAl", "Cu3Pt", "Ag3Au", "Pd3Al"]


@pytest.fixture
def emt_by_name(emt, warm_structure_cache, monkeypatch):
    """``load_potential(name)`` gives an EMT stand-in called ``emt-<name>``."""
    import matlattice.structure.potentials as potentials

    made = {}

    def stand_in(name, *args, **kw):
        if name not in made:
            made[name] = type(emt)()
            made[name].name = f"emt-{name}"
        return made[name]

    monkeypatch.setattr(potentials, "load_potential", stand_in)
    return made


def _cli(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.slow
def test_oracle_answers_with_the_stage_and_stores_them(emt, warm_structure_cache, tmp_path):
    oracle = StructureOracle(emt, "formation_energy_per_atom", folder=tmp_path, n_random=1)
    answer = oracle(["CuAu", "Cu2.5Au", "Cu3Au", "CuAu"])
    assert answer["formula"].tolist() == ["CuAu", "Cu2.5Au", "Cu3Au", "CuAu"]
    assert math.isnan(answer["value"].iloc[1])  # no crystal of a non-integer formula unit
    table, _ = predict_structures(["CuAu", "Cu3Au"], emt, n_random=1, max_atoms=24, seed=0)
    best = table[table["rank"] == 1].set_index("formula")["formation_energy_per_atom"]
    assert answer["value"].iloc[0] == pytest.approx(best["CuAu"])
    assert answer["value"].iloc[2] == pytest.approx(best["Cu3Au"])
    assert answer["value"].iloc[3] == answer["value"].iloc[0]
    stored = json.loads((tmp_path / "values-emt.json").read_text())
    assert "integer amounts" in stored["Cu2.5Au"]["note"]
    assert (tmp_path / stored["CuAu"]["cif"]).is_file()
    calls = emt.calls
    again = StructureOracle(emt, "formation_energy_per_atom", folder=tmp_path, n_random=1)
    pd.testing.assert_frame_equal(again(["CuAu", "Cu2.5Au", "Cu3Au", "CuAu"]), answer)
    assert emt.calls == calls and again.computed == 0  # read, not relaxed again
    other = StructureOracle(emt, "formation_energy_per_atom", folder=tmp_path, n_random=2)
    other(["CuAu"])
    assert other.computed == 1  # other settings: computed again
    with pytest.raises(InvalidParameterError, match="band_gap"):
        StructureOracle(emt, "band_gap", folder=tmp_path)


@pytest.mark.slow
def test_campaign_measure_closes_the_loop_by_physics(emt_by_name, tmp_path):
    pool = tmp_path / "pool.csv"
    pd.DataFrame({"formula": POOL}).to_csv(pool, index=False)
    store = tmp_path / "c.sqlite"
    _cli("campaign", "create", store, "--pool", pool, "--target", "formation_energy_per_atom",
         "--goal", "min", "--batch", "2", "--budget", "4", "--initial", "2")  # fmt: skip
    output = _cli("campaign", "measure", store, "--oracle", "chgnet", "--oracle-random", "1",
                  "-n", "2")  # fmt: skip
    assert "round 1: 2 of 2 measured" in output and "2 of 4" in output
    _cli("campaign", "measure", store, "--rounds", "0", "--oracle-random", "1", "-n", "2")
    history = tmp_path / "h.csv"
    _cli("campaign", "export", store, "--output", history)
    told = pd.read_csv(history).dropna(subset=["value"])
    assert len(told) == 4
    stored = json.loads((tmp_path / "c-oracle" / "values-emt-chgnet.json").read_text())
    for row in told.itertuples():
        assert row.value == pytest.approx(stored[row.formula]["formation_energy_per_atom"])
    status = _cli("campaign", "status", store)
    best = told.loc[told["value"].idxmin()]
    assert f"best so far: {best['formula']}" in status


def test_campaign_measure_refuses_a_target_it_cannot_compute(emt_by_name, tmp_path):
    pool = tmp_path / "pool.csv"
    pd.DataFrame({"formula": POOL}).to_csv(pool, index=False)
    store = tmp_path / "c.sqlite"
    _cli("campaign", "create", store, "--pool", pool, "--target", "band_gap")
    output = _cli("campaign", "measure", store, code=2)
    assert "band_gap" in output and "e_above_hull" in output


@pytest.mark.slow
def test_campaign_run_on_computed_labels_with_a_cheap_potential(emt_by_name, tmp_path):
    data = tmp_path / "pool.csv"
    pd.DataFrame({"formula": POOL}).to_csv(data, index=False)  # no labels needed
    out = tmp_path / "bench"
    _cli("campaign", "run", data, "--target", "formation_energy_per_atom", "--goal", "min",
         "--oracle", "chgnet", "--oracle-random", "1", "--cheap", "structure:sevennet:0.5",
         "--methods", "random,ucb@rf+cheap", "--pool-size", "4", "--initial", "2",
         "--budget", "4", "--batch", "2", "--seeds", "1", "--top", "0.2", "--out", out)  # fmt: skip
    summary = json.loads((out / "campaign.json").read_text())
    assert summary["pool_size"] == 4 and set(summary["acquisitions"]) == {"random", "ucb@rf+cheap"}
    main = json.loads((out / "oracle" / "values-emt-chgnet.json").read_text())
    cheap = json.loads((out / "oracle" / "values-emt-sevennet.json").read_text())
    assert len(main) == 4 and set(main) == set(cheap)
    output = _cli("campaign", "run", data, "--target", "band_gap", "--oracle", "chgnet",
                  "--out", tmp_path / "x", code=2)  # fmt: skip
    assert "formation_energy_per_atom" in output


def test_campaign_run_refuses_a_pool_file_without_formulas_by_name(tmp_path):
    for name, text, named in (("empty.csv", "formula\n", "no rows"),
                              ("nocol.csv", "name\nNaCl\n", "no 'formula' column")):  # fmt: skip
        path = tmp_path / name
        path.write_text(text)
        result = runner.invoke(app, ["campaign", "run", str(path), "--target",
                                     "formation_energy_per_atom", "--oracle", "chgnet",
                                     "--out", str(tmp_path / "x")])  # fmt: skip
        assert result.exit_code != 0 and named in result.output
        assert "Traceback" not in result.output


def test_an_edited_values_file_is_refused_by_name(emt, tmp_path):
    oracle = StructureOracle(emt, "formation_energy_per_atom", folder=tmp_path, n_random=1)
    path = tmp_path / "values-emt.json"
    settings = {"n_random": 1, "max_atoms": 24, "seed": 0}
    for stored, named in (
        ({"CuAu": {"settings": settings, "formation_energy_per_atom": "-0.1"}}, "'CuAu'"),
        ({"CuAu": {"settings": settings, "e_above_hull": float("inf")}}, "'CuAu'"),
        ({"CuAu": -0.1}, "'CuAu'"),
        (["CuAu"], "no answers by formula"),
    ):
        path.write_text(json.dumps(stored))
        with pytest.raises(DataFormatError, match=named):
            oracle(["CuAu"])
    assert emt.calls == 0  # refused before any relaxation


def test_campaign_run_refuses_a_pool_the_oracle_could_not_compute(
    emt, warm_structure_cache, monkeypatch, tmp_path
):
    """Every compound's relaxation fails (a planted potential with energies for elements
    only): the run stops with a message, never a campaign on an all-missing pool."""
    import numpy as np

    import matlattice.structure.potentials as potentials

    class ElementsOnly(type(emt)):
        name = "elements-only"

        def predict(self, structures):
            out = super().predict(structures)
            for row, structure in zip(out, structures, strict=True):
                if len(structure.composition) > 1:
                    row["energy"] = np.nan
            return out

    monkeypatch.setattr(potentials, "load_potential", lambda *a, **k: ElementsOnly())
    data = tmp_path / "pool.csv"
    pd.DataFrame({"formula": POOL[:4]}).to_csv(data, index=False)
    output = _cli("campaign", "run", data, "--target", "formation_energy_per_atom",
                  "--oracle", "chgnet", "--oracle-random", "1", "--pool-size", "4",
                  "--initial", "2", "--budget", "2", "--seeds", "1", "--methods", "random",
                  "--out", tmp_path / "out", code=2)  # fmt: skip
    assert "computed formation_energy_per_atom for 0 of 4" in output
    notes = json.loads((tmp_path / "out" / "oracle" / "values-elements-only.json").read_text())
    assert {n["note"] for n in notes.values()} == {"every candidate structure collapsed or failed"}
