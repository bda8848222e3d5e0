"""Dataset registry: what each bundled dataset is, where it comes from, its properties and units.

Every entry is frozen metadata; the loaders in :mod:`matlattice.data.readers` read the files.
The tables (citations, families of CrabNet files, Matbench tasks, transport quantities, with
their units and bounds) live in ``registry.toml`` beside this module; here they become
:class:`DatasetInfo` entries by a few rules (one ``crabnet:<file>`` entry per file of a merged
family, Matbench structure tasks as composition-only views).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources

from matlattice.errors import UnknownDatasetError, UnknownPropertyError

__all__ = [
    "CRABNET_PROPERTIES",
    "MATBENCH_TASKS",
    "MERGED_FAMILIES",
    "REGISTRY",
    "TRANSPORT_PROPERTIES",
    "DatasetInfo",
    "PropertyInfo",
    "dataset_info",
    "list_datasets",
]


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


def _bounds(table: dict) -> tuple[float | None, float | None]:
    """``{"min": 0}`` -> ``(0, None)``: an absent side is unbounded."""
    return table.get("min"), table.get("max")


def _property(name: str, row: dict, file: str) -> PropertyInfo:
    """One property from its row of ``registry.toml``."""
    return PropertyInfo(
        name,
        row["unit"],
        task=row.get("task", "regression"),
        description=row["description"],
        physical=_bounds(row.get("physical", {})),
        plausible=_bounds(row.get("plausible", {})),
        file=file,
    )


_TABLES = tomllib.loads(
    resources.files("matlattice.data").joinpath("registry.toml").read_text("utf-8")
)
_FAMILIES: dict[str, dict] = _TABLES["families"]
_MATBENCH: dict[str, dict] = _TABLES["matbench"]
_TRANSPORT: dict = _TABLES["transport"]

# properties of the CrabNet benchmark files, keyed by file name
CRABNET_PROPERTIES: dict[str, PropertyInfo] = {
    file: _property(row["name"], row, file)
    for family in _FAMILIES.values()
    for file, row in family["files"].items()
}
# merged family -> its CrabNet files, one property each
MERGED_FAMILIES: dict[str, tuple[str, ...]] = {
    name: tuple(family["files"]) for name, family in _FAMILIES.items()
}
# Matbench registry name -> the CrabNet csv holding its rows
MATBENCH_TASKS: dict[str, str] = {name: row["csv"] for name, row in _MATBENCH.items()}
# each transport quantity for p- and n-type carriers
TRANSPORT_PROPERTIES: tuple[PropertyInfo, ...] = tuple(
    _property(
        f"{quantity}_{carrier}",
        {**row, "description": f"{row['label']}, {carrier}-type, {_TRANSPORT['doping']}"},
        f"{quantity}_{carrier}",
    )
    for quantity, row in _TRANSPORT["quantities"].items()
    for carrier in ("p", "n")
)


def _merged_entries(family: str, table: dict) -> dict[str, DatasetInfo]:
    """A merged family and one ``crabnet:<file>`` entry per file of it."""
    files = MERGED_FAMILIES[family]
    entries = {
        family: DatasetInfo(
            name=family,
            kind="merged",
            title=table["title"],
            source=_TABLES["sources"]["crabnet"],
            citation=_TABLES["citations"]["crabnet"],
            licence=table["licence"],
            properties=tuple(CRABNET_PROPERTIES[f] for f in files),
            splits=_TABLES["splits"]["merged"],
            approx_rows=table["approx_rows"],
            files=files,
        )
    }
    for file in files:
        prop = CRABNET_PROPERTIES[file]
        entries[f"crabnet:{file}"] = DatasetInfo(
            name=f"crabnet:{file}",
            kind="crabnet",
            title=f"CrabNet benchmark set {file} ({prop.description})",
            source=_TABLES["sources"]["crabnet"],
            citation=_TABLES["citations"]["crabnet"],
            licence=table["licence"],
            properties=(prop,),
            splits=_TABLES["splits"]["crabnet"],
            approx_rows=0,
            files=(file,),
        )
    return entries


def _matbench_entry(name: str, row: dict) -> DatasetInfo:
    """A Matbench composition task, or the composition-only view of a structure task."""
    view = row.get("structure_task", False)
    kind = "matbench_view" if view else "matbench"
    return DatasetInfo(
        name=name,
        kind=kind,
        title=f"Matbench v0.1 {name}"
        + (" (composition-only view of a structure task)" if view else ""),
        source=_TABLES["sources"]["matbench"],
        citation=_TABLES["citations"]["matbench"],
        licence="MIT (Matbench); sources' own licences",
        properties=(_property(row["target"], row, row["csv"]),),
        splits=_TABLES["splits"][kind],
        approx_rows=0,
        files=(row["csv"],),
        notes=_TABLES["notes"]["matbench_view"] if view else "",
    )


def _transport_entry() -> DatasetInfo:
    return DatasetInfo(
        name="transport",
        kind="transport",
        title=_TRANSPORT["title"],
        source=_TABLES["sources"]["transport"],
        citation=_TABLES["citations"]["ricci"],
        licence=_TRANSPORT["licence"],
        properties=TRANSPORT_PROPERTIES,
        splits=_TABLES["splits"]["merged"],
        approx_rows=_TRANSPORT["approx_rows"],
        notes=_TRANSPORT["notes"],
    )


def _build_registry() -> dict[str, DatasetInfo]:
    registry: dict[str, DatasetInfo] = {}
    for family, table in _FAMILIES.items():
        registry.update(_merged_entries(family, table))
    for name, row in _MATBENCH.items():
        registry[name] = _matbench_entry(name, row)
    registry["transport"] = _transport_entry()
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
