"""``--stable`` on real formation energies (issue 23, item 3): does ranking by the predicted
distance to the known convex hull rediscover stable compositions nobody listed?

OQMD formation enthalpies (eV/atom). Every composition of 15 % of the chemical systems is
hidden (seeds 0-1). The truth: the hidden compositions within ``--within`` eV/atom of the
convex hull of *all* OQMD phases (pymatgen ``PhaseDiagram``; the stable ones a designer
should find). The designer sees the rest: the hull it ranks against is built from the
training phases only, and its formation-energy model is a forest on a seeded
``--model-rows`` of them. Arms, each N = 1000 from mined substitution:

- ``low_energy``: target ``formation_enthalpy:min`` (the lowest 30 % of known energies), no
  hull;
- ``stable``: the same with ``--stable formation_enthalpy`` (the probability of lying within
  0.1 eV/atom of the known hull joins the ranking);
- ``ion_exchange``: the peer's first N proposals.

Reports hidden stable compositions found among the N, and the share of proposals that are
hidden compositions at all. Writes ``bench/results/design_stable.json`` and ``.md``.

Run: ``.venv/bin/python bench/design_stable.py --seeds 2``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from provenance import provenance

from matlattice.runtime.files import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).parent / "results"
ENERGY = "formation_enthalpy"


def truth_keys(frame, held, within: float) -> tuple[set[str], set[str]]:
    """Keys of the hidden compositions within ``within`` eV/atom of the hull of every
    phase, and of every hidden composition."""
    from matlattice.data.parts import frame_keys
    from matlattice.design.stability import HullReference

    hull = HullReference(frame["formula"].tolist(), frame[ENERGY].to_numpy(float))
    hidden = frame[held]
    above = hidden[ENERGY].to_numpy(float) - hull.hull_energy(hidden["formula"].tolist())
    keys = frame_keys(hidden)
    return set(keys[above <= within]), set(keys)


def run(seed: int, n: int, model_rows: int, within: float) -> dict:
    from matlattice.data import load_dataset
    from matlattice.data.parts import frame_keys, hold_out_systems
    from matlattice.design import (
        Designer,
        IonExchange,
        MinedSubstitution,
        model_predictor,
        parse_target,
        rediscovery_recall,
    )
    from matlattice.design.designer import parent_order
    from matlattice.design.stability import HullReference, StabilityObjective
    from matlattice.discovery.generators import unseen
    from matlattice.models import MultiTaskForest

    frame = load_dataset("oqmd").frame[["formula", ENERGY, "composition_key"]].dropna()
    frame = frame[frame[ENERGY].abs() <= 5.0].drop_duplicates("composition_key")
    held = hold_out_systems(frame, 0.15, seed)
    start = time.perf_counter()
    stable, hidden = truth_keys(frame, held, within)
    train = frame[~held].reset_index(drop=True)
    sample = train.sample(min(model_rows, len(train)), random_state=seed)
    forest = MultiTaskForest(n_estimators=200, random_state=seed, n_jobs=1)
    forest.fit(sample["formula"].tolist(), sample[[ENERGY]])
    target = parse_target(f"{ENERGY}:min", share=0.3)
    designer = Designer(model_predictor(forest, [ENERGY]), [target])
    designer.generators = {"mined": MinedSubstitution()}
    setup = round(time.perf_counter() - start)
    out = {"seed": seed, "stable_hidden": len(stable), "hidden": len(hidden),
           "train": len(train), "setup_seconds": setup, "arms": {}}  # fmt: skip
    for arm in ("low_energy", "stable", "ion_exchange"):
        start = time.perf_counter()
        if arm == "ion_exchange":
            parents = parent_order(train, designer.resolved_targets(train))
            rng = np.random.default_rng(seed)
            proposed = unseen(IonExchange(top=1000)(parents, 5 * n, rng), set(frame_keys(train)), n)
        else:
            designer.stable = None
            if arm == "stable":
                reference = HullReference(train["formula"].tolist(), train[ENERGY].to_numpy())

                def predict(formulas):
                    mean, std = forest.predict(formulas, return_std=True)
                    return np.ravel(mean), np.ravel(std)

                designer.stable = StabilityObjective(reference, predict, 0.1)
            proposed = designer.design(train, n, seed)["formula"].tolist()
        found = rediscovery_recall(proposed, stable, ks=(100, n))
        any_hidden = rediscovery_recall(proposed, hidden, ks=(n,))[f"found@{n}"]
        out["arms"][arm] = {**found, "hidden_found": any_hidden,
                            "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
        print(seed, arm, json.dumps(out["arms"][arm]), flush=True)
    return out


def write_table(record: dict) -> None:
    runs, n = record["runs"], record["n"]
    lines = [
        "# --stable on real formation energies (issue 23)",
        "",
        f"{record['date']}, {record['machine']['cpus']} CPU cores, `{record['command']}`. "
        f"OQMD formation enthalpies, every composition of 15 % of the chemical systems "
        f"hidden; the truth: hidden compositions within {record['within']} eV/atom of the "
        f"hull of all OQMD phases ({', '.join(str(r['stable_hidden']) for r in runs)} per "
        f"seed). Energy model: a forest on {record['model_rows']:,} training compositions. "
        f"N = {n} proposals per arm; means over {len(runs)} seeds (per seed in brackets).",
        "",
        "| arm | stable found@100 | stable found@N | hidden found@N (any) | s |",
        "|---|---|---|---|---|",
    ]
    for arm in runs[0]["arms"]:
        per = [r["arms"][arm][f"found@{n}"] for r in runs]
        lines.append(
            f"| {arm} | {np.mean([r['arms'][arm]['found@100'] for r in runs]):.1f} "
            f"| {np.mean(per):.1f} {per} "
            f"| {np.mean([r['arms'][arm]['hidden_found'] for r in runs]):.1f} "
            f"| {np.mean([r['arms'][arm]['seconds'] for r in runs]):.0f} |"
        )
    atomic_write_text(RESULTS / "design_stable.md", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--model-rows", type=int, default=40000)
    parser.add_argument("--within", type=float, default=0.05)
    args = parser.parse_args()
    runs = []
    for seed in range(args.seeds):  # written after every seed: a stopped run keeps its seeds
        runs.append(run(seed, args.n, args.model_rows, args.within))
        record = {"n": args.n, "model_rows": args.model_rows, "within": args.within}
        record.update({"runs": runs, **provenance()})
        atomic_write_json(RESULTS / "design_stable.json", record)
        write_table(record)


if __name__ == "__main__":
    main()
