"""Relaxation speed (issue 24): many structures per model call against one at a time.

The same candidate structures (prototypes and pyxtal random crystals of a few common
compositions, seeded) are relaxed to ``--fmax`` within ``--steps`` in three ways, on one
process with ``OMP_NUM_THREADS`` threads:

- ``batched``: :func:`matlattice.structure.relax.relax_batch` with every structure in one
  batch (the potential is called once per step for all structures not yet converged);
- ``one_at_a_time``: the same function called for each structure alone (``batch_size=1``);
- ``peer``: the potential's own one-at-a-time route, ASE's FIRE on a
  ``FrechetCellFilter`` through the package's calculator (CHGNet's ``StructOptimizer``;
  SevenNet's ``SevenNetCalculator``), as its users run it.

A structure whose cell turns non-finite under the peer route (ASE does not stop it) counts
with no energy. Reports relaxations per minute, force calls (structure-steps) per second,
how many converged, and the largest difference of final energy per atom between routes
(they should agree: FIRE on the same coordinates).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/structure_speed.py --potential chgnet``
Writes ``bench/results/structure_speed_<potential>.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from provenance import provenance

from matlattice.runtime.files import atomic_write_json

RESULTS = Path(__file__).parent / "results"
FORMULAS = ("NaCl", "GaAs", "TiO2", "ZnO", "MgAl2O4", "SrTiO3", "CuO", "Fe2O3")


def structures(n: int, seed: int) -> list:
    """The first ``n`` candidates over ``FORMULAS``, taken in turn (seeded)."""
    from matlattice.structure.candidates import candidate_structures

    pools = [candidate_structures(f, 4, max_atoms=20, seed=seed) for f in FORMULAS]
    picked = []
    for depth in range(max(map(len, pools))):
        picked += [pool[depth].structure for pool in pools if depth < len(pool)]
    return picked[:n]


def ours(batch: list, potential, fmax: float, steps: int) -> list[tuple]:
    """(energy per atom, steps, converged) per structure, our relaxation."""
    from matlattice.structure.relax import relax_batch

    if potential.batch_size == 1:
        relaxed = [relax_batch([s], potential, fmax=fmax, steps=steps)[0] for s in batch]
    else:
        relaxed = relax_batch(batch, potential, fmax=fmax, steps=steps)
    return [(r.energy, r.steps, r.converged) for r in relaxed]


def calculator_of(name: str):
    """The package's own ASE calculator."""
    if name == "chgnet":
        from chgnet.model import CHGNetCalculator

        return CHGNetCalculator(use_device="cpu")
    from sevenn.calculator import SevenNetCalculator

    return SevenNetCalculator("7net-0", device="cpu")


def peer(batch: list, calculator, fmax: float, steps: int) -> list[tuple]:
    """(energy per atom, steps, converged) per structure, the package's own ASE route."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE
    from pymatgen.io.ase import AseAtomsAdaptor

    out = []
    for structure in batch:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.calc = calculator
        optimizer = FIRE(FrechetCellFilter(atoms), logfile=None)
        try:
            converged = bool(optimizer.run(fmax=fmax, steps=steps))
        except ValueError:  # the cell went non-finite (ASE does not stop it): no energy
            out.append((float("nan"), optimizer.nsteps, False))
            continue
        out.append((atoms.get_potential_energy() / len(atoms), optimizer.nsteps, converged))
    return out


def timed(route, *args) -> dict:
    started = time.perf_counter()
    rows = route(*args)
    seconds = time.perf_counter() - started
    energies, steps, converged = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    return {"seconds": seconds, "relaxations_per_minute": 60 * len(rows) / seconds,
            "force_calls": int(steps.sum() + len(rows)),
            "force_calls_per_second": float((steps.sum() + len(rows)) / seconds),
            "converged": int(converged.sum()), "energies": energies.tolist()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--potential", default="chgnet", choices=["chgnet", "sevennet"])
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--fmax", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from matlattice.structure.potentials import load_potential

    batch = structures(args.n, args.seed)
    prepared = {"batched": (ours, load_potential(args.potential, batch_size=len(batch))),
                "one_at_a_time": (ours, load_potential(args.potential, batch_size=1)),
                "peer": (peer, calculator_of(args.potential))}  # fmt: skip
    for route, model in prepared.values():  # load weights and warm up outside the clock
        route(batch[:1], model, args.fmax, 1)
    routes = {name: timed(route, batch, model, args.fmax, args.steps)
              for name, (route, model) in prepared.items()}  # fmt: skip
    reference = np.array(routes["batched"]["energies"])
    for route in routes.values():
        gap = np.abs(np.array(route["energies"]) - reference)
        route["largest_energy_gap_vs_batched"] = float(np.nanmax(gap))
        print({k: v for k, v in route.items() if k != "energies"}, flush=True)
    speedup = {name: routes["batched"]["relaxations_per_minute"] / route["relaxations_per_minute"]
               for name, route in routes.items() if name != "batched"}  # fmt: skip
    record = {"potential": args.potential, "n": len(batch), "fmax": args.fmax,
              "steps": args.steps, "seed": args.seed, "formulas": FORMULAS,
              "atoms": [len(s) for s in batch], "routes": routes,
              "batched_speedup": speedup, **provenance()}  # fmt: skip
    atomic_write_json(RESULTS / f"structure_speed_{args.potential}.json", record)
    print("batched speed-up:", speedup)


if __name__ == "__main__":
    main()
