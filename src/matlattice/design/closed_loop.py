"""The closed loop: campaigns whose pool grows by the design generators.

A campaign with ``generate > 0`` asks its generator for new compositions from the measured
ones before each model-driven ask (:mod:`matlattice.discovery.campaign`).
:func:`campaign_generator` builds the callable a campaign takes for the design generators
it can name:

- ``"mined"``: :class:`~matlattice.design.mined.MinedSubstitution` over a substitution table
  mined from every composition the campaign knows (its pool, which grows, and what it
  measured): the substitutions its own chemistry shows, applied to the best measured
  compositions;
- ``"ion_exchange"``: :class:`~matlattice.design.substitution.IonExchange`, pymatgen's
  data-mined ion substitutions on the best measured compositions (the Szymanski-Bartel peer).

Either way only children that pass the default design checks
(:class:`~matlattice.design.constraints.DesignConstraints`: SMACT chemistry, 2-4 elements,
at most 20 atoms per formula unit) join the pool, so a closed loop stays as plausible as
``matlattice design``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from matlattice.design.constraints import DesignConstraints, check_compositions
from matlattice.design.mined import MinedSubstitution, SubstitutionTable
from matlattice.design.substitution import IonExchange

__all__ = ["campaign_generator"]

_OVERDRAW = 4  # children drawn per slot before the checks


def campaign_generator(
    settings, pool: Sequence[str], constraints: DesignConstraints | None = None
) -> Callable | None:
    """The generator ``settings.generator`` names, for a campaign over ``pool``; None for the
    campaign's built-in one (``"substitution"``)."""
    rules = constraints or DesignConstraints()
    if settings.generator == "mined":
        known = list(pool)

        def draw(parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
            table = SubstitutionTable.mine(list(dict.fromkeys([*known, *parents])))
            children = MinedSubstitution(parent_share=0.25, table=table).propose(parents)
            return children["formula"].head(n).tolist()

    elif settings.generator == "ion_exchange":
        draw = IonExchange()
    else:
        return None

    def checked(parents: list[str], n: int, rng: np.random.Generator) -> list[str]:
        children = draw(parents, _OVERDRAW * n, rng)
        if not children:
            return []
        checks = check_compositions(children, rules)
        return checks.loc[checks["passes"], "formula"].head(n).tolist()

    return checked
