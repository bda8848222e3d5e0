"""Mistakes a new user makes: every one ends in a non-zero exit code and a message that names
the bad value, never in a Python traceback or an "internal error"."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from matlattice.cli import app
from matlattice.data.synthetic import random_label_table

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Input files for the cases: good and broken tables, a garbage store, broken configs,
    a folder that is not a run, and one small fitted forest run."""
    root = tmp_path_factory.mktemp("bad")
    good = random_label_table()
    paths = {name: root / name for name in ("good.csv", "empty.csv", "header_only.csv")}
    good.to_csv(paths["good.csv"], index=False)
    paths["empty.csv"].write_text("")
    paths["header_only.csv"].write_text("formula,band_gap\n")
    extra = {
        "garbage.parquet": b"PAR1 not really parquet",
        "garbage.sqlite": os.urandom(4096),
        "bad_config.json": b"{not json",
        "unknown_key.json": json.dumps({"config": {"data": "x", "bogus_key": 1}}).encode(),
    }
    for name, content in extra.items():
        (root / name).write_bytes(content)
        paths[name] = root / name
    (root / "notarun").mkdir()
    paths["notarun"] = root / "notarun"
    run = root / "run_rf"
    result = runner.invoke(
        app, ["fit", str(paths["good.csv"]), "--n-estimators", "5", "--out", str(run)]
    )
    assert result.exit_code == 0, result.output
    paths["run"] = run
    neural = root / "run_mlp"
    args = ["fit", str(paths["good.csv"]), *NEURAL, "--latent-dim", "8", "--out", str(neural)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    paths["run_mlp"] = neural
    bad_run = root / "run_badcfg"
    bad_run.mkdir()
    (bad_run / "config.json").write_text("{not json")
    paths["run_badcfg"] = bad_run
    bad_model = root / "run_badmodel"
    shutil.copytree(run, bad_model)
    (bad_model / "model" / "config.json").write_text("{not json")
    paths["run_badmodel"] = bad_model
    paths["out"] = root / "out"
    store = root / "store.sqlite"
    create = ["campaign", "create", str(store), "--pool", str(paths["good.csv"])]
    result = runner.invoke(app, [*create, "--target", "band_gap"])
    assert result.exit_code == 0, result.output
    paths["store"] = store
    for name, value in (("tell_text.csv", "abc"), ("tell_inf.csv", "inf")):
        (root / name).write_text(f"formula,value\nNaCl,{value}\n")
        paths[name] = root / name
    return {k.replace(".", "_"): str(v) for k, v in paths.items()}


NEURAL = ["--model", "mlp", "--epochs", "2", "--patience", "1", "--batch-size", "16"]
FIT = ["fit", "{good_csv}", "--out", "{out}/{case}"]
FIDELITY = ["fidelity", "{good_csv}", "--dims", "2,4", "--out", "{out}/{case}", "--epochs", "2"]
ENTANGLE = ["entangle", "{good_csv}", "--out", "{out}/{case}", "--epochs", "2", "--no-transfer"]
RUN = ["campaign", "run", "{good_csv}", "--target", "band_gap", "--out", "{out}/{case}"]
CREATE = [
    "campaign",
    "create",
    "{out}/{case}.sqlite",
    "--pool",
    "{good_csv}",
    "--target",
    "band_gap",
]

# (case id, argv with {file} placeholders, the bad value the message must name)
CASES = [
    ("data-info-unknown", ["data", "info", "nope"], "nope"),
    ("data-audit-unknown", ["data", "audit", "nope"], "nope"),
    ("data-audit-empty-csv", ["data", "audit", "{empty_csv}"], "empty.csv"),
    ("data-audit-header-only", ["data", "audit", "{header_only_csv}"], "header_only.csv"),
    ("featurize-table", ["featurize", "{good_csv}", "--table", "nope"], "nope"),
    ("featurize-stats", ["featurize", "{good_csv}", "--stats", "bogus"], "bogus"),
    ("featurize-missing-rule", ["featurize", "{good_csv}", "--missing", "nope"], "nope"),
    ("featurize-empty-csv", ["featurize", "{empty_csv}"], "empty.csv"),
    ("featurize-header-only", ["featurize", "{header_only_csv}"], "header_only.csv"),
    ("featurize-garbage-parquet", ["featurize", "{garbage_parquet}"], "garbage.parquet"),
    ("featurize-missing-txt", ["featurize", "{out}/missing.txt"], "missing.txt"),
    ("fit-empty-csv", ["fit", "{empty_csv}", "--out", "{out}/{case}"], "empty.csv"),
    ("fit-header-only", ["fit", "{header_only_csv}", "--out", "{out}/{case}"], "header_only.csv"),
    ("fit-unknown-dataset", ["fit", "nope", "--out", "{out}/{case}"], "nope"),
    ("fit-tasks", [*FIT, "--tasks", "nope"], "nope"),
    ("fit-ensemble-0", [*FIT, "--ensemble", "0"], "0"),
    ("fit-batch-size-0", [*FIT, "--batch-size", "0"], "0"),
    ("fit-latent-dim-0", [*FIT, "--latent-dim", "0"], "0"),
    ("fit-lr-negative", [*FIT, "--lr", "-1"], "-1"),
    ("fit-epochs-negative", [*FIT, "--epochs", "-1"], "-1"),
    ("fit-patience-negative", [*FIT, "--patience", "-3"], "-3"),
    ("fit-jobs-0", [*FIT, "--jobs", "0"], "0"),
    ("fit-n-estimators-0", [*FIT, "--n-estimators", "0"], "0"),
    ("fit-adapter-dim-negative", [*FIT, "--adapter-dim", "-2"], "-2"),
    ("fit-device-gpu", [*FIT, "--device", "gpu"], "gpu"),
    ("fit-model", [*FIT, "--model", "nope"], "nope"),
    ("fit-split", [*FIT, "--split", "nope"], "nope"),
    ("fit-folds-text", [*FIT, "--folds", "a"], "a"),
    ("fit-folds-without-folds", [*FIT, "--folds", "0", "--n-estimators", "5"], "folds=[0]"),
    (
        "fit-folds-unknown",
        ["fit", "matbench_steels", "--folds", "7", "--out", "{out}/{case}"],
        "[7]",
    ),
    (
        "campaign-random-cheap",
        [*RUN, "--methods", "random+cheap", "--cheap", "mp:e_hull:1"],
        "random+cheap",
    ),
    ("fit-element-table", [*FIT, "--element-table", "nope"], "nope"),
    ("fit-task-weighting", [*FIT, "--task-weighting", "nope"], "nope"),
    ("fit-target-transform", [*FIT, "--target-transform", "sqrt"], "sqrt"),
    ("fit-precision", [*FIT, "--precision", "fp16"], "fp16"),
    ("fit-decision-threshold", [*FIT, "--decision-threshold", "best"], "best"),
    ("fit-preset", [*FIT, "--preset", "slow"], "slow"),
    ("fit-executor", [*FIT, "--executor", "dask"], "dask"),
    ("fit-threshold-regression", [*FIT, "--decision-threshold", "balanced"], "regression tasks"),
    ("fit-executor-rf", [*FIT, "--executor", "ray"], "executor='ray' with model='rf'"),
    ("serve-no-token", ["serve", "--store", "{out}/{case}"], "MATLATTICE_TOKEN"),
    ("serve-port", ["serve", "--store", "{out}/{case}", "--port", "0"], "--port"),
    (
        "design-executor",
        ["design", "{good_csv}", "--target", "band_gap:max", "--executor", "dask"],
        "dask",
    ),
    ("design-jobs", ["design", "{good_csv}", "--target", "band_gap:max", "--jobs", "0"], "--jobs"),
    ("report-not-a-run", ["report", "{notarun}", "-o", "{out}/{case}.html"], "notarun"),
    ("fit-gate-folds-1", [*FIT, *NEURAL, "--gate", "--gate-folds", "1"], "--gate-folds"),
    ("fit-init-from-not-a-run", [*FIT, *NEURAL, "--init-from", "{notarun}"], "notarun"),
    (
        "fit-resume-other-latent-dim",
        ["fit", "{good_csv}", *NEURAL, "--latent-dim", "16", "--resume", "--out", "{run_mlp}"],
        "latent_dim",
    ),
    ("fit-config-malformed", ["fit", "x", "--config", "{bad_config_json}"], "bad_config.json"),
    ("fit-config-unknown-key", ["fit", "x", "--config", "{unknown_key_json}"], "bogus_key"),
    ("predict-not-a-run", ["predict", "{notarun}", "{good_csv}", "-o", "{out}/p.csv"], "notarun"),
    ("predict-interval", ["predict", "{run}", "{good_csv}", "--interval", "1.5"], "1.5"),
    ("predict-broken-model", ["predict", "{run_badmodel}", "{good_csv}"], "config.json"),
    ("calibrate-broken-config", ["calibrate", "{run_badcfg}"], "config.json"),
    ("calibrate-method", ["calibrate", "{run}", "--method", "nope"], "nope"),
    ("fidelity-dims-0", [*FIDELITY[:3], "0", *FIDELITY[4:]], "--dims '0'"),
    ("fidelity-dims-negative", [*FIDELITY[:3], "-2,4", *FIDELITY[4:]], "-2"),
    ("fidelity-dims-text", [*FIDELITY[:3], "a,b", *FIDELITY[4:]], "a,b"),
    ("fidelity-threshold", [*FIDELITY, "--threshold", "2"], "2"),
    ("fidelity-k-0", [*FIDELITY, "--k", "0"], "0"),
    ("fidelity-executor", [*FIDELITY, "--executor", "nope"], "nope"),
    ("fidelity-config-malformed", ["fidelity", "x", "--config", "{bad_config_json}"], "bad_config"),
    ("entangle-tasks", [*ENTANGLE, "--tasks", "nope"], "nope"),
    ("entangle-one-task", [*ENTANGLE, "--tasks", "band_gap"], "band_gap"),
    ("entangle-probe-size-0", [*ENTANGLE, "--probe-size", "0"], "0"),
    ("entangle-latent-dim-0", [*ENTANGLE, "--latent-dim", "0"], "0"),
    ("campaign-garbage-store", ["campaign", "status", "{garbage_sqlite}"], "garbage.sqlite"),
    ("campaign-missing-store", ["campaign", "status", "{out}/none.sqlite"], "none.sqlite"),
    ("campaign-acquisition", [*CREATE, "--acquisition", "nope"], "nope"),
    ("campaign-batch-0", [*CREATE, "--batch", "0"], "'--batch': 0"),
    ("campaign-budget-negative", [*CREATE, "--budget", "-5"], "'--budget': -5"),
    ("campaign-model", [*CREATE, "--model", "nope"], "'--model': 'nope'"),
    ("campaign-goal", [*CREATE, "--goal", "nope"], "nope"),
    ("campaign-empty-pool", [*CREATE[:4], "{empty_csv}", *CREATE[5:]], "empty.csv"),
    ("data-list-kind", ["data", "list", "--kind", "nope"], "nope"),
    ("featurize-output-xlsx", ["featurize", "{good_csv}", "-o", "{out}/f.xlsx"], "f.xlsx"),
    ("predict-output-xlsx", ["predict", "{run}", "{good_csv}", "-o", "{out}/p.xlsx"], "p.xlsx"),
    ("campaign-ask-n-0", ["campaign", "ask", "{out}/{case}.sqlite", "-n", "0"], "0"),
    ("campaign-tell-text-value", ["campaign", "tell", "{store}", "{tell_text_csv}"], "abc"),
    ("campaign-tell-inf", ["campaign", "tell", "{store}", "{tell_inf_csv}"], "inf"),
    ("campaign-run-seeds-0", [*RUN, "--seeds", "0"], "0"),
    ("campaign-run-top", [*RUN, "--top", "2"], "2"),
    ("campaign-run-cheap", [*RUN, "--cheap", "x"], "'x'"),
    ("unknown-command", ["trian", "{good_csv}"], "trian"),
]


@pytest.mark.parametrize(("case", "argv", "bad_value"), CASES, ids=[c[0] for c in CASES])
def test_a_mistake_is_refused_by_name(files, case, argv, bad_value):
    args = [a.format(case=case, **files) for a in argv]
    result = runner.invoke(app, args)
    output = result.output
    assert result.exit_code not in (0, None), f"{case}: exit 0\n{output}"
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert bad_value in " ".join(output.split()), f"{case}: {bad_value!r} not named\n{output}"


def test_a_bug_is_one_line_and_the_traceback_is_there_under_verbose(files, monkeypatch):
    """An exception matlattice did not mean is reported as a bug (exit 1), with the
    traceback only under -v."""
    import matlattice.cli.data as data_cli

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(data_cli, "read_formulas", broken)
    quiet = runner.invoke(app, ["featurize", files["good_csv"]])
    loud = runner.invoke(app, ["-v", "featurize", files["good_csv"]])
    assert quiet.exit_code == loud.exit_code == 1
    assert "internal error" in quiet.output and "Traceback" not in quiet.output
    assert "Traceback" in loud.output and "ZeroDivisionError: planted" in loud.output
