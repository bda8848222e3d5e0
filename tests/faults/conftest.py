"""Shared inputs of the fault suite: small user tables and a CLI runner that reports output."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic import random_label_table

MLP = ["--model", "mlp", "--epochs", "3", "--latent-dim", "8", "--batch-size", "16"]
RF = ["--n-estimators", "5"]

runner = CliRunner()


def cli(*args: object, ok: bool = True) -> str:
    """Run ``matlattice args``; assert success (``ok``) or a one-line refusal, return output."""
    result = runner.invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, (result.exit_code, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.output
    return " ".join(result.output.split())


@pytest.fixture
def tables(tmp_path):
    """``a.csv`` and ``b.csv`` (same formulas, other labels) and ``new.csv`` to predict."""
    paths = {}
    for name, seed in (("a", 0), ("b", 1)):
        paths[name] = tmp_path / f"{name}.csv"
        random_label_table(seed=seed).to_csv(paths[name], index=False)
    paths["new"] = tmp_path / "new.csv"
    pd.DataFrame({"formula": ["NaCl", "GaN", "SrTiO3"]}).to_csv(paths["new"], index=False)
    return paths
