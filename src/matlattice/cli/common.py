"""What every CLI module shares: the error console, friendly errors, progress, formula input."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from matlattice.errors import MatlatticeError

__all__ = ["err_console", "friendly_errors", "progress_bar", "read_formulas"]

err_console = Console(stderr=True)


@contextmanager
def friendly_errors():
    try:
        yield
    except MatlatticeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc


@contextmanager
def progress_bar(description: str):
    """A rich progress display (transient, silent when not a terminal)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(text: str) -> None:
            progress.update(task, description=f"{description} - {text}")
            if not err_console.is_terminal:
                logging.getLogger("matlattice").info("%s - %s", description, text)

        yield update


def read_formulas(path_or_name: str) -> pd.DataFrame:
    """A frame with a ``formula`` column: from a dataset name or a CSV/parquet/text file."""
    from matlattice.data import load_dataset
    from matlattice.data.user_files import read_table

    path = Path(path_or_name)
    if path.suffix.lower() in (".csv", ".parquet", ".pq"):
        frame = read_table(path)
        if "formula" not in frame.columns:
            raise typer.BadParameter(f"{path} has no 'formula' column")
        return frame
    if path.suffix.lower() == ".txt":
        return pd.DataFrame({"formula": path.read_text().split()})
    return load_dataset(path_or_name).frame
