"""Planted data: properties of real formulas that depend on exactly ``k`` hidden factors.

The generator is how the diagnostics are proved right: a compression-fidelity sweep on
:func:`planted_properties` output should find that every property needs ``k`` dimensions and
no more, because that is how the data were made.

How the data are made, for formulas with fraction matrix ``F`` (``n x 103``):

1. **Composition descriptors.** Seven pymatgen element properties (Z, Mendeleev number, row,
   group, atomic mass, Pauling electronegativity, atomic radius), standardised over the
   elements that have them, are averaged with the atomic fractions (``F @ E``), and their
   fraction-weighted standard deviation is added: ``x`` is ``(n, 14)``. Magpie statistics
   contain the same element properties, so a model on Magpie features can learn ``x``.
2. **Hidden factors.** ``x`` is whitened (PCA on the given formulas), rotated by a random
   orthogonal matrix and passed through ``tanh(1.5 * .)``: ``k`` factors ``h`` (``(n, k)``),
   each a smooth, nonlinear function of composition, nearly uncorrelated with the others.
   ``k`` is at most 14.
3. **Properties.** ``m`` properties (default ``2k``), each ``y_i = b_i . h + 0.5 sin(c_i . h)``
   with random Gaussian ``b_i`` and ``c_i``, standardised, plus optional Gaussian noise of
   ``noise`` standard deviations. With ``m >= k`` the ``m``-vector of properties spans a
   ``k``-dimensional manifold: the intrinsic dimension of what the properties need is ``k``.

Everything is seeded; the same formulas and seed give the same data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from matlattice.composition import SYMBOLS, parse_formulas
from matlattice.errors import InvalidParameterError

__all__ = ["COMMON_FORMULAS", "PlantedData", "planted_properties", "random_label_table"]

_ELEMENT_PROPERTIES = ("Z", "mendeleev_no", "row", "group", "atomic_mass", "X", "atomic_radius")


@dataclass(frozen=True)
class PlantedData:
    """Output of :func:`planted_properties`.

    Attributes
    ----------
    frame : DataFrame with ``formula`` and one column per property ``p0 .. p{m-1}``
    factors : ``(n, k)`` hidden factors behind the properties
    n_factors : ``k``, the intrinsic dimension planted
    """

    frame: pd.DataFrame
    factors: np.ndarray
    n_factors: int

    @property
    def tasks(self) -> list[str]:
        return [c for c in self.frame.columns if c != "formula"]


@cache
def _element_descriptors() -> np.ndarray:
    """``(103, 7)`` standardised pymatgen element properties; missing values get the mean."""
    from pymatgen.core import Element

    table = np.full((len(SYMBOLS), len(_ELEMENT_PROPERTIES)), np.nan)
    with warnings.catch_warnings():  # pymatgen warns for noble-gas electronegativities
        warnings.simplefilter("ignore", UserWarning)
        for i, symbol in enumerate(SYMBOLS):
            element = Element(symbol)
            for j, name in enumerate(_ELEMENT_PROPERTIES):
                try:
                    value = getattr(element, name)
                except (AttributeError, ValueError, TypeError):  # pragma: no cover
                    continue
                if value is not None:
                    table[i, j] = float(value)
    mean, std = np.nanmean(table, axis=0), np.nanstd(table, axis=0)
    table = (table - mean) / np.where(std > 0, std, 1.0)
    return np.nan_to_num(table, nan=0.0)


def rotated_descriptors(fractions, n_factors: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, n_factors)`` whitened composition descriptors under a random rotation.

    ``fractions`` is the ``(n, 103)`` fraction matrix. The 14 descriptors (step 1 of the module
    docstring) are centred, whitened by SVD (unit variance, uncorrelated columns) and rotated by
    a random orthogonal matrix drawn from ``rng``; the first ``n_factors`` columns are returned.
    """
    table = _element_descriptors()  # (103, 7)
    mean = fractions @ table  # (n, 7)
    spread = np.sqrt(np.clip(fractions @ table**2 - mean**2, 0.0, None))
    x = np.hstack([mean, spread])  # (n, 14)
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    keep = s > 1e-8 * s[0]
    whitened = u[:, keep] * np.sqrt(len(x))  # (n, r), unit variance, uncorrelated columns
    if whitened.shape[1] < n_factors:
        raise InvalidParameterError(
            f"these formulas span only {whitened.shape[1]} independent descriptors; "
            f"n_factors={n_factors} is too many"
        )
    rotation, _ = np.linalg.qr(rng.standard_normal((whitened.shape[1], whitened.shape[1])))
    return whitened @ rotation[:, :n_factors]


def planted_properties(
    formulas: Sequence[str],
    n_factors: int,
    n_properties: int | None = None,
    *,
    noise: float = 0.0,
    seed: int = 0,
) -> PlantedData:
    """Properties of ``formulas`` that depend on exactly ``n_factors`` hidden factors.

    Parameters
    ----------
    formulas : real formulas (invalid ones raise :class:`InvalidFormulaError`)
    n_factors : ``k`` in 1..14, the planted intrinsic dimension
    n_properties : ``m`` (default ``2k``); ``m >= k`` for the properties to need all ``k``
    noise : Gaussian noise added to each standardised property, in standard deviations
    seed : seeds the rotation, the property maps and the noise

    Returns
    -------
    :class:`PlantedData` (properties are unitless, mean 0 and standard deviation ~1)
    """
    n_descriptors = 2 * len(_ELEMENT_PROPERTIES)
    if not 1 <= int(n_factors) <= n_descriptors:
        raise InvalidParameterError(f"n_factors={n_factors!r}; expected 1..{n_descriptors}")
    m = 2 * int(n_factors) if n_properties is None else int(n_properties)
    if m < 1:
        raise InvalidParameterError(f"n_properties={n_properties!r}; must be >= 1")
    if noise < 0:
        raise InvalidParameterError(f"noise={noise!r}; must be >= 0")
    formulas = list(formulas)
    fractions = parse_formulas(formulas).fractions
    if fractions.shape[0] <= n_descriptors:
        raise InvalidParameterError(f"{len(formulas)} formulas; need more than {n_descriptors}")
    rng = np.random.default_rng(seed)
    factors = np.tanh(1.5 * rotated_descriptors(fractions, n_factors, rng))  # (n, k)
    factors = (factors - factors.mean(axis=0)) / factors.std(axis=0)

    b = rng.standard_normal((n_factors, m))
    c = rng.standard_normal((n_factors, m))
    y = factors @ b + 0.5 * np.sin(factors @ c)  # (n, m)
    y = (y - y.mean(axis=0)) / y.std(axis=0)
    y = y + noise * rng.standard_normal(y.shape)
    frame = pd.DataFrame(y, columns=[f"p{i}" for i in range(m)])
    frame.insert(0, "formula", formulas)
    return PlantedData(frame, factors, int(n_factors))


#: Sixty well-known binary and ternary compounds, for tables that exercise the machinery.
COMMON_FORMULAS = (
    "NaCl KCl LiF MgO CaO SrO BaO ZnO ZnS ZnSe CdS CdSe CdTe GaN GaP GaAs InP InAs AlN AlP AlAs "
    "Si Ge C SiC BN TiO2 SnO2 Fe2O3 Al2O3 Cu2O CuO NiO MnO CoO Cr2O3 V2O5 WO3 MoS2 WS2 PbS PbTe "
    "Bi2Se3 Bi2Te3 SrTiO3 BaTiO3 CaTiO3 LiNbO3 KNbO3 LiCoO2 LiFePO4 NaNbO3 MgAl2O4 ZnAl2O4 "
    "CaF2 SrF2 BaF2 KBr NaBr LiCl"
).split()


def random_label_table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """The first ``n`` of :data:`COMMON_FORMULAS` with ``band_gap`` and ``density`` drawn
    uniformly at random (0-8, 2-8): a table of the right shape to test fitting, resuming
    and refusing, never a claim about these materials."""
    if not 1 <= n <= len(COMMON_FORMULAS):
        raise InvalidParameterError(f"n={n} must be 1-{len(COMMON_FORMULAS)}")
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "formula": COMMON_FORMULAS[:n],
            "band_gap": rng.uniform(0, 8, n),
            "density": rng.uniform(2, 8, n),
        }
    )
