"""Benchmark mode: campaigns on a pool whose labels are hidden, several methods, many seeds.

A method is ``"<acquisition>@<model>"`` (``"ucb@mlp"``, ``"ucb@rf"``, ``"ei@gp"``) or
``"random"``, optionally with loop settings: ``+every=K`` (refit every K-th ask),
``+reticulum=G`` (the feedback reticulum between refits, sensitivity G), ``+warm=E`` (warm
starts of at most E epochs), ``+cheap`` (two fidelities), e.g.
``"ucb@rf+every=3+reticulum=0.8"`` (:func:`~matlattice.discovery.methods.parse_method`).
Every (method, seed) campaign is stored in ``RUN/campaigns/`` and resumes; the
pool (``pool_size`` labelled rows of the target, drawn once with seed 0) is shared, the seed
sets the initial design. ``RUN/campaign.json`` holds per method the mean discovery curve of
the top ``top`` fraction, the measurements to find half of it, the acceleration factor
against random choice, the enhancement at the budget, each with a bootstrap 95 % interval
over the seeds; ``RUN/campaign.png`` draws the curves.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data import load_dataset
from matlattice.data.parts import frame_keys, hold_out_systems
from matlattice.data.rejections import REJECTED, rejected_rows
from matlattice.discovery.methods import Method, method_name, parse_method
from matlattice.discovery.metrics import (
    beyond_pool_metrics,
    campaign_metrics,
    cost_metrics,
    top_set,
)
from matlattice.discovery.multifidelity import MultiFidelityOracle
from matlattice.discovery.opening import open_campaign
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.discovery.pareto import hypervolume_curve, pareto_mask
from matlattice.discovery.settings import CampaignSettings
from matlattice.discovery.surrogates import model_by_name
from matlattice.errors import InvalidParameterError
from matlattice.runtime.files import atomic_write, atomic_write_json, atomic_write_table, json_safe
from matlattice.runtime.locks import hold_lock

__all__ = ["campaign_benchmark", "cheap_source", "stored_campaigns"]


def stored_campaigns(out: Path) -> list[Path]:
    """The campaign databases a benchmark run folder ``out`` holds (they resume)."""
    return sorted((Path(out) / "campaigns").glob("*.sqlite"))


def cheap_source(pool_data: str, data: str, column: str, cost: str | float):
    """``(frame, column, cost)`` of a cheap fidelity for :func:`campaign_benchmark`: ``column``
    of dataset ``data`` re-keyed to the formulas of ``pool_data`` with the same composition
    (``Fe2O3`` and ``Fe4O6`` match); several rows of one composition are averaged."""
    pool = load_dataset(pool_data, clean=True).frame
    source = load_dataset(data, clean=True).frame
    if column not in source:
        raise InvalidParameterError(f"{column!r} is not a property of {data}")
    source = source.dropna(subset=[column])
    by_key = source.assign(_key=frame_keys(source)).groupby("_key")[column].mean()
    pool_keys = frame_keys(pool)
    frame = pd.DataFrame({"formula": pool["formula"], column: by_key.reindex(pool_keys).values})
    return frame.drop_duplicates("formula"), column, float(cost)


def _bootstrap(values: np.ndarray, rng: np.random.Generator, n: int = 2000) -> list[float]:
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return [float("nan"), float("nan")]
    means = rng.choice(values, size=(n, len(values)), replace=True).mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def campaign_benchmark(
    data: str | pd.DataFrame,
    target: str | None,
    out: Path,
    *,
    goal: str = "max",
    objectives: dict[str, str] | None = None,
    cheap: tuple[pd.DataFrame, str, float] | None = None,
    main_cost: float = 1.0,
    window: tuple[float, float] | None = None,
    methods: tuple[str, ...] = ("ucb@rf", "random"),
    pool_size: int = 2000,
    initial: int = 20,
    budget: int = 200,
    batch: int = 10,
    seeds: tuple[int, ...] = tuple(range(10)),
    top: float = 0.01,
    hold_out: float = 0.0,
    generator_factory=None,
    progress=None,
) -> dict:
    """Run every (method, seed) campaign (resuming stored ones) and write the summary.

    With ``objectives`` (two names with goal ``max``/``min``; ``target`` and ``goal`` unused)
    the campaigns are multi-objective (ParEGO), the "best" set is the pool's Pareto front,
    and every method also gets the share of the pool's dominated hypervolume reached
    (``hypervolume_curve``, ``hypervolume_at_budget``).

    With ``window = (lo, hi)`` the best set is the pool inside it, and ``ucb`` and ``ei``
    methods run the window acquisition (reported as ``window@...``).

    With ``cheap = (frame, column, cost)`` (a cheap fidelity: ``column`` of ``frame`` by
    formula) and ``main_cost``, methods marked ``+cheap`` run two-fidelity campaigns with a
    budget of ``budget * main_cost`` cost units; their curves count cost in main-measurement
    equivalents (:func:`~matlattice.discovery.metrics.cost_metrics`), so every method of the
    run compares on the same axis.
    """
    # the settings every campaign shares, checked before any data is read
    base = CampaignSettings(
        target=target,
        goal=goal,
        objectives=objectives,
        window=window,
        batch_size=batch,
        budget=budget,
        initial=initial,
    )
    fidelities = {"cheap": float(cheap[2]), "main": float(main_cost)} if cheap else None
    parsed = {}
    for method in methods:
        one = parse_method(method, window=window, fidelities=fidelities)
        parsed.setdefault(method_name(method, one), one)
    open_ended = any(m.options.get("generate") for m in parsed.values())
    if open_ended and (window is not None or objectives):
        raise InvalidParameterError(
            "open-ended methods (+generate) run on a max or min goal of one target; "
            f"got window={window}, objectives={objectives}"
        )
    task = _Task.build(
        data, target, objectives, window, goal, top, pool_size, cheap, hold_out, open_ended
    )
    out = Path(out)
    with hold_lock(out / "campaigns", "the campaign benchmark folder"):
        earlier = out / "campaign.json"  # timings of campaigns finished by an earlier call
        previous = json.loads(earlier.read_text())["acquisitions"] if earlier.is_file() else {}
        summary = task.summary(budget, initial, batch, seeds, main_cost)
        rng = np.random.default_rng(0)
        for name, method in parsed.items():
            runs = [
                _run_one(
                    task,
                    base,
                    name,
                    method,
                    seed,
                    out,
                    budget,
                    main_cost,
                    progress,
                    generator_factory,
                )
                for seed in seeds
            ]
            summary["acquisitions"][name] = _summarise(runs, len(task.pool), budget, rng)
            entry = summary["acquisitions"][name]
            if entry["engine_overhead"] is None and name in previous:  # all were complete
                for key in ("seconds_per_campaign", "engine_overhead"):
                    entry[key] = previous[name].get(key)
        atomic_write_json(out / "campaign.json", json_safe(summary))
        if task.rejected is not None and len(task.rejected):
            atomic_write_table(out / REJECTED, task.rejected)
    _figure(summary, out / "campaign.png")
    return summary


@dataclass(frozen=True)
class _Task:
    """The benchmark's pool with its hidden labels, its best set and its oracles."""

    name: str
    pool: pd.DataFrame
    targets: list[str]
    signs: np.ndarray  # (n_objectives,) +1 for max, -1 for min; empty for one target
    best: set[str]
    oracle: HiddenLabelOracle
    mf_oracle: MultiFidelityOracle | None
    info: dict
    rejected: pd.DataFrame | None = None  # what loading the dataset removed
    held_keys: frozenset = frozenset()  # composition keys of the held-out systems

    @classmethod
    def build(
        cls, data, target, objectives, window, goal, top, pool_size, cheap, hold_out, open_ended
    ) -> _Task:
        ds = None if isinstance(data, pd.DataFrame) else load_dataset(data, clean=True)
        frame = data if ds is None else ds.frame
        name = "frame" if isinstance(data, pd.DataFrame) else data
        targets = list(objectives) if objectives else [target]
        for t in targets:
            if t not in frame:
                raise InvalidParameterError(
                    f"target {t!r} is not a property of {name}; expected one of "
                    f"{[c for c in frame.columns if c != 'formula'][:20]}"
                )
        labelled = frame.dropna(subset=targets).drop_duplicates("formula")
        if len(labelled) < 2:
            raise InvalidParameterError(
                f"{name}: {len(labelled)} of {len(frame)} compositions have a value of "
                f"{'+'.join(targets)}; a campaign needs a pool with values"
            )
        held = hold_out_systems(labelled, hold_out) if hold_out else np.zeros(len(labelled), bool)
        given = labelled[~held]
        pool = given.sample(min(pool_size, len(given)), random_state=0)
        pool = pool[["formula", *targets]]
        signs = np.array([1.0 if g == "max" else -1.0 for g in (objectives or {}).values()])
        values = {}
        if not objectives:
            values = dict(zip(pool["formula"], pool[target].astype(float), strict=True))
        if objectives:  # the best: the pool's Pareto front
            best = set(pool["formula"][pareto_mask(pool[targets].to_numpy(float) * signs)])
            target, goal = "+".join(targets), "pareto"
        elif window is not None:  # the top set of a window goal: the candidates inside it
            best = {f for f, v in values.items() if window[0] <= v <= window[1]}
        else:
            best = top_set(values, goal, top)
        info = {"data": name, "target": target, "goal": goal, "window": window, "top": top}
        info["objectives"] = objectives
        info["hold_out"] = hold_out or None
        info["open_ended"] = open_ended
        mf_oracle = None
        if cheap is not None:
            mf_oracle = MultiFidelityOracle({"main": (pool, target), "cheap": cheap[:2]})
            info["cheap"] = {"column": cheap[1], "cost": cheap[2]}
        if open_ended:
            oracle = HiddenLabelOracle(labelled, target, open_ended=True)
        else:
            oracle = HiddenLabelOracle(pool, targets if objectives else target)
        rejected = None if ds is None else rejected_rows(ds.report)
        held_keys = frozenset(frame_keys(labelled[held]))
        return cls(name, pool, targets, signs, best, oracle, mf_oracle, info, rejected, held_keys)

    def summary(self, budget, initial, batch, seeds, main_cost) -> dict:
        task = dict(self.info)
        if self.mf_oracle is not None:
            task["main_cost"] = main_cost
        return {
            "task": task,
            "pool_size": len(self.pool),
            "n_best": len(self.best),
            "budget": budget,
            "initial": initial,
            "batch": batch,
            "seeds": list(seeds),
            "acquisitions": {},
        }


def _run_one(
    task, base, name, method: Method, seed, out, budget, main_cost, progress, generator_factory
) -> dict:
    """One (method, seed) campaign, run to its budget (or resumed): its metrics, with
    ``seconds``, ``overhead`` (or None without a model), ``hypervolume`` and, open-ended,
    ``beyond``."""
    if progress:
        progress(f"{name}, seed {seed}")
    settings = base.replace(
        acquisition=method.acquisition,
        model=method.model or "rf",
        seed=seed,
        budget=int(budget * main_cost) if method.two_fidelity else budget,
        **method.options,
    )
    safe = name.replace("@", "_").replace("+", "_").replace("=", "")
    factory = model_by_name(method.model) if method.model else (lambda: None)
    path = out / "campaigns" / f"{safe}_seed{seed}.sqlite"
    with open_campaign(path, task.pool[["formula"]], settings, model_factory=factory) as campaign:
        if settings.generate and generator_factory is not None:
            campaign.generator = generator_factory(settings, task.pool["formula"].tolist())
        start = time.perf_counter()
        results = campaign.run(task.mf_oracle if method.two_fidelity else task.oracle)
        seconds = time.perf_counter() - start
        model_seconds = sum(
            t["fit_seconds"] + t.get("probe_seconds", 0.0) for t in campaign.timings
        )
        if method.two_fidelity:
            history = campaign.history()
            steps = zip(history["formula"], history["fidelity"], history["cost"], strict=True)
            run = cost_metrics(list(steps), task.best, len(task.pool), main_cost, budget)
        elif task.info["open_ended"]:
            run = _open_ended_metrics(task, campaign, results, settings.goal)
        else:
            run = campaign_metrics(results["formula"].tolist(), task.best, len(task.pool))
    run["seconds"] = seconds
    # engine time: everything but fitting and predicting, over the surrogate's time
    run["overhead"] = (seconds - model_seconds) / model_seconds if model_seconds > 0 else None
    if len(task.signs):
        run["hypervolume"] = hypervolume_curve(
            results[task.targets].to_numpy(float) * task.signs,
            task.pool[task.targets].to_numpy(float) * task.signs,
        )
    return run


def _open_ended_metrics(task: _Task, campaign, results: pd.DataFrame, goal: str) -> dict:
    """:func:`campaign_metrics` over every attempt in order (one not measurable counts as a
    measurement that found nothing) with ``beyond`` (:func:`beyond_pool_metrics`)."""
    history = campaign.proposals()
    attempts = history.loc[history["value"].notna() | ~history["measurable"], "formula"]
    run = campaign_metrics(attempts.tolist(), task.best, len(task.pool))
    keys = frame_keys(results)
    held = {f for f, k in zip(results["formula"], keys, strict=True) if k in task.held_keys}
    pool_values = dict(zip(task.pool["formula"], task.pool[task.targets[0]], strict=True))
    measured = dict(zip(results["formula"], results["value"], strict=True))
    unmeasurable = len(campaign.unmeasurable())
    top = task.info["top"]
    run["beyond"] = beyond_pool_metrics(measured, unmeasurable, pool_values, goal, top, held)
    return run


def _summarise(runs: list[dict], pool_size: int, budget: int, rng) -> dict:
    """One method's entry of ``campaign.json`` from its runs (one per seed)."""
    curves = np.array([[v for _, v in r["curve"]] for r in runs])
    to_half = np.array([r["measurements_to_half_top"] or np.nan for r in runs], dtype=float)
    found = np.array([r["found_at_budget"] for r in runs])
    reached = np.isfinite(to_half).any()
    overheads = [r["overhead"] for r in runs if r["overhead"] is not None]
    entry = {
        "measurements_to_half_top1": float(np.nanmean(to_half)) if reached else None,
        "reached_half_in": int(np.isfinite(to_half).sum()),
        "acceleration_factor": float(0.5 * pool_size / np.nanmean(to_half)) if reached else None,
        "enhancement_at_budget": float(found.mean() / (budget / pool_size)),
        "found_at_budget": float(found.mean()),
        "curve": [[i + 1, float(v)] for i, v in enumerate(curves.mean(axis=0))],
        "curve_by_seed": curves.astype(float).tolist(),  # one row per seed: the band
        "ci": {
            "measurements_to_half_top1": _bootstrap(to_half, rng),
            "found_at_budget": _bootstrap(found, rng),
        },
        "seconds_per_campaign": float(np.mean([r["seconds"] for r in runs])),
        # (campaign time - surrogate fit, predict and probe time) / surrogate time, campaigns
        # run in this call (resumed ones count only their new asks)
        "engine_overhead": float(np.mean(overheads)) if overheads else None,
    }
    if "beyond" in runs[0]:
        entry["beyond_pool"] = {
            key: float(np.mean([r["beyond"][key] for r in runs])) for key in runs[0]["beyond"]
        }
        entry["beyond_pool"]["climbed_past_pool"] = float(
            np.mean([r["beyond"]["best_gain"] > 0 for r in runs])
        )
    if "hypervolume" in runs[0]:
        hv = np.array([r["hypervolume"] for r in runs])
        entry["hypervolume_curve"] = [[i + 1, float(v)] for i, v in enumerate(hv.mean(0))]
        entry["hypervolume_at_budget"] = float(hv[:, -1].mean())
        entry["ci"]["hypervolume_at_budget"] = _bootstrap(hv[:, -1], rng)
    return entry


def _figure(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    multi = bool(summary["task"].get("objectives"))
    fig, axes = plt.subplots(1, 2 if multi else 1, figsize=(11 if multi else 5.5, 4), squeeze=False)
    ax = axes[0, 0]
    for name, m in summary["acquisitions"].items():
        curve = np.array(m["curve"])
        ax.plot(curve[:, 0], curve[:, 1], label=name)
        if multi:
            hv = np.array(m["hypervolume_curve"])
            axes[0, 1].plot(hv[:, 0], hv[:, 1], label=name)
    n = np.arange(1, summary["budget"] + 1)
    ax.plot(n, n / summary["pool_size"], "k:", label="random (expected)")
    task = summary["task"]
    ax.set(
        xlabel="measurements",
        ylabel="share of the Pareto front found" if multi else "share of the best found",
        title=f"{task['data']}: {task['target']} ({task['goal']}), pool {summary['pool_size']}",
    )
    if multi:
        axes[0, 1].set(xlabel="measurements", ylabel="share of the pool's hypervolume")
        axes[0, 1].legend(fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
