"""``matlattice structure``: relaxed crystal structures for formulas (predict) and the
experimentalist's check of a run against a measured powder pattern (match-xrd)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.common import check_rerun, progress_bar, read_formulas
from matlattice.cli.options import Device, RerunConfig, Seed, at_least, choice_of, open_range
from matlattice.cli.tables import console, fmt

__all__ = ["structure_app"]

structure_app = typer.Typer(
    help="Crystal structures: predict (relax, stability, XRD), match-xrd.", no_args_is_help=True
)

_POTENTIALS = "matlattice.structure.potentials:POTENTIAL_NAMES"
_HULLS = "matlattice.structure.predict:HULLS"


@structure_app.command("predict")
def predict(
    ctx: typer.Context,
    formulas: Annotated[str, typer.Argument(help="CSV/parquet with 'formula', .txt, or dataset.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")] = Path(
        "runs/structure"
    ),
    n_candidates: Annotated[
        int, typer.Option(callback=at_least(0), help="Random symmetric crystals per formula.")
    ] = 10,
    prototypes: Annotated[
        bool, typer.Option(help="Add the prototype library's structures that fit.")
    ] = True,
    potential: Annotated[
        str, typer.Option(callback=choice_of(_POTENTIALS), help="chgnet | sevennet | ...")
    ] = "chgnet",
    second: Annotated[
        str, typer.Option(help="A second potential re-relaxing the 3 best of each formula.")
    ] = "",
    hull: Annotated[
        str, typer.Option(callback=choice_of(_HULLS), help="dft | potential | none")
    ] = "dft",
    max_atoms: Annotated[
        int, typer.Option(callback=at_least(1), help="Atoms per cell, at most.")
    ] = 24,
    fmax: Annotated[
        float, typer.Option(callback=open_range(0.0, None), help="Force criterion, eV/Å.")
    ] = 0.05,
    steps: Annotated[int, typer.Option(callback=at_least(1), help="FIRE steps, at most.")] = 300,
    batch_size: Annotated[
        int, typer.Option(callback=at_least(1), help="Structures per model call.")
    ] = 16,
    device: Device = "cpu",
    seed: Seed = 0,
    resume: Annotated[bool, typer.Option(help="Continue a killed run in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace the run in --out.")] = False,
    config: RerunConfig = None,
):
    """Relax candidate structures of each formula; rank them by energy, formation energy
    and distance to the convex hull; write CIFs and predicted XRD patterns."""
    from matlattice.jobs.structure import StructureConfig, structure_run

    if config is not None:
        check_rerun(ctx, config, None, StructureConfig.fields_in(config))
        settings = StructureConfig.from_json(config)
    else:
        names = read_formulas(formulas)["formula"].astype(str).drop_duplicates().tolist()
        settings = StructureConfig(
            formulas=tuple(names), potential=potential, second=second, n_random=n_candidates,
            prototypes=prototypes, max_atoms=max_atoms, hull=hull, fmax=fmax, steps=steps,
            seed=seed, device=device, batch_size=batch_size,
        )  # fmt: skip
    with progress_bar(f"structures with {settings.potential}") as progress:
        record = structure_run(settings, out, resume=resume, overwrite=overwrite,
                               progress=progress)  # fmt: skip
    print_structures(record, out)


def print_structures(record: dict, out: Path) -> None:
    """The best structure of each formula."""
    from rich.table import Table

    table = Table(title=f"lowest-energy structures ({record['structures']} relaxed)")
    for column in ("formula", "space group", "from", "E_f eV/atom", "E_hull eV/atom",
                   "converged", "second agrees"):  # fmt: skip
        table.add_column(column)
    for row in record["formulas"]:
        agrees = {True: "yes", False: "no", None: "-"}[row["agrees"]]
        table.add_row(row["formula"], f"{row['symbol']} ({row['spacegroup']})", row["source"],
                      fmt(row["formation_energy_per_atom"]), fmt(row["e_above_hull"]),
                      f"{row['converged']}/{row['candidates']}", agrees)  # fmt: skip
    console.print(table)
    console.print(f"wrote {out}/candidates.csv, structures/, xrd/ ({record['seconds']} s)")


@structure_app.command("match-xrd")
def match_xrd(
    pattern: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV: two_theta, intensity.")
    ],
    run: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="A structure predict run.")
    ],
    top: Annotated[int, typer.Option(callback=at_least(1), help="Rows to show.")] = 10,
    fwhm: Annotated[
        float, typer.Option(callback=open_range(0.0, None), help="Peak width, degrees 2θ.")
    ] = 0.3,
    max_strain: Annotated[
        float, typer.Option(callback=open_range(-1e-300, 0.2), help="Lattice strain tried, ±.")
    ] = 0.04,
):
    """Rank a run's relaxed structures by how well their predicted patterns match a
    measured powder pattern (Cu Kα); writes RUN/xrd_match.csv."""
    from matlattice.jobs.structure import match_run

    table = match_run(pattern, run, fwhm=fwhm, max_strain=max_strain)
    shown = table.head(top)
    console.print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    console.print(f"wrote {run}/xrd_match.csv")
