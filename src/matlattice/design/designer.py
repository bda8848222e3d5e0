"""The combined designer: pool the generators' proposals, keep the plausible new ones, rank
them by how likely they are to exist and to meet the targets.

:class:`Designer` takes the known compositions (a frame with ``formula`` and the target
properties' labels), orders them best first as parents, asks every generator for
proposals, removes known compositions and repeats (by composition key, so ``Fe2O3`` and
``O3Fe2`` are one), applies the constraints, predicts the targets and ranks by

    log P(meets every target | model) + prior_weight * log P(substitution)

where the first term comes from the model's predictive mean and spread
(:func:`~matlattice.design.objectives.meet_probability`) and the second from the
substitution table mined from the known compositions
(:meth:`~matlattice.design.mined.SubstitutionTable.plausibility`): the chance that a
candidate exists at all, rated by its most likely single substitution from a known
composition. The property model alone climbs its own extrapolations; the prior alone
ignores the target; their product ranks a candidate first when it is both a likely
compound and a likely hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matlattice.design.constraints import CHECKS, DesignConstraints, check_compositions
from matlattice.design.evolution import capped_best
from matlattice.design.mined import MinedSubstitution, SubstitutionTable
from matlattice.design.objectives import DesignTarget, meet_probability
from matlattice.design.rediscovery import candidate_keys
from matlattice.design.stability import StabilityObjective
from matlattice.design.steering import LatticeSteering
from matlattice.errors import InvalidParameterError, MatlatticeError

__all__ = ["Designer", "Predictor", "goal_rank", "model_predictor", "parent_order"]

#: ``predictor(formulas) -> (mean (n, t), std (n, t), cov (n, t, t) or None)``, targets in
#: the order they were given.
Predictor = Callable[[list[str]], tuple[np.ndarray, np.ndarray, np.ndarray | None]]


def model_predictor(model, properties: Sequence[str], joint: bool = False) -> Predictor:
    """A :data:`Predictor` of a fitted matlattice model (a forest, or a network with
    ``predict_cov``) for ``properties`` among its tasks; ``joint``: also the covariance
    between them (a network's ensemble; a forest gives none). A single network takes its
    spread from MC dropout, and one without dropout is refused."""
    tasks = list(model.tasks_)
    missing = [p for p in properties if p not in tasks]
    if missing:
        raise InvalidParameterError(f"the model does not predict {missing}; it predicts {tasks}")
    columns = [tasks.index(p) for p in properties]
    # a single uncalibrated network has no spread: its MC dropout spread, or a refusal (a
    # zero spread would make every probability of meeting a target 0 or 1)
    passes = model._interval_mc_samples(0) if hasattr(model, "_interval_mc_samples") else 0
    extra = {"mc_samples": passes} if passes else {}

    def predict(formulas: list[str]):
        mean, std = model.predict(formulas, return_std=True, **extra)
        mean = np.asarray(mean, dtype=float).reshape(len(formulas), -1)[:, columns]
        std = np.asarray(std, dtype=float).reshape(len(formulas), -1)[:, columns]
        cov = None
        if joint and hasattr(model, "predict_cov"):
            cov = model.predict_cov(formulas, **extra)[:, columns][:, :, columns]
        return mean, std, cov

    return predict


def goal_rank(known: pd.DataFrame, targets: Sequence[DesignTarget]) -> np.ndarray:
    """Per known row, the mean over targets of its label's percentile rank towards the goal
    (a window: nearness to the window); an unlabelled value counts as the median."""
    ranks = []
    for target in targets:
        values = known[target.property].to_numpy(dtype=float)
        if target.goal == "max":
            toward = values
        elif target.goal == "min":
            toward = -values
        else:
            toward = -np.maximum(target.low - values, values - target.high).clip(min=0)
        ranks.append(pd.Series(toward).rank(pct=True).fillna(0.5).to_numpy())
    return np.mean(ranks, axis=0)


def parent_order(known: pd.DataFrame, targets: Sequence[DesignTarget]) -> list[str]:
    """The known formulas best first, by :func:`goal_rank`."""
    order = np.argsort(-goal_rank(known, targets), kind="stable")
    return known["formula"].to_numpy()[order].tolist()


@dataclass
class Designer:
    """Combined inverse designer (module docstring).

    Parameters
    ----------
    predictor : the targets' predictive mean, spread and (optionally) covariance
    targets : what the candidates should meet (resolved against the known labels)
    generators : ``name -> generator(parents, n, rng)``; default: mined substitution
    constraints : the checks a candidate must pass to be ranked
    prior_weight : exponent of the substitution prior in the ranking (0: the model alone)
    per_system : at most this many candidates per chemical system (None: no cap)
    pool : proposals asked of each generator
    stable : a hull-distance objective (:mod:`~matlattice.design.stability`): its
        probability of being near the known hull multiplies the probability of meeting the
        targets in the ranking
    steering : the lattice's reading of the targets (:mod:`~matlattice.design.steering`):
        with several targets and a predictor without a joint covariance, the errors of
        coupled targets are correlated as the lattice measured
    progress : hears one line per step
    """

    predictor: Predictor
    targets: list[DesignTarget]
    generators: dict[str, Callable] = field(default_factory=lambda: {"mined": MinedSubstitution()})
    constraints: DesignConstraints = field(default_factory=DesignConstraints)
    prior_weight: float = 1.0
    per_system: int | None = None
    pool: int = 200_000
    steering: LatticeSteering | None = None
    stable: StabilityObjective | None = None
    progress: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if not self.targets:
            raise InvalidParameterError("a design needs at least one target")
        if not 0 <= self.prior_weight < np.inf:  # NaN fails too
            raise InvalidParameterError(f"prior_weight={self.prior_weight}; expected >= 0")
        if self.per_system is not None and self.per_system < 1:
            raise InvalidParameterError(f"per_system={self.per_system} must be at least 1")

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def resolved_targets(self, known: pd.DataFrame) -> list[DesignTarget]:
        missing = [t.property for t in self.targets if t.property not in known.columns]
        if missing:
            raise InvalidParameterError(
                f"targets {missing} are not columns of the known data {list(known.columns)}"
            )
        return [t.resolve(known[t.property].to_numpy(dtype=float)) for t in self.targets]

    def propose(self, parents: list[str], known_keys: set[str], rng) -> pd.DataFrame:
        """Every generator's new proposals: ``formula`` (as the first generator wrote it),
        ``generator`` (the first that proposed it), ``proposed_by`` (every one that did,
        joined by ``+``) and ``key``; known compositions and repeats removed."""
        frames = []
        for name, generator in self.generators.items():
            made = list(generator(parents, self.pool, rng))
            self._say(f"generator {name}: {len(made):,} proposals")
            frames.append(pd.DataFrame({"formula": made, "generator": name}))
        pool = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if pool.empty:
            return pool.assign(key=[])
        pool["key"] = candidate_keys(pool["formula"].tolist())
        fresh = pool[(pool["key"] != "") & ~pool["key"].isin(known_keys)]
        by = fresh.groupby("key", sort=False)["generator"].agg(lambda g: "+".join(dict.fromkeys(g)))
        first = fresh.drop_duplicates("key").reset_index(drop=True)
        return first.assign(proposed_by=by.loc[first["key"]].to_numpy())

    def design(
        self, known: pd.DataFrame, n: int, seed: int = 0, exclude: Sequence[str] = ()
    ) -> pd.DataFrame:
        """The ``n`` best new candidates, best first, one row each (columns: ``formula``,
        ``score``, ``p_meet``, per target ``<property>`` and ``<property>_std``,
        ``prior``, ``generator``, the constraint checks); none is a composition of
        ``known`` or of ``exclude`` (reference compositions that are not new either)."""
        if n < 1:
            raise InvalidParameterError(f"n={n} must be at least 1")
        targets = self.resolved_targets(known)
        for t in targets:
            self._say(f"target: {t.describe()}")
        parents = parent_order(known, targets)
        known_keys = set(candidate_keys([*known["formula"], *exclude])) - {""}
        pool = self.propose(parents, known_keys, np.random.default_rng(seed))
        checked = check_compositions(pool["formula"].tolist(), self.constraints)
        pool = pd.concat([pool, checked[list(CHECKS)]], axis=1)[checked["passes"].to_numpy()]
        self._say(f"{len(pool):,} new candidates pass the checks")
        if pool.empty:
            raise MatlatticeError(
                "no generator proposed a new composition that passes the checks; loosen the "
                "constraints or give more known compositions"
            )
        return self.rank(pool, known, n)

    def scorer(self, known: pd.DataFrame) -> Callable[[list[str]], pd.DataFrame]:
        """``score(formulas)``: a frame of ``score``, ``p_meet``, ``prior`` and the targets'
        means and spreads (with several targets, each one's own probability too), judged
        against ``known`` (its labels set the targets, its compositions the prior)."""
        targets = self.resolved_targets(known)
        table = SubstitutionTable.mine(known["formula"].tolist())

        def score(formulas: list[str]) -> pd.DataFrame:
            mean, std, cov = self.predictor(list(formulas))
            mean = np.asarray(mean, dtype=float).reshape(len(formulas), -1)
            std = np.asarray(std, dtype=float).reshape(mean.shape)
            if cov is None and self.steering is not None and len(targets) > 1:
                cov = self.steering.covariance(std)
            p_meet = meet_probability(targets, mean, std, cov)
            prior = table.plausibility(formulas)
            stable = self.stable(list(formulas)) if self.stable is not None else None
            p_all = p_meet * (stable["p_stable"].to_numpy() if stable is not None else 1.0)
            frame = pd.DataFrame(
                {
                    "score": np.log(np.maximum(p_all, 1e-300)) + self.prior_weight * np.log(prior),
                    "p_meet": p_meet,
                    "prior": prior,
                }
            )
            if stable is not None:
                frame = pd.concat([frame, stable], axis=1)
            for j, t in enumerate(targets):
                frame[t.property], frame[f"{t.property}_std"] = mean[:, j], std[:, j]
                if len(targets) > 1:
                    frame[f"{t.property}_p_meet"] = meet_probability([t], mean[:, [j]], std[:, [j]])
            return frame

        return score

    def ranking_score(self, known: pd.DataFrame) -> Callable[[list[str]], np.ndarray]:
        """``score(formulas) -> (n,) array``: the ranking score alone (for a search that
        climbs it, such as :class:`~matlattice.design.evolution.EvolutionarySearch`)."""
        scorer = self.scorer(known)
        return lambda formulas: scorer(formulas)["score"].to_numpy()

    def rank(self, pool: pd.DataFrame, known: pd.DataFrame, n: int) -> pd.DataFrame:
        """The ``n`` best rows of ``pool`` (``formula`` and any other columns) by
        :meth:`scorer`, best first, under the per-system cap."""
        formulas = pool["formula"].tolist()
        scored = self.scorer(known)(formulas)
        out = pd.concat(
            [pool.drop(columns="key", errors="ignore").reset_index(drop=True), scored], axis=1
        )
        score = scored["score"].to_numpy()
        if self.per_system is not None:
            chosen = capped_best(formulas, score, n, self.per_system)
            out = out.set_index("formula").loc[chosen].reset_index()
        else:
            out = out.sort_values("score", ascending=False, kind="stable").head(n)
        first = ["formula", "score", "p_meet"]
        return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)
