"""The shared tools of ``bench/``: the provenance stamp, the one queue script and its job
files, and that every script answers ``--help`` without running anything."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
QUEUES = sorted((BENCH / "queues").glob("*.txt"))
#: Modules the scripts import, not scripts.
HELPERS = {"provenance.py", "guard_migration.py", "common.py", "per_task.py"}
SCRIPTS = sorted(
    p for p in [*BENCH.glob("*.py"), *BENCH.glob("probes/*.py")] if p.name not in HELPERS
)


def _provenance():
    spec = importlib.util.spec_from_file_location("bench_provenance", BENCH / "provenance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_provenance_stamps_date_command_machine_commit_and_versions():
    provenance = _provenance()
    stamp = provenance.provenance(
        packages=("numpy", "not-a-package"),
        argv=[str(BENCH / "matbench.py"), "--tasks", "matbench steels"],
    )
    assert stamp["command"] == "python bench/matbench.py --tasks 'matbench steels'"
    assert {"platform", "cpus", "python"} <= set(stamp["machine"])
    assert stamp["versions"]["numpy"] and stamp["versions"]["not-a-package"] is None
    assert stamp["date"].endswith("+00:00")
    assert set(stamp["git"]) == {"commit", "uncommitted"}


def _queue(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(BENCH / "run_queue.sh"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


@pytest.mark.parametrize("queue", QUEUES, ids=[q.stem for q in QUEUES])
def test_every_queued_job_names_an_existing_script(queue):
    jobs = [
        line for line in queue.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    done = _queue("--dry-run", str(queue))
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert len(printed) == len(jobs)
    assert all(".venv/bin/python bench/" in line for line in printed)


def test_the_queue_runs_its_jobs_in_order_and_counts_failures():
    done = _queue("--job", "- A=1 printenv A", "--job", "- false", "--job", "- printenv A")
    assert done.returncode == 2  # false, and printenv A: A is set for its own job only
    assert done.stdout.splitlines()[1] == "1"
    assert [line.split("] ")[1] for line in done.stdout.splitlines() if "] " in line] == [
        "A=1 printenv A",
        "false",
        "printenv A",
    ]
    missing = _queue("--job", "- bench/no_such_script.py")
    assert missing.returncode == 2 and "no script" in missing.stderr


HELP_DRIVER = """
import contextlib, io, json, runpy, sys
results = {}
for script in sys.argv[1:]:
    folder = script.rsplit("/", 1)[0]
    sys.path[:0] = [folder, folder.rsplit("/", 1)[0]]
    sys.argv = [script, "--help"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(script, run_name="__main__")
        code = "ran without exiting"
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        code = repr(exc)
    del sys.path[:2]
    results[script] = [code, out.getvalue()[:6]]
print(json.dumps(results))
"""


def test_every_script_answers_help_without_running():
    """All scripts in one process (imports shared): each exits 0 after printing its usage."""
    done = subprocess.run(
        [sys.executable, "-c", HELP_DRIVER, *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == len(SCRIPTS)
    failed = {Path(s).name: r for s, r in results.items() if r != [0, "usage:"]}
    assert failed == {}, failed


def _element_tables():
    """bench/element_tables.py as a module (bench scripts import their siblings by name)."""
    sys.path.insert(0, str(BENCH))
    try:
        import element_tables
    finally:
        sys.path.remove(str(BENCH))
    return element_tables


def test_bench_scripts_refuse_a_bad_fold_or_another_budget_by_name(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / "gap_gate.py"), "--folds", "7"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and "--folds [7]" in done.stderr
    assert "Traceback" not in done.stderr
    element_tables = _element_tables()
    kept = tmp_path / "aflow__Egap__magpie__seed0.json"
    kept.write_text(json.dumps({"budget": {"epochs": 60, "patience": 20, "train_rows": 10000,
                                           "seed": 0}}))  # fmt: skip
    args = type("Args", (), {"epochs": 30, "patience": 10, "train_rows": 4000})()
    with pytest.raises(SystemExit, match="ran with budget"):
        element_tables._check_same_budget(kept, args, 0)


@pytest.mark.parametrize(
    ("script", "args", "named"),
    [
        ("matbench_configs.py", ["--seeds", "0"], "--seeds 0"),
        ("forest_arms.py", ["--inner", "1"], "--inner 1"),
        ("forest_arms.py", ["--tasks", "matbench_dielectric"], "'matbench_dielectric'"),
        ("element_tables.py", ["--study", "../matbench"], "--study '../matbench'"),
        ("element_tables.py", ["--sets", "aflow__nope"], "unknown ['aflow__nope']"),
        ("element_tables.py", ["--tables", "mat3vec"], "unknown ['mat3vec']"),
        ("element_tables.py", ["--seeds", "0", "-1"], "--seeds [0, -1]"),
        ("element_tables.py", ["--seeds", "1", "1"], "--seeds [1, 1]"),
    ],
)
def test_matbench_scripts_refuse_bad_counts_and_tasks_by_name(script, args, named):
    done = subprocess.run([sys.executable, str(BENCH / script), *args],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and named in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_element_tables_rebuilt_by_a_partial_run_keep_every_set_and_seed(tmp_path, monkeypatch):
    element_tables = _element_tables()
    monkeypatch.setattr(element_tables, "RESULTS", tmp_path)
    (tmp_path / "element_tables_x").mkdir()
    budget = {"epochs": 1, "patience": 1, "train_rows": 10}
    runs = [("aflow__Egap", 0, 0.5), ("aflow__Egap", 1, 0.3), ("mp_e_hull", 0, 0.1)]
    for name, seed, mae in runs:
        record = {"set": name, "table": "magpie", "mae": mae, "budget": {**budget, "seed": seed},
                  "test_rows_with_missing_elements": 0}  # fmt: skip
        (tmp_path / "element_tables_x" / f"{name}__magpie__seed{seed}.json").write_text(
            json.dumps(record)
        )
    args = type("Args", (), {"study": "element_tables_x", "sets": ["aflow__Egap"]})()
    element_tables.write_table(args)
    row = next(x for x in (tmp_path / "element_tables_x.md").read_text().splitlines()
               if x.startswith("| magpie"))  # fmt: skip
    assert row == "| magpie | 0.4 ±0.1 (1) | 0.1 (1, 1 of 2 seeds) | 1.0 |"
