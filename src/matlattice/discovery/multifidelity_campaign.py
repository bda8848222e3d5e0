"""A campaign over two fidelities with costs (see :mod:`matlattice.discovery.multifidelity`).

Every proposal names its fidelity; the budget counts cost. The initial design measures
``initial`` random materials at both fidelities (the pairs that link them); afterwards each
ask ranks the candidates by the acquisition on the main fidelity under the autoregressive
surrogate and measures a chosen material cheaply first where the cheap part dominates its
uncertainty; a batch is worth ``batch_size`` main measurements, so it holds many cheap ones.
A cheap result of NaN marks the material as not measurable cheaply (it is not proposed at
that fidelity again). Open with
``open_campaign(path, pool, CampaignSettings(fidelities={...}))``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from matlattice.discovery.acquisition import acquisition_named, best_so_far, select_batch
from matlattice.discovery.campaign import Campaign, numeric_results
from matlattice.discovery.multifidelity import ar1_predict, cheap_first
from matlattice.errors import InvalidParameterError

__all__ = ["MultiFidelityCampaign"]

_COLUMNS = ["formula", "fidelity", "mean", "std", "score", "reason"]


class MultiFidelityCampaign(Campaign):
    """Two-fidelity campaign (see the module docstring); open one with
    :func:`~matlattice.discovery.opening.open_campaign` and settings with ``fidelities``.

    >>> from matlattice.discovery import CampaignSettings, open_campaign
    >>> settings = CampaignSettings(target="gap", fidelities={"dft": 1.0, "main": 10.0})
    >>> campaign = open_campaign("mf.sqlite", pool, settings)  # doctest: +SKIP
    """

    @property
    def cheap(self) -> str:
        """The cheap fidelity's name."""
        return next(f for f in self.costs if f != "main")

    @property
    def costs(self) -> dict[str, float]:
        """Cost of one measurement per fidelity."""
        return dict(self.settings.fidelities)

    def spent(self) -> float:
        """Cost of every result told so far."""
        return sum(len(self.store.results(f)) * c for f, c in self.costs.items())

    @property
    def done(self) -> bool:
        return self.spent() >= self.settings.budget - 1e-9

    def history(self) -> pd.DataFrame:
        """Every result in the order told: ``formula, fidelity, value, cost`` (cumulative)."""
        parts = [self.store.results(f).assign(fidelity=f) for f in self.costs]
        frame = pd.concat(parts).sort_values(["told", "iteration"], kind="stable")
        frame["cost"] = frame["fidelity"].map(self.costs).cumsum()
        return frame[["formula", "fidelity", "value", "iteration", "cost"]].reset_index(drop=True)

    def pending(self) -> pd.DataFrame:
        """Proposals of the last ask still waiting for a result at their fidelity."""
        return self.store.pending()

    def ask(self, n: int | None = None) -> pd.DataFrame:
        """The next ``(formula, fidelity)`` proposals with ``mean, std, score, reason``."""
        pending = self.pending()
        if len(pending):
            return pending[_COLUMNS]
        n = int(n or self.settings.batch_size)
        left = self.settings.budget - self.spent()
        main, cheap = self.store.results("main"), self.store.results(self.cheap)
        proposals = self.store.proposals()
        asked_main = set(proposals.loc[proposals["fidelity"] == "main", "formula"])
        candidates = [f for f in self.pool["formula"] if f not in asked_main]
        no_cheap = set(cheap["formula"]) | self.store.unavailable(self.cheap)
        iteration = self.store.iteration()
        rng = np.random.default_rng([self.settings.seed, iteration])
        if len(main) < self.settings.initial:
            pick = rng.choice(len(candidates), min(n, len(candidates)), replace=False)
            rows = []
            for i in pick:
                f = candidates[i]
                if f not in no_cheap:
                    rows.append((f, self.cheap, "initial design (pair)"))
                rows.append((f, "main", "initial design (pair)"))
            frame = pd.DataFrame(rows, columns=["formula", "fidelity", "reason"]).assign(
                mean=np.nan, std=np.nan, score=np.nan
            )
        else:
            frame = self._model_batch_mf(main, cheap, candidates, no_cheap, n, iteration, rng)
        frame = self._within_budget(frame[_COLUMNS], left)
        if len(frame):
            self.store.add_proposals(iteration, frame)
        return frame

    def _within_budget(self, frame: pd.DataFrame, left: float) -> pd.DataFrame:
        cost = frame["fidelity"].map(self.costs).cumsum()
        return frame[cost <= left + 1e-9].reset_index(drop=True)

    def _model_batch_mf(self, main, cheap, candidates, no_cheap, n, iteration, rng):
        s = self.settings
        start = time.perf_counter()
        pred = ar1_predict(self.model_factory, main, cheap, candidates)
        fit_seconds = time.perf_counter() - start
        best = best_so_far(main["value"].to_numpy(), s.goal)
        # one posterior draw, unused: earlier versions made it here, and keeping the random
        # stream means a stored campaign asks exactly what it asked before
        rng.normal(pred.mean, np.maximum(pred.std, 1e-12), size=(1, len(pred.mean)))
        scores = acquisition_named(s.acquisition).score(
            pred.mean, pred.std, goal=s.goal, best=best, window=s.window, alpha=s.alpha, rng=rng
        )
        can_cheap = np.array([f not in no_cheap for f in candidates])
        first = cheap_first(pred, can_cheap)
        # a batch is worth n main measurements: best-scored first, cheap ones where they
        # resolve most of the spread, until the batch costs n times the main cost
        order = select_batch(scores, len(scores), seed=s.seed)
        cost = np.where(first[order], self.costs[self.cheap], self.costs["main"])
        chosen = order[np.cumsum(cost) <= n * self.costs["main"] + 1e-9]
        self.store.add_model(
            iteration,
            len(main),
            fit_seconds,
            {"best": best, "rho": pred.rho, "offset": pred.offset, "n_cheap": len(cheap)},
        )
        self.timings.append({"iteration": iteration, "fit_seconds": fit_seconds})
        return pd.DataFrame(
            {
                "formula": [candidates[i] for i in chosen],
                "fidelity": [self.cheap if first[i] else "main" for i in chosen],
                "mean": pred.mean[chosen],
                "std": pred.std[chosen],
                "score": scores[chosen],
                "reason": [
                    f"{s.acquisition}: mean {pred.mean[i]:.4g}, spread {pred.std[i]:.3g}"
                    + (
                        f"; {self.cheap} first (its part of the spread "
                        f"{pred.cheap_std[i]:.3g} > {pred.delta_std[i]:.3g})"
                        if first[i]
                        else ""
                    )
                    for i in chosen
                ],
            }
        )

    def tell(self, results: pd.DataFrame, *, amend: bool = False) -> int:
        """Record ``formula, value[, fidelity]`` rows (fidelity default ``"main"``); a cheap
        value of NaN marks the material as not measurable cheaply. Returns new (or, with
        ``amend``, corrected) results; another value for a told one is refused unless
        ``amend`` (see :meth:`Campaign.tell`)."""
        if not {"formula", "value"} <= set(results.columns):
            raise InvalidParameterError(
                f"results need 'formula' and 'value' columns; got {list(results.columns)}"
            )
        results = results.copy()
        if "fidelity" not in results:
            results["fidelity"] = "main"
        unknown_fid = sorted(set(results["fidelity"]) - set(self.costs))
        if unknown_fid:
            raise InvalidParameterError(
                f"fidelities {unknown_fid} not in {sorted(self.costs)}; expected one of those"
            )
        self._check_in_pool(results)
        results = numeric_results(results, ["value"])
        main_missing = (results["fidelity"] == "main") & results["value"].isna()
        if main_missing.any():
            missing = results.loc[main_missing, "formula"].tolist()[:5]
            raise InvalidParameterError(
                f"main-fidelity results have missing values for {missing}; expected a number "
                "(NaN marks only a cheap result as not measurable)"
            )
        iteration = max(self.store.iteration() - 1, 0)
        parts = []
        for fidelity in (self.cheap, "main"):  # in this order: cost before what it bought
            group = results[results["fidelity"] == fidelity]
            missing = group["value"].isna()
            if missing.any():
                self.store.add_unavailable(group.loc[missing, "formula"].tolist(), fidelity)
            if (~missing).any():
                parts.append((group[~missing], {"value": fidelity}))
        return self._record(parts, iteration, amend)

    def run(self, oracle: Callable[..., pd.DataFrame]) -> pd.DataFrame:
        """Ask, measure each proposal at its fidelity with ``oracle(formulas, fidelity)``,
        tell, until the budget is spent; the main-fidelity results."""
        while not self.done:
            batch = self.ask()
            if batch.empty:
                break
            answers = [
                oracle(group["formula"].tolist(), fidelity).assign(fidelity=fidelity)
                for fidelity, group in batch.groupby("fidelity", sort=False)
            ]
            self.tell(pd.concat(answers, ignore_index=True))
        return self.results()
