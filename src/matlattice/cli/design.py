"""``matlattice design``: new compositions for one or more targets, checked and ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import check_rerun, print_rejected, progress_bar
from matlattice.cli.options import (
    Executor,
    RerunConfig,
    Seed,
    at_least,
    choice_of,
    comma_names,
    open_range,
)
from matlattice.cli.tables import console, fmt

__all__ = ["design"]


TargetOption = Annotated[
    list[str] | None,
    typer.Option(
        help="PROPERTY:max, PROPERTY:min or PROPERTY:LO,HI (repeatable; several targets "
        "are met jointly). max/min mean beating the --share best of the known labels."
    ),
]

CountOption = Annotated[int, typer.Option(callback=at_least(1), help="Candidates to keep.")]

OutOption = Annotated[Path, typer.Option("--out", help="Run folder to write.")]

GeneratorsOption = Annotated[
    str, typer.Option(help="Comma-separated: mined, evolution, ion_exchange, latent, random.")
]

ShareOption = Annotated[
    float,
    typer.Option(callback=open_range(0.0, 1.0), help="max/min targets: the best share."),
]

PriorWeightOption = Annotated[
    float,
    typer.Option(
        callback=open_range(-1e-300, 1e6),
        help="Weight of the mined substitution prior in the ranking (0: the model alone).",
    ),
]

PerSystemOption = Annotated[
    int, typer.Option(callback=at_least(0), help="Cap per chemical system (0: none).")
]

MaxAtomsOption = Annotated[
    int, typer.Option(callback=at_least(1), help="Atoms per formula unit, at most.")
]

MaxElementsOption = Annotated[
    int, typer.Option(callback=at_least(2), help="Elements per candidate, at most.")
]

DenyOption = Annotated[str, typer.Option(help="Comma-separated elements never used.")]

AllowOption = Annotated[str, typer.Option(help="Comma-separated elements, the only ones used.")]

MaxHhiOption = Annotated[
    float,
    typer.Option(
        callback=open_range(-1e-300, 10_000, high_closed=True),
        help="Supply risk: largest production HHI of a candidate (0: no limit; 2500: "
        "highly concentrated).",
    ),
]

ModelOption = Annotated[
    Path | None,
    typer.Option(exists=True, file_okay=False, help="Use the models of this fit run."),
]

LatticeOption = Annotated[
    str,
    typer.Option(
        help="Steer several targets by the entanglement lattice: 'measure' (on DATA), or "
        "an entangle run folder / its lattice.json.",
    ),
]

ReferenceOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Another dataset or file whose compositions are known too, so never proposed "
        "(repeatable; nothing but DATA is read otherwise)."
    ),
]

StableOption = Annotated[
    str,
    typer.Option(
        help="Rank also by the predicted distance to the convex hull of DATA's phases: "
        "the property holding formation energies (eV/atom).",
    ),
]

StableWithinOption = Annotated[
    float,
    typer.Option(
        callback=open_range(-1e-300, None), help="--stable: eV/atom above the hull allowed."
    ),
]

BorrowOption = Annotated[
    list[str] | None,
    typer.Option(
        help="DATASET[:PROPERTY][@ROWS]: another dataset's properties, merged per composition, "
        "as proxy candidates (repeatable; its compositions are known, so never proposed).",
    ),
]

ProxyOption = Annotated[
    str,
    typer.Option(
        help="A plentifully labelled property standing in for a scarce target: 'auto' (the "
        "most strongly coupled of DATA's other properties and the borrowed ones) or a name.",
    ),
]

NEstimatorsOption = Annotated[
    int, typer.Option(callback=at_least(1), help="Trees of the property model (no --model).")
]

StructuresOption = Annotated[
    int,
    typer.Option(
        callback=at_least(0),
        help="Give the K best candidates crystal structures (relaxed by --structure-potential) "
        "and re-rank them by computed stability (0: off).",
    ),
]
StructurePotentialOption = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.structure.potentials:POTENTIAL_NAMES"),
        help="Potential of --structures: chgnet | sevennet | sevennet-l3i5.",
    ),
]
StructureRandomOption = Annotated[
    int, typer.Option(callback=at_least(0), help="Random crystals per formula of --structures.")
]
OverwriteOption = Annotated[
    bool, typer.Option(help="Replace the run in --out once the new one is complete.")
]


def design(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path (the known).")],
    target: TargetOption = None,
    n: CountOption = 1000,
    out: OutOption = Path("runs/design"),
    generators: GeneratorsOption = "mined,evolution,ion_exchange",
    share: ShareOption = 0.05,
    prior_weight: PriorWeightOption = 1.0,
    per_system: PerSystemOption = 0,
    max_atoms: MaxAtomsOption = 20,
    max_elements: MaxElementsOption = 4,
    deny: DenyOption = "",
    allow: AllowOption = "",
    max_hhi: MaxHhiOption = 0.0,
    model: ModelOption = None,
    lattice: LatticeOption = "",
    reference: ReferenceOption = None,
    stable: StableOption = "",
    stable_within: StableWithinOption = 0.1,
    borrow: BorrowOption = None,
    proxy: ProxyOption = "",
    n_estimators: NEstimatorsOption = 300,
    structures: StructuresOption = 0,
    structure_potential: StructurePotentialOption = "chgnet",
    structure_random: StructureRandomOption = 10,
    executor: Executor = "local",
    jobs: Annotated[
        int, typer.Option(callback=at_least(1), help="Processes scoring candidate batches.")
    ] = 1,
    seed: Seed = 0,
    overwrite: OverwriteOption = False,
    config: RerunConfig = None,
):
    """Propose compositions nobody listed that meet the targets: generate, check, rank."""
    from matlattice.jobs.design import DesignConfig, design_run

    if config is not None:
        check_rerun(ctx, config, data, DesignConfig.fields_in(config))
        settings = DesignConfig.from_json(config)
    else:
        if not target:
            raise typer.BadParameter("give at least one --target, e.g. bulk_modulus:max")
        settings = DesignConfig(
            data=data,
            targets=tuple(target),
            n=n,
            generators=comma_names(generators, "--generators"),
            share=share,
            prior_weight=prior_weight,
            per_system=per_system,
            max_atoms=max_atoms,
            max_elements=max_elements,
            deny=comma_names(deny, "--deny"),
            allow=comma_names(allow, "--allow"),
            max_hhi=max_hhi,
            model_run=str(model or ""),
            lattice=lattice,
            reference=tuple(reference or ()),
            stable=stable,
            stable_within=stable_within,
            borrow=tuple(borrow or ()),
            proxy=proxy,
            n_estimators=n_estimators,
            structures=structures,
            structure_potential=structure_potential,
            structure_random=structure_random,
            executor=executor,
            n_jobs=jobs,
            seed=seed,
        )
    with progress_bar(f"design on {settings.data}") as progress:
        record = design_run(settings, out, overwrite=overwrite, progress=progress)
    print_design(record, out)
    print_rejected(out)


def print_design(record: dict, out: Path) -> None:
    """The design's targets, its set measures and the best candidates."""
    import pandas as pd

    console.print("targets: " + "; ".join(record["targets"]), highlight=False)
    for pair in record.get("lattice") or []:
        console.print(f"lattice: {pair['reading']}", highlight=False)
    for target, proxy in (record.get("proxies") or {}).items():
        pair = record["proxy_evidence"]["pairs"][target][proxy]
        console.print(
            f"proxy: {proxy} stands in for {target} (rho {pair['spearman']:+.2f} on "
            f"{pair['count']:,} shared compositions, {pair['labels']:,} labels)",
            highlight=False,
        )
    console.print(
        f"{record['candidates']:,} candidates from {record['known_compositions']:,} known "
        f"compositions: valid {fmt(record['validity'])}, unique {fmt(record['uniqueness'])}, "
        f"new {fmt(record['novelty'])}, in domain {fmt(record['in_domain'])}; "
        f"{record['chemical_systems']:,} chemical systems, element Vendi score "
        f"{record['element_vendi']:.1f}; per generator {record['per_generator']}; "
        f"{record['seconds']:.0f} s",
        highlight=False,
    )
    best = pd.read_csv(Path(out) / "candidates.csv", nrows=10)
    shown = ["formula", "p_meet", "prior", "generator", "nearest_known", "distance"]
    checked = record.get("structures")
    if checked:
        console.print(
            f"structures ({checked.get('potential', '-')}): {checked['computed']} of the "
            f"{checked['k']} best computed, {checked['computed_stable']} within "
            f"{record['config']['stable_within']} eV/atom of the hull; not computed: "
            f"{len(checked['not_computed'])}",
            highlight=False,
        )
        shown += ["computed_spacegroup", "computed_e_above_hull"]
    console.print(best[shown].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    console.print(f"run folder: {out} (candidates.csv, design.json, figures)")
