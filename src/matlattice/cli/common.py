"""What every CLI module shares: the error console, progress reports, formula input."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["err_console", "progress_bar", "read_formulas"]

err_console = Console(stderr=True)


@contextmanager
def progress_bar(description: str, *, every: float = 10.0):
    """``update(text)`` shows where a long job is: a rich spinner on a terminal; off a
    terminal (a log file, a pipe) one plain line on stderr when a new step starts and at most
    every ``every`` seconds within a step (a step is the text before its first comma)."""
    if not err_console.is_terminal:
        last = {"step": None, "time": 0.0}

        def log_line(text: str) -> None:
            step, now = text.split(",")[0], time.monotonic()
            if step != last["step"] or now - last["time"] >= every:
                err_console.print(f"{description} - {text}", markup=False, soft_wrap=True)
                last.update(step=step, time=now)

        yield log_line
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(text: str) -> None:
            progress.update(task, description=f"{description} - {text}")

        yield update


def read_formulas(path_or_name: str) -> pd.DataFrame:
    """A frame with a ``formula`` column: from a dataset name or a CSV/parquet/text file."""
    import pandas as pd

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
