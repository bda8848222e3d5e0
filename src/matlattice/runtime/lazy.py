"""Public names of a package that load on first use (PEP 562), so importing the package
imports none of the heavy libraries behind them.

>>> _LAZY = {"load_dataset": "dataset"}                            # doctest: +SKIP
>>> __getattr__, __dir__ = lazy_exports(__name__, _LAZY)           # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``modules`` maps each lazy public name to
    the module that defines it, relative to the package (``"dataset"``) or absolute
    (``"matlattice.models"``). A name is imported once, then kept in the package."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> object:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        where = modules[name]
        module = import_module(where if where.startswith("matlattice.") else f"{package}.{where}")
        value = getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.get("__all__", modules))

    return __getattr__, __dir__
