"""Options shared by the commands, validated where they are parsed.

A bad value is refused before any work starts, by click, as one message that names the option
and the value: ranges and choices by callbacks, the choices read from the library's own lists
of names (imported while a command parses its options, never for ``--help``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "BatchSize",
    "Device",
    "ElementTable",
    "Ensemble",
    "Epochs",
    "Executor",
    "Jobs",
    "LatentDim",
    "LearningRate",
    "Patience",
    "Seed",
    "TableOutput",
    "at_least",
    "choice_of",
    "comma_floats",
    "comma_ints",
    "comma_names",
    "open_range",
]


def choice_of(reference: str) -> Callable:
    """A callback that accepts only the names in ``reference`` (``"module:CONSTANT"``), one
    value or each of a list of them."""
    module, constant = reference.split(":")

    def check(ctx: typer.Context, param: typer.CallbackParam, value):
        if value is None or ctx.resilient_parsing:
            return value
        allowed = tuple(getattr(import_module(module), constant))
        for one in value if isinstance(value, list) else [value]:
            if one not in allowed:
                raise typer.BadParameter(f"{one!r} is not one of {', '.join(allowed)}")
        return value

    return check


def open_range(
    low: float | None, high: float | None, *, low_closed: bool = False, high_closed: bool = False
) -> Callable:
    """A callback that accepts a number above ``low`` (or from it with ``low_closed``) and
    below ``high`` (or up to it with ``high_closed``); None is no bound."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: float | None):
        if value is None or ctx.resilient_parsing:
            return value
        above = low is None or value > low or (low_closed and value == low)
        below = high is None or value < high or (high_closed and value == high)
        if not (above and below):
            bottom = "(-inf" if low is None else f"{'[' if low_closed else '('}{low}"
            top = "inf)" if high is None else f"{high}{']' if high_closed else ')'}"
            raise typer.BadParameter(f"{value!r} is not in {bottom}, {top}")
        return value

    return check


def at_least(bound: int) -> Callable:
    """A callback that accepts an integer ``>= bound``, naming the value it refuses."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: int | None):
        if value is not None and not ctx.resilient_parsing and value < bound:
            raise typer.BadParameter(f"{value!r} is less than {bound}")
        return value

    return check


def _table_path(ctx: typer.Context, param: typer.CallbackParam, value: Path) -> Path:
    if not ctx.resilient_parsing and Path(value).suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise typer.BadParameter(f"{str(value)!r} is not a .csv or .parquet file name")
    return value


def _device(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """``cpu``, or ``cuda``/``cuda:N`` when this torch build sees a GPU."""
    if ctx.resilient_parsing or value == "cpu":
        return value
    if value != "cuda" and not (value.startswith("cuda:") and value[5:].isdigit()):
        raise typer.BadParameter(f"{value!r} is not a device; expected cpu, cuda or cuda:N")
    import torch

    if not torch.cuda.is_available():
        raise typer.BadParameter(
            f"{value!r}: this torch build sees no GPU (torch {torch.__version__}); use cpu"
        )
    return value


def _comma(parse: Callable[[str], object], what: str) -> Callable[[str, str], tuple]:
    def split(text: str, option: str) -> tuple:
        try:
            return tuple(parse(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            raise typer.BadParameter(
                f"{option} {text!r}; expected comma-separated {what}"
            ) from None

    return split


comma_ints = _comma(int, "integers")
comma_floats = _comma(float, "numbers")
comma_names = _comma(str, "names")

Seed = Annotated[
    int, typer.Option(callback=at_least(0), help="Seed of splits, models and sampling.")
]
LatentDim = Annotated[
    int, typer.Option(callback=at_least(1), help="Embedding width d (attention, mlp).")
]
Ensemble = Annotated[
    int, typer.Option(callback=at_least(1), help="Ensemble members (attention, mlp).")
]
Epochs = Annotated[int, typer.Option(callback=at_least(1), help="Maximum epochs (attention, mlp).")]
Patience = Annotated[
    int, typer.Option(callback=at_least(1), help="Early-stopping patience in epochs.")
]
BatchSize = Annotated[int, typer.Option(callback=at_least(1), help="Batch size.")]
LearningRate = Annotated[
    float, typer.Option(callback=open_range(0.0, None), help="Peak learning rate.")
]
Device = Annotated[str, typer.Option(callback=_device, help="cpu | cuda | cuda:N")]
Jobs = Annotated[int, typer.Option(callback=at_least(1), help="Processes working at once.")]
Executor = Annotated[
    str,
    typer.Option(callback=choice_of("matlattice.runtime.executor:EXECUTORS"), help="local | ray"),
]
RunFolder = Annotated[
    Path,
    typer.Argument(exists=True, file_okay=False, help="Run folder written by `matlattice fit`."),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        exists=True,
        dir_okay=False,
        help="Settings from a JSON file: a run's config.json (to rerun it) or some fields "
        "written by hand; options typed on the command line win over it.",
    ),
]
RerunConfig = Annotated[
    Path | None,
    typer.Option(
        "--config",
        exists=True,
        dir_okay=False,
        help="Rerun the config.json of an earlier run as it is (with no other option).",
    ),
]
TableOutput = Annotated[
    Path,
    typer.Option("--output", "-o", callback=_table_path, help="Output table: .csv or .parquet."),
]
ElementTable = Annotated[
    str,
    typer.Option(
        callback=choice_of("matlattice.represent.element_tables:ELEMENT_TABLES"),
        help="Element table (elementembeddings): element tokens of the attention encoder, or "
        "the element properties of composition statistics.",
    ),
]
