"""``matlattice campaign``: create, ask, tell, status, export, and the benchmark mode (run).

Parse, call :mod:`matlattice.discovery`, print: the engine checks every value (its
:class:`~matlattice.errors.InvalidParameterError` names the bad one) and the store is read
through the campaign's own methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import print_rejected, progress_bar, read_formulas
from matlattice.cli.options import Seed, TableOutput, at_least, choice_of, open_range
from matlattice.cli.tables import console

campaign_app = typer.Typer(
    help="Closed-loop discovery campaigns (ask/tell, resumable).", no_args_is_help=True
)

_SETTINGS = "matlattice.discovery.settings"
# the loop sizes shared by create (one campaign) and run (the benchmark's campaigns)
Batch = Annotated[int, typer.Option(callback=at_least(1), help="Candidates per ask.")]
Budget = Annotated[int, typer.Option(callback=at_least(1), help="Measurements per campaign.")]
Initial = Annotated[
    int, typer.Option(callback=at_least(1), help="Random measurements before the model.")
]
StorePath = Annotated[Path, typer.Argument(help="Campaign database (.sqlite).")]
Oracle = Annotated[
    str | None,
    typer.Option(
        callback=choice_of("matlattice.structure.potentials:POTENTIAL_NAMES"),
        help="Compute the target with relaxed crystal structures by this potential: chgnet | "
        "sevennet | sevennet-l3i5.",
    ),
]
OracleRandom = Annotated[
    int, typer.Option(callback=at_least(0), help="Random crystals per composition (--oracle).")
]


@campaign_app.command("create")
def create(
    store: StorePath,
    pool: Annotated[str, typer.Option(help="Candidates: CSV/parquet with 'formula', or dataset.")],
    target: Annotated[str, typer.Option(help="Property name (used in messages and results).")],
    goal: Annotated[
        str, typer.Option(callback=choice_of(f"{_SETTINGS}:GOALS"), help="max | min")
    ] = "max",
    acquisition: Annotated[
        str,
        typer.Option(
            callback=choice_of("matlattice.discovery.acquisition:ACQUISITIONS"),
            help="random | greedy | ucb | ei | pi | thompson | explore | window",
        ),
    ] = "ucb",
    window: Annotated[str, typer.Option(help="LO,HI for the window acquisition.")] = "",
    model: Annotated[
        str,
        typer.Option(
            callback=choice_of("matlattice.discovery.surrogates:SURROGATES"),
            help="rf | mlp | gp surrogate.",
        ),
    ] = "rf",
    batch: Batch = 8,
    budget: Budget = 100,
    initial: Initial = 16,
    seed: Seed = 0,
    retrain_every: Annotated[
        int, typer.Option(callback=at_least(1), help="Refit the surrogate every K-th ask.")
    ] = 1,
    reticulum_gamma: Annotated[
        float | None,
        typer.Option(help="Feedback reticulum between refits: sensitivity 0..1 (off if unset)."),
    ] = None,
    warm_start_epochs: Annotated[
        int | None, typer.Option(help="mlp: refits start from the last model, at most E epochs.")
    ] = None,
    objectives: Annotated[
        str, typer.Option(help="NAME:max,NAME:min...: a multi-objective (ParEGO) campaign.")
    ] = "",
    fidelities: Annotated[
        str,
        typer.Option(help="CHEAP:COST,main:COST: a two-fidelity campaign, budget in cost units."),
    ] = "",
    generate: Annotated[
        int,
        typer.Option(
            callback=at_least(0), help="Open-ended: new compositions added to the pool per ask."
        ),
    ] = 0,
    generator: Annotated[
        str,
        typer.Option(
            callback=choice_of("matlattice.discovery.settings:GENERATORS"),
            help="What --generate uses: substitution (same-group swaps, amount moves) or "
            "mined (the substitutions the pool's compositions show).",
        ),
    ] = "substitution",
):
    """Create a campaign over a pool of candidates."""
    from matlattice.discovery import CampaignSettings, open_campaign

    bounds = _numbers(window, "--window") if window else None
    aims = _pairs(objectives, "--objectives", str)
    costs = _pairs(fidelities, "--fidelities", float)
    settings = CampaignSettings(
        target=target,
        goal=goal,
        acquisition=acquisition,
        window=bounds,
        model=model,
        batch_size=batch,
        budget=budget,
        initial=initial,
        seed=seed,
        retrain_every=retrain_every,
        reticulum_gamma=reticulum_gamma,
        warm_start_epochs=warm_start_epochs,
        objectives=aims or None,
        fidelities=costs or None,
        generate=generate,
        generator=generator,
    )
    frame = read_formulas(pool)
    repeats = int(frame["formula"].duplicated().sum())
    with open_campaign(store, frame[["formula"]].drop_duplicates(), settings) as campaign:
        size = len(campaign.pool)
    if repeats:
        console.print(f"{repeats} repeated formulas of the pool were taken once")
    console.print(f"campaign {store}: {size} candidates, budget {budget}")


def _numbers(text: str, option: str) -> tuple[float, ...]:
    """``"1.2,1.8"`` -> ``(1.2, 1.8)``; a bad item names the option."""
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{option} {text!r}; expected LO,HI (numbers)") from None


def _pairs(text: str, option: str, kind) -> dict:
    """``"a:1,b:2"`` -> ``{"a": kind("1"), "b": kind("2")}``; a bad item names the option."""
    out = {}
    for item in (t for t in text.split(",") if t):
        name, _, value = item.partition(":")
        try:
            out[name] = kind(value)
        except ValueError:
            raise typer.BadParameter(f"{option} {item!r}; expected NAME:VALUE") from None
        if not name or not value:
            raise typer.BadParameter(f"{option} {item!r}; expected NAME:VALUE")
    return out


@campaign_app.command("ask")
def ask(
    store: StorePath,
    n: Annotated[int, typer.Option("-n", callback=at_least(1), help="Candidates to propose.")] = 8,
    output: TableOutput = Path("next.csv"),
):
    """Propose the next candidates (an unanswered ask is proposed again, never duplicated)."""
    from matlattice.design import campaign_generator
    from matlattice.discovery import resume_campaign
    from matlattice.runtime.files import atomic_write_table

    with progress_bar("fitting the surrogate"):
        with resume_campaign(store) as campaign:
            campaign.generator = campaign_generator(campaign.settings, campaign.pool["formula"])
            batch = campaign.ask(n)
        atomic_write_table(output, batch)
    console.print(f"{len(batch)} candidates -> {output}")


@campaign_app.command("tell")
def tell(
    store: StorePath,
    results: Annotated[Path, typer.Argument(help="CSV/parquet with 'formula' and 'value'.")],
    amend: Annotated[
        bool,
        typer.Option(
            "--amend", help="Correct results told before; the old values stay in the history."
        ),
    ] = False,
):
    """Record measured results (a repeat of a told value is ignored; another value for a
    told material is refused unless --amend). An empty value marks a proposal that could not
    be measured: it uses one measurement of the budget and is never proposed again."""
    from matlattice.data.user_files import read_table
    from matlattice.discovery import resume_campaign

    with resume_campaign(store) as campaign:
        before = len(campaign.amendments()), len(campaign.unmeasurable())
        stored = campaign.tell(read_table(results), amend=amend)
        amended = len(campaign.amendments()) - before[0]
        failed = len(campaign.unmeasurable()) - before[1]
        spent, budget = campaign.n_spent, campaign.settings.budget
    corrected = f", {amended} corrected (old values kept in the history)" if amended else ""
    unmeasured = (
        f", {failed} not measurable (an empty value; each used one measurement)" if failed else ""
    )
    console.print(f"{stored - amended} new results{corrected}{unmeasured}; {spent} of {budget}")


@campaign_app.command("measure")
def measure(
    store: StorePath,
    oracle: Oracle = "chgnet",
    rounds: Annotated[
        int, typer.Option(callback=at_least(0), help="Ask-measure-tell rounds (0: to budget).")
    ] = 1,
    n: Annotated[int, typer.Option("-n", callback=at_least(1), help="Candidates per round.")] = 8,
    oracle_random: OracleRandom = 6,
    device: Annotated[str, typer.Option(help="cpu | cuda for the potential.")] = "cpu",
):
    """Close the loop by physics: ask, compute the target of each proposal with relaxed
    crystal structures (the campaign's target must be formation_energy_per_atom or
    e_above_hull), tell; structures and values are kept beside the store (STORE-oracle/)."""
    import math

    from matlattice.design import campaign_generator
    from matlattice.discovery import resume_campaign
    from matlattice.discovery.structure_oracle import ORACLE_TARGETS, StructureOracle

    folder = store.parent / f"{store.stem}-oracle"
    with resume_campaign(store) as campaign, progress_bar("measuring by physics") as progress:
        target = campaign.settings.target
        if target not in ORACLE_TARGETS:
            raise typer.BadParameter(
                f"the campaign's target {target!r}: a structure oracle computes one of "
                f"{', '.join(ORACLE_TARGETS)}"
            )
        measuring = StructureOracle(oracle, target, folder=folder, n_random=oracle_random,
                                    device=device)  # fmt: skip
        campaign.generator = campaign_generator(campaign.settings, campaign.pool["formula"])
        done = 0
        while (rounds == 0 or done < rounds) and not campaign.done:
            progress(f"round {done + 1}: asking")
            batch = campaign.ask(n)
            if batch.empty:
                break
            progress(f"round {done + 1}: relaxing structures of {len(batch)} proposals")
            answer = measuring(batch["formula"].tolist())
            campaign.tell(answer)
            done += 1
            measured = answer["value"].notna().sum()
            console.print(f"round {done}: {measured} of {len(answer)} measured by {oracle}"
                          f" ({len(answer) - measured} not measurable)")  # fmt: skip
        best, spent, budget = campaign.best(), campaign.n_spent, campaign.settings.budget
    if len(best) and not math.isnan(best["value"].iloc[0]):
        console.print(f"best so far: {best['formula'].iloc[0]} = {best['value'].iloc[0]:.4g}")
    console.print(f"{spent} of {budget} measurements; structures in {folder}")


@campaign_app.command("status")
def status(store: StorePath):
    """Progress: measurements, best so far, pending proposals, model versions."""
    from matlattice.discovery import resume_campaign

    with resume_campaign(store, read_only=True) as campaign:
        s, measured, pending = campaign.settings, campaign.n_measured, len(campaign.pending())
        failed = len(campaign.unmeasurable())
        best, stability = campaign.best(), campaign.stability()
    objectives = s.objectives
    aim = ", ".join(f"{k} {g}" for k, g in objectives.items()) if objectives else s.goal
    target = "ParEGO" if objectives else s.target
    console.print(f"{target} ({aim}), {s.acquisition} on {s.model}")
    unmeasured = f" (and {failed} not measurable)" if failed else ""
    console.print(f"measured {measured}{unmeasured} of {s.budget}; {pending} proposals pending")
    if len(best) and objectives:
        console.print(f"Pareto front of the measured: {len(best)} materials")
    elif len(best):
        console.print(f"best so far: {best['formula'].iloc[0]} = {best['value'].iloc[0]:.4g}")
    console.print(f"model versions: {len(stability)}")
    if len(stability) > 1:
        last = stability.iloc[-1]
        console.print(
            f"last refit moved the probe predictions by {last['probe_shift']:.3g} of their "
            f"spread (rank correlation {last['probe_rank_corr']:.2f} with the previous model)"
        )


@campaign_app.command("export")
def export(
    store: StorePath,
    output: TableOutput = Path("history.csv"),
):
    """Write every proposal with its result (NaN where none yet)."""
    from matlattice.discovery import resume_campaign
    from matlattice.runtime.files import atomic_write_table

    with resume_campaign(store, read_only=True) as campaign:
        history = campaign.proposals()
    atomic_write_table(output, history)
    console.print(f"{len(history)} proposals -> {output}")


@campaign_app.command("run")
def run(
    data: Annotated[str, typer.Argument(help="Dataset with the hidden labels.")],
    target: Annotated[
        str, typer.Option(help="Property to optimise (a label only with --objectives).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Run folder.")] = Path("runs/campaign"),
    goal: Annotated[str, typer.Option(help="max | min | window:LO,HI")] = "max",
    methods: Annotated[
        str,
        typer.Option(
            help="acquisition@model[+every=K][+reticulum=G][+warm=E][+cheap], comma-separated "
            "(models: rf, mlp, gp; on a window goal ucb and ei run the window acquisition)."
        ),
    ] = "ucb@rf,ei@gp,random",
    pool_size: Annotated[
        int, typer.Option(callback=at_least(2), help="Candidates in the pool.")
    ] = 2000,
    initial: Initial = 20,
    budget: Budget = 200,
    batch: Batch = 10,
    seeds: Annotated[int, typer.Option(callback=at_least(1), help="Campaigns per method.")] = 10,
    top: Annotated[
        float,
        typer.Option(
            callback=open_range(0.0, 1.0, high_closed=True),
            help="Share of the pool that counts as the best.",
        ),
    ] = 0.01,
    objectives: Annotated[
        str,
        typer.Option(help="Two objectives, e.g. bulk_modulus:max,debye_temperature:max (ParEGO)."),
    ] = "",
    cheap: Annotated[
        str,
        typer.Option(
            help="Cheap fidelity DATA:COLUMN:COST (matched by composition) for '+cheap' methods."
        ),
    ] = "",
    main_cost: Annotated[float, typer.Option(help="Cost of one target measurement.")] = 1.0,
    hold_out: Annotated[
        float,
        typer.Option(
            callback=open_range(0.0, 1.0, low_closed=True),
            help="Share of the chemical systems kept out of the pool (open-ended methods, "
            "+generate=K, can reach them only by proposing them).",
        ),
    ] = 0.0,
    resume: Annotated[
        bool, typer.Option(help="Continue the campaigns stored in OUT (killed or finished).")
    ] = False,
    oracle: Oracle = None,
    oracle_random: OracleRandom = 6,
):
    """Benchmark mode: campaigns on a pool with hidden labels, every method, many seeds.

    Open-ended methods grow their pool (ucb@rf+generate=20+generator=mined); a proposal DATA
    lacks is not measurable and uses one measurement. --oracle POTENTIAL computes the labels
    (formation_energy_per_atom, e_above_hull) from relaxed structures of every pool
    composition, kept in OUT/oracle; --cheap structure:POTENTIAL:COST adds a second one."""
    from matlattice.design import campaign_generator
    from matlattice.discovery.benchmark import campaign_benchmark, stored_campaigns

    stored = stored_campaigns(out)
    if stored and not resume:
        raise typer.BadParameter(
            f"{out} holds {len(stored)} stored campaigns; pass --resume to continue them "
            "or choose another --out"
        )
    window = None
    if goal.startswith("window:"):
        window, goal = _numbers(goal.split(":", 1)[1], "--goal window:"), "max"
    aims = _pairs(objectives, "--objectives", str)
    names = tuple(m for m in methods.split(",") if m)
    pool, cheap_fidelity = _pool_and_cheap(data, target, oracle, cheap, pool_size,
                                           oracle_random, out, names)  # fmt: skip
    with progress_bar(f"campaigns on {data}") as progress:
        summary = campaign_benchmark(
            pool,
            target,
            out,
            goal=goal,
            window=window,
            objectives=aims or None,
            cheap=cheap_fidelity,
            main_cost=main_cost,
            methods=names,
            pool_size=pool_size,
            initial=initial,
            budget=budget,
            batch=batch,
            seeds=tuple(range(seeds)),
            top=top,
            hold_out=hold_out,
            generator_factory=campaign_generator,
            progress=progress,
        )
    _print_summary(summary, budget)
    print_rejected(out)
    console.print(f"run folder: {out} (campaign.json, campaign.png)")


def _pool_and_cheap(data, target, oracle, cheap, pool_size, n_random, out, methods):
    """What the benchmark runs on: DATA's hidden labels, or labels computed by ``oracle``;
    and the cheap fidelity, if any."""
    from matlattice.discovery.benchmark import cheap_source

    if oracle:
        return _computed_labels(data, target, oracle, cheap, pool_size, n_random, out, methods)
    return data, (cheap_source(data, *_cheap_spec(cheap)) if cheap else None)


def _computed_labels(data, target, potential, cheap, pool_size, n_random, out, methods):
    """The pool of ``run --oracle``: ``formula, target`` computed by ``potential``, and the
    cheap fidelity (``structure:POTENTIAL:COST`` computed the same way, or a dataset's)."""
    from matlattice.discovery.benchmark import cheap_source
    from matlattice.discovery.structure_oracle import (
        ORACLE_TARGETS,
        StructureOracle,
        computed_pool,
    )

    if target not in ORACLE_TARGETS:
        raise typer.BadParameter(
            f"--target {target!r} with --oracle {potential}; the oracle computes one of "
            f"{', '.join(ORACLE_TARGETS)}"
        )
    if any("+generate" in m for m in methods):
        raise typer.BadParameter(
            "+generate methods with --oracle: generated compositions would be computed during "
            "the campaign; drive that with `campaign measure STORE --oracle`"
        )
    folder = Path(out) / "oracle"
    oracles = [StructureOracle(potential, target, folder=folder, n_random=n_random)]
    spec = _cheap_spec(cheap) if cheap else None
    if spec and spec[0] == "structure":
        oracles.append(StructureOracle(spec[1], target, folder=folder, n_random=n_random))
    with progress_bar(f"computing {target} of {pool_size} compositions") as progress:
        frame = computed_pool(data, oracles, pool_size, progress=progress)
    columns = [f"{target}@{o.potential.name}" for o in oracles]
    pool = frame[["formula", columns[0]]].rename(columns={columns[0]: target})
    if pool[target].notna().sum() < 2:
        from matlattice.errors import InvalidParameterError

        raise InvalidParameterError(
            f"the {potential} oracle computed {target} for {pool[target].notna().sum()} of "
            f"{len(pool)} pool compositions (why not: the notes in {folder}/values-*.json); "
            "a campaign needs a pool with values"
        )
    if spec and spec[0] == "structure":
        return pool, (frame[["formula", columns[1]]], columns[1], spec[2])
    return pool, (cheap_source(data, *spec) if spec else None)


def _print_summary(summary: dict, budget: int) -> None:
    """One line per method of a benchmark run (and what open-ended ones found beyond)."""
    for name, m in summary["acquisitions"].items():
        speed = m["acceleration_factor"]
        console.print(
            f"{name}: found {m['found_at_budget']:.0%} of the best at {budget}; "
            + (f"acceleration {speed:.1f}x" if speed else "half of the best not reached")
            + (
                f"; {m['hypervolume_at_budget']:.0%} of the pool's hypervolume"
                if "hypervolume_at_budget" in m
                else ""
            )
        )
        beyond = m.get("beyond_pool")
        if beyond:
            console.print(
                f"  beyond the pool: {beyond['beyond_top']:.1f} as good as its top "
                f"({beyond['held_out_top']:.1f} in held-out systems), best "
                f"{beyond['best_gain']:+.3g} past the pool's best, climbed past it in "
                f"{beyond['climbed_past_pool']:.0%} of the campaigns; "
                f"{beyond['unmeasurable']:.1f} proposals not measurable"
            )


def _cheap_spec(text: str) -> tuple[str, str, float]:
    """``DATA:COLUMN:COST`` of ``--cheap`` (DATA may itself hold a colon, as in crabnet:...)."""
    parts = text.rsplit(":", 2)
    try:
        if len(parts) == 3 and parts[0] and parts[1]:
            return parts[0], parts[1], float(parts[2])
    except ValueError:
        pass
    raise typer.BadParameter(f"--cheap {text!r}; expected DATA:COLUMN:COST, e.g. oqmd:band_gap:0.1")
