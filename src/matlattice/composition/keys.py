"""Canonical identity keys of compositions: the same composition written two ways gets one key."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from matlattice.composition.elements import SYMBOLS
from matlattice.composition.parser import parse_formulas

__all__ = ["KEY_DECIMALS", "chemical_systems", "composition_keys", "formula_keys"]

#: Fractions are rounded to this many decimals before comparison; compositions whose
#: atomic fractions all agree to 5e-9 are the same composition.
KEY_DECIMALS = 8

_SYMBOL_ARRAY = np.array(SYMBOLS, dtype=object)


def composition_keys(fractions: sp.csr_matrix) -> np.ndarray:
    """One canonical string per row, e.g. ``"Al0.33333333 C0.16666667 Ta0.5"``.

    ``Al2C1Ta3`` and ``Al0.4C0.2Ta0.6`` give the same key. Elements appear in order of
    atomic number. Rows with no elements (invalid formulas) give ``""``.

    Parameters
    ----------
    fractions : csr_matrix of shape (n, 103)
        Atomic fractions, as returned by :func:`parse_formulas`.

    Returns
    -------
    ndarray of str (object), shape (n,)
    """
    fractions = sp.csr_matrix(fractions)
    fractions.sort_indices()
    rounded = np.round(fractions.data, KEY_DECIMALS)
    tokens = _SYMBOL_ARRAY[fractions.indices] + np.array(
        [f"{v:.{KEY_DECIMALS}f}".rstrip("0").rstrip(".") + " " for v in rounded.tolist()],
        dtype=object,
    )
    return _join_rows(tokens, fractions.indptr)


def chemical_systems(fractions: sp.csr_matrix) -> np.ndarray:
    """The chemical system of each row, elements sorted alphabetically: ``"Fe-O"``.

    Parameters
    ----------
    fractions : csr_matrix of shape (n, 103)

    Returns
    -------
    ndarray of str (object), shape (n,)
    """
    fractions = sp.csr_matrix(fractions)
    out = np.empty(fractions.shape[0], dtype=object)
    symbols = _SYMBOL_ARRAY[fractions.indices]
    indptr = fractions.indptr
    for i in range(fractions.shape[0]):
        out[i] = "-".join(sorted(symbols[indptr[i] : indptr[i + 1]]))
    return out


def _join_rows(tokens: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    out = np.empty(len(indptr) - 1, dtype=object)
    pieces = tokens.tolist()
    for i, (start, stop) in enumerate(zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True)):
        out[i] = "".join(pieces[start:stop]).rstrip()
    return out


def formula_keys(formulas: Iterable[str]) -> np.ndarray:
    """:func:`composition_keys` of formulas (parsed strictly: an invalid one raises)."""
    return composition_keys(parse_formulas(list(formulas)).fractions)
