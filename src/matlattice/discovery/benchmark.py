"""Benchmark mode: campaigns on a pool whose labels are hidden, several methods, many seeds.

A method is ``"<acquisition>@<model>"`` (``"ucb@mlp"``, ``"ucb@rf"``, ``"ei@gp"``) or
``"random"``, optionally with loop settings: ``+every=K`` (refit every K-th ask),
``+reticulum=G`` (the feedback reticulum between refits, sensitivity G), ``+warm=E`` (warm
starts of at most E epochs), e.g. ``"ucb@rf+every=3+reticulum=0.8"``.
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
from pathlib import Path

import numpy as np
import pandas as pd

from matlattice.data import load_dataset
from matlattice.discovery.campaign import Campaign
from matlattice.discovery.metrics import campaign_metrics, cost_metrics, top_set
from matlattice.discovery.multifidelity import MultiFidelityOracle
from matlattice.discovery.oracles import HiddenLabelOracle
from matlattice.discovery.pareto import hypervolume_curve, pareto_mask
from matlattice.discovery.surrogates import model_by_name
from matlattice.errors import InvalidParameterError
from matlattice.runtime.files import atomic_write, atomic_write_json, json_safe

__all__ = ["campaign_benchmark", "cheap_source", "parse_method"]


_LOOP_OPTIONS = {
    "every": "retrain_every",
    "reticulum": "reticulum_gamma",
    "warm": "warm_start_epochs",
}


def parse_method(method: str) -> tuple[str, str, dict]:
    """``"ucb@mlp+every=3+reticulum=0.8+warm=20"`` -> ``("ucb", "mlp", {"retrain_every": 3,
    "reticulum_gamma": 0.8, "warm_start_epochs": 20})``; ``"random"`` -> ``("random", "", {})``;
    ``+cheap`` (``{"cheap": True}``) uses the benchmark's cheap fidelity too.
    """
    head, *options = method.split("+")
    acquisition, _, model = head.partition("@")
    loop: dict = {}
    for option in options:
        if option == "cheap":
            loop["cheap"] = True
            continue
        key, _, value = option.partition("=")
        if key not in _LOOP_OPTIONS or not value:
            raise InvalidParameterError(
                f"method option {option!r} in {method!r}; expected every=K, reticulum=G, "
                "warm=E or cheap"
            )
        loop[_LOOP_OPTIONS[key]] = float(value) if key == "reticulum" else int(value)
    return acquisition, model, loop


def cheap_source(pool_data: str, data: str, column: str, cost: str | float):
    """``(frame, column, cost)`` of a cheap fidelity for :func:`campaign_benchmark`: ``column``
    of dataset ``data`` re-keyed to the formulas of ``pool_data`` with the same composition
    (``Fe2O3`` and ``Fe4O6`` match); several rows of one composition are averaged."""
    from matlattice.composition import composition_keys, parse_formulas

    pool = load_dataset(pool_data, clean=True).frame
    source = load_dataset(data, clean=True).frame
    if column not in source:
        raise InvalidParameterError(f"{column!r} is not a property of {data}")
    source = source.dropna(subset=[column])
    keys = composition_keys(parse_formulas(source["formula"].tolist()).fractions)
    by_key = source.assign(_key=keys).groupby("_key")[column].mean()
    pool_keys = composition_keys(parse_formulas(pool["formula"].tolist()).fractions)
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
    progress=None,
) -> dict:
    """Run every (method, seed) campaign (resuming stored ones) and write the summary.

    With ``objectives`` (two names with goal ``max``/``min``; ``target`` and ``goal`` unused)
    the campaigns are multi-objective (ParEGO), the "best" set is the pool's Pareto front,
    and every method also gets the share of the pool's dominated hypervolume reached
    (``hypervolume_curve``, ``hypervolume_at_budget``).

    With ``cheap = (frame, column, cost)`` (a cheap fidelity: ``column`` of ``frame`` by
    formula) and ``main_cost``, methods marked ``+cheap`` run two-fidelity campaigns with a
    budget of ``budget * main_cost`` cost units; their curves count cost in main-measurement
    equivalents (:func:`~matlattice.discovery.metrics.cost_metrics`), so every method of the
    run compares on the same axis.
    """
    out = Path(out)
    frame = data if isinstance(data, pd.DataFrame) else load_dataset(data, clean=True).frame
    name = "frame" if isinstance(data, pd.DataFrame) else data
    targets = list(objectives) if objectives else [target]
    for t in targets:
        if t not in frame:
            raise InvalidParameterError(f"target {t!r} is not a property of {name}")
    labelled = frame.dropna(subset=targets).drop_duplicates("formula")
    pool = labelled.sample(min(pool_size, len(labelled)), random_state=0)[["formula", *targets]]
    signs = np.array([1.0 if g == "max" else -1.0 for g in (objectives or {}).values()])
    if objectives:  # the best: the pool's Pareto front
        oriented = pool[targets].to_numpy(float) * signs
        best = set(pool["formula"][pareto_mask(oriented)])
        target, goal = "+".join(targets), "pareto"
    elif window is not None:  # the top set of a window goal: the candidates inside it
        lo, hi = window
        values = dict(zip(pool["formula"], pool[target].astype(float), strict=True))
        best = {f for f, v in values.items() if lo <= v <= hi}
    else:
        values = dict(zip(pool["formula"], pool[target].astype(float), strict=True))
        best = top_set(values, goal, top)
    oracle = HiddenLabelOracle(pool, targets if objectives else target)
    rng = np.random.default_rng(0)
    earlier = out / "campaign.json"  # timings of campaigns finished by an earlier call
    previous = json.loads(earlier.read_text())["acquisitions"] if earlier.is_file() else {}
    summary: dict = {
        "task": {
            "data": name,
            "target": target,
            "goal": goal,
            "window": window,
            "top": top,
            "objectives": objectives,
        },
        "pool_size": len(pool),
        "n_best": len(best),
        "budget": budget,
        "initial": initial,
        "batch": batch,
        "seeds": list(seeds),
        "acquisitions": {},
    }
    if cheap is not None:
        cheap_frame, cheap_column, cheap_cost = cheap
        mf_oracle = MultiFidelityOracle(
            {"main": (pool, target), "cheap": (cheap_frame, cheap_column)}
        )
        summary["task"]["cheap"] = {"column": cheap_column, "cost": cheap_cost}
        summary["task"]["main_cost"] = main_cost
    for method in methods:
        acquisition, model, loop = parse_method(method)
        two_fidelity = loop.pop("cheap", False)
        if two_fidelity and cheap is None:
            raise InvalidParameterError(f"method {method!r} needs a cheap fidelity (cheap=...)")
        if two_fidelity:
            loop["fidelities"] = {"cheap": float(cheap_cost), "main": float(main_cost)}
        runs = []
        seconds, overheads, hypervolumes = [], [], []
        for seed in seeds:
            if progress:
                progress(f"{method}, seed {seed}")
            safe = method.replace("@", "_").replace("+", "_").replace("=", "")
            campaign = Campaign.open(
                out / "campaigns" / f"{safe}_seed{seed}.sqlite",
                pool[["formula"]],
                target=target,
                goal="max" if objectives else goal,
                objectives=objectives,
                acquisition=acquisition,
                batch_size=batch,
                budget=int(budget * main_cost) if two_fidelity else budget,
                initial=initial,
                window=window,
                seed=seed,
                model=model or "rf",
                model_factory=model_by_name(model) if model else (lambda: None),
                **loop,
            )
            start = time.perf_counter()
            results = campaign.run(mf_oracle if two_fidelity else oracle)
            seconds.append(time.perf_counter() - start)
            model_seconds = sum(
                t["fit_seconds"] + t.get("probe_seconds", 0.0) for t in campaign.timings
            )
            if model_seconds > 0:  # engine time: everything but fitting and predicting
                overheads.append((seconds[-1] - model_seconds) / model_seconds)
            if two_fidelity:
                history = campaign.history()
                steps = zip(history["formula"], history["fidelity"], history["cost"], strict=True)
                runs.append(cost_metrics(list(steps), best, len(pool), main_cost, budget))
            else:
                runs.append(campaign_metrics(results["formula"].tolist(), best, len(pool)))
            if objectives:
                hypervolumes.append(
                    hypervolume_curve(
                        results[targets].to_numpy(float) * signs,
                        pool[targets].to_numpy(float) * signs,
                    )
                )
            campaign.store.close()
        curves = np.array([[v for _, v in r["curve"]] for r in runs])
        to_half = np.array([r["measurements_to_half_top"] or np.nan for r in runs], dtype=float)
        found = np.array([r["found_at_budget"] for r in runs])
        summary["acquisitions"][method] = {
            "measurements_to_half_top1": float(np.nanmean(to_half))
            if np.isfinite(to_half).any()
            else None,
            "reached_half_in": int(np.isfinite(to_half).sum()),
            "acceleration_factor": float(0.5 * len(pool) / np.nanmean(to_half))
            if np.isfinite(to_half).any()
            else None,
            "enhancement_at_budget": float(found.mean() / (budget / len(pool))),
            "found_at_budget": float(found.mean()),
            "curve": [[i + 1, float(v)] for i, v in enumerate(curves.mean(axis=0))],
            "ci": {
                "measurements_to_half_top1": _bootstrap(to_half, rng),
                "found_at_budget": _bootstrap(found, rng),
            },
            "seconds_per_campaign": float(np.mean(seconds)),
            # (campaign time - surrogate fit, predict and probe time) / surrogate time, campaigns
            # run in this call (resumed ones count only their new asks)
            "engine_overhead": float(np.mean(overheads)) if overheads else None,
        }
        if not overheads and method in previous:  # every campaign was already complete
            for key in ("seconds_per_campaign", "engine_overhead"):
                summary["acquisitions"][method][key] = previous[method].get(key)
        if hypervolumes:
            hv = np.array(hypervolumes)
            entry = summary["acquisitions"][method]
            entry["hypervolume_curve"] = [[i + 1, float(v)] for i, v in enumerate(hv.mean(0))]
            entry["hypervolume_at_budget"] = float(hv[:, -1].mean())
            entry["ci"]["hypervolume_at_budget"] = _bootstrap(hv[:, -1], rng)
    atomic_write_json(out / "campaign.json", json_safe(summary))
    _figure(summary, out / "campaign.png")
    return summary


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
