"""Probe: which elements carry the gap between the structure stage's formation energies and
Materials Project's? (issue 24, the elemental-reference question)

Elemental references are searched with at most 8 atoms per cell, so elements whose ground
state is larger (alpha-B, alpha-Mn, S8 rings) get a reference too high in energy and make
every formation energy of their systems too negative. Reads the stability benchmark's record
(``bench/results/structure_stability_<potential>.json``), takes each composition's
computed formation energy minus MP's (``matbench_mp_e_form``, lowest per composition) and
fits per-element offsets by ridge regression on atomic fractions (error ~ sum_e x_e b_e),
leaving out compositions off by more than ``--outlier`` eV/atom (MP lists a hypothetical
structure far above what the search relaxes: another question, structure.md). Reports the
offsets of elements in at least ``--min-count`` compositions, with their mean error.

Run: ``.venv/bin/python bench/probes/formation_bias_by_element.py`` (seconds). Result quoted
in ``bench/results/structure.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parents[1] / "results"


def main() -> None:
    from pymatgen.core import Composition
    from sklearn.linear_model import Ridge

    from matlattice.structure.hull import known_phases

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--potential", default="chgnet")
    parser.add_argument("--alpha", type=float, default=0.05, help="ridge strength")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--outlier", type=float, default=0.5)
    parser.add_argument("--min-count", type=int, default=3)
    args = parser.parse_args()
    record = json.loads((RESULTS / f"structure_stability_{args.potential}.json").read_text())
    formulas = record["formulas"]
    computed = np.asarray(record["arms"]["structure"]["formation"], dtype=float)
    fractions = [Composition(f).fractional_composition.as_dict() for f in formulas]
    elements = sorted({e for x in fractions for e in x})
    mp = known_phases(set(elements)).set_index("formula")["formation_energy_per_atom"]
    error = computed - np.array([mp.get(f, np.nan) for f in formulas])
    keep = np.isfinite(error) & (np.abs(np.nan_to_num(error)) <= args.outlier)
    x = np.array([[row.get(e, 0.0) for e in elements] for row in fractions])[keep]
    ridge = Ridge(alpha=args.alpha, fit_intercept=False).fit(x, error[keep])
    print(f"{keep.sum()} of {len(formulas)} compositions with both energies within "
          f"{args.outlier} eV/atom; mean error {error[keep].mean():+.3f} eV/atom")  # fmt: skip
    rows = []
    for j, element in enumerate(elements):
        has = x[:, j] > 0
        if has.sum() < args.min_count:
            continue
        rows.append((ridge.coef_[j], element, int(has.sum()), float(error[keep][has].mean())))
    print("element  offset  compositions  mean error of its compositions (eV/atom)")
    for offset, element, count, mean in sorted(rows)[: args.top]:
        print(f"{element:7s} {offset:+.3f} {count:5d} {mean:+.3f}")


if __name__ == "__main__":
    main()
