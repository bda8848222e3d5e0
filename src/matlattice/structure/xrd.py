"""Powder X-ray diffraction: predicted patterns and matching a measured one.

:func:`xrd_pattern` is pymatgen's ``XRDCalculator`` (Cu K-alpha, 1.54184 Å by default) on
a structure: one row per reflection with ``two_theta`` (degrees), ``intensity`` (the
strongest 100), ``hkl`` and ``d_spacing`` (Å).

:func:`match_pattern` ranks structures against a measured pattern (``two_theta``,
``intensity``). Both patterns are broadened to Gaussian profiles of full width ``fwhm`` on
a common 2θ grid and compared by their cosine similarity (1 = identical profiles). A relaxed
structure's lattice is off by a few per cent (potentials err on volumes), which moves every
peak, so each structure is also tried with its d-spacings scaled by a uniform strain
between ``-max_strain`` and ``+max_strain``; the best strain is reported with the score.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from matlattice.errors import DataFormatError, InvalidParameterError

__all__ = ["match_pattern", "profile", "xrd_pattern"]

CU_KA = 1.54184  # Å, pymatgen's "CuKa" (weighted K-alpha1/alpha2)


def xrd_pattern(structure, two_theta_range: tuple[float, float] = (10.0, 90.0)) -> pd.DataFrame:
    """The predicted powder pattern of ``structure`` (module docstring)."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    pattern = XRDCalculator("CuKa").get_pattern(structure, two_theta_range=two_theta_range)
    return pd.DataFrame({
        "two_theta": pattern.x, "intensity": pattern.y,
        "hkl": [" ".join(
            "".join(str(i) for i in h["hkl"]) for h in hkls) for hkls in pattern.hkls],
        "d_spacing": pattern.d_hkls,
    })  # fmt: skip


def profile(two_theta: np.ndarray, intensity: np.ndarray, grid: np.ndarray, fwhm: float):
    """Peaks (``two_theta``, ``intensity``) as a sum of Gaussians of full width ``fwhm`` on
    ``grid``, normalised to unit length."""
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    shape = np.exp(-0.5 * ((grid[:, None] - two_theta[None, :]) / sigma) ** 2)
    curve = shape @ intensity
    norm = np.linalg.norm(curve)
    return curve / norm if norm > 0 else curve


def _strained(pattern: pd.DataFrame, strain: float) -> np.ndarray:
    """2θ of each reflection when every d-spacing grows by ``strain`` (Bragg's law); a
    reflection pushed beyond 180° is dropped (NaN)."""
    sine = CU_KA / (2 * pattern["d_spacing"].to_numpy() * (1 + strain))
    with np.errstate(invalid="ignore"):
        return np.degrees(2 * np.arcsin(np.where(sine <= 1, sine, np.nan)))


def _measured(measured: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = {"two_theta", "intensity"} - set(measured.columns)
    if missing:
        raise DataFormatError(
            f"the measured pattern lacks column(s) {sorted(missing)}; expected two_theta "
            "(degrees, Cu K-alpha) and intensity"
        )
    x = pd.to_numeric(measured["two_theta"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(measured["intensity"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(x) | ~np.isfinite(y) | (y < 0) | (x <= 0) | (x >= 180)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"measured pattern row {row}: two_theta={x[row]!r}, intensity={y[row]!r}; expected "
            "0 < two_theta < 180 degrees and intensity >= 0"
        )
    if len(x) < 3 or y.max() <= 0:
        raise DataFormatError("the measured pattern has fewer than 3 points or no intensity")
    return x, y


def match_pattern(
    measured: pd.DataFrame,
    structures: Mapping[str, object],
    *,
    fwhm: float = 0.3,
    max_strain: float = 0.04,
    n_strains: int = 41,
) -> pd.DataFrame:
    """``name, similarity, strain`` per structure, best first (module docstring)."""
    if fwhm <= 0 or max_strain < 0 or n_strains < 1:
        raise InvalidParameterError(
            f"fwhm={fwhm}, max_strain={max_strain}, n_strains={n_strains}; expected fwhm > 0, "
            "max_strain >= 0, n_strains >= 1"
        )
    x, y = _measured(measured)
    grid = np.arange(max(x.min() - 1, 0.5), min(x.max() + 1, 179.5), fwhm / 4)
    # a measured profile of sampled points is interpolated; a peak list is broadened
    dense = len(x) > 200 and np.median(np.diff(np.sort(x))) < fwhm
    target = (np.interp(grid, np.sort(x), y[np.argsort(x)]) if dense
              else profile(x, y, grid, fwhm))  # fmt: skip
    target = target / (np.linalg.norm(target) or 1.0)
    strains = np.linspace(-max_strain, max_strain, n_strains) if max_strain else np.zeros(1)
    rows = []
    for name, structure in structures.items():
        pattern = xrd_pattern(structure, (float(grid[0]), float(grid[-1])))
        scores = []
        for strain in strains:
            two_theta = _strained(pattern, strain)
            keep = np.isfinite(two_theta)
            curve = profile(two_theta[keep], pattern["intensity"].to_numpy()[keep], grid, fwhm)
            scores.append(float(curve @ target))
        best = int(np.argmax(scores))
        rows.append({"name": name, "similarity": scores[best], "strain": float(strains[best])})
    table = pd.DataFrame(rows, columns=["name", "similarity", "strain"])
    return table.sort_values("similarity", ascending=False, ignore_index=True)
