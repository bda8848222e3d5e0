"""The applicability domain: held-back rows of the reference sit inside, far rows outside,
and collapsed features (constant columns, repeated rows) do not break its density."""

from __future__ import annotations

import numpy as np

from matlattice.uncertainty.domain import ApplicabilityDomain


def test_far_rows_are_outside_and_near_rows_inside():
    rng = np.random.default_rng(0)
    reference, validation = rng.normal(size=(400, 5)), rng.normal(size=(100, 5))
    domain = ApplicabilityDomain(seed=0).fit(reference, validation)
    assert domain.in_domain(rng.normal(size=(200, 5))).mean() > 0.85
    assert not domain.in_domain(rng.normal(size=(50, 5)) + 8.0).any()


def test_collapsed_features_still_fit():
    rng = np.random.default_rng(1)
    base = np.repeat(rng.normal(size=(5, 3)), 40, axis=0)  # five points, each 40 times
    reference = np.column_stack([base, np.zeros(len(base))])  # and a constant column
    domain = ApplicabilityDomain(n_components=8, seed=0).fit(reference, reference[:20])
    assert np.isfinite(domain.log_density(reference[:3])).all()
    assert domain.in_domain(reference[:3]).all()
