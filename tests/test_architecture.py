"""The pipeline's import direction and import-time behaviour."""

import os
import subprocess
import sys
from pathlib import Path


def test_imports_point_down_the_pipeline():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint)], capture_output=True, text=True, cwd=Path(__file__).parents[1], check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_does_no_work(tmp_path):
    env = {**os.environ, "MATLATTICE_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    code = "import matlattice, matlattice.cli, matlattice.runs; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert not (tmp_path / "cache").exists()
    assert not list(tmp_path.iterdir())
