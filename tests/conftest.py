"""Shared fixtures. Tests that read the bundled data fetch it once (pip download, cached)."""

from __future__ import annotations

import pytest

from matlattice.data import load_dataset


@pytest.fixture(scope="session")
def aflow():
    return load_dataset("aflow")


@pytest.fixture(scope="session")
def mp():
    return load_dataset("mp")
