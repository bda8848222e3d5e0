"""matlattice: materials representation learning, compression-fidelity and property-entanglement
diagnostics, and AI-guided discovery on real materials data.

>>> from matlattice import load_dataset, LatticeRegressor
>>> ds = load_dataset("mp", clean=True)                       # doctest: +SKIP
>>> model = LatticeRegressor("mlp", epochs=50).fit(ds.frame[["formula", "e_hull"]])  # +SKIP

Importing matlattice does no work: no directories, no network, no global settings. Every
public name but the errors loads on first use (PEP 562), so ``import matlattice`` imports
neither torch nor scikit-learn, pandas or scipy, and ``matlattice --help`` starts quickly.
"""

from typing import TYPE_CHECKING

from matlattice.errors import InvalidFormulaError, MatlatticeError
from matlattice.runtime.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from matlattice.composition import parse_formula, parse_formulas
    from matlattice.compression import fidelity_sweep
    from matlattice.data import list_datasets, load_dataset
    from matlattice.discovery import Campaign
    from matlattice.entangle import entanglement_lattice
    from matlattice.models import LatticeClassifier, LatticeRegressor, MultiTaskForest
    from matlattice.represent import ElementStatsFeaturizer

    __version__: str

# public name -> the module that defines it, imported on first access
_LAZY = {
    "parse_formula": "matlattice.composition",
    "parse_formulas": "matlattice.composition",
    "list_datasets": "matlattice.data",
    "load_dataset": "matlattice.data",
    "ElementStatsFeaturizer": "matlattice.represent",
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

_lazy_name, __dir__ = lazy_exports(__name__, _LAZY)


def __getattr__(name: str) -> object:
    if name != "__version__":
        return _lazy_name(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("matlattice")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        value = "0+unknown"
    globals()[name] = value
    return value
