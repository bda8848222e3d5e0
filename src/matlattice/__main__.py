"""``python -m matlattice``: the same command line as ``matlattice``."""

from matlattice.cli import app

if __name__ == "__main__":
    app()
