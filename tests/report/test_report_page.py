"""``matlattice report`` on real run folders of every kind: one self-contained page, a
section per run, figures with captions; bad paths refused by name; and the page opened in
headless Chromium with the network off: no console error, every figure drawn, no request
leaving the page, a screenshot of each section kept."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.design.planted import planted_chemistry
from matlattice.report.build import expand_runs, write_report

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTEFACTS = Path(os.environ.get("MATLATTICE_ARTEFACTS", Path(__file__).parents[2] / "artefacts"))


def _run(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A planted world of two coupled properties and one small run of every kind on it."""
    root = tmp_path_factory.mktemp("report")
    world = planted_chemistry(3)
    rng = np.random.default_rng(3)
    world["z"] = -0.8 * world["y"] + 0.3 * rng.normal(size=len(world))
    known = root / "known.csv"
    world.to_csv(known, index=False)
    top = root / "runs"
    _run(
        "fit",
        known,
        "--model",
        "attention",
        "--ensemble",
        "2",
        "--epochs",
        "4",
        "--latent-dim",
        "8",
        "--out",
        top / "fit",
    )
    _run("calibrate", top / "fit")
    _run(
        "fidelity",
        known,
        "--dims",
        "2,4",
        "--epochs",
        "3",
        "--ensemble",
        "1",
        "--k",
        "3",
        "--out",
        top / "fidelity",
    )
    _run("entangle", known, "--no-transfer", "--epochs", "4", "--out", top / "lattice")
    _run(
        "campaign",
        "run",
        known,
        "--target",
        "y",
        "--methods",
        "ucb@rf,random",
        "--pool-size",
        "100",
        "--initial",
        "10",
        "--budget",
        "30",
        "--batch",
        "5",
        "--seeds",
        "2",
        "--top",
        "0.1",
        "--out",
        top / "campaign",
    )
    _run(
        "design",
        known,
        "--target",
        "y:max",
        "--target",
        "z:min",
        "--share",
        "0.2",
        "--n-estimators",
        "30",
        "--generators",
        "mined,evolution",
        "--n",
        "25",
        "--out",
        top / "design",
    )
    return top


@pytest.fixture(scope="module")
def page(runs) -> Path:
    store = next((runs / "campaign" / "campaigns").glob("ucb*seed0.sqlite"))
    out = runs.parent / "report.html"
    said = _run("report", runs, store, "-o", out)
    assert "report ->" in said
    return out


def test_every_run_kind_gets_its_section_and_captioned_figures(runs, page):
    kinds = [k for k, _ in expand_runs([runs])]
    assert sorted(kinds) == ["campaign", "design", "fidelity", "fit", "lattice"]
    text = page.read_text()
    sections = re.findall(r'<section id="[^"]+" data-kind="(\w+)"', text)
    assert sorted(sections) == sorted([*kinds, "campaign"])  # the store is a campaign too
    figures = text.count('<figure class="plot">')
    assert figures >= 12
    assert text.count("<b>Look for:</b>") == figures  # every figure says what to look for
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", text)
    assert page.stat().st_size < 6_000_000


def test_bad_paths_are_refused_by_name(runs, tmp_path):
    result = runner.invoke(
        app, ["report", str(tmp_path / "missing"), "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2 and "missing does not exist" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["report", str(empty), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "holds no run this report knows" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "r.html").exists()


def test_a_page_over_the_size_limit_is_refused_and_the_old_one_kept(runs, tmp_path, monkeypatch):
    import matlattice.report.build as build

    out = tmp_path / "r.html"
    out.write_text("earlier report")
    monkeypatch.setattr(build, "MAX_BYTES", 1000)
    with pytest.raises(Exception, match=r"would be \d+\.\d MB"):
        write_report([runs / "lattice"], out)
    assert out.read_text() == "earlier report"


def _open_offline(path: Path, shots: Path) -> dict:
    from playwright.sync_api import sync_playwright

    seen = {"errors": [], "requests": [], "divs": 0, "drawn": 0, "sections": 0}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
        context.route(re.compile(r"^(https?|wss?)://"), lambda route: route.abort())
        tab = context.new_page()
        tab.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
        tab.on("request", lambda r: seen["requests"].append(r.url))
        tab.goto(path.as_uri(), wait_until="load")
        tab.wait_for_timeout(500)
        seen["divs"] = tab.locator("div.plotly-graph-div").count()
        seen["drawn"] = tab.locator("div.plotly-graph-div:has(svg.main-svg)").count()
        sections = tab.locator("section")
        seen["sections"] = sections.count()
        shots.mkdir(parents=True, exist_ok=True)
        for old in shots.glob("section_*.png"):
            old.unlink()
        for k in range(seen["sections"]):
            kind = sections.nth(k).get_attribute("data-kind")
            sections.nth(k).screenshot(path=str(shots / f"section_{k}_{kind}.png"))
        browser.close()
    return seen


def test_the_page_renders_in_headless_chromium_with_the_network_off(page):
    if CHROMIUM is None:
        message = (
            "Chromium is not installed (Debian package 'chromium'); .ci/run installs it. "
            "The report's browser test cannot run."
        )
        if os.environ.get("MATLATTICE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    seen = _open_offline(page, ARTEFACTS / "report")
    assert seen["errors"] == []
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:", "blob:"))] == []
    assert seen["divs"] == page.read_text().count('<figure class="plot">')
    assert seen["drawn"] == seen["divs"]  # plotly drew an SVG in every figure
    assert len(list((ARTEFACTS / "report").glob("section_*.png"))) == seen["sections"] == 6
