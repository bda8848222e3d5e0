"""What kind of run a folder holds, and reading its files with errors that name them."""

from __future__ import annotations

from pathlib import Path

from matlattice.errors import MatlatticeError
from matlattice.runtime.files import read_json

__all__ = ["KINDS", "read_run_json", "run_kind", "task_units"]

# kind -> the file that marks it, in the order they are tried (a design run also holds a
# lattice.json; a fit run's metrics.json is what sets it apart)
KINDS = {
    "design": "design.json",
    "fit": "metrics.json",
    "fidelity": "fidelity.json",
    "lattice": "lattice.json",
    "campaign": "campaign.json",
}


def run_kind(path: Path) -> str:
    """``"design" | "fit" | "fidelity" | "lattice" | "campaign"`` for a run folder,
    ``"store"`` for a campaign ``.sqlite`` file; a :class:`MatlatticeError` otherwise."""
    path = Path(path)
    if path.is_file() and path.suffix == ".sqlite":
        return "store"
    if not path.exists():
        raise MatlatticeError(f"{path} does not exist: give a run folder or a campaign .sqlite")
    if not path.is_dir():
        raise MatlatticeError(
            f"{path} is neither a run folder nor a campaign .sqlite file; give the folder "
            "a fit, fidelity, entangle, design or campaign run wrote"
        )
    for kind, marker in KINDS.items():
        if (path / marker).is_file():
            return kind
    expected = ", ".join(f"{m} ({k})" for k, m in KINDS.items())
    raise MatlatticeError(f"{path} holds no run this report knows: expected one of {expected}")


def read_run_json(run: Path, name: str) -> dict:
    """The JSON object ``run/name``; an error naming the file if missing or not an object."""
    value = read_json(Path(run) / name)
    if not isinstance(value, dict):
        raise MatlatticeError(f"{Path(run) / name} holds {type(value).__name__}, not an object")
    return value


def task_units(run: Path) -> dict[str, str]:
    """Units of the run's properties where its dataset is a registered one (else none)."""
    from matlattice.data.registry import dataset_info, list_datasets

    config_path = Path(run) / "config.json"
    if not config_path.is_file():
        return {}
    record = read_run_json(run, "config.json")
    name = (record.get("dataset") or {}).get("name") or (record.get("config") or {}).get("data")
    if not isinstance(name, str) or name not in list_datasets():
        return {}
    return {p.name: p.unit for p in dataset_info(name).properties if p.unit not in ("-", "")}
