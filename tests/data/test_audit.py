import json

import pandas as pd
import pytest

from matlattice.data.audit import audit_dataset


@pytest.mark.slow
def test_audit_finds_oqmd_energy_faults(tmp_path):
    result = audit_dataset("oqmd")
    assert result.count("implausible_value", "energy_per_atom") >= 40
    assert result.count("implausible_value", "formation_enthalpy") >= 40
    energy = next(
        f
        for f in result.findings
        if f["kind"] == "implausible_value" and f["property"] == "energy_per_atom"
    )
    assert energy["examples"][0].startswith("Mg2Tc1=-203.6")
    out = tmp_path / "oqmd.json"
    result.to_json(out)
    payload = json.loads(out.read_text())
    assert {"kind", "property", "count", "examples"} <= set(payload["findings"][0])
    assert payload["properties"]["energy_per_atom"]["min"] < -200


def test_audit_finds_mp_anisotropy_and_scale_faults(mp):
    result = audit_dataset(mp)
    assert result.count("impossible_value", "elastic_anisotropy") == 376
    assert "mixed_scales" in result.kinds()
    assert "wide_dynamic_range" in result.kinds("mu_b")


def test_audit_on_planted_faults(tmp_path):
    path = tmp_path / "planted.csv"
    rows = [("NaCl", 1.0, 3.0), ("Na1Cl1", 1.0, 3.5), ("KBr", 1.1, 4.0), ("Qq", 1.0, 1.0)]
    rows += [(f"Fe{i}O{i + 1}", 1.0 + 0.01 * i, 2.0) for i in range(1, 40)]
    rows += [("LiF", 1e6, 2.0)]
    pd.DataFrame(rows, columns=["formula", "a", "b"]).to_csv(path, index=False)
    result = audit_dataset(path)
    assert result.count("invalid_formula") == 1
    assert result.count("robust_outlier", "a") == 1
    assert result.count("duplicate_formula", "a") == 1  # NaCl twice with equal a
    assert result.count("conflicting_labels", "b") == 1  # NaCl twice with different b
    assert "near_constant" not in result.kinds("a")
