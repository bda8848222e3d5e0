"""An ask/tell discovery campaign over a pool of candidates, stored in SQLite.

:func:`~matlattice.discovery.opening.open_campaign` creates a campaign (or reopens it: the
saved settings must match) and :func:`~matlattice.discovery.opening.resume_campaign` reopens
one from its file alone. ``ask(n)`` proposes the next candidates with their predicted mean,
spread, score and reason; ``tell(results)`` records measurements; ``run(oracle)`` loops
until the budget is spent. A campaign killed at any point reopens where it stopped:
proposals of an ask not yet told are returned again by the next ``ask`` rather than drawn
anew, and results are stored once.

The model is any regressor with ``fit`` and ``predict(X, return_std=True)``: a
:class:`~matlattice.models.LatticeRegressor` (fitted on a frame with ``formula`` and the
target) or anything fitted on formulas and values (:class:`~matlattice.models.MultiTaskForest`,
the benchmark's Gaussian process); the first ``initial`` measurements are drawn at random,
and so is every batch of an acquisition that uses no model (``"random"``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from matlattice.discovery.acquisition import acquisition_named, best_so_far
from matlattice.discovery.generators import SubstitutionGenerator, new_candidates
from matlattice.discovery.pareto import parego_frame, pareto_mask
from matlattice.discovery.reticulum import reticulum_correct
from matlattice.discovery.settings import CampaignSettings
from matlattice.discovery.stability import probe_info, probe_set, stability_table
from matlattice.discovery.store import CampaignStore
from matlattice.discovery.surrogates import fit_predict, posterior_draws
from matlattice.errors import ConflictingResultError, InvalidParameterError, MatlatticeError

__all__ = ["Campaign"]

_ASKED = ["formula", "mean", "std", "score", "reason"]


class Campaign:
    """A single-objective or ParEGO campaign (see the module docstring).

    Open one with :func:`~matlattice.discovery.opening.open_campaign`; the constructor
    takes an open ``store``, the ``pool`` frame (``formula``, with any generated ones),
    the ``settings``, a ``model_factory`` of fresh surrogates, ``pool_size`` (how many pool
    rows the campaign was created with; the probe set is drawn from those) and the
    open-ended ``generator``.

    >>> from matlattice.discovery import CampaignSettings, open_campaign
    >>> campaign = open_campaign("c.sqlite", pool, CampaignSettings(target="gap"))  # doctest: +SKIP
    >>> batch = campaign.ask()  # doctest: +SKIP
    >>> campaign.tell(measure(batch["formula"]))  # doctest: +SKIP
    """

    def __init__(
        self,
        store: CampaignStore,
        pool: pd.DataFrame,
        settings: CampaignSettings,
        model_factory: Callable[[], object],
        *,
        pool_size: int | None = None,
        generator: Callable[..., list[str]] | None = None,
    ) -> None:
        self.store = store
        self.pool = pool
        self.settings = settings
        self.model_factory = model_factory
        self.pool_size = len(pool) if pool_size is None else pool_size
        self.generator = generator
        self.timings: list[dict] = []
        self._fitted: tuple[object, int, int] | None = None  # (model, ask, results seen)

    def close(self) -> None:
        """Close the store (the campaign reopens from its file)."""
        self.store.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- what has happened ----------------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        """What each measurement records: the objectives, or ``["main"]``."""
        return list(self.settings.objectives or {}) or ["main"]

    def results(self) -> pd.DataFrame:
        """Measured materials in the order told: ``formula, value, iteration, told``, or with
        objectives one column per objective instead of ``value``."""
        first = self.store.results(self.channels[0])
        if not self.settings.objectives:
            return first
        frame = first.rename(columns={"value": self.channels[0]})
        for name in self.channels[1:]:
            other = self.store.results(name)[["formula", "value"]].rename(columns={"value": name})
            frame = frame.merge(other, on="formula", how="inner")
        return frame[["formula", *self.channels, "iteration", "told"]]

    @property
    def n_measured(self) -> int:
        return len(self.results())

    def unmeasurable(self) -> set[str]:
        """Proposals told as not measurable (an empty value): each used one measurement of
        the budget, as a failed attempt does, and none is proposed again."""
        return self.store.unavailable(self.channels[0])

    @property
    def n_spent(self) -> int:
        """Measurements used: the measured and the attempts told as not measurable."""
        return self.n_measured + len(self.unmeasurable())

    @property
    def done(self) -> bool:
        return self.n_spent >= self.settings.budget

    def pending(self) -> pd.DataFrame:
        """Proposals of the last ask still waiting for their results (the next ``ask``
        returns them again)."""
        return self.store.pending(self.channels[-1])

    def proposals(self) -> pd.DataFrame:
        """Every proposal with its result where there is one: the proposals' ``iteration,
        formula, mean, std, score, reason, created, fidelity`` and the results' columns
        (``told_iteration`` for the iteration the result was told in; NaN where none)."""
        told = self.results().rename(columns={"iteration": "told_iteration"})
        frame = self.store.proposals().merge(told, on="formula", how="left")
        frame["measurable"] = ~frame["formula"].isin(self.unmeasurable())
        return frame

    def best(self) -> pd.DataFrame:
        """The best measured so far: one row of :meth:`results` (by the goal), or with
        objectives the measured Pareto front; empty before any result."""
        results = self.results()
        objectives = self.settings.objectives
        if not len(results):
            return results
        if objectives:
            signs = [1 if g == "max" else -1 for g in objectives.values()]
            return results[pareto_mask(results[list(objectives)].to_numpy(float) * signs)]
        values = results["value"]
        row = values.idxmax() if self.settings.goal == "max" else values.idxmin()
        return results.loc[[row]]

    # --- ask --------------------------------------------------------------------------------
    def ask(self, n: int | None = None) -> pd.DataFrame:
        """The next candidates: ``formula, mean, std, score, reason`` (pending ones first)."""
        pending = self.pending()
        if len(pending):
            return pending[_ASKED]
        s = self.settings
        n = min(int(n or s.batch_size), s.budget - self.n_spent)
        if n <= 0:
            return pd.DataFrame(columns=_ASKED)
        iteration = self.store.iteration()
        measured = self.results()
        asked = set(self.store.proposals()["formula"]) | set(measured["formula"])
        candidates = [f for f in self.pool["formula"] if f not in asked]
        rng = np.random.default_rng([s.seed, iteration])
        uses_model = acquisition_named(s.acquisition).uses_model
        if not uses_model or len(measured) < s.initial:
            reason = "initial random design" if uses_model else "random choice"
            frame = _random_batch(candidates, n, rng, reason)
        else:
            if s.generate:
                candidates += self._grow_pool(measured, rng)
            note = ""
            if s.objectives:
                measured, note = parego_frame(measured, s.objectives, rng)
            frame = self._model_batch(measured, candidates, n, iteration, rng, note)
        self.store.add_proposals(iteration, frame)
        return frame

    def _grow_pool(self, measured: pd.DataFrame, rng) -> list[str]:
        """New compositions from the measured ones, added to the pool (stored)."""
        generator = self.generator
        if generator is None and self.settings.generator != "substitution":
            raise MatlatticeError(
                f"this campaign grows its pool with the {self.settings.generator!r} generator, "
                "which matlattice.design supplies: open it through the CLI or pass "
                "generator=matlattice.design.campaign_generator(settings, pool)"
            )
        generator = generator or SubstitutionGenerator()
        pool = self.pool["formula"].tolist()
        new = new_candidates(
            generator, measured, self.settings.goal, self.settings.generate, rng, pool
        )
        if new:
            self.store.save_pool(new)
            self.pool = pd.concat([self.pool, pd.DataFrame({"formula": new})], ignore_index=True)
        return new

    def _predict(
        self, measured, candidates, iteration
    ) -> tuple[object, np.ndarray, np.ndarray, str]:
        """``(model, mean, std, note)``: a refit, or between refits (``retrain_every``) the
        last model's predictions, corrected by the reticulum when it is on."""
        s = self.settings
        if self._fitted is not None and iteration - self._fitted[1] < s.retrain_every:
            model, _, seen = self._fitted
            mean, std = (
                np.asarray(a, dtype=float).reshape(-1)
                for a in model.predict(candidates, return_std=True)
            )
            new = measured.iloc[seen:]
            if s.reticulum_gamma is None or not len(new):
                return model, mean, std, ""
            mean = reticulum_correct(model, new, candidates, mean, s.reticulum_gamma)
            return model, mean, std, f"; reticulum corrected by {len(new)} new results"
        previous = self._fitted[0] if self._fitted is not None else None
        model = self.model_factory()
        mean, std = fit_predict(
            model,
            measured,
            s.target,
            candidates,
            warm_from=previous,
            warm_epochs=s.warm_start_epochs,
        )
        self._fitted = (model, iteration, len(measured))
        return model, mean, std, ""

    def _model_batch(self, measured, candidates, n, iteration, rng, note="") -> pd.DataFrame:
        s, acquisition = self.settings, acquisition_named(self.settings.acquisition)
        start = time.perf_counter()
        refit = self._fitted is None or iteration - self._fitted[1] >= s.retrain_every
        model, mean, std, correction = self._predict(measured, candidates, iteration)
        fit_seconds = time.perf_counter() - start
        draws = None
        if "draws" in acquisition.needs:  # Thompson: one posterior draw per pick
            draws = posterior_draws(model, candidates, mean, std, n, rng)
        best = best_so_far(measured["value"].to_numpy(), s.goal)
        scores = acquisition.score(
            mean, std, goal=s.goal, best=best, draws=draws, window=s.window, alpha=s.alpha, rng=rng
        )
        embedding = None
        if s.diversity and not acquisition.per_pick and hasattr(model, "transform"):
            embedding = model.transform(candidates)
        chosen = acquisition.select(
            scores, n, draws=draws, rng=rng, goal=s.goal, embedding=embedding, seed=s.seed
        )
        probe_start = time.perf_counter()
        if refit:
            self.store.add_model(
                iteration, len(measured), fit_seconds, {"best": best, **self._probe(model)}
            )
        self.timings.append(
            {
                "iteration": iteration,
                "fit_seconds": fit_seconds,
                "probe_seconds": time.perf_counter() - probe_start,
            }
        )
        note += correction
        return pd.DataFrame(
            {
                "formula": [candidates[i] for i in chosen],
                "mean": mean[chosen],
                "std": std[chosen],
                "score": scores[chosen],
                "reason": [
                    f"{s.acquisition}: mean {mean[i]:.4g}, spread {std[i]:.3g}{note}"
                    for i in chosen
                ],
            }
        )

    # --- stability monitor ------------------------------------------------------------------
    def probe_set(self) -> list[str]:
        """The fixed probe candidates: a seeded draw from the pool the campaign was created
        with (an open-ended campaign's grown pool does not move it)."""
        original = self.pool["formula"].iloc[: self.pool_size].tolist()
        return probe_set(original, self.settings.probe_size, self.settings.seed)

    def _probe(self, model) -> dict:
        """The new model's probe predictions and how far they moved from the last model's."""
        if not self.settings.probe_size:
            return {}
        return probe_info(model.predict(self.probe_set()), self.store.models())

    def stability(self) -> pd.DataFrame:
        """One row per model version: ``iteration, n_train, fit_seconds, probe_shift,
        probe_rank_corr`` (NaN for the first model)."""
        return stability_table(self.store.models())

    # --- tell and run -----------------------------------------------------------------------
    def tell(self, results: pd.DataFrame, *, amend: bool = False) -> int:
        """Record ``formula, value`` rows (with objectives: ``formula`` and one column per
        objective); returns how many values were new or, with ``amend``, corrected.

        Telling a stored result again with the same value changes nothing (a resumed loop
        may repeat itself); with another value it is refused unless ``amend``, which
        replaces it and keeps the old one in :meth:`amendments`."""
        objectives = self.settings.objectives
        columns = list(objectives) if objectives else ["value"]
        if not {"formula", *columns} <= set(results.columns):
            raise InvalidParameterError(
                f"results need 'formula' and {', '.join(repr(c) for c in columns)} columns; "
                f"got {list(results.columns)}"
            )
        self._check_in_pool(results)
        results = numeric_results(results, columns)
        missing = results[columns].isna().any(axis=1)
        if missing.any() and objectives:
            raise InvalidParameterError(
                f"results have missing values in {columns} for "
                f"{results.loc[missing, 'formula'].tolist()[:5]}; expected a number in every "
                "row (only a single-objective campaign takes an empty value as not measurable)"
            )
        channels = {k: k for k in objectives} if objectives else {"value": "main"}
        iteration = max(self.store.iteration() - 1, 0)
        self._mark_unmeasurable(results.loc[missing, "formula"].tolist())
        measured = results[~missing]
        self._check_measurable(measured["formula"], amend)
        return self._record([(measured, channels)], iteration, amend) // len(columns)

    def _mark_unmeasurable(self, formulas: list[str]) -> None:
        """Record ``formulas`` as not measurable; one with a told value is refused."""
        told = sorted(set(formulas) & set(self.results()["formula"]))
        if told:
            raise ConflictingResultError(
                f"{told[:5]} have measured values but are told as not measurable (empty "
                "value); expected their value, or leave them out"
            )
        self.store.add_unavailable(formulas, self.channels[0])

    def _check_measurable(self, formulas, amend: bool) -> None:
        """A value for a proposal told as not measurable is a correction: only with
        ``amend``, which lifts the mark."""
        marked = sorted(set(formulas) & self.unmeasurable())
        if marked and not amend:
            raise ConflictingResultError(
                f"{marked[:5]} were told as not measurable; to give their values now, tell "
                "again with --amend (amend=True)"
            )
        self.store.remove_unavailable(marked, self.channels[0])

    def _record(self, parts: list[tuple[pd.DataFrame, dict]], iteration: int, amend: bool) -> int:
        """Store each ``(frame, {column: fidelity})`` part: new values are added, told ones
        that differ are refused (before anything is written) or, with ``amend``, replaced.
        Returns how many values were added or replaced."""
        changed = [c for frame, channels in parts for c in self._changed_results(frame, channels)]
        if changed and not amend:
            raise ConflictingResultError(
                f"{len(changed)} results differ from the values already told "
                f"(formula, column, told before, told now): {changed[:3]}; to correct them, "
                "tell again with --amend (amend=True), which keeps the old values in the history"
            )
        stored = 0
        for frame, channels in parts:
            for column, name in channels.items():
                values = frame[["formula", column]].rename(columns={column: "value"})
                stored += self.store.amend_results(values, name)
            stored += self.store.add_results(frame, iteration, channels)
        return stored

    def _changed_results(self, results: pd.DataFrame, channels: dict[str, str]) -> list:
        """``(formula, column, stored, told)`` for every told value that differs from a
        stored one."""
        changed = []
        for column, name in channels.items():
            stored = dict(self.store.results(name)[["formula", "value"]].to_numpy())
            changed += [
                (f, column, stored[f], v)
                for f, v in zip(results["formula"], results[column], strict=True)
                if f in stored and stored[f] != v
            ]
        return changed

    def amendments(self) -> pd.DataFrame:
        """Every corrected result: ``formula, fidelity, old_value, new_value, told``."""
        return self.store.amendments()

    def _check_in_pool(self, results: pd.DataFrame) -> None:
        unknown = sorted(set(results["formula"]) - set(self.pool["formula"]))
        if unknown:
            raise InvalidParameterError(
                f"formulas not in the pool: {unknown[:5]}; expected candidates of the pool"
            )

    def run(self, oracle: Callable[[list[str]], pd.DataFrame]) -> pd.DataFrame:
        """Ask, measure with ``oracle``, tell, until the budget is spent; the results."""
        while not self.done:
            batch = self.ask()
            if batch.empty:
                break
            self.tell(oracle(batch["formula"].tolist()))
        return self.results()


def _random_batch(candidates: list[str], n: int, rng, reason: str) -> pd.DataFrame:
    """``n`` candidates drawn at random (no model, no scores)."""
    pick = rng.choice(len(candidates), min(n, len(candidates)), replace=False)
    return pd.DataFrame(
        {
            "formula": [candidates[i] for i in pick],
            "mean": np.nan,
            "std": np.nan,
            "score": np.nan,
            "reason": reason,
        }
    )


def numeric_results(results: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``results`` with ``columns`` as floats; a value that is not a number (``"abc"``) or
    not finite (``inf``) is refused by formula. Empty cells stay NaN for the caller to judge."""
    out = results.copy()
    for column in columns:
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        bad = (values.isna() & out[column].notna()) | np.isinf(values)
        if bad.any():
            rows = out.loc[bad, ["formula", column]].head(5).to_numpy().tolist()
            raise InvalidParameterError(
                f"results in {column!r} that are not finite numbers: {rows}; expected a "
                "measured value in the property's unit"
            )
        out[column] = values
    return out
