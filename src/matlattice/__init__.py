"""matlattice: materials representation learning, compression-fidelity and property-entanglement
diagnostics, and AI-guided discovery on real materials data.

Importing matlattice does no work: no directories, no network, no global settings.
"""

from importlib.metadata import PackageNotFoundError, version

from matlattice.composition import InvalidFormulaError, parse_formula, parse_formulas
from matlattice.data import list_datasets, load_dataset
from matlattice.represent import ElementStatsFeaturizer

try:
    __version__ = version("matlattice")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "ElementStatsFeaturizer",
    "InvalidFormulaError",
    "__version__",
    "list_datasets",
    "load_dataset",
    "parse_formula",
    "parse_formulas",
]
