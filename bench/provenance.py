"""Provenance of a benchmark result: when, on which machine, by which command and code.

Every script under ``bench/`` stamps what it writes with :func:`provenance`, so that a reader
can tell where a committed number comes from and rerun it::

    >>> record = {"mae": 0.31, **provenance()}                      # doctest: +SKIP
    >>> sorted(record)                                               # doctest: +SKIP
    ['command', 'date', 'git', 'machine', 'mae', 'versions']

``machine`` keeps the keys the result tables read (``platform``, ``cpus``).
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = [
    "REPO",
    "THREAD_VARS",
    "command",
    "git_state",
    "machine",
    "provenance",
    "recorded_machines",
    "versions",
]

REPO = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
PACKAGES = ("matlattice", "numpy", "pandas", "scikit-learn", "torch")


def command(argv: list[str] | None = None) -> str:
    """The command line that made the result, runnable from the repository root
    (``python bench/matbench.py --tasks matbench_steels``)."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    if script.is_relative_to(REPO):
        script = script.relative_to(REPO)
    return shlex.join(["python", str(script), *argv[1:]])


def machine() -> dict:
    """Platform, CPU model and count, Python version and the thread settings of this run."""
    return {
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "thread_env": {var: os.environ.get(var) for var in THREAD_VARS},
    }


def recorded_machines(records) -> str:
    """The machines ``records`` (dicts from :func:`provenance`) say they ran on, for a table
    rebuilt later or elsewhere: never the machine that rebuilds it."""
    named = sorted({f"{r['machine']['platform']}, {r['machine']['cpus']} cores"
                    for r in records if "machine" in r})  # fmt: skip
    return "; ".join(named) or "not recorded"


def git_state() -> dict:
    """The checkout's commit and the paths under ``src/`` and ``bench/`` (results and logs
    aside) that differ from it; ``commit`` is ``None`` outside a git checkout."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
            )
        except OSError:
            return None
        return done.stdout if done.returncode == 0 else None

    status = git("status", "--porcelain", "--", "src", "bench") or ""
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    commit = git("rev-parse", "HEAD")
    return {
        "commit": commit.strip() if commit else None,
        "uncommitted": [p for p in changed if not p.startswith(("bench/results/", "bench/logs/"))],
    }


def versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` when it is not installed)."""
    out: dict[str, str | None] = {}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def provenance(*, packages: tuple[str, ...] = PACKAGES, argv: list[str] | None = None) -> dict:
    """``date`` (UTC, ISO 8601), ``command``, ``machine``, ``git`` and package ``versions``."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command(argv),
        "machine": machine(),
        "git": git_state(),
        "versions": versions(packages),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
