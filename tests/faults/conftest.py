"""Shared inputs of the fault suite: small user tables and a CLI runner that reports output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from matlattice.cli import app

FORMULAS = (
    "NaCl KCl LiF MgO CaO SrO BaO ZnO ZnS ZnSe CdS CdSe CdTe GaN GaP GaAs InP InAs AlN AlP AlAs "
    "Si Ge C SiC BN TiO2 SnO2 Fe2O3 Al2O3 Cu2O CuO NiO MnO CoO Cr2O3 V2O5 WO3 MoS2 WS2 PbS PbTe "
    "Bi2Se3 Bi2Te3 SrTiO3 BaTiO3 CaTiO3 LiNbO3 KNbO3 LiCoO2 LiFePO4 NaNbO3 MgAl2O4 ZnAl2O4 "
    "CaF2 SrF2 BaF2 KBr NaBr LiCl"
).split()
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


def labelled_table(seed: int, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"formula": FORMULAS[:n], "band_gap": rng.uniform(0, 8, n), "density": rng.uniform(2, 8, n)}
    )


@pytest.fixture
def tables(tmp_path):
    """``a.csv`` and ``b.csv`` (same formulas, other labels) and ``new.csv`` to predict."""
    paths = {}
    for name, seed in (("a", 0), ("b", 1)):
        paths[name] = tmp_path / f"{name}.csv"
        labelled_table(seed).to_csv(paths[name], index=False)
    paths["new"] = tmp_path / "new.csv"
    pd.DataFrame({"formula": ["NaCl", "GaN", "SrTiO3"]}).to_csv(paths["new"], index=False)
    return paths
