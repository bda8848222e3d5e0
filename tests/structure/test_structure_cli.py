"""``matlattice structure predict`` and ``match-xrd`` end to end on a stand-in potential
(EMT): the run folder holds what the docs promise, a killed run resumes, other settings are
refused, and a measured pattern finds its structure."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app

runner = CliRunner()


@pytest.fixture
def emt_everywhere(emt, warm_structure_cache, monkeypatch):
    import matlattice.structure.potentials as potentials

    monkeypatch.setattr(potentials, "load_potential", lambda *args, **kw: emt)
    return emt


def _cli(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def test_predict_writes_ranked_structures_cifs_and_patterns(emt_everywhere, tmp_path):
    formulas = tmp_path / "f.csv"
    pd.DataFrame({"formula": ["Cu3Au", "Cu"]}).to_csv(formulas, index=False)
    out = tmp_path / "run"
    _cli("structure", "predict", formulas, "--out", out, "--n-candidates", "2", "--hull", "none")
    table = pd.read_csv(out / "candidates.csv", keep_default_na=False)
    for column in ("formula", "rank", "spacegroup", "energy_per_atom",
                   "formation_energy_per_atom", "e_above_hull", "potential", "cif"):  # fmt: skip
        assert column in table.columns
    assert set(table["formula"]) == {"Cu3Au", "Cu"}
    for _, rows in table.groupby("formula"):
        assert sorted(rows["rank"]) == list(range(1, len(rows) + 1))
        assert rows.sort_values("rank")["energy_per_atom"].is_monotonic_increasing
    assert all((out / cif).is_file() for cif in table["cif"] if cif)
    assert (out / "xrd" / "Cu3Au.png").is_file() and (out / "xrd" / "Cu3Au-01.csv").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert {row["formula"] for row in summary["formulas"]} == {"Cu3Au", "Cu"}
    assert json.loads((out / "config.json").read_text())["potential"] == "chgnet"

    # the same settings resume (nothing left to relax); other settings are refused
    calls = emt_everywhere.calls
    _cli("structure", "predict", formulas, "--out", out, "--n-candidates", "2", "--hull",
         "none", "--resume")  # fmt: skip
    assert emt_everywhere.calls == calls
    refused = _cli("structure", "predict", formulas, "--out", out, "--n-candidates", "3",
                   "--hull", "none", "--resume", code=2)  # fmt: skip
    assert "n_random" in refused

    # the experimentalist's check: the rank-1 Cu3Au pattern, strained by 1 %, finds itself
    cu3au = pd.read_csv(out / "xrd" / "Cu3Au-01.csv")
    measured = tmp_path / "measured.csv"
    cu3au.assign(two_theta=cu3au["two_theta"] - 0.3)[["two_theta", "intensity"]].to_csv(
        measured, index=False
    )
    _cli("structure", "match-xrd", measured, out)
    match = pd.read_csv(out / "xrd_match.csv")
    assert match.iloc[0]["formula"] == "Cu3Au" and match.iloc[0]["rank"] == 1


def test_bad_requests_are_refused_in_one_line(emt_everywhere, tmp_path):
    formulas = tmp_path / "f.csv"
    pd.DataFrame({"formula": ["Cu0.5Au0.5"]}).to_csv(formulas, index=False)
    output = _cli("structure", "predict", formulas, "--out", tmp_path / "r", code=2)
    assert "integer amounts" in output
    output = _cli("structure", "predict", formulas, "--potential", "mace", code=2)
    assert "mace" in output
    output = _cli("structure", "match-xrd", formulas, tmp_path, code=2)
    assert "candidates.csv" in output
    for twins, says in ((["Cu3Au", "Cu6Au2"], "one composition (Cu3Au)"),
                        (["(CuAu)2", "CuAu2"], "share the file name 'CuAu2'")):  # fmt: skip
        pd.DataFrame({"formula": twins}).to_csv(formulas, index=False)
        output = _cli("structure", "predict", formulas, "--out", tmp_path / "r", code=2)
        assert says in output and twins[1] in output
