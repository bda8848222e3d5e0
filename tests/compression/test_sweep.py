"""The compression-fidelity sweep finds the intrinsic dimension planted in the data."""

import json

import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.compression import fidelity_sweep
from matlattice.data import load_dataset
from matlattice.data.synthetic import planted_properties
from matlattice.errors import MatlatticeError
from matlattice.jobs.compression import FidelityConfig, fidelity_run

DIMS = [1, 2, 4, 8, 16]
# 40 epochs: the planted width is found on k = 2, 4, 8 with seeds k and k + 10 (six draws checked);
# CI runs k = 2 and 4 only (k = 8 alone took two minutes); its two draws were checked by hand
FAST = {"epochs": 40, "patience": 10, "hidden": (128, 128), "batch_size": 128, "lr": 3e-3}


@pytest.fixture(scope="module")
def formulas():
    return load_dataset("crabnet:aflow__Egap").frame["formula"].tolist()[:3000]


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 4])
def test_recommended_width_and_knee_find_the_planted_dimension(formulas, k):
    planted = planted_properties(formulas, k, seed=k)
    result = fidelity_sweep(
        planted.frame,
        DIMS,
        ensemble=1,
        model_params=FAST,
        baselines=False,
        probe_size=500,
        num_threads=1,
    )
    summary = result.to_dict()
    step = DIMS.index(k)
    assert abs(DIMS.index(summary["recommended_dim"]) - step) <= 1
    assert summary["knee"] is not None and abs(DIMS.index(summary["knee"]) - step) <= 1
    fid = {p["d"]: p["mean_normalised"] for p in summary["per_dim"]}
    # widths below k lose fidelity measurably; k itself keeps nearly all of it
    assert fid[k // 2] < 0.9 * fid[k] if k > 1 else True
    assert fid[k] > 0.95
    # the adaptive loop stops within a grid step of k
    assert abs(DIMS.index(summary["adaptive"]["chosen"]) - step) <= 1


@pytest.mark.slow
def test_run_folder_contract_figures_resume_and_rate_axis(formulas, tmp_path):
    planted = planted_properties(formulas[:900], 3, n_properties=4, seed=0)
    data = tmp_path / "planted.csv"
    planted.frame.to_csv(data, index=False)
    out = tmp_path / "run"
    args = [
        "fidelity",
        str(data),
        "--out",
        str(out),
        "--dims",
        "1,2,4,8",
        "--ensemble",
        "2",
        "--epochs",
        "15",
        "--kl-weights",
        "0.0001,0.5",  # names kl0.0001, kl0.5: dots must not clash
        "--vib-dim",
        "4",
        "--k",
        "5",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "recommended d" in result.output
    summary = json.loads((out / "fidelity.json").read_text())  # strict JSON: no NaN
    for key in (
        "dataset",
        "encoder",
        "tasks",
        "dims",
        "per_dim",
        "baselines",
        "knee",
        "recommended_dim",
        "adaptive_path",
    ):
        assert key in summary
    assert summary["tasks"] == ["p0", "p1", "p2", "p3"] and summary["dims"] == [1, 2, 4, 8]
    first = summary["per_dim"][0]
    for key in (
        "predictive",
        "mean_normalised",
        "knn_overlap",
        "trustworthiness",
        "cka",
        "reconstruction_r2",
        "miscalibration_area",
        "cost",
    ):
        assert key in first
    assert set(first["cost"]) == {"params", "bytes_per_material", "train_s", "predict_per_s"}
    assert first["predictive"]["p0"]["normalised"] <= 1.0
    assert summary["per_dim"][-1]["cka"] == pytest.approx(1.0)
    assert summary["per_dim"][-1]["knn_overlap"]["widest"] == pytest.approx(1.0)
    # an ensemble spread is calibrated somewhat, not perfectly and not uselessly
    assert 0.0 < first["miscalibration_area"] < 0.5
    # baselines at every width the 132 features allow
    assert [r["d"] for r in summary["baselines"]["pca"]] == [1, 2, 4, 8]
    pca = {r["d"]: r["reconstruction_r2"] for r in summary["baselines"]["pca"]}
    assert pca[1] < pca[2] < pca[4] < pca[8] < 1.0
    # the rate axis: a heavier KL weight transmits fewer nats per material
    rates = {v["kl_weight"]: v["rate_nats"] for v in summary["variational"]}
    assert rates[0.5] < 0.5 * rates[0.0001]
    for name in ("fidelity_vs_width.png", "cost_vs_fidelity.png", "neighbourhood_vs_width.png"):
        assert (out / name).stat().st_size > 10_000
    # resume: the finished fits are loaded, not refitted; the result is the same
    fits = sorted(p.name for p in (out / "fits").iterdir())
    assert len(fits) == 2 * (4 + 2)
    config = FidelityConfig.from_json(out / "config.json")
    again = fidelity_run(config, out)
    assert again["per_dim"][0]["predictive"] == summary["per_dim"][0]["predictive"]
    assert again["per_dim"][0]["cost"]["train_s"] == first["cost"]["train_s"]
    with pytest.raises(MatlatticeError, match="another config"):
        fidelity_run(FidelityConfig(**{**config.__dict__, "epochs": 31}), out)


def test_bad_inputs_name_the_bad_value(formulas):
    planted = planted_properties(formulas[:300], 2, seed=0)
    with pytest.raises(ValueError, match="tasks \\['nope'\\]"):
        fidelity_sweep(planted.frame, [1, 2], tasks=["nope"])
    with pytest.raises(ValueError, match="at least two widths"):
        fidelity_sweep(planted.frame, [4])
    with pytest.raises(ValueError, match="executor='dask'"):
        fidelity_sweep(planted.frame, [1, 2], executor="dask", model_params={"epochs": 1})
    # 300 rows give a 30-row test part: k = 15 neighbours need more than 30 probe rows
    with pytest.raises(ValueError, match="30 probe rows; neighbourhoods of k = 15 need more"):
        fidelity_sweep(planted.frame, [1, 2], k=15)
