"""What a command imports before it does any work: the import-cost fixes of issue 20, item 7.

``import matlattice`` and the dataset registry (``matlattice --help``, ``matlattice data
list``) import neither pandas nor scikit-learn; reading an element table and computing its
statistics (``matlattice featurize``) imports neither scikit-learn nor elementembeddings.core
with its umap/numba (about 1 s per process, ~16 s with an empty numba cache).
"""

import subprocess
import sys

import pytest

HEAVY = ("pandas", "sklearn", "torch", "elementembeddings.core", "umap", "numba")


def _imported_after(code: str) -> set[str]:
    probe = f"import sys; {code}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    ("code", "allowed"),
    [
        ("import matlattice", set()),
        ("from matlattice.data import REGISTRY, list_datasets; list_datasets()", set()),
        (
            "from matlattice.represent import element_table_stats, load_element_table; "
            "element_table_stats(['NaCl'], load_element_table('magpie'))",
            {"pandas"},
        ),
        ("from matlattice.data.splits import group_split", {"pandas"}),
    ],
)
def test_light_paths_stay_light(code, allowed):
    assert _imported_after(code) <= allowed
