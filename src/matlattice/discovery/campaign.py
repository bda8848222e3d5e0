"""An ask/tell discovery campaign over a pool of candidates, stored in SQLite.

``Campaign.open(path, pool, ...)`` creates a campaign (or reopens it: the saved config must
match). ``ask(n)`` proposes the next candidates with their predicted mean, spread, score and
reason; ``tell(results)`` records measurements; ``run(oracle)`` loops until the budget is
spent. A campaign killed at any point reopens where it stopped: proposals of an ask not yet
told are returned again by the next ``ask`` rather than drawn anew, and results are stored
once.

The model is any regressor with ``fit`` and ``predict(X, return_std=True)``: a
:class:`~matlattice.models.LatticeRegressor` (fitted on a frame with ``formula`` and the
target) or anything fitted on formulas and values (:class:`~matlattice.models.MultiTaskForest`,
the benchmark's Gaussian process); the first ``initial`` measurements are drawn at random,
and so is every batch of the ``"random"`` acquisition (no model is fitted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from matlattice.discovery.acquisition import (
    ACQUISITIONS,
    UCB_ALPHA,
    score,
    select_batch,
    thompson_batch,
)
from matlattice.discovery.pareto import parego_values, simplex_weights
from matlattice.discovery.reticulum import reticulum_correct
from matlattice.discovery.store import CampaignStore
from matlattice.discovery.surrogates import fit_predict, member_draws, model_by_name
from matlattice.errors import InvalidParameterError, MatlatticeError

__all__ = ["Campaign"]


class Campaign:
    """See the module docstring; create with :meth:`open`."""

    def __init__(self, store: CampaignStore, pool: pd.DataFrame, config: dict, model_factory):
        self.store, self.pool, self.config, self.model_factory = store, pool, config, model_factory
        self.timings: list[dict] = []
        self.generator: Callable[..., list[str]] | None = None
        self._fitted: tuple[object, int, int] | None = None  # (model, ask, results seen)

    @classmethod
    def resume(cls, path: Path, model_factory: Callable[[], object] | None = None) -> Campaign:
        """Reopen a stored campaign from its file alone (pool and config are in it)."""
        if not Path(path).is_file():
            raise MatlatticeError(f"no campaign at {path}")
        store = CampaignStore(path)
        config, pool = store.config(), store.pool()
        if config is None or not pool:
            store.close()
            raise MatlatticeError(f"{path} is not a campaign database")
        factory = model_factory or model_by_name(config.get("model", "rf"))
        return _class_for(config)(store, pd.DataFrame({"formula": pool}), config, factory)

    @classmethod
    def open(
        cls,
        path: Path,
        pool: pd.DataFrame | list[str],
        *,
        target: str = "target",
        goal: str = "max",
        acquisition: str = "ucb",
        batch_size: int = 8,
        budget: int = 100,
        initial: int = 16,
        alpha: float = UCB_ALPHA,
        window: tuple[float, float] | None = None,
        diversity: bool = False,
        seed: int = 0,
        model: str = "rf",
        retrain_every: int = 1,
        reticulum_gamma: float | None = None,
        warm_start_epochs: int | None = None,
        probe_size: int = 256,
        objectives: dict[str, str] | None = None,
        fidelities: dict[str, float] | None = None,
        generate: int = 0,
        generator: Callable[..., list[str]] | None = None,
        model_factory: Callable[[], object] | None = None,
    ) -> Campaign:
        """Create or reopen the campaign stored at ``path`` over the ``pool`` formulas.

        ``model`` names the surrogate (:func:`model_by_name`: ``"rf"``, the random forest on
        Magpie statistics with its tree spread, or ``"mlp"``, an ensemble of five MLP-encoder
        models); ``model_factory`` overrides it (not stored). ``retrain_every = k`` refits the
        surrogate on every k-th model-driven ask only; in between, with ``reticulum_gamma``,
        the residuals of the results told since the last fit correct the predictions at once
        (:class:`~matlattice.discovery.reticulum.FeedbackReticulum`).
        ``warm_start_epochs = e`` makes every refit of a neural surrogate after the first start
        from the previous model's encoder and train at most ``e`` epochs. After every fit the
        stability monitor predicts a fixed, seeded probe set of ``probe_size`` pool
        candidates and records how far the predictions moved since the previous model
        (:meth:`stability`).

        ``objectives = {"bulk_modulus": "max", "debye_temperature": "max"}`` makes it a
        multi-objective campaign (``target`` and ``goal`` are then unused): results carry one
        column per objective, and every ask scalarises them with fresh ParEGO weights
        (:mod:`matlattice.discovery.pareto`) before the surrogate and ``acquisition`` see
        them.

        ``fidelities = {"oqmd_gap": 1.0, "main": 10.0}`` (costs per measurement) makes it a
        two-fidelity campaign
        (:class:`~matlattice.discovery.multifidelity_campaign.MultiFidelityCampaign`):
        ``budget`` is then in cost units, and every proposal names its fidelity.

        Open-ended: with ``generate = k``, every model-driven ask first adds up to ``k`` new
        compositions to the pool, made by ``generator(parents, k, rng)`` from the measured
        formulas, best first (default
        :class:`~matlattice.discovery.generators.SubstitutionGenerator`; not stored, pass it
        again on resume). New ones are compared by composition, so ``NaCl`` and ``Na1Cl1``
        are one candidate; the grown pool is stored."""
        if acquisition not in ACQUISITIONS:
            raise InvalidParameterError(
                f"acquisition={acquisition!r}; expected one of {ACQUISITIONS}"
            )
        if goal not in ("max", "min"):
            raise InvalidParameterError(f"goal={goal!r}; expected 'max' or 'min'")
        if acquisition == "window" and window is None:
            raise InvalidParameterError("acquisition 'window' needs window=(lo, hi)")
        if objectives is not None:
            bad = {k: g for k, g in objectives.items() if g not in ("max", "min")}
            if len(objectives) < 2 or bad:
                raise InvalidParameterError(
                    f"objectives={objectives!r}; expected two or more names with goal max or min"
                )
            if retrain_every != 1 or reticulum_gamma is not None or acquisition == "window":
                raise InvalidParameterError(
                    "a multi-objective campaign refits every ask (its ParEGO weights change): "
                    "retrain_every, reticulum_gamma and the window acquisition do not apply"
                )
            target, goal = "parego", "max"
        if generate and (objectives is not None or fidelities is not None):
            raise InvalidParameterError("open-ended generation is for single-objective campaigns")
        if fidelities is not None:
            if set(fidelities) - {"main"} == set() or "main" not in fidelities:
                raise InvalidParameterError(
                    f"fidelities={fidelities!r}; expected 'main' and one cheap fidelity with costs"
                )
            if len(fidelities) != 2 or not all(float(c) > 0 for c in fidelities.values()):
                raise InvalidParameterError(
                    f"fidelities={fidelities!r}; two fidelities, positive costs"
                )
            if objectives is not None or retrain_every != 1 or reticulum_gamma is not None:
                raise InvalidParameterError(
                    "a two-fidelity campaign refits every ask and has one objective: "
                    "objectives, retrain_every and reticulum_gamma do not apply"
                )
            if acquisition == "thompson":
                raise InvalidParameterError(
                    "Thompson sampling is not built for two-fidelity campaigns"
                )
        frame = pool if isinstance(pool, pd.DataFrame) else pd.DataFrame({"formula": pool})
        if frame["formula"].duplicated().any():
            raise InvalidParameterError("the pool has duplicated formulas")
        config = {
            "target": target,
            "goal": goal,
            "acquisition": acquisition,
            "batch_size": int(batch_size),
            "budget": int(budget),
            "initial": int(initial),
            "alpha": float(alpha),
            "window": list(window) if window else None,
            "diversity": bool(diversity),
            "seed": int(seed),
            "pool_size": len(frame),
            "model": model,
            "retrain_every": int(retrain_every),
            "reticulum_gamma": reticulum_gamma,
            "warm_start_epochs": int(warm_start_epochs) if warm_start_epochs else None,
            "probe_size": int(probe_size),
            "objectives": dict(objectives) if objectives else None,
            "fidelities": {k: float(v) for k, v in fidelities.items()} if fidelities else None,
            "generate": int(generate),
        }
        store = CampaignStore(path)
        saved = store.config()
        if saved is not None:  # settings added since it was written are off there
            saved = {**_settings_added_later(config, saved), **saved}
        if saved is not None and saved != config:
            store.close()
            raise MatlatticeError(f"{path} holds a campaign with another config: {saved}")
        store.save_config(config)
        store.save_pool(frame["formula"].tolist())
        factory = model_factory or model_by_name(model)
        pool_frame = pd.DataFrame({"formula": store.pool()})  # with any generated ones
        campaign = _class_for(config)(store, pool_frame, config, factory)
        campaign.generator = generator
        return campaign

    # --- the loop -------------------------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        """What each measurement records: the objectives, or ``["main"]``."""
        return list(self.config.get("objectives") or {}) or ["main"]

    def results(self) -> pd.DataFrame:
        """Measured materials in the order told: ``formula, value, iteration, told``, or with
        objectives one column per objective instead of ``value``."""
        first = self.store.results(self.channels[0])
        if not self.config.get("objectives"):
            return first
        frame = first.rename(columns={"value": self.channels[0]})
        for name in self.channels[1:]:
            other = self.store.results(name)[["formula", "value"]].rename(columns={"value": name})
            frame = frame.merge(other, on="formula", how="inner")
        return frame[["formula", *self.channels, "iteration", "told"]]

    @property
    def n_measured(self) -> int:
        return len(self.results())

    @property
    def done(self) -> bool:
        return self.n_measured >= self.config["budget"]

    def ask(self, n: int | None = None) -> pd.DataFrame:
        """The next candidates: ``formula, mean, std, score, reason`` (pending ones first)."""
        pending = self.store.pending(self.channels[-1])
        if len(pending):
            return pending[["formula", "mean", "std", "score", "reason"]]
        n = int(n or self.config["batch_size"])
        n = min(n, self.config["budget"] - self.n_measured)
        if n <= 0:
            return pd.DataFrame(columns=["formula", "mean", "std", "score", "reason"])
        iteration = self.store.iteration()
        measured = self.results()
        asked = set(self.store.proposals()["formula"]) | set(measured["formula"])
        candidates = [f for f in self.pool["formula"] if f not in asked]
        rng = np.random.default_rng([self.config["seed"], iteration])
        random = self.config["acquisition"] == "random"
        if random or len(measured) < self.config["initial"]:
            pick = rng.choice(len(candidates), min(n, len(candidates)), replace=False)
            frame = pd.DataFrame(
                {
                    "formula": [candidates[i] for i in pick],
                    "mean": np.nan,
                    "std": np.nan,
                    "score": np.nan,
                    "reason": "random choice" if random else "initial random design",
                }
            )
        else:
            if self.config.get("generate") and not random:
                candidates += self._grow_pool(measured, rng)
            note = ""
            if self.config.get("objectives"):
                measured, note = self._parego(measured, rng)
            frame = self._model_batch(measured, candidates, n, iteration, rng, note)
        self.store.add_proposals(iteration, frame)
        return frame

    def _grow_pool(self, measured: pd.DataFrame, rng) -> list[str]:
        """Generate new compositions from the measured ones (best first), add the new ones
        to the pool (stored), and return them."""
        from matlattice.composition import composition_keys, parse_formulas
        from matlattice.discovery.generators import SubstitutionGenerator

        generator = self.generator or SubstitutionGenerator()
        ascending = self.config["goal"] == "min"
        parents = measured.sort_values("value", ascending=ascending)["formula"].tolist()
        children = generator(parents, int(self.config["generate"]), rng)
        if not children:
            return []
        known = set(composition_keys(parse_formulas(self.pool["formula"].tolist()).fractions))
        keys = composition_keys(parse_formulas(children).fractions)
        new = list(
            dict.fromkeys(c for c, k in zip(children, keys, strict=True) if k and k not in known)
        )
        self.store.save_pool(new)
        self.pool = pd.concat([self.pool, pd.DataFrame({"formula": new})], ignore_index=True)
        return new

    def _parego(self, measured: pd.DataFrame, rng) -> tuple[pd.DataFrame, str]:
        """The measured objectives scalarised with fresh ParEGO weights: ``formula, value``."""
        objectives = self.config["objectives"]
        oriented = np.column_stack(
            [measured[k].to_numpy(float) * (1 if g == "max" else -1) for k, g in objectives.items()]
        )
        weights = simplex_weights(len(objectives), rng)
        values = parego_values(oriented, weights)
        note = "; ParEGO weights " + ", ".join(
            f"{k} {w:.2f}" for k, w in zip(objectives, weights, strict=True)
        )
        return pd.DataFrame({"formula": measured["formula"], "value": values}), note

    def _scores(self, measured, mean, std, draws, rng) -> tuple[float, np.ndarray]:
        """The best measured value so far and the acquisition score of every candidate."""
        c = self.config
        values = measured["value"].to_numpy()
        best = float(values.max() if c["goal"] == "max" else values.min())
        scores = score(
            c["acquisition"],
            mean,
            std,
            goal=c["goal"],
            best=best,
            draws=draws,
            window=tuple(c["window"]) if c["window"] else None,
            alpha=c["alpha"],
            rng=rng,
        )
        return best, scores

    def _model_batch(self, measured, candidates, n, iteration, rng, note="") -> pd.DataFrame:
        c = self.config
        start = time.perf_counter()
        reuse = self._fitted is not None and iteration - self._fitted[1] < c.get("retrain_every", 1)
        if reuse:
            model, _, seen = self._fitted
            mean, std = (
                np.asarray(a, dtype=float).reshape(-1)
                for a in model.predict(candidates, return_std=True)
            )
            new = measured.iloc[seen:]
            if c.get("reticulum_gamma") is not None and len(new):
                mean = reticulum_correct(model, new, candidates, mean, c["reticulum_gamma"])
                note += f"; reticulum corrected by {len(new)} new results"
        else:
            previous = self._fitted[0] if self._fitted is not None else None
            model = self.model_factory()
            mean, std = fit_predict(
                model,
                measured,
                c["target"],
                candidates,
                warm_from=previous,
                warm_epochs=c.get("warm_start_epochs"),
            )
            self._fitted = (model, iteration, len(measured))
        fit_seconds = time.perf_counter() - start
        thompson = c["acquisition"] == "thompson"
        members = member_draws(model, candidates) if thompson else None
        if members is not None and len(members) > 1:  # centred on the (corrected) mean
            draws = members - members.mean(axis=0) + mean
        else:  # Gaussian posterior draws: one per pick for Thompson
            size = (max(n, 1) if thompson else 1, len(mean))
            draws = rng.normal(mean, np.maximum(std, 1e-12), size=size)
        best, scores = self._scores(measured, mean, std, draws, rng)
        embedding = None
        if c["diversity"] and hasattr(model, "transform"):
            embedding = model.transform(candidates)
        if thompson:  # one posterior draw (ensemble member, tree) per pick
            chosen = thompson_batch(draws, n, rng, goal=c["goal"])
        else:
            chosen = select_batch(scores, n, embedding=embedding, seed=c["seed"])
        probe_start = time.perf_counter()
        if not reuse:
            info = {"best": best, **self._probe(model)}
            self.store.add_model(iteration, len(measured), fit_seconds, info)
        probe_seconds = time.perf_counter() - probe_start
        self.timings.append(
            {"iteration": iteration, "fit_seconds": fit_seconds, "probe_seconds": probe_seconds}
        )
        return pd.DataFrame(
            {
                "formula": [candidates[i] for i in chosen],
                "mean": mean[chosen],
                "std": std[chosen],
                "score": scores[chosen],
                "reason": [
                    f"{c['acquisition']}: mean {mean[i]:.4g}, spread {std[i]:.3g}{note}"
                    for i in chosen
                ],
            }
        )

    # --- stability monitor ----------------------------------------------------------------
    def probe_set(self) -> list[str]:
        """The fixed probe candidates: a seeded draw from the pool the campaign was created
        with (an open-ended campaign's grown pool does not move it)."""
        original = self.pool["formula"].iloc[: int(self.config["pool_size"])]
        size = min(int(self.config.get("probe_size", 256)), len(original))
        rng = np.random.default_rng([self.config["seed"], 7717])
        pick = np.sort(rng.choice(len(original), size, replace=False))
        return original.iloc[pick].tolist()

    def _probe(self, model) -> dict:
        """The new model's probe predictions and how far they moved from the last model's:
        ``probe_shift`` (mean absolute change over the previous predictions' standard
        deviation) and ``probe_rank_corr`` (Spearman correlation of the two rankings)."""
        if not self.config.get("probe_size"):
            return {}
        probe = np.asarray(model.predict(self.probe_set()), dtype=float).reshape(-1)
        info: dict = {"probe_mean": [round(float(v), 6) for v in probe]}
        models = self.store.models()
        if len(models):
            last = json.loads(models["info"].iloc[-1]).get("probe_mean")
            if last is not None and len(last) == len(probe):
                last = np.asarray(last, dtype=float)
                info["probe_shift"] = float(np.abs(probe - last).mean() / (last.std() + 1e-12))
                varied = probe.std() > 0 and last.std() > 0  # else no ranking to compare
                info["probe_rank_corr"] = (
                    float(spearmanr(probe, last).statistic) if varied else float("nan")
                )
        return info

    def stability(self) -> pd.DataFrame:
        """One row per model version: ``iteration, n_train, fit_seconds, probe_shift,
        probe_rank_corr`` (NaN for the first model)."""
        models = self.store.models()
        infos = [json.loads(i) for i in models["info"]]
        return pd.DataFrame(
            {
                "iteration": models["iteration"],
                "n_train": models["n_train"],
                "fit_seconds": models["fit_seconds"],
                "probe_shift": [i.get("probe_shift", np.nan) for i in infos],
                "probe_rank_corr": [i.get("probe_rank_corr", np.nan) for i in infos],
            }
        )

    def tell(self, results: pd.DataFrame) -> int:
        """Record ``formula, value`` rows (with objectives: ``formula`` and one column per
        objective); returns how many were new (repeats are ignored)."""
        objectives = self.config.get("objectives")
        columns = list(objectives) if objectives else ["value"]
        if not {"formula", *columns} <= set(results.columns):
            raise InvalidParameterError(
                f"results need 'formula' and {', '.join(repr(c) for c in columns)} columns; "
                f"got {list(results.columns)}"
            )
        unknown = sorted(set(results["formula"]) - set(self.pool["formula"]))
        if unknown:
            raise InvalidParameterError(f"formulas not in the pool: {unknown[:5]}")
        if results[columns].isna().any().any():
            raise InvalidParameterError("results have missing values")
        fidelity = {k: k for k in objectives} if objectives else "main"
        new = self.store.add_results(results, max(self.store.iteration() - 1, 0), fidelity)
        return new // len(columns)

    def run(self, oracle: Callable[[list[str]], pd.DataFrame]) -> pd.DataFrame:
        """Ask, measure with ``oracle``, tell, until the budget is spent; the results."""
        while not self.done:
            batch = self.ask()
            if batch.empty:
                break
            self.tell(oracle(batch["formula"].tolist()))
        return self.results()


# settings added after the first stores were written, with the value that means "off"; the
# stability probe is a diagnostic (it changes no proposal), so any value reopens a store
_OFF = {"warm_start_epochs": None, "objectives": None, "fidelities": None, "generate": 0}
_DIAGNOSTIC = ("probe_size",)


def _settings_added_later(config: dict, saved: dict) -> dict:
    """What a store written before some settings existed implicitly holds for them."""
    out = {}
    for key, value in config.items():
        if key in saved:
            continue
        if key in _DIAGNOSTIC:
            out[key] = value
        elif key in _OFF:
            out[key] = _OFF[key]
        elif not value:
            out[key] = value
    return out


def _class_for(config: dict) -> type[Campaign]:
    if config.get("fidelities"):
        from matlattice.discovery.multifidelity_campaign import MultiFidelityCampaign

        return MultiFidelityCampaign
    return Campaign
