"""The vectorised engine of :mod:`~matlattice.composition.parser`: a batch of formula texts
tokenised and evaluated as one byte array.

The texts are joined by line breaks into one ASCII byte array (``chars``, ``(n_chars,)``). Each
byte is classified (:class:`_CharClasses`); a token starts at an uppercase letter, the first
byte of a number, a bracket, a bad character or a stray lowercase letter (:class:`_Tokens`).
Element symbols are looked up by a base-27 code of their letters, numbers read in one
``bytes.split``, bracket depths are cumulative sums, and the amount of a group multiplies
every token inside it through a cumulative sum of log-multipliers. The first fault of each
formula, by position, is kept (:class:`_Faults`); its code indexes :data:`FAULTS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matlattice.composition.elements import N_ELEMENTS, SYMBOLS, symbol_lookup_table

__all__ = ["FAULTS", "fault_message", "parse_texts"]

_SYMBOL_TABLE = symbol_lookup_table()
_SYMBOL_LENGTHS = np.array([len(s) for s in SYMBOLS])  # to quote a whole symbol

# token kinds
_ELEMENT, _NUMBER, _OPEN, _CLOSE, _BAD = 0, 1, 2, 3, 4

# fault codes, in the order they are reported when a formula has several
FAULTS = (
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
    "element {tok!r} has amount zero; leave it out of the formula",
    "the amount of element {tok!r} is too large to represent",
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
    F_ZERO_AMOUNT,
    F_HUGE_AMOUNT,
) = range(len(FAULTS))


def fault_message(code: int, token: str) -> str:
    """The message of fault ``code`` about ``token`` (the offending text)."""
    return FAULTS[code].format(tok=token)


def parse_texts(
    texts: list[str], pre_fault: np.ndarray
) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    """Tokenise and evaluate all texts at once.

    Returns (fault code per formula or -1, offending token text per formula, CSR fractions).
    """
    n = len(texts)
    if n == 0:
        return pre_fault.copy(), np.array([], dtype=object), sp.csr_matrix((0, N_ELEMENTS))
    joined = "\n".join(texts) + "\n"
    chars = np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8)
    if len(chars) != len(joined):  # cannot happen with errors="replace"; guard the invariant
        raise RuntimeError("internal error: non-ASCII replacement changed the text length")
    classes = _CharClasses.of(chars)
    tokens = _Tokens.of(classes)
    faults = _Faults(pre_fault, joined, tokens)
    _flag_bad_characters(classes, tokens, faults)
    el_tokens, el_index, unknown = _element_symbols(chars, classes, tokens, faults)
    num_tokens, values, run_len = _numbers(chars, classes, tokens, faults)
    neighbours = _Neighbours.of(tokens, num_tokens, values)
    _flag_orphan_numbers(tokens, neighbours, num_tokens, run_len, faults)
    depth, final_depth = _bracket_depth(tokens, neighbours, n, faults)
    group_factor = _group_factors(chars, tokens, neighbours, depth, final_depth, n, faults)
    with np.errstate(over="ignore", invalid="ignore"):  # overflows are flagged just below
        amount = neighbours.next_value[el_tokens] * group_factor[el_tokens]
    _flag_amounts(el_tokens, el_index, unknown, amount, faults)
    matrix = _fractions(classes, tokens, el_tokens, el_index, unknown, amount, n, faults)
    return faults.code, faults.token, matrix


@dataclass(frozen=True)
class _CharClasses:
    """What each byte of the joined batch is; every field is a ``(n_chars,)`` bool mask,
    except ``line`` (the formula index of each byte)."""

    upper: np.ndarray
    lower: np.ndarray
    digit: np.ndarray
    dot: np.ndarray
    num: np.ndarray
    open: np.ndarray
    close: np.ndarray
    newline: np.ndarray
    space: np.ndarray
    bad: np.ndarray
    stray_lower: np.ndarray  # a lowercase letter that follows no letter
    num_start: np.ndarray  # the first byte of a run of digits and dots
    line: np.ndarray

    @classmethod
    def of(cls, chars: np.ndarray) -> _CharClasses:
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
        prev_letter = np.zeros(n_chars, dtype=bool)
        prev_letter[1:] = is_upper[:-1] | is_lower[:-1]
        prev_num = np.zeros(n_chars, dtype=bool)
        prev_num[1:] = is_num[:-1]
        return cls(
            upper=is_upper,
            lower=is_lower,
            digit=is_digit,
            dot=is_dot,
            num=is_num,
            open=is_open,
            close=is_close,
            newline=is_newline,
            space=is_space,
            bad=is_bad,
            stray_lower=is_lower & ~prev_letter,
            num_start=is_num & ~prev_num,
            line=np.cumsum(is_newline) - is_newline,
        )


@dataclass(frozen=True)
class _Tokens:
    """Where each token starts (``pos``), its kind (``_ELEMENT`` ...) and its formula
    (``line``); all ``(n_tokens,)``, in text order."""

    pos: np.ndarray
    kind: np.ndarray
    line: np.ndarray

    @classmethod
    def of(cls, c: _CharClasses) -> _Tokens:
        token_mask = c.upper | c.num_start | c.open | c.close | c.bad | c.stray_lower
        pos = np.flatnonzero(token_mask)
        kind = np.full(len(pos), _BAD, dtype=np.int8)
        kind[c.upper[pos]] = _ELEMENT
        kind[c.num_start[pos]] = _NUMBER
        kind[c.open[pos]] = _OPEN
        kind[c.close[pos]] = _CLOSE
        return cls(pos=pos, kind=kind, line=c.line[pos])


class _Faults:
    """The first fault of each formula: ``code`` (-1: none), the text position of the
    offending token and its text (``token``), all ``(n_formulas,)``."""

    def __init__(self, pre_fault: np.ndarray, joined: str, tokens: _Tokens) -> None:
        n = len(pre_fault)
        self.code = pre_fault.copy()
        self.pos = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self.token = np.array([""] * n, dtype=object)
        self._joined = joined
        self._tokens = tokens

    def line_of(self, token_index: np.ndarray) -> np.ndarray:
        """The formula of each token."""
        return self._tokens.line[token_index]

    def flag(self, token_index: np.ndarray, code: int, length: np.ndarray | int = 1) -> None:
        """Record ``code`` at these tokens unless their formula has an earlier fault."""
        if len(token_index) == 0:
            return
        lines = self._tokens.line[token_index]
        starts = self._tokens.pos[token_index]
        order = np.lexsort((starts, lines))
        lines, starts, token_index = lines[order], starts[order], token_index[order]
        first = np.concatenate(([True], lines[1:] != lines[:-1]))
        lines, starts, token_index = lines[first], starts[first], token_index[first]
        fault, fault_pos = self.code, self.pos
        better = (fault[lines] < 0) | ((fault[lines] >= F_CHAR) & (starts < fault_pos[lines]))
        lengths = np.broadcast_to(np.asarray(length), (len(order),))[order][first]
        for line, start, ln in zip(lines[better], starts[better], lengths[better], strict=True):
            self.token[line] = self._joined[start : start + ln]
        fault[lines[better]] = code
        fault_pos[lines[better]] = starts[better]


@dataclass(frozen=True)
class _Neighbours:
    """Each token's neighbours within its formula, all ``(n_tokens,)``: the kinds of the
    previous and next tokens (-1: none) and the amount that follows it (1 if none)."""

    prev_kind: np.ndarray
    next_kind: np.ndarray
    next_value: np.ndarray

    @classmethod
    def of(cls, t: _Tokens, num_tokens: np.ndarray, values: np.ndarray) -> _Neighbours:
        n_tok = len(t.pos)
        prev_kind = np.full(n_tok, -1, dtype=np.int8)
        next_kind = np.full(n_tok, -1, dtype=np.int8)
        same_prev = np.zeros(n_tok, dtype=bool)
        same_prev[1:] = t.line[1:] == t.line[:-1]
        prev_kind[1:] = np.where(same_prev[1:], t.kind[:-1], -1)
        next_kind[:-1] = np.where(same_prev[1:], t.kind[1:], -1)
        number_value_of_token = np.zeros(n_tok)
        number_value_of_token[num_tokens] = values
        next_value = np.ones(n_tok)
        next_value[:-1] = np.where(next_kind[:-1] == _NUMBER, number_value_of_token[1:], 1.0)
        return cls(prev_kind=prev_kind, next_kind=next_kind, next_value=next_value)


def _flag_bad_characters(c: _CharClasses, t: _Tokens, faults: _Faults) -> None:
    """Characters outside the grammar and lowercase letters that follow no element symbol."""
    bad_tokens = np.flatnonzero(t.kind == _BAD)
    if len(bad_tokens):
        stray = c.stray_lower[t.pos[bad_tokens]]
        faults.flag(bad_tokens[~stray], F_CHAR)
        faults.flag(bad_tokens[stray], F_LOWER)


def _element_symbols(chars: np.ndarray, c: _CharClasses, t: _Tokens, faults: _Faults):
    """The element tokens (an uppercase letter and up to two lowercase ones), the column of
    each (``Z - 1``; -1 unknown) and whether it is unknown (flagged), all ``(n_elements,)``."""
    el_tokens = np.flatnonzero(t.kind == _ELEMENT)
    el_pos = t.pos[el_tokens]
    padded_lower = np.concatenate((c.lower, np.zeros(3, dtype=bool)))
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
        faults.flag(el_tokens[unknown], F_ELEMENT, _lower_run_length(c.lower, el_pos[unknown]))
    return el_tokens, el_index, unknown


def _numbers(chars: np.ndarray, c: _CharClasses, t: _Tokens, faults: _Faults):
    """The number tokens, their values (malformed ones flagged and read as 0) and their
    lengths in characters, all ``(n_numbers,)``."""
    num_tokens = np.flatnonzero(t.kind == _NUMBER)
    run_of_char = np.cumsum(c.num_start) - 1
    n_runs = len(num_tokens)
    dots = np.bincount(run_of_char[c.dot], minlength=n_runs)
    digits = np.bincount(run_of_char[c.digit], minlength=n_runs)
    malformed = (dots > 1) | (digits == 0)
    raw_numbers = np.where(c.num, chars, 32).astype(np.uint8).tobytes().split()
    if malformed.any():
        run_len = dots + digits
        faults.flag(num_tokens[malformed], F_NUMBER, run_len[malformed])
        for r in np.flatnonzero(malformed):
            raw_numbers[r] = b"0"
    values = np.array(raw_numbers, dtype=np.bytes_).astype(np.float64) if n_runs else np.zeros(0)
    return num_tokens, values, dots + digits


def _flag_orphan_numbers(
    t: _Tokens, nb: _Neighbours, num_tokens: np.ndarray, run_len: np.ndarray, faults: _Faults
) -> None:
    """Amounts that follow neither an element symbol nor a closing bracket."""
    orphan = (t.kind == _NUMBER) & (nb.prev_kind != _ELEMENT) & (nb.prev_kind != _CLOSE)
    if orphan.any():
        orphan_tokens = np.flatnonzero(orphan)
        faults.flag(
            orphan_tokens, F_ORPHAN_NUMBER, run_len[np.searchsorted(num_tokens, orphan_tokens)]
        )


def _bracket_depth(t: _Tokens, nb: _Neighbours, n: int, faults: _Faults):
    """Bracket depth after each token ``(n_tokens,)`` and at the end of each formula
    ``(n_formulas,)``; flags closers of nothing, unclosed openers and empty groups."""
    n_tok = len(t.pos)
    delta = np.zeros(n_tok, dtype=np.int64)
    delta[t.kind == _OPEN] = 1
    delta[t.kind == _CLOSE] = -1
    depth = np.cumsum(delta)
    first_tok_of_line = np.searchsorted(t.line, np.arange(n))
    depth_padded = np.append(depth, 0)  # safe lookups when a batch has no tokens at all
    base = np.where(first_tok_of_line > 0, depth_padded[first_tok_of_line - 1], 0)
    depth = depth - base[t.line]
    depth_padded = np.append(depth, 0)
    faults.flag(np.flatnonzero(depth < 0), F_EXTRA_CLOSE)
    last_tok_of_line = np.searchsorted(t.line, np.arange(n), side="right") - 1
    has_tokens = last_tok_of_line >= first_tok_of_line
    final_depth = np.where(has_tokens, depth_padded[last_tok_of_line], 0)
    unclosed_lines = np.flatnonzero(has_tokens & (final_depth > 0))
    if len(unclosed_lines):
        open_tokens = np.flatnonzero((t.kind == _OPEN) & np.isin(t.line, unclosed_lines))
        faults.flag(open_tokens, F_UNCLOSED)
    empty_group = (t.kind == _OPEN) & (nb.next_kind == _CLOSE)
    faults.flag(np.flatnonzero(empty_group), F_EMPTY_GROUP)
    return depth, final_depth


def _group_factors(chars, t: _Tokens, nb: _Neighbours, depth, final_depth, n, faults: _Faults):
    """``(n_tokens,)`` product of the amounts of the groups around each token; pairs the
    brackets of the formulas whose brackets balance and flags mismatched pairs."""
    n_tok = len(t.pos)
    bracket_ok = np.ones(n, dtype=bool)
    bracket_ok[t.line[depth < 0]] = False
    bracket_ok[final_depth != 0] = False
    br = np.flatnonzero(((t.kind == _OPEN) | (t.kind == _CLOSE)) & bracket_ok[t.line])
    log_mult = np.zeros(n_tok + 1)
    zero_mult = np.zeros(n_tok + 1, dtype=np.int64)
    if len(br):
        level = np.where(t.kind[br] == _OPEN, depth[br], depth[br] + 1)
        order = np.lexsort((t.pos[br], level, t.line[br]))
        opens, closes = br[order[0::2]], br[order[1::2]]
        open_chars = chars[t.pos[opens]].astype(np.int64)
        close_chars = chars[t.pos[closes]].astype(np.int64)
        expected = np.select([open_chars == 40, open_chars == 91], [41, 93], default=125)
        faults.flag(closes[close_chars != expected], F_MISMATCH)
        mult = nb.next_value[closes]
        positive = mult > 0
        np.add.at(log_mult, opens[positive], np.log(mult[positive]))
        np.add.at(log_mult, closes[positive], -np.log(mult[positive]))
        np.add.at(zero_mult, opens[~positive], 1)
        np.add.at(zero_mult, closes[~positive], -1)
    return np.exp(np.cumsum(log_mult)[:-1]) * (np.cumsum(zero_mult)[:-1] == 0)


def _flag_amounts(el_tokens, el_index, unknown, amount, faults: _Faults) -> None:
    """Elements written with amount zero (``Fe0O3``) or an amount that overflows a float
    (``H`` followed by 400 nines): a formula never loses an element or its whole content
    silently."""
    known = ~unknown & (faults.code[faults.line_of(el_tokens)] < 0)  # an earlier fault wins
    symbol_length = _SYMBOL_LENGTHS[np.where(known, el_index, 0)]
    for code, bad in (
        (F_ZERO_AMOUNT, known & (amount == 0)),
        (F_HUGE_AMOUNT, known & ~np.isfinite(amount)),
    ):
        faults.flag(el_tokens[bad], code, symbol_length[bad])


def _fractions(c: _CharClasses, t: _Tokens, el_tokens, el_index, unknown, amount, n, faults):
    """CSR ``(n, 103)`` atomic fractions of the formulas without a fault (other rows zero);
    flags empty formulas, formulas without an element and formulas whose total is zero."""
    fault = faults.code
    el_line = t.line[el_tokens]
    n_elements = np.bincount(el_line, minlength=n)
    n_visible = np.bincount(c.line[~(c.space | c.newline)], minlength=n)
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
    return matrix


def _lower_run_length(is_lower: np.ndarray, upper_pos: np.ndarray) -> np.ndarray:
    """Length of the symbol starting at each upper-case position (upper + its lowercase run)."""
    not_lower = np.flatnonzero(~is_lower)
    nxt = not_lower[np.searchsorted(not_lower, upper_pos + 1)]
    return nxt - upper_pos
