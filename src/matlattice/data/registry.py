"""Dataset registry: what each bundled dataset is, where it comes from, its properties and units.

Every entry is frozen metadata; the loaders in :mod:`matlattice.data.readers` read the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matlattice.errors import UnknownDatasetError, UnknownPropertyError

__all__ = ["REGISTRY", "DatasetInfo", "PropertyInfo", "dataset_info", "list_datasets"]

CRABNET_CITATION = (
    "Wang, Kauwe, Murdock, Sparks. Compositionally restricted attention-based network for "
    "materials property predictions. npj Comput. Mater. 7, 77 (2021); data from CrabNet 2.0.8"
)
MATBENCH_CITATION = (
    "Dunn, Wang, Ganose, Dopp, Jain. Benchmarking materials property prediction methods: the "
    "Matbench test set and Automatminer reference algorithm. npj Comput. Mater. 6, 138 (2020)"
)
RICCI_CITATION = (
    "Ricci, Chen, Aydemir, Snyder, Rignanese, Jain, Hautier. An ab initio electronic transport "
    "database for inorganic materials. Sci. Data 4, 170085 (2017); data from matminer 0.10.1"
)


@dataclass(frozen=True)
class PropertyInfo:
    """One property (one column) of a dataset.

    Attributes
    ----------
    name : str
        Column name in the loaded frame.
    unit : str
        Physical unit (``"-"`` for dimensionless, ``"class"`` for labels).
    task : {"regression", "classification"}
    description : str
    physical : (float or None, float or None)
        Bounds outside which a value is physically impossible (e.g. a negative modulus).
    plausible : (float or None, float or None)
        Bounds outside which a value is implausible for this kind of calculation or
        measurement and is most likely a data fault.
    """

    name: str
    unit: str
    task: str = "regression"
    description: str = ""
    physical: tuple[float | None, float | None] = (None, None)
    plausible: tuple[float | None, float | None] = (None, None)
    file: str = ""  # source file or column the values come from


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of one dataset.

    Attributes
    ----------
    name : str
        Registry key (``"aflow"``, ``"crabnet:aflow__Egap"``, ``"matbench_expt_gap"``).
    kind : str
        ``"merged"`` (several single-property files merged per composition), ``"crabnet"``,
        ``"matbench"`` (composition task, official folds), ``"matbench_view"``
        (composition-only view of a structure task), ``"transport"``.
    properties : tuple of PropertyInfo
    splits : str
        How the train/test parts are defined.
    """

    name: str
    kind: str
    title: str
    source: str
    citation: str
    licence: str
    properties: tuple[PropertyInfo, ...]
    splits: str
    approx_rows: int
    notes: str = ""
    files: tuple[str, ...] = field(default=())

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.properties)

    def property(self, name: str) -> PropertyInfo:
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise UnknownPropertyError(
            f"{self.name} has no property {name!r}; it has {self.property_names}"
        )


# --- properties of the CrabNet benchmark files, keyed by file name --------------------------
_E = "eV/atom"
CRABNET_PROPERTIES: dict[str, PropertyInfo] = {
    p.file: p
    for p in (
        PropertyInfo(
            "band_gap",
            "eV",
            description="DFT band gap (OQMD)",
            physical=(0, None),
            plausible=(0, 20),
            file="OQMD_Bandgap",
        ),
        PropertyInfo(
            "energy_per_atom",
            _E,
            description="DFT total energy per atom (OQMD)",
            plausible=(-20, 5),
            file="OQMD_Energy_per_atom",
        ),
        PropertyInfo(
            "formation_enthalpy",
            _E,
            description="DFT formation enthalpy (OQMD)",
            plausible=(-6, 6),
            file="OQMD_Formation_Enthalpy",
        ),
        PropertyInfo(
            "volume_per_atom",
            "Å^3/atom",
            description="DFT volume per atom (OQMD)",
            physical=(0, None),
            plausible=(1, 200),
            file="OQMD_Volume_per_atom",
        ),
        PropertyInfo(
            "Egap",
            "eV",
            description="DFT band gap (AFLOW)",
            physical=(0, None),
            plausible=(0, 20),
            file="aflow__Egap",
        ),
        PropertyInfo(
            "energy_atom",
            _E,
            description="DFT total energy per atom (AFLOW)",
            plausible=(-20, 5),
            file="aflow__energy_atom",
        ),
        PropertyInfo(
            "bulk_modulus",
            "GPa",
            description="AEL Voigt-Reuss-Hill bulk modulus",
            physical=(0, None),
            plausible=(0, 600),
            file="aflow__ael_bulk_modulus_vrh",
        ),
        PropertyInfo(
            "shear_modulus",
            "GPa",
            description="AEL Voigt-Reuss-Hill shear modulus",
            physical=(0, None),
            plausible=(0, 600),
            file="aflow__ael_shear_modulus_vrh",
        ),
        PropertyInfo(
            "debye_temperature",
            "K",
            description="AEL Debye temperature",
            physical=(0, None),
            plausible=(0, 3000),
            file="aflow__ael_debye_temperature",
        ),
        PropertyInfo(
            "thermal_conductivity",
            "W/(m K)",
            description="AGL lattice thermal conductivity at 300 K",
            physical=(0, None),
            plausible=(0, 3000),
            file="aflow__agl_thermal_conductivity_300K",
        ),
        PropertyInfo(
            "thermal_expansion",
            "1/K",
            description="AGL volumetric thermal expansion coefficient at 300 K",
            plausible=(-1e-3, 1e-3),
            file="aflow__agl_thermal_expansion_300K",
        ),
        PropertyInfo(
            "e_hull",
            _E,
            description="DFT energy above the convex hull (MP)",
            physical=(0, None),
            plausible=(0, 10),
            file="mp_e_hull",
        ),
        PropertyInfo(
            "mu_b",
            "μB",
            description="total magnetic moment per cell (MP); its sign "
            "follows the DFT spin convention",
            plausible=(-300, 300),
            file="mp_mu_b",
        ),
        PropertyInfo(
            "bulk_modulus",
            "GPa",
            description="VRH bulk modulus (MP)",
            physical=(0, None),
            plausible=(0, 600),
            file="mp_bulk_modulus",
        ),
        PropertyInfo(
            "shear_modulus",
            "GPa",
            description="VRH shear modulus (MP)",
            physical=(0, None),
            plausible=(0, 600),
            file="mp_shear_modulus",
        ),
        PropertyInfo(
            "elastic_anisotropy",
            "-",
            description="universal elastic anisotropy index A^U (MP); A^U >= 0 by construction",
            physical=(0, None),
            plausible=(0, 100),
            file="mp_elastic_anisotropy",
        ),
        PropertyInfo(
            "Ed",
            _E,
            description="decomposition energy ΔHd (Bartel et al.)",
            plausible=(-6, 6),
            file="CritExam__Ed",
        ),
        PropertyInfo(
            "Ef",
            _E,
            description="formation energy ΔHf (Bartel et al.)",
            plausible=(-6, 6),
            file="CritExam__Ef",
        ),
    )
}

MERGED_FAMILIES: dict[str, tuple[str, ...]] = {
    "oqmd": (
        "OQMD_Bandgap",
        "OQMD_Energy_per_atom",
        "OQMD_Formation_Enthalpy",
        "OQMD_Volume_per_atom",
    ),
    "aflow": (
        "aflow__Egap",
        "aflow__energy_atom",
        "aflow__ael_bulk_modulus_vrh",
        "aflow__ael_shear_modulus_vrh",
        "aflow__ael_debye_temperature",
        "aflow__agl_thermal_conductivity_300K",
        "aflow__agl_thermal_expansion_300K",
    ),
    "mp": ("mp_e_hull", "mp_mu_b", "mp_bulk_modulus", "mp_shear_modulus", "mp_elastic_anisotropy"),
    "critexam": ("CritExam__Ed", "CritExam__Ef"),
}
_FAMILY_ROWS = {"oqmd": 341_700, "aflow": 27_700, "mp": 56_700, "critexam": 85_000}
_FAMILY_TITLES = {
    "oqmd": "OQMD DFT properties (4), merged per composition",
    "aflow": "AFLOW electronic, elastic and thermal properties (7), merged per composition",
    "mp": "Materials Project stability, magnetic and elastic properties (5), merged",
    "critexam": "Formation and decomposition energies of Bartel et al. (2), merged",
}
_FAMILY_LICENCES = {
    "oqmd": "CC-BY 4.0 (OQMD)",
    "aflow": "AFLOW terms of use (free for research)",
    "mp": "CC-BY 4.0 (Materials Project)",
    "critexam": "CC-BY 4.0 (Bartel et al., via MP)",
}
MERGED_SPLIT_TEXT = (
    "seeded random 80/10/10 split at the composition level (the CrabNet files of one family "
    "disagree on splits, so they cannot be reused); no composition is in two parts"
)

# --- Matbench -----------------------------------------------------------------------------
# (registry name, CrabNet csv, unit, task, description, physical, plausible, structure task?)
_MATBENCH = (
    (
        "matbench_expt_gap",
        "expt_gap",
        "eV",
        "regression",
        "experimental band gap",
        (0, None),
        (0, 20),
        False,
    ),
    (
        "matbench_expt_is_metal",
        "expt_is_metal",
        "class",
        "classification",
        "experimentally metallic (1) or not (0)",
        (None, None),
        (None, None),
        False,
    ),
    (
        "matbench_glass",
        "glass",
        "class",
        "classification",
        "metallic glass forming ability (1 = forms a glass, melt-spinning)",
        (None, None),
        (None, None),
        False,
    ),
    (
        "matbench_steels",
        "steels_yield",
        "MPa",
        "regression",
        "yield strength of steels",
        (0, None),
        (0, 5000),
        False,
    ),
    (
        "matbench_mp_e_form",
        "mp_e_form",
        _E,
        "regression",
        "DFT formation energy (MP)",
        (None, None),
        (-6, 6),
        True,
    ),
    (
        "matbench_mp_gap",
        "mp_gap",
        "eV",
        "regression",
        "DFT PBE band gap (MP)",
        (0, None),
        (0, 20),
        True,
    ),
    (
        "matbench_mp_is_metal",
        "mp_is_metal",
        "class",
        "classification",
        "DFT metallic (1) or not (0) (MP)",
        (None, None),
        (None, None),
        True,
    ),
    (
        "matbench_log_gvrh",
        "elasticity_log10(G_VRH)",
        "log10(GPa)",
        "regression",
        "log10 VRH shear modulus (MP)",
        (None, None),
        (-3, 3.5),
        True,
    ),
    (
        "matbench_log_kvrh",
        "elasticity_log10(K_VRH)",
        "log10(GPa)",
        "regression",
        "log10 VRH bulk modulus (MP)",
        (None, None),
        (-3, 3.5),
        True,
    ),
    (
        "matbench_dielectric",
        "dielectric",
        "-",
        "regression",
        "refractive index n (MP)",
        (1, None),
        (1, 20),
        True,
    ),
    (
        "matbench_phonons",
        "phonons",
        "cm^-1",
        "regression",
        "frequency of the last phonon DOS peak (MP)",
        (0, None),
        (0, 5000),
        True,
    ),
    (
        "matbench_jdft2d",
        "jdft2d",
        "meV/atom",
        "regression",
        "exfoliation energy (JARVIS-DFT 2D)",
        (None, None),
        (-100, 2000),
        True,
    ),
    (
        "matbench_perovskites",
        "castelli",
        "eV/unit cell",
        "regression",
        "DFT formation energy of perovskites (Castelli et al.)",
        (None, None),
        (-10, 10),
        True,
    ),
)
MATBENCH_TASKS: dict[str, str] = {name: csv for name, csv, *_ in _MATBENCH}

# --- transport (Ricci et al., via matminer) -------------------------------------------------
_TRANSPORT_DOPING = "at 300 K and 10^18 carriers/cm^3, constant relaxation time"
TRANSPORT_PROPERTIES: tuple[PropertyInfo, ...] = tuple(
    PropertyInfo(
        f"{quantity}_{carrier}",
        unit,
        description=f"{label}, {'p' if carrier == 'p' else 'n'}-type, {_TRANSPORT_DOPING}",
        physical=physical,
        file=f"{quantity}_{carrier}",
    )
    for quantity, unit, label, physical in (
        ("sigma", "1/(Ω m s)", "average eigenvalue of the electrical conductivity", (0, None)),
        ("S", "μV/K", "average eigenvalue of the Seebeck coefficient", (None, None)),
        (
            "kappa",
            "W/(K m s)",
            "average eigenvalue of the electronic thermal conductivity",
            (0, None),
        ),
        ("PF", "μW/(cm K^2 s)", "average eigenvalue of the power factor", (0, None)),
        ("m", "m_e", "average eigenvalue of the conductivity effective mass", (0, None)),
    )
    for carrier in ("p", "n")
)


def _build_registry() -> dict[str, DatasetInfo]:
    registry: dict[str, DatasetInfo] = {}
    for family, files in MERGED_FAMILIES.items():
        registry[family] = DatasetInfo(
            name=family,
            kind="merged",
            title=_FAMILY_TITLES[family],
            source="crabnet==2.0.8 wheel (crabnet/data/benchmark_data)",
            citation=CRABNET_CITATION,
            licence=_FAMILY_LICENCES[family],
            properties=tuple(CRABNET_PROPERTIES[f] for f in files),
            splits=MERGED_SPLIT_TEXT,
            approx_rows=_FAMILY_ROWS[family],
            files=files,
        )
        for file in files:
            prop = CRABNET_PROPERTIES[file]
            registry[f"crabnet:{file}"] = DatasetInfo(
                name=f"crabnet:{file}",
                kind="crabnet",
                title=f"CrabNet benchmark set {file} ({prop.description})",
                source="crabnet==2.0.8 wheel (crabnet/data/benchmark_data)",
                citation=CRABNET_CITATION,
                licence=_FAMILY_LICENCES[family],
                properties=(prop,),
                splits="official CrabNet train/val/test files; a composition in several parts "
                "is kept only in the highest of test > val > train",
                approx_rows=0,
                files=(file,),
            )
    for name, csv, unit, task, desc, physical, plausible, structure in _MATBENCH:
        target = (
            "is_metal"
            if name.endswith("is_metal")
            else ("gfa" if name == "matbench_glass" else name.removeprefix("matbench_"))
        )
        prop = PropertyInfo(
            target,
            unit,
            task=task,
            description=desc,
            physical=physical,
            plausible=plausible,
            file=csv,
        )
        registry[name] = DatasetInfo(
            name=name,
            kind="matbench_view" if structure else "matbench",
            title=f"Matbench v0.1 {name}"
            + (" (composition-only view of a structure task)" if structure else ""),
            source="crabnet==2.0.8 wheel (crabnet/data/matbench, rows in official order) + "
            "matbench==0.6 wheel (matbench_v0.1_validation.json)",
            citation=MATBENCH_CITATION,
            licence="MIT (Matbench); sources' own licences",
            properties=(prop,),
            splits=(
                "seeded 5-fold split at the composition level (the official folds are defined "
                "on structures; a composition view would leak polymorphs across them)"
                if structure
                else "official Matbench v0.1 5-fold cross-validation folds"
            ),
            approx_rows=0,
            files=(csv,),
            notes="composition-only view: polymorphs are merged per composition by the "
            "duplicate rule"
            if structure
            else "",
        )
    registry["transport"] = DatasetInfo(
        name="transport",
        kind="transport",
        title="Materials Project electronic transport (BoltzTraP), 10 properties",
        source="matminer==0.10.1 wheel (utils/data_files/mp_transport/transport_database)",
        citation=RICCI_CITATION,
        licence="CC0 1.0 (Ricci et al., Dryad)",
        properties=TRANSPORT_PROPERTIES,
        splits=MERGED_SPLIT_TEXT,
        approx_rows=34_631,
        notes="47,737 MP entries; polymorphs of one composition are merged by the duplicate "
        "rule; mp_ids are kept in the 'mp_ids' column",
    )
    return registry


REGISTRY: dict[str, DatasetInfo] = _build_registry()


def list_datasets(kind: str | None = None) -> list[str]:
    """Names of the registered datasets, optionally only those of one ``kind``."""
    return [n for n, info in REGISTRY.items() if kind is None or info.kind == kind]


def dataset_info(name: str) -> DatasetInfo:
    """Metadata of a registered dataset; :class:`UnknownDatasetError` names the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; registered: {', '.join(REGISTRY)} "
            "(or give the path of a CSV/parquet file with a 'formula' column)"
        ) from None
