"""``design --structures K``: the best designed compositions get structures on a stand-in
potential (EMT), their stability columns come from the structure run, and the K are
re-ranked (computed-stable first in the design's order, then by hull distance, then those
not computed), the rest untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matlattice.errors import InvalidParameterError
from matlattice.jobs.design import DesignConfig
from matlattice.jobs.design_structures import _reranked, structure_check


@pytest.fixture
def emt_everywhere(emt, warm_structure_cache, monkeypatch):
    import matlattice.structure.potentials as potentials

    monkeypatch.setattr(potentials, "load_potential", lambda *args, **kw: emt)
    return emt


def _check(tmp_path, formulas, k, within):
    candidates = pd.DataFrame({"formula": formulas, "score": np.linspace(1, 0, len(formulas))})
    return structure_check(candidates, k, tmp_path, stable_within=within, say=lambda _: None,
                           n_random=1, seed=0)  # fmt: skip


@pytest.mark.slow
def test_structures_rerank_the_best_k_by_computed_stability(emt_everywhere, tmp_path):
    within = 0.02
    formulas = ["CuAu3", "Cu2.5Au", "Cu3Au", "Ni3Al", "NiPt", "AgAu"]
    out, record = _check(tmp_path / str(within), formulas, 4, within)
    assert sorted(out["formula"]) == sorted(formulas)
    assert out["formula"].iloc[4:].tolist() == ["NiPt", "AgAu"]  # beyond K: untouched
    assert out["computed_e_above_hull"].iloc[4:].isna().all()
    top = out.iloc[:4]
    assert top["formula"].iloc[-1] == "Cu2.5Au"  # not an integer formula unit: last of the K
    assert "integer amounts" in top["structure_note"].iloc[-1]
    assert record["not_computed"] == {"Cu2.5Au": top["structure_note"].iloc[-1]}
    computed = top.iloc[:3]
    stable = computed["computed_stable"].astype(bool).to_numpy()
    assert (stable == (computed["computed_e_above_hull"] <= within).to_numpy()).all()
    assert (np.diff(stable.astype(int)) <= 0).all()  # stable ones first
    kept = computed[stable]["rank_before_structures"].to_numpy()
    assert (np.diff(kept) > 0).all()  # in the design's order
    assert (np.diff(computed[~stable]["computed_e_above_hull"].to_numpy()) >= 0).all()
    assert record["computed"] == 3 and record["computed_stable"] == int(stable.sum())
    table = pd.read_csv(tmp_path / str(within) / "structures" / "candidates.csv")
    best = table[table["rank"] == 1].set_index("formula")
    for row in computed.itertuples():
        assert row.computed_e_above_hull == pytest.approx(best.at[row.formula, "e_above_hull"])
        assert row.computed_spacegroup == best.at[row.formula, "spacegroup"]
        assert (tmp_path / str(within) / row.structure_cif).is_file()


def test_structures_refuse_a_bad_potential_and_count():
    with pytest.raises(InvalidParameterError, match="structure_potential='mace'"):
        DesignConfig(data="mp", targets=("e_hull:min",), structures=3, structure_potential="mace")
    with pytest.raises(InvalidParameterError, match="structures=-1"):
        DesignConfig(data="mp", targets=("e_hull:min",), structures=-1)


@pytest.mark.parametrize("seed", range(20))
def test_rerank_order_on_planted_hull_distances(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(3, 30)), int(rng.integers(1, 30))
    hull = rng.normal(0.05, 0.1, n)
    hull[rng.random(n) < 0.2] = np.nan  # not computed
    frame = pd.DataFrame({"formula": [f"X{i}" for i in range(n)],
                          "rank_before_structures": np.arange(1, n + 1),
                          "computed_e_above_hull": hull})  # fmt: skip
    frame["computed_stable"] = pd.array([None if np.isnan(h) else bool(h <= 0.05) for h in hull],
                                        dtype="boolean")  # fmt: skip
    out = _reranked(frame, k)
    top = frame.iloc[:k]
    stable = top[top["computed_stable"].fillna(False).astype(bool)]
    unstable = top[top["computed_e_above_hull"] > 0.05].sort_values("computed_e_above_hull")
    missing = top[top["computed_e_above_hull"].isna()]
    expected = [*stable["formula"], *unstable["formula"], *missing["formula"],
                *frame["formula"].iloc[k:]]  # fmt: skip
    assert out["formula"].tolist() == expected


def test_structure_run_refuses_a_misspelt_second_potential_before_any_work():
    from matlattice.jobs.structure import StructureConfig

    with pytest.raises(InvalidParameterError, match="'sevenet'"):
        StructureConfig(formulas=("Cu",), second="sevenet")


def test_design_cli_refuses_bad_structure_options_in_one_line():
    from typer.testing import CliRunner

    from matlattice.cli import app

    runner = CliRunner()
    for args, named in ((["--structures", "-1"], "-1"),
                        (["--structure-potential", "mace"], "mace")):  # fmt: skip
        result = runner.invoke(app, ["design", "aflow", "--target", "bulk_modulus:max", *args])
        assert result.exit_code == 2 and named in result.output
