"""Element symbols 1-103 and their index in the fraction matrix (column ``Z - 1``)."""

from __future__ import annotations

import numpy as np

#: Chemical symbols of elements Z = 1..103, in order; column ``Z - 1`` of every fraction matrix.
SYMBOLS: tuple[str, ...] = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn "
    "Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce "
    "Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn "
    "Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr"
).split()

N_ELEMENTS: int = len(SYMBOLS)  # 103
SYMBOL_TO_INDEX: dict[str, int] = {s: i for i, s in enumerate(SYMBOLS)}


def _symbol_code(symbol: str) -> int:
    """Integer code of a 1-3 letter symbol: upper * 729 + lower1 * 27 + lower2 (a..z = 1..26)."""
    code = (ord(symbol[0]) - 65) * 729
    if len(symbol) > 1:
        code += (ord(symbol[1]) - 96) * 27
    if len(symbol) > 2:
        code += ord(symbol[2]) - 96
    return code


def symbol_lookup_table() -> np.ndarray:
    """Array of shape (26 * 729,) mapping a symbol code to its column index, or -1 if unknown."""
    table = np.full(26 * 729, -1, dtype=np.int64)
    for index, symbol in enumerate(SYMBOLS):
        table[_symbol_code(symbol)] = index
    return table
