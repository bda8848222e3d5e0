"""Featurise formulas with matminer's ``ElementProperty.from_preset("magpie")`` and time it.

Runs in the matminer peer venv (``bash bench/peers/setup_matminer.sh``), not in matlattice's::

    bench/.peers/matminer/bin/python bench/peers/matminer_featurize.py \\
        --formulas formulas.json --features out.npy --timing timing.json [--table table.json]

``--formulas`` is a JSON list of strings or a CSV with a ``formula`` column. ``--features``
ending in ``.npy`` gets a float64 array (n, 132); ending in ``.csv`` gets a ``formula`` column
plus matminer's 132 feature columns (matminer's own labels). The timed section is the whole
featurisation: ``pymatgen.core.Composition`` parsing of every formula plus
``featurize_many`` (single process, ``set_n_jobs(1)``), repeated ``--repeats`` times.
Featuriser construction (reading the Magpie ``.table`` files) is timed separately as setup.
``--table`` also dumps matminer's element values for Z = 1..118 (imputed and raw) so that the
caller can diagnose differences against another Magpie table; with ``--table`` alone (no
``--formulas``) only that dump is written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

FIRST_Z, LAST_Z = 1, 118  # pymatgen's elements; matminer imputes over these


def read_formulas(path: Path) -> list[str]:
    """Formulas from a JSON list of strings or a CSV file with a ``formula`` column."""
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        if not isinstance(data, list) or not all(isinstance(f, str) for f in data):
            raise SystemExit(f"{path}: expected a JSON list of formula strings")
        return data
    frame = pd.read_csv(path, keep_default_na=False)
    if "formula" not in frame.columns:
        raise SystemExit(f"{path}: CSV needs a 'formula' column, has {list(frame.columns)}")
    return frame["formula"].astype(str).tolist()


def featurize_once(featurizer: object, formulas: list[str]) -> tuple[np.ndarray, float, float]:
    """One timed pass: parse with pymatgen, featurise. Returns (features, parse_s, feat_s)."""
    from pymatgen.core import Composition

    t0 = time.perf_counter()
    compositions = [Composition(f) for f in formulas]
    t1 = time.perf_counter()
    rows = featurizer.featurize_many(compositions, ignore_errors=False, pbar=False)
    t2 = time.perf_counter()
    return np.asarray(rows, dtype=np.float64), t1 - t0, t2 - t1


def element_values(featurizer: object) -> dict[str, dict[str, list[float | None]]]:
    """Matminer's per-element values ``{property: {symbol: [imputed, raw]}}`` for Z = 1..118.

    ``raw`` is the ``.table`` file's value (``None`` where it says ``Missing`` or has no line),
    ``imputed`` the value that ``ElementProperty.from_preset("magpie")`` actually uses.
    """
    from matminer.utils.data import MagpieData
    from pymatgen.core import Element

    raw = MagpieData(impute_nan=False)
    imputed = featurizer.data_source

    def clean(value: float) -> float | None:
        return None if np.isnan(value) else float(value)

    out: dict[str, dict[str, list[float | None]]] = {}
    for prop in featurizer.features:
        out[prop] = {}
        for z in range(FIRST_Z, LAST_Z + 1):
            element = Element.from_Z(z)
            out[prop][element.symbol] = [
                clean(imputed.get_elemental_property(element, prop)),
                clean(raw.get_elemental_property(element, prop)),
            ]
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formulas", type=Path, help="JSON list or CSV")
    parser.add_argument("--features", type=Path, help="output .npy or .csv")
    parser.add_argument("--timing", type=Path, help="output timing JSON")
    parser.add_argument("--table", type=Path, help="optional output: element values JSON")
    parser.add_argument("--repeats", type=int, default=1, help="timed passes (default 1)")
    args = parser.parse_args(argv)
    table_only = args.formulas is None and args.table is not None
    if not table_only and None in (args.formulas, args.features, args.timing):
        parser.error("--formulas, --features and --timing are needed (or --table alone)")
    if not table_only and args.features.suffix not in (".npy", ".csv"):
        parser.error("--features must end in .npy or .csv")

    t_import = time.perf_counter()
    from matminer.featurizers.composition import ElementProperty

    import_s = time.perf_counter() - t_import
    t_setup = time.perf_counter()
    featurizer = ElementProperty.from_preset("magpie")
    featurizer.set_n_jobs(1)
    setup_s = time.perf_counter() - t_setup
    if args.table is not None:
        args.table.parent.mkdir(parents=True, exist_ok=True)
        args.table.write_text(json.dumps(element_values(featurizer)))
    if table_only:
        return 0
    formulas = read_formulas(args.formulas)
    labels = featurizer.feature_labels()

    totals: list[float] = []
    parses: list[float] = []
    features = np.empty((0, len(labels)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen/matminer chatter must not cost time
        for _ in range(max(1, args.repeats)):
            features, parse_s, feat_s = featurize_once(featurizer, formulas)
            parses.append(parse_s)
            totals.append(parse_s + feat_s)

    args.features.parent.mkdir(parents=True, exist_ok=True)
    if args.features.suffix == ".npy":
        np.save(args.features, features)
    else:
        frame = pd.DataFrame(features, columns=labels)
        frame.insert(0, "formula", formulas)
        frame.to_csv(args.features, index=False)

    timing = {
        "n_formulas": len(formulas),
        "repeats": len(totals),
        "total_s": totals,
        "parse_s": parses,
        "best_s": min(totals),
        "median_s": statistics.median(totals),
        "formulas_per_s_best": len(formulas) / min(totals),
        "formulas_per_s_median": len(formulas) / statistics.median(totals),
        "setup_s": setup_s,
        "import_s": import_s,
        "feature_labels": labels,
        "n_jobs": featurizer.n_jobs,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "thread_env": {
            k: os.environ.get(k)
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
        "versions": {
            name: version(name)
            for name in ("matminer", "pymatgen", "pymatgen-core", "numpy", "pandas", "scipy")
        },
    }
    args.timing.parent.mkdir(parents=True, exist_ok=True)
    args.timing.write_text(json.dumps(timing, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
