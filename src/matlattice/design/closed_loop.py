"""The closed loop: campaigns whose pool grows by the design generators.

A campaign with ``generate > 0`` asks its generator for new compositions from the measured
ones before each model-driven ask (:mod:`matlattice.discovery.campaign`). With
``generator="mined"`` that generator is :class:`~matlattice.design.mined.MinedSubstitution`
over a substitution table mined from every composition the campaign knows (its pool, which
grows, and what it measured): the substitutions its own chemistry shows, applied to the best
measured compositions. :func:`campaign_generator` builds the callable a campaign takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from matlattice.design.mined import MinedSubstitution, SubstitutionTable

__all__ = ["campaign_generator"]


def campaign_generator(settings, pool: Sequence[str]) -> Callable | None:
    """The generator ``settings.generator`` names, for a campaign over ``pool``; None for the
    campaign's built-in one."""
    if settings.generator != "mined":
        return None
    known = list(pool)

    def mined(parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        table = SubstitutionTable.mine(list(dict.fromkeys([*known, *parents])))
        children = MinedSubstitution(parent_share=0.25, table=table).propose(parents)
        return children["formula"].head(n).tolist()

    return mined
