"""The package's shape: import direction, no import cycles, short modules and functions,
and import-time behaviour."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).parents[1] / "src" / "matlattice"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 100
# What is still too long, with its length today: the list may only shrink.
LONG_FUNCTIONS: dict[str, int] = {}
LONG_MODULES: dict[str, int] = {}
KNOWN_CYCLES: list[list[str]] = []


def _modules() -> dict[str, Path]:
    modules = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Modules of matlattice that ``module`` imports anywhere (top level, functions,
    ``TYPE_CHECKING`` blocks)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*stem, base] if base else stem)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        found |= {name for name in names if name in known and name != module}
    return found


def import_graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        graph.add_edges_from((module, target) for target in _imported(module, path, modules))
    return graph


def test_imports_point_down_the_pipeline():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint)], capture_output=True, text=True, cwd=Path(__file__).parents[1], check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycle():
    cycles = [
        c for c in nx.simple_cycles(import_graph()) if sorted(c) not in map(sorted, KNOWN_CYCLES)
    ]
    assert cycles == [], f"import cycles: {cycles}"


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path):
    graph = import_graph()
    graph.add_edge("matlattice.composition.parser", "matlattice.cli.app")
    assert any("matlattice.cli.app" in cycle for cycle in nx.simple_cycles(graph))


def _function_lengths() -> dict[str, int]:
    lengths = {}
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lengths[f"{module}.{node.name}"] = node.end_lineno - node.lineno + 1
    return lengths


def test_functions_are_short():
    long = {n: k for n, k in _function_lengths().items() if k > MAX_FUNCTION_LINES}
    grown = {n: k for n, k in long.items() if k > LONG_FUNCTIONS.get(n, MAX_FUNCTION_LINES)}
    assert grown == {}, f"functions over {MAX_FUNCTION_LINES} lines: {grown}"
    stale = set(LONG_FUNCTIONS) - set(long)
    assert not stale, f"now short, remove from LONG_FUNCTIONS: {stale}"


def test_modules_are_short():
    lines = {m: len(p.read_text().splitlines()) for m, p in _modules().items()}
    long = {m: k for m, k in lines.items() if k > MAX_MODULE_LINES}
    grown = {m: k for m, k in long.items() if k > LONG_MODULES.get(m, MAX_MODULE_LINES)}
    assert grown == {}, f"modules over {MAX_MODULE_LINES} lines: {grown}"
    stale = set(LONG_MODULES) - set(long)
    assert not stale, f"now short, remove from LONG_MODULES: {stale}"


@pytest.mark.parametrize(
    "name",
    [
        "load_dataset",
        "LatticeRegressor",
        "LatticeClassifier",
        "Campaign",
        "fidelity_sweep",
        "entanglement_lattice",
        "parse_formula",
        "ElementStatsFeaturizer",
    ],
)
def test_public_api(name):
    import matlattice

    assert getattr(matlattice, name).__name__ == name
    assert name in matlattice.__all__


def test_import_does_no_work(tmp_path):
    env = {**os.environ, "MATLATTICE_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    code = (
        "import sys, matlattice, matlattice.cli, matlattice.jobs.fit; "
        "print('ok', 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.stdout.strip().startswith("ok"), result.stderr
    assert not (tmp_path / "cache").exists()
    assert not list(tmp_path.iterdir())


def test_import_matlattice_is_light():
    """The public names load on first use: ``import matlattice`` does not import torch."""
    code = "import sys, matlattice; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
