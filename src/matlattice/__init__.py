"""matlattice: materials representation learning, compression-fidelity and property-entanglement
diagnostics, and AI-guided discovery on real materials data.

>>> from matlattice import load_dataset, LatticeRegressor
>>> ds = load_dataset("mp", clean=True)                       # doctest: +SKIP
>>> model = LatticeRegressor("mlp", epochs=50).fit(ds.frame[["formula", "e_hull"]])  # +SKIP

Importing matlattice does no work: no directories, no network, no global settings. The
estimators, the campaign engine and the diagnostics load on first use, so ``import
matlattice`` does not import torch.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from matlattice.composition import InvalidFormulaError, parse_formula, parse_formulas
from matlattice.data import list_datasets, load_dataset
from matlattice.errors import MatlatticeError
from matlattice.represent import ElementStatsFeaturizer

try:
    __version__ = version("matlattice")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# public name -> the module that defines it, imported on first access (PEP 562)
_LAZY = {
    "LatticeRegressor": "matlattice.models",
    "LatticeClassifier": "matlattice.models",
    "MultiTaskForest": "matlattice.models",
    "Campaign": "matlattice.discovery",
    "fidelity_sweep": "matlattice.compression",
    "entanglement_lattice": "matlattice.entangle",
}

__all__ = [
    "Campaign",
    "ElementStatsFeaturizer",
    "InvalidFormulaError",
    "LatticeClassifier",
    "LatticeRegressor",
    "MatlatticeError",
    "MultiTaskForest",
    "__version__",
    "entanglement_lattice",
    "fidelity_sweep",
    "list_datasets",
    "load_dataset",
    "parse_formula",
    "parse_formulas",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matlattice' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
