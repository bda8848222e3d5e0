"""Shared fixtures. Tests that read the bundled data fetch it once (pip download, cached).

Under pytest-xdist (``make test`` runs one worker per core) each worker and the processes
it starts use one thread: two workers of two torch threads each on two cores would slow
every test many-fold.
"""

from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[_variable] = "1"

import pytest

from matlattice.data import load_dataset


@pytest.fixture(scope="session")
def aflow():
    return load_dataset("aflow")


@pytest.fixture(scope="session")
def mp():
    return load_dataset("mp")
