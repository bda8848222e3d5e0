"""Vectorised chemical-formula parser: formula strings -> sparse atomic-fraction matrix.

The whole batch is tokenised at once as one byte array (NumPy), so a million formulas cost
a handful of array passes instead of a million Python calls. The grammar:

- element symbols ``[A-Z][a-z]{0,2}`` from H (Z=1) to Lr (Z=103);
- amounts: decimal numbers ``12``, ``0.5``, ``.5``, ``2.``; an element without one counts 1;
- groups in ``()``, ``[]`` or ``{}``, nested to any depth, each followed by an optional amount;
- hydrate separators ``·``, ``•`` or ``*``: ``CuSO4·5H2O`` is read as ``CuSO4(H2O)5``;
- whitespace between tokens is ignored (``Fe2 O3``).

A ``.`` is always a decimal point (as in pymatgen): write hydrates with ``·`` or ``*``.
Amounts of exactly 0 are allowed and contribute nothing; the total must be positive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matlattice.composition.elements import SYMBOLS
from matlattice.composition.tokens import (
    F_EMPTY_HYDRATE,
    F_MISSING,
    F_NEWLINE,
    F_NOT_STR,
    fault_message,
    parse_texts,
)
from matlattice.errors import InvalidFormulaError, InvalidParameterError

__all__ = ["FormulaBatch", "parse_formula", "parse_formulas"]

_HYDRATE_MARKS = "·•*"
_HYDRATE_SPLIT = re.compile(r"\s*[·•*]\s*")
_HYDRATE_COEFF = re.compile(r"^(\d+\.?\d*|\.\d+)?(.*)$", re.S)


@dataclass(frozen=True)
class FormulaBatch:
    """Result of parsing a batch of formulas.

    Attributes
    ----------
    fractions : scipy.sparse.csr_matrix of shape (n_formulas, 103)
        Atomic fractions; column ``Z - 1`` holds element Z. Each valid row sums to 1;
        invalid rows are all zero.
    valid : ndarray of bool, shape (n_formulas,)
        Whether each formula parsed.
    faults : tuple of (row, formula, fault)
        One entry per invalid formula, in row order.
    """

    fractions: sp.csr_matrix
    valid: np.ndarray
    faults: tuple[tuple[int, object, str], ...]

    @property
    def n_invalid(self) -> int:
        """Number of formulas that did not parse."""
        return len(self.faults)

    def report(self) -> pd.DataFrame:
        """The invalid rows as a DataFrame with columns ``row, formula, fault``."""
        return pd.DataFrame(list(self.faults), columns=["row", "formula", "fault"])

    def raise_first(self) -> None:
        """Raise :class:`InvalidFormulaError` for the first invalid formula, if any; in a
        batch of several, the message gives its row (from 0) and how many are invalid."""
        if self.faults:
            row, formula, fault = self.faults[0]
            if len(self.valid) > 1:
                fault += (
                    f" (row {row} of {len(self.valid)}, counting from 0; "
                    f"{self.n_invalid} invalid in all)"
                )
            raise InvalidFormulaError(formula, fault)


def parse_formula(formula: str) -> dict[str, float]:
    """Parse one formula into ``{element symbol: atomic fraction}``.

    Parameters
    ----------
    formula : str
        A chemical formula such as ``"LiFePO4"``, ``"Sr(AlH)2"`` or ``"Fe0.62C0.00095Ni0.19"``.

    Returns
    -------
    dict of str to float
        Atomic fractions summing to 1, elements in order of atomic number.

    Raises
    ------
    InvalidFormulaError
        Naming the formula and what is wrong with it.

    Examples
    --------
    >>> parse_formula("Fe2O3")
    {'O': 0.6, 'Fe': 0.4}
    """
    batch = parse_formulas([formula])
    batch.raise_first()
    row = batch.fractions[0]
    return {SYMBOLS[j]: float(v) for j, v in zip(row.indices, row.data, strict=True)}


def parse_formulas(formulas: Iterable[object], *, errors: str = "raise") -> FormulaBatch:
    """Parse many formulas at once into a sparse (n, 103) atomic-fraction matrix.

    Parameters
    ----------
    formulas : iterable of str, length n
        Formulas; ``None``/NaN count as missing values (invalid).
    errors : {"raise", "report"}, default "raise"
        ``"raise"``: raise :class:`InvalidFormulaError` for the first invalid formula.
        ``"report"``: parse the valid ones, list the invalid ones in ``FormulaBatch.faults``.

    Returns
    -------
    FormulaBatch
        ``.fractions`` is a CSR matrix of shape (n, 103) whose rows sum to 1.

    Examples
    --------
    >>> batch = parse_formulas(["NaCl", "Xx2"], errors="report")
    >>> batch.valid.tolist(), batch.faults[0][2]
    ([True, False], "unknown element symbol 'Xx' (valid: H to Lr, Z = 1-103)")
    """
    if errors not in ("raise", "report"):
        raise InvalidParameterError(f"errors={errors!r}; expected 'raise' or 'report'")
    items = formulas if isinstance(formulas, Sequence | np.ndarray | pd.Series) else list(formulas)
    items = list(items)
    n = len(items)
    pre_fault = np.full(n, -1, dtype=np.int64)
    texts = _as_texts(items, pre_fault)
    fault, fault_token, fractions = parse_texts(texts, pre_fault)
    valid = fault < 0
    faults = tuple(
        (int(i), items[i], fault_message(int(fault[i]), fault_token[i]))
        for i in np.flatnonzero(~valid)
    )
    batch = FormulaBatch(fractions=fractions, valid=valid, faults=faults)
    if errors == "raise":
        batch.raise_first()
    return batch


def _as_texts(items: list[object], pre_fault: np.ndarray) -> list[str]:
    """Strings to tokenise (``""`` for unusable items, whose fault is set in ``pre_fault``)."""
    try:  # fast path: all strings, no line breaks, no hydrate marks
        joined = "\n".join(items)
    except TypeError:
        joined = None
    if (
        joined is not None
        and joined.count("\n") == len(items) - 1
        and "\r" not in joined
        and not any(mark in joined for mark in _HYDRATE_MARKS)
    ):
        return items
    texts: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            if "\n" in item or "\r" in item:
                pre_fault[i] = F_NEWLINE
                texts.append("")
            elif any(mark in item for mark in _HYDRATE_MARKS):
                rewritten = _rewrite_hydrate(item)
                if rewritten is None:
                    pre_fault[i] = F_EMPTY_HYDRATE
                    texts.append("")
                else:
                    texts.append(rewritten)
            else:
                texts.append(item)
        else:
            missing = item is None or (isinstance(item, float) and np.isnan(item)) or item is pd.NA
            pre_fault[i] = F_MISSING if missing else F_NOT_STR
            texts.append("")
    return texts


def _rewrite_hydrate(formula: str) -> str | None:
    """``"CuSO4·5H2O"`` -> ``"CuSO4(H2O)5"``; None if a part is empty."""
    head, *parts = _HYDRATE_SPLIT.split(formula.strip())
    pieces = [head]
    for part in parts:
        coeff, body = _HYDRATE_COEFF.match(part).groups()
        if not body.strip() or not head.strip():
            return None
        pieces.append(f"({body}){coeff or ''}")
    return "".join(pieces)
