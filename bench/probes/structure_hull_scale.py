import warnings; warnings.simplefilter("ignore")
from pymatgen.entries.compatibility import MaterialsProjectCompatibility
from pymatgen.entries.computed_entries import ComputedEntry
from pymatgen.core import Composition
from matlattice.structure.corrections import mp2020_corrections, _compatibility
from matlattice.structure.hull import known_phases
from matlattice.structure.potentials import load_potential
from matlattice.structure.predict import predict_structures
legacy = MaterialsProjectCompatibility(check_potcar_hash=False) if 'check_potcar_hash' in MaterialsProjectCompatibility.__init__.__code__.co_varnames else MaterialsProjectCompatibility()
ucorr = [c for c in legacy.corrections if type(c).__name__ == "UCorrection"][0]
def legacy_corr(f):
    c = Composition(f); el = {str(e) for e in c}
    anion = "O" if "O" in el else "F" if "F" in el else None
    table = ucorr.u_settings.get(anion, {}) if anion else {}
    hub = {e: table[e] for e in el if e in table}
    e = ComputedEntry(c, 0.0, parameters={"run_type": "GGA+U" if hub else "GGA", "hubbards": hub, "potcar_spec": []})
    total = 0.0
    for corr in legacy.corrections:
        if type(corr).__name__ == "PotcarCorrection": continue
        v = corr.get_correction(e); total += float(getattr(v, "nominal_value", v))
    return total / c.num_atoms
forms = ["Fe2O3", "NiO", "CoO", "MgO", "NaCl", "TiO2", "ZnO", "Al2O3", "FeF3", "MnO", "Cu2O", "GaAs", "LiF"]
kp = known_phases({str(e) for f in forms for e in Composition(f)}).set_index("formula")["formation_energy_per_atom"]
c20 = mp2020_corrections(forms)
pot = load_potential("chgnet", batch_size=8)
table, _ = predict_structures(forms, pot, n_random=0, hull="none")
best = table[table["rank"] == 1].set_index("formula")["formation_energy_per_atom"]
for f, c in zip(forms, c20):
    cl = legacy_corr(f)
    mp = kp.get(f)
    print(f"{f:7s} matbench {mp:+.3f} legacy {cl:+.3f} mp2020 {c:+.3f} -> converted {mp - cl + c:+.3f}  chgnet {best.get(f, float('nan')):+.3f}")
