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

from matlattice.composition.elements import N_ELEMENTS, SYMBOLS, symbol_lookup_table
from matlattice.errors import InvalidFormulaError, InvalidParameterError

__all__ = ["FormulaBatch", "parse_formula", "parse_formulas"]

_SYMBOL_TABLE = symbol_lookup_table()
_HYDRATE_MARKS = "·•*"
_HYDRATE_SPLIT = re.compile(r"\s*[·•*]\s*")
_HYDRATE_COEFF = re.compile(r"^(\d+\.?\d*|\.\d+)?(.*)$", re.S)

# token kinds
_ELEMENT, _NUMBER, _OPEN, _CLOSE, _BAD = 0, 1, 2, 3, 4
_CLOSER_OF = {ord("("): ord(")"), ord("["): ord("]"), ord("{"): ord("}")}

# fault codes, in the order they are reported when a formula has several
_FAULTS = (
    "missing value",
    "not a string",
    "empty formula",
    "unexpected character {tok!r}",
    "lowercase letter {tok!r} does not follow an element symbol",
    "unknown element symbol {tok!r} (valid: H to Lr, Z = 1-103)",
    "malformed number {tok!r}",
    "amount {tok!r} does not follow an element or a closing bracket",
    "unbalanced brackets: {tok!r} closes nothing",
    "unbalanced brackets: {tok!r} is never closed",
    "mismatched brackets: {tok!r}",
    "empty brackets",
    "empty hydrate part",
    "no element symbol",
    "total amount is zero",
    "contains a line break",
)
(
    F_MISSING,
    F_NOT_STR,
    F_EMPTY,
    F_CHAR,
    F_LOWER,
    F_ELEMENT,
    F_NUMBER,
    F_ORPHAN_NUMBER,
    F_EXTRA_CLOSE,
    F_UNCLOSED,
    F_MISMATCH,
    F_EMPTY_GROUP,
    F_EMPTY_HYDRATE,
    F_NO_ELEMENT,
    F_ZERO_TOTAL,
    F_NEWLINE,
) = range(len(_FAULTS))


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
        """Raise :class:`InvalidFormulaError` for the first invalid formula, if any."""
        if self.faults:
            _, formula, fault = self.faults[0]
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
    fault, fault_token, fractions = _parse_texts(texts, pre_fault)
    valid = fault < 0
    faults = tuple(
        (int(i), items[i], _fault_message(int(fault[i]), fault_token[i]))
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


def _fault_message(code: int, token: str) -> str:
    return _FAULTS[code].format(tok=token)


def _parse_texts(texts: list[str], pre_fault: np.ndarray):
    """Tokenise and evaluate all texts at once.

    Returns (fault code per formula or -1, offending token text per formula, CSR fractions).
    """
    n = len(texts)
    if n == 0:
        return pre_fault.copy(), np.array([], dtype=object), sp.csr_matrix((0, N_ELEMENTS))
    fault = pre_fault.copy()
    fault_pos = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    fault_token = np.array([""] * n, dtype=object)
    joined = "\n".join(texts) + "\n"
    chars = np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8)
    if len(chars) != len(joined):  # cannot happen with errors="replace"; guard the invariant
        raise RuntimeError("internal error: non-ASCII replacement changed the text length")
    n_chars = len(chars)

    is_upper = (chars >= 65) & (chars <= 90)
    is_lower = (chars >= 97) & (chars <= 122)
    is_digit = (chars >= 48) & (chars <= 57)
    is_dot = chars == 46
    is_num = is_digit | is_dot
    is_open = (chars == 40) | (chars == 91) | (chars == 123)
    is_close = (chars == 41) | (chars == 93) | (chars == 125)
    is_newline = chars == 10
    is_space = (chars == 32) | (chars == 9)
    is_bad = ~(is_upper | is_lower | is_num | is_open | is_close | is_newline | is_space)

    line_of_char = np.cumsum(is_newline) - is_newline  # formula index of every char

    prev_letter = np.zeros(n_chars, dtype=bool)
    prev_letter[1:] = is_upper[:-1] | is_lower[:-1]
    stray_lower = is_lower & ~prev_letter
    prev_num = np.zeros(n_chars, dtype=bool)
    prev_num[1:] = is_num[:-1]
    num_start = is_num & ~prev_num

    token_mask = is_upper | num_start | is_open | is_close | is_bad | stray_lower
    pos = np.flatnonzero(token_mask)
    kind = np.full(len(pos), _BAD, dtype=np.int8)
    kind[is_upper[pos]] = _ELEMENT
    kind[num_start[pos]] = _NUMBER
    kind[is_open[pos]] = _OPEN
    kind[is_close[pos]] = _CLOSE
    tok_line = line_of_char[pos]
    np.append(pos[1:], n_chars)  # a token ends where the next token starts (or earlier)

    def flag(token_index: np.ndarray, code: int, length: np.ndarray | int = 1) -> None:
        """Record ``code`` at these tokens unless their formula has an earlier fault."""
        if len(token_index) == 0:
            return
        lines = tok_line[token_index]
        starts = pos[token_index]
        order = np.lexsort((starts, lines))
        lines, starts, token_index = lines[order], starts[order], token_index[order]
        first = np.concatenate(([True], lines[1:] != lines[:-1]))
        lines, starts, token_index = lines[first], starts[first], token_index[first]
        better = (fault[lines] < 0) | ((fault[lines] >= F_CHAR) & (starts < fault_pos[lines]))
        lengths = np.broadcast_to(np.asarray(length), (len(order),))[order][first]
        for line, start, ln in zip(lines[better], starts[better], lengths[better], strict=True):
            fault_token[line] = joined[start : start + ln]
        fault[lines[better]] = code
        fault_pos[lines[better]] = starts[better]

    # --- bad characters and stray lowercase letters
    bad_tokens = np.flatnonzero(kind == _BAD)
    if len(bad_tokens):
        stray = stray_lower[pos[bad_tokens]]
        flag(bad_tokens[~stray], F_CHAR)
        flag(bad_tokens[stray], F_LOWER)

    # --- element symbols: upper + up to two lowercase letters
    el_tokens = np.flatnonzero(kind == _ELEMENT)
    el_pos = pos[el_tokens]
    padded_lower = np.concatenate((is_lower, np.zeros(3, dtype=bool)))
    padded_chars = np.concatenate((chars, np.zeros(3, dtype=np.uint8))).astype(np.int64)
    l1 = padded_lower[el_pos + 1]
    l2 = l1 & padded_lower[el_pos + 2]
    l3 = l2 & padded_lower[el_pos + 3]
    code = (padded_chars[el_pos] - 65) * 729
    code += np.where(l1, padded_chars[el_pos + 1] - 96, 0) * 27
    code += np.where(l2, padded_chars[el_pos + 2] - 96, 0)
    el_index = _SYMBOL_TABLE[code]
    el_index[l3] = -1
    unknown = el_index < 0
    if unknown.any():
        # symbol text runs over all following lowercase letters
        flag(el_tokens[unknown], F_ELEMENT, _lower_run_length(is_lower, el_pos[unknown]))

    # --- numbers
    num_tokens = np.flatnonzero(kind == _NUMBER)
    run_of_char = np.cumsum(num_start) - 1
    n_runs = len(num_tokens)
    dots = np.bincount(run_of_char[is_dot], minlength=n_runs)
    digits = np.bincount(run_of_char[is_digit], minlength=n_runs)
    malformed = (dots > 1) | (digits == 0)
    raw_numbers = np.where(is_num, chars, 32).astype(np.uint8).tobytes().split()
    if malformed.any():
        run_len = dots + digits
        flag(num_tokens[malformed], F_NUMBER, run_len[malformed])
        for r in np.flatnonzero(malformed):
            raw_numbers[r] = b"0"
    values = np.array(raw_numbers, dtype=np.bytes_).astype(np.float64) if n_runs else np.zeros(0)

    # --- neighbours within the same formula
    n_tok = len(pos)
    prev_kind = np.full(n_tok, -1, dtype=np.int8)
    next_kind = np.full(n_tok, -1, dtype=np.int8)
    same_prev = np.zeros(n_tok, dtype=bool)
    same_prev[1:] = tok_line[1:] == tok_line[:-1]
    prev_kind[1:] = np.where(same_prev[1:], kind[:-1], -1)
    next_kind[:-1] = np.where(same_prev[1:], kind[1:], -1)
    number_value_of_token = np.zeros(n_tok)
    number_value_of_token[num_tokens] = values
    next_value = np.ones(n_tok)
    next_value[:-1] = np.where(next_kind[:-1] == _NUMBER, number_value_of_token[1:], 1.0)

    orphan = (kind == _NUMBER) & (prev_kind != _ELEMENT) & (prev_kind != _CLOSE)
    if orphan.any():
        orphan_tokens = np.flatnonzero(orphan)
        run_len = (dots + digits)[np.searchsorted(num_tokens, orphan_tokens)]
        flag(orphan_tokens, F_ORPHAN_NUMBER, run_len)

    # --- brackets: depth, balance, matching
    delta = np.zeros(n_tok, dtype=np.int64)
    delta[kind == _OPEN] = 1
    delta[kind == _CLOSE] = -1
    depth = np.cumsum(delta)
    first_tok_of_line = np.searchsorted(tok_line, np.arange(n))
    depth_padded = np.append(depth, 0)  # safe lookups when a batch has no tokens at all
    base = np.where(first_tok_of_line > 0, depth_padded[first_tok_of_line - 1], 0)
    depth = depth - base[tok_line]
    depth_padded = np.append(depth, 0)
    flag(np.flatnonzero(depth < 0), F_EXTRA_CLOSE)
    last_tok_of_line = np.searchsorted(tok_line, np.arange(n), side="right") - 1
    has_tokens = last_tok_of_line >= first_tok_of_line
    final_depth = np.where(has_tokens, depth_padded[last_tok_of_line], 0)
    unclosed_lines = np.flatnonzero(has_tokens & (final_depth > 0))
    if len(unclosed_lines):
        open_tokens = np.flatnonzero((kind == _OPEN) & np.isin(tok_line, unclosed_lines))
        flag(open_tokens, F_UNCLOSED)
    empty_group = (kind == _OPEN) & (next_kind == _CLOSE)
    flag(np.flatnonzero(empty_group), F_EMPTY_GROUP)

    # only formulas whose brackets balance take part in matching
    bracket_ok = np.ones(n, dtype=bool)
    bracket_ok[tok_line[depth < 0]] = False
    bracket_ok[final_depth != 0] = False
    br = np.flatnonzero(((kind == _OPEN) | (kind == _CLOSE)) & bracket_ok[tok_line])
    log_mult = np.zeros(n_tok + 1)
    zero_mult = np.zeros(n_tok + 1, dtype=np.int64)
    if len(br):
        level = np.where(kind[br] == _OPEN, depth[br], depth[br] + 1)
        order = np.lexsort((pos[br], level, tok_line[br]))
        opens, closes = br[order[0::2]], br[order[1::2]]
        open_chars = chars[pos[opens]].astype(np.int64)
        close_chars = chars[pos[closes]].astype(np.int64)
        expected = np.select([open_chars == 40, open_chars == 91], [41, 93], default=125)
        flag(closes[close_chars != expected], F_MISMATCH)
        mult = next_value[closes]
        positive = mult > 0
        np.add.at(log_mult, opens[positive], np.log(mult[positive]))
        np.add.at(log_mult, closes[positive], -np.log(mult[positive]))
        np.add.at(zero_mult, opens[~positive], 1)
        np.add.at(zero_mult, closes[~positive], -1)
    group_factor = np.exp(np.cumsum(log_mult)[:-1]) * (np.cumsum(zero_mult)[:-1] == 0)

    # --- element amounts
    amount = next_value[el_tokens] * group_factor[el_tokens]
    el_line = tok_line[el_tokens]
    n_elements = np.bincount(el_line, minlength=n)
    n_visible = np.bincount(line_of_char[~(is_space | is_newline)], minlength=n)
    fault[(fault < 0) & (n_visible == 0)] = F_EMPTY
    fault[(fault < 0) & (n_elements == 0)] = F_NO_ELEMENT

    keep = (fault[el_line] < 0) & ~unknown
    matrix = sp.csr_matrix((amount[keep], (el_line[keep], el_index[keep])), shape=(n, N_ELEMENTS))
    matrix.sum_duplicates()
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    zero_total = (fault < 0) & ~(totals > 0)
    fault[zero_total] = F_ZERO_TOTAL
    bad_rows = fault >= 0
    row_scale = np.where(bad_rows | ~(totals > 0), 0.0, 1.0 / np.where(totals > 0, totals, 1.0))
    matrix = sp.diags(row_scale).dot(matrix).tocsr()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return fault, fault_token, matrix


def _lower_run_length(is_lower: np.ndarray, upper_pos: np.ndarray) -> np.ndarray:
    """Length of the symbol starting at each upper-case position (upper + its lowercase run)."""
    not_lower = np.flatnonzero(~is_lower)
    nxt = not_lower[np.searchsorted(not_lower, upper_pos + 1)]
    return nxt - upper_pos
