"""The ``matlattice`` command line: parse, call the public API, print.

``app`` is the typer application behind the ``matlattice`` console script.
"""

from matlattice.cli.app import app

__all__ = ["app"]
