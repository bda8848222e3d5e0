"""Probe: are Matbench's ``mp_e_form`` formation energies (the DFT hull of the structure stage)
on the energy scale of CHGNet's (trained on MP2020-corrected energies)?

Matbench's data predate MP's 2020 correction scheme. If they carried the legacy corrections,
converting them (minus the legacy correction, plus MP2020's, per composition) should bring
them closer to CHGNet's formation energies of the compounds' known ground states. For each
compound: Matbench's lowest value, the two corrections per atom, the converted value and
CHGNet's (prototype structures only, elemental references relaxed by CHGNet).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/probes/structure_hull_scale.py``
(about a minute). Result quoted in ``bench/results/structure.md``.
"""

from __future__ import annotations

import warnings

FORMULAS = ["Fe2O3", "NiO", "CoO", "MgO", "NaCl", "TiO2", "ZnO", "Al2O3", "FeF3", "MnO",
            "Cu2O", "GaAs", "LiF"]  # fmt: skip


def legacy_correction(formula: str) -> float:
    """pymatgen's legacy ``MaterialsProjectCompatibility`` correction, eV/atom (without the
    POTCAR check, which a composition cannot pass)."""
    from pymatgen.core import Composition
    from pymatgen.entries.compatibility import MaterialsProjectCompatibility
    from pymatgen.entries.computed_entries import ComputedEntry

    legacy = MaterialsProjectCompatibility()
    u_table = next(c for c in legacy.corrections if type(c).__name__ == "UCorrection")
    composition = Composition(formula)
    elements = {str(e) for e in composition}
    anion = "O" if "O" in elements else "F" if "F" in elements else None
    table = u_table.u_settings.get(anion, {}) if anion else {}
    hubbards = {e: table[e] for e in elements if e in table}
    entry = ComputedEntry(composition, 0.0, parameters={
        "run_type": "GGA+U" if hubbards else "GGA", "hubbards": hubbards})  # fmt: skip
    total = 0.0
    for correction in legacy.corrections:
        if type(correction).__name__ != "PotcarCorrection":
            value = correction.get_correction(entry)
            total += float(getattr(value, "nominal_value", value))
    return total / composition.num_atoms


def main() -> None:
    import argparse

    from pymatgen.core import Composition

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from matlattice.structure.corrections import mp2020_corrections
    from matlattice.structure.hull import known_phases
    from matlattice.structure.potentials import load_potential
    from matlattice.structure.predict import predict_structures

    warnings.simplefilter("ignore")
    elements = {str(e) for f in FORMULAS for e in Composition(f)}
    matbench = known_phases(elements).set_index("formula")["formation_energy_per_atom"]
    table, _ = predict_structures(FORMULAS, load_potential("chgnet", batch_size=8),
                                  n_random=0, hull="none")  # fmt: skip
    chgnet = table[table["rank"] == 1].set_index("formula")["formation_energy_per_atom"]
    print("formula  matbench  legacy  mp2020  converted  chgnet")
    for formula, mp2020 in zip(FORMULAS, mp2020_corrections(FORMULAS), strict=True):
        legacy = legacy_correction(formula)
        value = matbench[formula]
        print(f"{formula:7s} {value:+.3f} {legacy:+.3f} {mp2020:+.3f} "
              f"{value - legacy + mp2020:+.3f} {chgnet[formula]:+.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
