"""Committed numbers, rerun by today's code: one small case per stage, compared to the JSON
committed under ``bench/results/``.

- parse: every bundled formula string against pymatgen (``parser_agreement.json``: invalid
  formulas and compositions that differ).
- fit: ``matbench_steels``, RF-SCM/Magpie through ``fit_run``, official 5 folds
  (``matbench/matbench_steels.json``: the MAE of each fold).
- campaign: ``mp_ehull_min``, every method and seed of the committed run
  (``campaign/mp_ehull_min.json``: the mean discovery curve of each method).

Writes ``bench/results/reproduce.json`` and ``reproduce.md``; nothing else under
``bench/results`` is touched (the reruns write into a temporary folder).

    python bench/reproduce.py --stages parse fit   # about 2 minutes on 2 cores
    python bench/reproduce.py                      # also reruns all 50 committed campaigns
                                                   # of mp_ehull_min (the long stage)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import provenance

from matlattice.runtime.files import atomic_write_json, atomic_write_text

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
TOLERANCE = 1e-9


def _committed(relative: str) -> dict:
    return json.loads((RESULTS / relative).read_text())


def parse_stage(scratch: Path) -> dict:
    committed = _committed("parser_agreement.json")
    subprocess.run(
        [sys.executable, str(BENCH / "parser_agreement.py"), "--out", str(scratch)],
        check=True,
        capture_output=True,
    )
    rerun = json.loads((scratch / "parser_agreement.json").read_text())
    keys = ["n_formulas", "n_invalid_ours", "n_disagreements_over_1e-9", "worst_formula"]
    pairs = {k: (committed[k], rerun.get(k)) for k in keys}
    return {"compared": pairs, "same": all(a == b for a, b in pairs.values())}


def fit_stage(scratch: Path) -> dict:
    from matlattice.jobs.config import FitConfig
    from matlattice.jobs.fit import fit_run

    committed = _committed("matbench/matbench_steels.json")["rf"]
    config = FitConfig.from_dict(committed["config"])
    metrics = fit_run(config, scratch / "steels_rf")
    (task,) = metrics["tasks"]
    rerun = [fold["mae"] for fold in metrics["tasks"][task]["folds"]]
    diffs = [abs(a - b) for a, b in zip(committed["folds"], rerun, strict=True)]
    return {
        "compared": {"fold_mae": (committed["folds"], rerun)},
        "max_abs_diff": max(diffs),
        "same": max(diffs) <= TOLERANCE,
    }


def campaign_stage(scratch: Path) -> dict:
    import campaigns

    committed = _committed("campaign/mp_ehull_min.json")
    campaigns.RUNS, campaigns.FOLDER = scratch / "runs", scratch / "results"
    args = argparse.Namespace(
        pool_size=committed["pool_size"],
        initial=committed["initial"],
        budget=committed["budget"],
        batch=committed["batch"],
        seeds=len(committed["seeds"]),
        top=committed["task"]["top"],
        extra_methods=[],
    )
    rerun = campaigns.run_task("mp_ehull_min", args)
    diffs = {}
    for name, entry in committed["acquisitions"].items():
        old, new = entry["curve"], rerun["acquisitions"][name]["curve"]
        diffs[name] = max(abs(a - b) for a, b in zip(old, new, strict=True))
    return {"max_abs_diff_per_method": diffs, "same": max(diffs.values()) <= TOLERANCE}


STAGES = {"parse": parse_stage, "fit": fit_stage, "campaign": campaign_stage}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="*", default=list(STAGES), choices=list(STAGES))
    args = parser.parse_args()
    report: dict = {"stages": {}, **provenance()}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.stages:
            start = time.perf_counter()
            result = STAGES[name](Path(tmp) / name)
            result["seconds"] = round(time.perf_counter() - start, 1)
            report["stages"][name] = result
            print(f"{name}: {'same' if result['same'] else 'DIFFERENT'} ({result['seconds']} s)")
    atomic_write_json(RESULTS / "reproduce.json", report)
    lines = [
        "# Committed numbers rerun by today's code",
        "",
        f"Date {report['date']}; machine {report['machine']['platform']}, "
        f"{report['machine']['cpus']} cores; command `{report['command']}`; "
        f"commit {report['git']['commit']}.",
        "",
        "| stage | committed result | compared | same | seconds |",
        "|---|---|---|---|---|",
    ]
    what = {
        "parse": ("parser_agreement.json", "invalid and differing formulas"),
        "fit": ("matbench/matbench_steels.json (rf)", "MAE of each of the 5 folds"),
        "campaign": ("campaign/mp_ehull_min.json", "mean discovery curve of every method"),
    }
    for name, result in report["stages"].items():
        source, compared = what[name]
        lines.append(
            f"| {name} | `{source}` | {compared} | {'yes' if result['same'] else 'NO'} "
            f"| {result['seconds']} |"
        )
    atomic_write_text(RESULTS / "reproduce.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
