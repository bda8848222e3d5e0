"""Cost of keeping the forest's out-of-bag rows (what `fit --model rf` now does, so that
`calibrate` and `predict --interval` have held-out rows): the same forest fitted with and
without `out_of_bag=True` in one run, on crabnet:aflow__ael_shear_modulus_vrh train+val.

    python bench/forest_oob.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    from provenance import provenance

    from matlattice.data import load_dataset
    from matlattice.models import MultiTaskForest

    frame = load_dataset("crabnet:aflow__ael_shear_modulus_vrh").frame
    train = frame[frame["split"] != "test"]
    seconds = {}
    for oob in (False, True, False, True):
        start = time.perf_counter()
        MultiTaskForest(out_of_bag=oob).fit(train["formula"].tolist(), train[["shear_modulus"]])
        seconds.setdefault(str(oob), []).append(time.perf_counter() - start)
    best = {k: min(v) for k, v in seconds.items()}
    record = {
        "rows": len(train),
        "trees": 500,
        "fit_seconds": seconds,
        "ratio_with_oob": best["True"] / best["False"],
        **provenance(),
    }
    (HERE / "results" / "forest_oob.json").write_text(json.dumps(record, indent=1) + "\n")
    (HERE / "results" / "forest_oob.md").write_text(
        "# Forest fit with and without out-of-bag rows\n\n"
        f"Machine: {record['machine']['cpu_model']} ({record['machine']['cpus']} CPUs); "
        f"{record['date']}; `{record['command']}`.\n\n"
        "| fit | rows | trees | best of 2 (s) |\n|---|---|---|---|\n"
        f"| plain (the peer) | {len(train)} | 500 | {best['False']:.2f} |\n"
        f"| out_of_bag=True (what `fit --model rf` uses) | {len(train)} | 500 "
        f"| {best['True']:.2f} |\n\n"
        f"Ratio: {record['ratio_with_oob']:.2f}x the plain fit's time.\n"
    )
    print(json.dumps({k: record[k] for k in ("rows", "fit_seconds", "ratio_with_oob")}))


if __name__ == "__main__":
    main()
