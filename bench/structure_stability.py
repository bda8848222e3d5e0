"""Stability screening from the composition alone (issue 24): does relaxing candidate
structures with a pretrained potential tell stable compositions from unstable ones better
than a composition-only model?

Compositions: a seeded sample of Materials Project compositions (CrabNet's ``mp_e_hull``)
with 2-3 elements and at most 8 atoms per formula unit. The truth: stable when the label
``e_hull`` <= ``--within`` eV/atom. Arms:

- ``structure``: candidate structures (prototypes + ``--n-random`` pyxtal crystals) relaxed
  by the potential; the lowest one's formation energy (elemental references relaxed the same
  way) against the hull of the *other* MP phases of its chemical system (DFT formation
  energies of Matbench's ``mp_e_form``, the composition itself left out);
- ``forest_e_hull``: a forest on Magpie statistics trained on the ``e_hull`` labels of
  ``--train-rows`` other compositions, predicting e_hull;
- ``forest_hull``: a forest trained on ``mp_e_form`` formation energies of other
  compositions, its prediction placed against the same hull as ``structure`` (the
  composition-only analogue of the physics route).

Reports F1, precision, recall, the discovery acceleration factor (precision / prevalence),
the formation-energy error against MP's own value of the composition, the cost per
composition, and every composition where the physics check disagrees with the label.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/structure_stability.py --n 60``
Writes ``bench/results/structure_stability_<potential>.json``.
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
NOBLE = {"He", "Ne", "Ar", "Kr", "Xe", "Rn"}


def sample_compositions(n: int, seed: int) -> pd.DataFrame:
    """``formula`` (reduced), ``e_hull`` of ``n`` seeded MP compositions (module docstring)."""
    from pymatgen.core import Composition

    from matlattice.data import load_dataset

    frame = load_dataset("mp").frame[["formula", "e_hull"]].dropna()
    compositions = [Composition(f) for f in frame["formula"]]
    keep = [
        2 <= len(c) <= 3 and c.num_atoms <= 8 and all(e.Z <= 83 for e in c)
        and not ({str(e) for e in c} & NOBLE) and float(c.num_atoms).is_integer()
        for c in compositions
    ]  # fmt: skip
    pool = frame[keep].assign(formula=lambda t: [Composition(f).reduced_formula
                                                 for f in t["formula"]])  # fmt: skip
    pool = pool.drop_duplicates("formula")
    return pool.sample(n, random_state=seed).reset_index(drop=True)


def scores(stable_true: np.ndarray, stable_pred: np.ndarray) -> dict:
    tp = int((stable_true & stable_pred).sum())
    fp = int((~stable_true & stable_pred).sum())
    fn = int((stable_true & ~stable_pred).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    prevalence = float(stable_true.mean())
    return {"f1": f1, "precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn,
            "accuracy": float((stable_true == stable_pred).mean()),
            "daf": precision / prevalence if prevalence else float("nan")}  # fmt: skip


def forest_arms(sample: pd.DataFrame, rows: int, seed: int, within: float) -> dict:
    """The two composition-only arms, trained on compositions outside the sample."""
    from pymatgen.core import Composition

    from matlattice.data import load_dataset
    from matlattice.models import MultiTaskForest
    from matlattice.structure.hull import hull_distances, known_phases

    asked = set(sample["formula"])
    out = {}
    started = time.perf_counter()
    mp = load_dataset("mp").frame[["formula", "e_hull"]].dropna()
    mp = mp[[Composition(f).reduced_formula not in asked for f in mp["formula"]]]
    train = mp.sample(min(rows, len(mp)), random_state=seed)
    forest = MultiTaskForest(n_estimators=200, random_state=seed, n_jobs=1)
    forest.fit(train["formula"].tolist(), train[["e_hull"]])
    predicted = np.ravel(forest.predict(sample["formula"].tolist()))
    out["forest_e_hull"] = {"e_hull": predicted.tolist(),
                            "seconds": time.perf_counter() - started}  # fmt: skip
    started = time.perf_counter()
    form = load_dataset("matbench_mp_e_form").frame[["formula", "mp_e_form"]]
    form = form[[Composition(f).reduced_formula not in asked for f in form["formula"]]]
    train = form.sample(min(rows, len(form)), random_state=seed)
    forest = MultiTaskForest(n_estimators=200, random_state=seed, n_jobs=1)
    forest.fit(train["formula"].tolist(), train[["mp_e_form"]])
    formation = np.ravel(forest.predict(sample["formula"].tolist()))
    elements = {str(e) for f in sample["formula"] for e in Composition(f)}
    distances = hull_distances(sample["formula"].tolist(), formation, known_phases(elements))
    out["forest_hull"] = {"e_hull": distances.tolist(), "formation": formation.tolist(),
                          "seconds": time.perf_counter() - started}  # fmt: skip
    return out


def structure_arm(sample: pd.DataFrame, args) -> dict:
    from matlattice.structure.potentials import load_potential
    from matlattice.structure.predict import predict_structures

    started = time.perf_counter()
    potential = load_potential(args.potential, batch_size=8)  # memory: see structure.md
    table, _ = predict_structures(
        sample["formula"].tolist(), potential, hull="dft", n_random=args.n_random,
        seed=args.seed, checkpoint=Path(args.checkpoint) / f"stability_{args.potential}",
        progress=lambda done, total: print(f"{done}/{total} relaxed "
                                           f"{time.perf_counter() - started:.0f} s", flush=True),
    )  # fmt: skip
    best = table[table["rank"] == 1].set_index("formula").loc[sample["formula"]]
    return {"e_hull": best["e_above_hull"].tolist(),
            "formation": best["formation_energy_per_atom"].tolist(),
            "spacegroup": best["spacegroup"].astype(int).tolist(),
            "converged": best["converged"].astype(bool).tolist(),
            "structures": len(table), "seconds": time.perf_counter() - started}  # fmt: skip


def main() -> None:
    from matlattice.structure.hull import known_phases

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--potential", default="chgnet")
    parser.add_argument("--n-random", type=int, default=6)
    parser.add_argument("--within", type=float, default=0.05)
    parser.add_argument("--train-rows", type=int, default=30000)
    parser.add_argument("--checkpoint", default="/tmp/matlattice_bench")
    args = parser.parse_args()
    sample = sample_compositions(args.n, args.seed)
    truth = sample["e_hull"].to_numpy() <= args.within
    arms = forest_arms(sample, args.train_rows, args.seed, args.within)
    arms["structure"] = structure_arm(sample, args)
    mp_form = known_phases({e for f in sample["formula"] for e in _elements(f)}).set_index(
        "formula")["formation_energy_per_atom"]  # fmt: skip
    label_form = sample["formula"].map(mp_form).to_numpy(float)
    for arm in arms.values():
        predicted = np.asarray(arm["e_hull"], dtype=float)
        arm["scores"] = scores(truth, np.nan_to_num(predicted, nan=np.inf) <= args.within)
        arm["seconds_per_composition"] = arm["seconds"] / len(sample)
        if "formation" in arm:
            error = np.asarray(arm["formation"], dtype=float) - label_form
            arm["formation_mae_vs_mp"] = float(np.nanmean(np.abs(error)))
            arm["formation_bias_vs_mp"] = float(np.nanmean(error))
    physics = np.nan_to_num(np.asarray(arms["structure"]["e_hull"]), nan=np.inf) <= args.within
    disagree = sample.assign(
        predicted_e_hull=arms["structure"]["e_hull"], formation=arms["structure"]["formation"],
        mp_formation=label_form, spacegroup=arms["structure"]["spacegroup"],
        converged=arms["structure"]["converged"], stable_label=truth, stable_physics=physics,
    )[truth != physics]  # fmt: skip
    record = {"n": args.n, "seed": args.seed, "potential": args.potential,
              "n_random": args.n_random, "within": args.within, "train_rows": args.train_rows,
              "prevalence": float(truth.mean()), "formulas": sample["formula"].tolist(),
              "labels": sample["e_hull"].tolist(), "arms": arms,
              "disagreements": disagree.to_dict(orient="records"), **provenance()}  # fmt: skip
    atomic_write_json(RESULTS / f"structure_stability_{args.potential}.json", record)
    for name, arm in arms.items():
        print(name, arm["scores"], round(arm["seconds_per_composition"], 2))


def _elements(formula: str) -> list[str]:
    from pymatgen.core import Composition

    return [str(e) for e in Composition(formula)]


if __name__ == "__main__":
    main()
