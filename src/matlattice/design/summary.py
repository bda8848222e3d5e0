"""What a set of designed candidates is, measured against the known compositions: how far
each lies from the nearest known one, whether the property model has seen its like, and
how valid, unique, novel and diverse the set is.

- ``nearest_known`` / ``distance``: the known composition closest in atomic fractions and
  half the L1 distance between the two (the share of atoms that would have to change: 0 for
  the same composition, 1 for no element in common);
- ``in_domain``: the candidate's mean distance to its nearest known compositions in the
  property model's feature space (Magpie element statistics, standardised) is within what
  95 % of held-back known compositions show (:class:`~matlattice.uncertainty.domain.
  ApplicabilityDomain`);
- diversity: the number of chemical systems and the Vendi score of the element fractions
  (Friedman and Dieng 2023: the exponential of the entropy of the cosine-similarity matrix's
  eigenvalues; the effective number of distinct compositions).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from matlattice.composition import parse_formulas
from matlattice.composition.hull import formula_systems
from matlattice.design.constraints import check_compositions
from matlattice.design.rediscovery import candidate_keys

__all__ = ["design_summary", "domain_flags", "element_vendi", "nearest_known"]


def _fractions(formulas: Sequence[str]):
    return parse_formulas(list(formulas), errors="report").fractions


def nearest_known(candidates: Sequence[str], known: Sequence[str]) -> pd.DataFrame:
    """``nearest_known`` and ``distance`` (module docstring) per candidate."""
    from sklearn.neighbors import NearestNeighbors

    known = list(known)
    index = NearestNeighbors(n_neighbors=1, metric="manhattan").fit(_fractions(known))
    distance, row = index.kneighbors(_fractions(candidates))
    return pd.DataFrame(
        {
            "nearest_known": np.asarray(known, dtype=object)[row[:, 0]],
            "distance": distance[:, 0] / 2.0,
        }
    )


def domain_flags(candidates: Sequence[str], known: Sequence[str], seed: int = 0) -> np.ndarray:
    """``in_domain`` per candidate (module docstring); the domain is calibrated on a seeded
    15 % of the known compositions held back from its reference."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    from matlattice.represent.featurizers import ElementStatsFeaturizer
    from matlattice.uncertainty.domain import ApplicabilityDomain

    featurizer = ElementStatsFeaturizer("magpie", missing="mean").fit()
    reference = featurizer.transform(list(known))
    scaler = StandardScaler().fit(reference)
    reference = np.nan_to_num(scaler.transform(reference))
    held = np.random.default_rng(seed).random(len(reference)) < 0.15
    with warnings.catch_warnings():  # the density's mixture; the flag reads the distances
        warnings.simplefilter("ignore", ConvergenceWarning)
        domain = ApplicabilityDomain(seed=seed).fit(reference[~held], reference[held])
    features = np.nan_to_num(scaler.transform(featurizer.transform(list(candidates))))
    return np.asarray(domain.in_domain(features), dtype=bool)


def element_vendi(formulas: Sequence[str]) -> float:
    """Vendi score of the formulas' element fractions (cosine similarity)."""
    if not len(formulas):
        return 0.0
    x = _fractions(formulas).toarray()
    x /= np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)
    eigen = np.linalg.eigvalsh(x @ x.T / len(x)).clip(min=0.0)
    eigen = eigen[eigen > 1e-12]
    return float(np.exp(-(eigen * np.log(eigen)).sum()))


def design_summary(candidates: pd.DataFrame, known: Sequence[str], constraints) -> dict:
    """Validity (share passing every check, rechecked here), uniqueness (distinct
    compositions), novelty (share not among the known), diversity, counts per generator
    (``per_generator``: the first that proposed each candidate; ``proposed_by``: every one
    that did, so overlaps count for each)."""
    formulas = candidates["formula"].tolist()
    keys = candidate_keys(formulas)
    known_keys = set(candidate_keys(list(known)))
    checked = check_compositions(formulas, constraints) if formulas else None
    return {
        "candidates": len(formulas),
        "validity": float(checked["passes"].mean()) if formulas else float("nan"),
        "uniqueness": len(set(keys)) / len(keys) if len(keys) else float("nan"),
        "novelty": float(np.mean([k not in known_keys for k in keys])) if len(keys) else 0.0,
        "chemical_systems": len(set(formula_systems(formulas))),
        "element_vendi": element_vendi(formulas),
        "per_generator": candidates["generator"].value_counts().to_dict()
        if "generator" in candidates
        else {},
        "proposed_by": candidates["proposed_by"].str.split("+").explode().value_counts().to_dict()
        if "proposed_by" in candidates
        else {},
    }
