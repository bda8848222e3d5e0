"""Parse every distinct formula string of every bundled dataset with matlattice and pymatgen.

Checks that the atomic fractions agree to 1e-9 and times both parsers on the same strings
(one process, one core). Writes ``bench/results/parser_agreement.json`` and ``.md``.

Run: ``.venv/bin/python bench/parser_agreement.py``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from provenance import provenance
from pymatgen.core import Composition

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.data import list_datasets
from matlattice.data.dataset import load_records
from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"


def bundled_formulas() -> tuple[list[str], dict[str, int]]:
    """Distinct formula strings over all bundled datasets, and counts per dataset."""
    seen: dict[str, None] = {}
    counts: dict[str, int] = {}
    for name in list_datasets():
        if name.startswith("crabnet:"):
            continue  # the same files as the merged families
        _, records = load_records(name)
        strings = records["formula"].astype(str).unique().tolist()
        counts[name] = len(strings)
        seen.update(dict.fromkeys(strings))
    return list(seen), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    formulas, counts = bundled_formulas()
    start = time.perf_counter()
    batch = parse_formulas(formulas, errors="report")
    ours_s = time.perf_counter() - start
    fractions = batch.fractions
    symbol_index = {s: i for i, s in enumerate(SYMBOLS)}
    worst, worst_formula, disagreements = 0.0, "", []
    start = time.perf_counter()
    theirs = [Composition(f).fractional_composition for f in formulas]
    pmg_s = time.perf_counter() - start
    for i, comp in enumerate(theirs):
        row = fractions[i]
        ours = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        ref = {symbol_index[el.symbol]: float(v) for el, v in comp.items()}
        if set(ours) != set(ref):
            disagreements.append({"formula": formulas[i], "ours": str(ours), "pymatgen": str(ref)})
            continue
        diff = max(abs(ours[z] - ref[z]) for z in ours)
        if diff > worst:
            worst, worst_formula = diff, formulas[i]
        if diff > 1e-9:
            disagreements.append({"formula": formulas[i], "max_abs_diff": diff})
    result = {
        **provenance(packages=("matlattice", "pymatgen")),
        "n_formulas": len(formulas),
        "distinct_strings_per_dataset": counts,
        "n_invalid_ours": batch.n_invalid,
        "max_abs_fraction_diff": worst,
        "worst_formula": worst_formula,
        "n_disagreements_over_1e-9": len(disagreements),
        "disagreements": disagreements[:50],
        "seconds": {"matlattice_parse_formulas": ours_s, "pymatgen_Composition": pmg_s},
        "formulas_per_s": {"matlattice": len(formulas) / ours_s, "pymatgen": len(formulas) / pmg_s},
        "speedup_vs_pymatgen": pmg_s / ours_s,
    }
    atomic_write_json(args.out / "parser_agreement.json", result)
    table = "\n".join(
        [
            "| parser | formulas/s |",
            "|---|---|",
            f"| matlattice.parse_formulas (batch) | {len(formulas) / ours_s:,.0f} |",
            f"| pymatgen Composition + fractional_composition | {len(formulas) / pmg_s:,.0f} |",
        ]
    )
    atomic_write_text(
        args.out / "parser_agreement.md",
        "\n".join(
            [
                "# Formula parsing: agreement with pymatgen and speed",
                "",
                f"- date: {result['date']}; machine: {result['machine']['platform']}, "
                f"{result['machine']['cpus']} cores; command: `{result['command']}`",
                f"- {len(formulas):,} distinct formula strings from every bundled dataset",
                f"- invalid for matlattice: {batch.n_invalid}; compositions differing by > 1e-9: "
                f"{len(disagreements)}; largest fraction difference {worst:.2e} ({worst_formula})",
                f"- speed ratio matlattice / pymatgen, same strings, same run: "
                f"{result['speedup_vs_pymatgen']:.1f}x",
                "",
                table,
                "",
            ]
        ),
    )
    print(json.dumps({k: v for k, v in result.items() if k != "disagreements"}, indent=1))


if __name__ == "__main__":
    main()
