"""What every CLI module shares: the error console, progress reports, formula input."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["err_console", "print_rejected", "progress_bar", "read_formulas"]

err_console = Console(stderr=True)


_COUNT = re.compile(r"(\d+)/(\d+)")


@contextmanager
def progress_bar(description: str, *, every: float = 10.0):
    """``update(text)`` shows where a long job is. On a terminal: a rich bar whose total is
    the last ``k/N`` in the text (``"member 1/2, epoch 12/40"``: 12 of 40), a spinner while
    the text has none, with the time elapsed and left. Off a terminal (a log file, a pipe):
    one plain line on stderr when a new step starts and at most every ``every`` seconds
    within a step (a step is the text before its first comma)."""
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
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks = [progress.add_task(description, total=None)]

        def update(text: str) -> None:
            counts, label = _COUNT.findall(text), f"{description} - {text}"
            if counts:
                done, total = map(int, counts[-1])
                progress.update(tasks[-1], description=label, completed=done, total=total)
            elif progress.tasks[-1].total is None:
                progress.update(tasks[-1], description=label)
            else:  # a step without a count: back to a spinner
                progress.remove_task(tasks.pop())
                tasks.append(progress.add_task(label, total=None))

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


def print_rejected(folder: Path) -> None:
    """One line saying how many labelled values a job's load removed and why, when it wrote
    ``folder/rejected.csv``."""
    import pandas as pd

    from matlattice.cli.tables import console
    from matlattice.data.rejections import REJECTED

    path = Path(folder) / REJECTED
    if not path.is_file():
        return
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    reasons = rows["reason"].str.split(":").str[0].value_counts()
    console.print(
        f"{len(rows):,} labelled values were removed while loading ("
        + ", ".join(f"{n:,} {reason}" for reason, n in reasons.items())
        + f"); each is listed in {path}",
        highlight=False,
        soft_wrap=True,
    )


def config_from_file(
    path: Path, data: str, ctx: typer.Context, given, *, renames: dict[str, str] | None = None
):
    """The config of ``--config PATH`` for ``DATA``: the file's fields (a run's
    ``config.json`` or a hand-written file of some fields), with every option typed on the
    command line over them (``given`` holds those values, as the command built them without
    a file). A file written for other data is refused: its numbers would be another set's."""
    fields = type(given).fields_in(path)
    _refuse_other_data(
        path, data, fields, ", or remove 'data' from the file to use it for any data"
    )
    return typed_over(ctx, given, {**fields, "data": data}, renames=renames)


def typed_over(ctx: typer.Context, given, fields: dict, *, renames: dict[str, str] | None = None):
    """A config of ``fields`` (a file's, a preset's) with every option typed on the command
    line over them; ``given`` holds the command's values of its options."""
    renames = renames or {}
    typed = {renames.get(name, name) for name in _typed_names(ctx, ("preset",))}
    overrides = {name: getattr(given, name) for name in typed if hasattr(given, name)}
    return type(given).from_dict({**fields, **overrides})


def check_rerun(ctx: typer.Context, path: Path, data: str | None, fields: dict) -> None:
    """``--config PATH`` of a command that reruns a saved config as it is: DATA must be the
    data it was written for, and no other option may be typed beside it (it would be
    ignored, and the run would not be the one asked for)."""
    from matlattice.errors import InvalidParameterError

    if data is not None:
        _refuse_other_data(path, data, fields, "")
    typed = sorted(_typed_names(ctx, ("resume", "overwrite")))
    if typed:
        raise InvalidParameterError(
            f"--config {path} reruns a saved config as it is; options {typed} would be "
            "ignored: drop them, or edit the file"
        )


def _refuse_other_data(path: Path, data: str, fields: dict, hint: str) -> None:
    from matlattice.errors import InvalidParameterError

    if fields.get("data", data) != data:
        raise InvalidParameterError(
            f"DATA is {data!r} but {path} was written for {fields['data']!r}; pass "
            f"{fields['data']!r}{hint}"
        )


def _typed_names(ctx: typer.Context, also_skip: tuple[str, ...]) -> list[str]:
    """The command's options typed on the command line, but DATA, --config and --out."""
    skip = {"data", "config", "out", *also_skip}
    return [name for name in ctx.params if name not in skip and _typed(ctx, name)]


def _typed(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was typed on the command line (typer ships its own click, so
    the source is compared by name)."""
    source = ctx.get_parameter_source(name)
    return getattr(source, "name", None) == "COMMANDLINE"
