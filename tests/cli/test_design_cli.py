"""``matlattice design`` as a user runs it: a ranked candidates.csv of new, valid, unique
compositions, design.json with the set's measures, figures, a rerun from config.json that
gives the same candidates, and refusals that name the bad value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.design.planted import planted_chemistry
from matlattice.design.rediscovery import candidate_keys

runner = CliRunner()
FAST = ["--n-estimators", "30", "--generators", "mined,evolution", "--n", "25"]


@pytest.fixture(scope="module")
def known(tmp_path_factory) -> Path:
    """A planted world with two properties: ``y`` and a noisy, coupled ``z``."""
    world = planted_chemistry(3)
    rng = np.random.default_rng(3)
    world["z"] = -0.8 * world["y"] + 0.3 * rng.normal(size=len(world))
    world["ef"] = -np.abs(world["y"]) - 0.2 * rng.random(len(world))  # formation energy
    path = tmp_path_factory.mktemp("design") / "known.csv"
    world.to_csv(path, index=False)
    return path


def _run(*args: object, ok: bool = True) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert (result.exit_code == 0) == ok, result.output
    if not ok:
        assert result.exit_code == 2 and "Traceback" not in result.output
    return " ".join(result.output.split())


def test_design_writes_ranked_new_valid_candidates_and_reruns_identically(known, tmp_path):
    out = tmp_path / "D"
    said = _run("design", known, "--target", "y:max", "--share", "0.2", *FAST, "--out", out)
    assert "targets: y >=" in said and "run folder" in said
    candidates = pd.read_csv(out / "candidates.csv")
    assert candidates.columns[0] == "formula" and len(candidates) == 25
    assert candidates["score"].is_monotonic_decreasing
    for column in ("p_meet", "y", "y_std", "prior", "generator", "nearest_known", "in_domain"):
        assert column in candidates.columns
    assert candidates[["chemistry", "elements", "size", "supply"]].all().all()
    known_keys = set(candidate_keys(pd.read_csv(known)["formula"].tolist()))
    keys = candidate_keys(candidates["formula"].tolist())
    assert len(set(keys)) == len(keys) and not set(keys) & known_keys
    record = json.loads((out / "design.json").read_text())
    assert record["validity"] == 1.0 and record["uniqueness"] == 1.0 and record["novelty"] == 1.0
    assert sum(record["per_generator"].values()) == 25
    assert (
        sum(record["proposed_by"].values()) >= 25
    )  # a composition two generators made counts twice
    assert set(candidates["proposed_by"].str.split("+").explode()) <= {"mined", "evolution"}
    assert (out / "candidates_map.png").stat().st_size and (out / "element_frequency.png").exists()
    again = tmp_path / "D2"
    _run("design", known, "--config", out / "config.json", "--out", again)
    pd.testing.assert_frame_equal(candidates, pd.read_csv(again / "candidates.csv"))


@pytest.mark.slow
def test_a_reference_file_is_known_too(known, tmp_path):
    first = pd.read_csv(_design_once(known, tmp_path / "A") / "candidates.csv")["formula"]
    reference = tmp_path / "ref.csv"
    pd.DataFrame({"formula": first.head(10)}).to_csv(reference, index=False)
    again = _design_once(known, tmp_path / "B", "--reference", reference)
    proposed = set(candidate_keys(pd.read_csv(again / "candidates.csv")["formula"].tolist()))
    assert not proposed & set(candidate_keys(first.head(10).tolist()))
    assert json.loads((again / "design.json").read_text())["reference_compositions"] == 10


def _design_once(known, out, *extra):
    _run("design", known, "--target", "y:max", "--share", "0.2", *FAST, "--out", out, *extra)
    return out


@pytest.mark.slow
def test_two_targets_are_met_jointly_steered_by_the_lattice(known, tmp_path):
    out = tmp_path / "P"
    said = _run("design", known, "--target", "y:max", "--target", "z:min", "--share", "0.3",
                *FAST, "--lattice", "measure", "--out", out)  # fmt: skip
    candidates = pd.read_csv(out / "candidates.csv")
    assert {"y", "z", "y_std", "z_std", "y_p_meet", "z_p_meet"} <= set(candidates.columns)
    both = candidates[["y_p_meet", "z_p_meet"]].min(axis=1)
    assert (candidates["p_meet"] <= both + 0.02).all()  # meeting both is no likelier than one
    assert (candidates["p_meet"].between(0, 1)).all() and (out / "pareto.png").exists()
    # planted: z = -0.8 y + noise, so high y and low z go together
    assert "lattice: y (max) and z (min)" in said and "they agree" in said
    record = json.loads((out / "design.json").read_text())
    assert record["lattice"][0]["targets"] == ["y", "z"] and (out / "lattice.json").exists()


def test_stable_ranks_by_the_distance_to_the_known_hull(known, tmp_path):
    out = tmp_path / "S"
    _run("design", known, "--target", "y:max", "--share", "0.2", *FAST, "--stable", "ef",
         "--out", out)  # fmt: skip
    candidates = pd.read_csv(out / "candidates.csv")
    assert {"e_above_hull", "e_above_hull_std", "p_stable"} <= set(candidates.columns)
    assert candidates["e_above_hull"].notna().all() and candidates["p_stable"].between(0, 1).all()
    combined = np.log(candidates["p_meet"] * candidates["p_stable"]) + np.log(candidates["prior"])
    assert np.allclose(combined, candidates["score"])


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--target", "nope:max"], "no property ['nope']"),
        (["--target", "y:up"], "'up' is not max, min or a window"),
        (["--target", "y:3,1"], "window 3.0,1.0 is empty"),
        (["--generators", "mined,magic", "--target", "y:max"], "generators=['mined', 'magic']"),
        ([], "give at least one --target"),
        (["--target", "y:max", "--lattice", "measure"], "give two or more --target"),
        (["--target", "y:max", "--stable", "nope"], "--stable 'nope'"),
    ],
)
def test_bad_designs_are_refused_by_name(known, tmp_path, args, named):
    said = _run("design", known, *args, "--out", tmp_path / "X", ok=False)
    assert named in said
    assert not (tmp_path / "X").exists()  # a refused design leaves no folder behind


def test_an_existing_run_is_not_overwritten_unless_asked(known, tmp_path):
    out = tmp_path / "D"
    _run("design", known, "--target", "y:max", *FAST, "--out", out)
    said = _run("design", known, "--target", "y:max", *FAST, "--out", out, ok=False)
    assert "already holds files" in said
    _run("design", known, "--target", "y:max", *FAST, "--out", out, "--overwrite")


def test_rows_with_bad_formulas_are_listed_and_counted(known, tmp_path):
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(known)
    extra = pd.DataFrame({"formula": ["Xq2", "Fe0O3"], "y": [9.0, 9.0]})
    pd.concat([frame, extra]).to_csv(bad, index=False)
    said = _run("design", bad, "--target", "y:max", *FAST, "--out", tmp_path / "D")
    assert "2 labelled values were removed while loading" in said
    assert len(pd.read_csv(tmp_path / "D" / "rejected.csv")) == 2


def test_a_single_network_lends_its_mc_dropout_spread_and_a_hopeless_design_says_so(
    known, tmp_path, caplog
):
    run = tmp_path / "M"
    _run("fit", known, "--model", "mlp", "--epochs", "2", "--latent-dim", "4", "--out", run)
    out = tmp_path / "D"
    _run("design", known, "--target", "y:max", "--share", "0.01", *FAST, "--model", run,
         "--out", out)  # fmt: skip
    candidates = pd.read_csv(out / "candidates.csv")
    assert (candidates["y_std"] > 0).all()  # never a zero spread that makes p 0 or 1
    if candidates["p_meet"].max() < 1e-3:
        assert "no candidate has even a 0.1 % chance" in caplog.text


def test_a_plentiful_coupled_property_stands_in_for_a_scarce_target(known, tmp_path):
    world = pd.read_csv(known)
    rng = np.random.default_rng(0)
    world.loc[rng.random(len(world)) > 0.45, "y"] = np.nan  # y scarce, z labelled everywhere
    scarce = tmp_path / "scarce.csv"
    world.to_csv(scarce, index=False)
    out = tmp_path / "X"
    said = _run("design", scarce, "--target", "y:max", "--share", "0.2", *FAST, "--proxy",
                "auto", "--out", out)  # fmt: skip
    assert "proxy: z stands in for y" in said
    record = json.loads((out / "design.json").read_text())
    assert record["proxies"] == {"y": "z"}
    assert record["proxy_evidence"]["pairs"]["y"]["z"]["spearman"] < -0.5
    # DATA's compositions without a y label are listed: never proposed
    proposed = set(candidate_keys(pd.read_csv(out / "candidates.csv")["formula"].tolist()))
    assert not proposed & set(candidate_keys(world["formula"].tolist()))
    said = _run("design", scarce, "--target", "y:max", "--proxy", "nope", "--out",
                tmp_path / "N", ok=False)  # fmt: skip
    assert "--proxy 'nope': no such property" in said
