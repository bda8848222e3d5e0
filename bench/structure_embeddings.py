"""Do structure embeddings help property prediction from the composition alone? (issue 24)

For a seeded sample of AFLOW compositions with a label (2-3 elements, at most 8 atoms per
formula unit), the structure stage finds each composition's lowest relaxed structure with
CHGNet (prototypes + ``--n-random`` pyxtal crystals) and CHGNet's crystal feature of it (64
numbers per atom, :mod:`matlattice.structure.embeddings`). A random forest is scored by
repeated 5-fold cross-validation on the same compositions and folds with three inputs:

- ``composition``: Magpie statistics of the formula (the composition-only baseline);
- ``structure``: the crystal feature alone;
- ``fused``: both side by side;
- ``composition+geometry``: the composition with two numbers of the relaxed structure,
  volume per atom and density (what the crystal feature may hide among 64 others).

Reports MAE per input and, for each input beside the composition, the paired difference
input - composition over the repeats (mean and 2.5-97.5 % range), per target.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/structure_embeddings.py --n 60``
Writes ``bench/results/structure_embeddings.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from provenance import provenance

from matlattice.runtime.files import atomic_write_json

RESULTS = Path(__file__).parent / "results"
TARGETS = ("bulk_modulus", "shear_modulus")


def sample(n: int, seed: int) -> pd.DataFrame:
    from pymatgen.core import Composition

    from matlattice.data import load_dataset
    from matlattice.structure.candidates import crystal_refusal

    frame = load_dataset("aflow").frame.dropna(subset=list(TARGETS))
    frame = frame.groupby("composition_key", as_index=False).first()
    frame = frame.sample(frac=1.0, random_state=seed)
    keep = []
    for formula in frame["formula"]:
        composition = Composition(formula)
        keep.append(2 <= len(composition) <= 3 and not crystal_refusal(formula, 8))
    return frame[keep].head(n).reset_index(drop=True)


def scores(x: np.ndarray, y: np.ndarray, repeats: int, seed: int) -> np.ndarray:
    """MAE of each repeat of 5-fold CV (folds seeded by repeat)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import KFold, cross_val_predict

    out = []
    for repeat in range(repeats):
        folds = KFold(5, shuffle=True, random_state=seed + repeat)
        forest = RandomForestRegressor(300, random_state=seed + repeat, n_jobs=1)
        out.append(np.abs(cross_val_predict(forest, x, y, cv=folds) - y).mean())
    return np.array(out)


def _paired(difference: np.ndarray) -> dict:
    """Mean, 2.5-97.5 % range over the repeats, and in how many repeats it was lower."""
    return {"mean": float(difference.mean()), "better_in": int((difference < 0).sum()),
            "range_2_5_97_5": [float(np.percentile(difference, 2.5)),
                               float(np.percentile(difference, 97.5))]}  # fmt: skip


def main() -> None:
    from matlattice.represent import ElementStatsFeaturizer
    from matlattice.structure.embeddings import composition_structure_features
    from matlattice.structure.potentials import load_potential

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--n-random", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default="/tmp/matlattice_bench/embeddings")
    args = parser.parse_args()
    data = sample(args.n, args.seed)
    started = time.perf_counter()
    crystal, structures = composition_structure_features(
        data["formula"].tolist(), load_potential("chgnet", batch_size=8),
        n_random=args.n_random, seed=args.seed, max_atoms=24, checkpoint=Path(args.checkpoint),
        progress=lambda done, total: print(f"{done}/{total} relaxed", flush=True),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    found = ~np.isnan(crystal).any(axis=1)
    composition = ElementStatsFeaturizer().fit_transform(data["formula"].tolist())
    geometry = np.array([[s.volume / len(s), s.density] if s is not None else [np.nan] * 2
                         for s in structures])  # fmt: skip
    inputs = {"composition": composition[found], "structure": crystal[found],
              "fused": np.hstack([composition, crystal])[found],
              "composition+geometry": np.hstack([composition, geometry])[found]}  # fmt: skip
    record = {"n": int(found.sum()), "asked": args.n, "n_random": args.n_random,
              "repeats": args.repeats, "seed": args.seed, "structure_seconds": seconds,
              "formulas": data["formula"][found].tolist(), "targets": {}}  # fmt: skip
    for target in TARGETS:
        y = data[target].to_numpy(float)[found]
        maes = {name: scores(x, y, args.repeats, args.seed) for name, x in inputs.items()}
        record["targets"][target] = {
            "mae": {k: float(v.mean()) for k, v in maes.items()}, "label_std": float(y.std()),
            "minus_composition": {k: _paired(maes[k] - maes["composition"])
                                  for k in inputs if k != "composition"},
        }  # fmt: skip
        print(target, record["targets"][target], flush=True)
    atomic_write_json(RESULTS / "structure_embeddings.json", {**record, **provenance()})


if __name__ == "__main__":
    main()
