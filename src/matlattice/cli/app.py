"""The ``matlattice`` application: its commands, and the one place where errors meet the user.

Every error a user can cause is a :class:`~matlattice.errors.MatlatticeError` naming the bad
value; here it becomes one line on stderr and exit code 2 (the traceback too under ``-v``).
Bad option values never get that far: click refuses them while parsing (exit code 2). A file
the system cannot read or write is reported the same way. Anything else is a bug in
matlattice: one line saying so, exit code 1, the traceback under ``-v``.
"""

from __future__ import annotations

import logging
import traceback
from typing import Annotated

import typer
from typer.core import TyperGroup

from matlattice.cli.campaign import campaign_app
from matlattice.cli.common import err_console
from matlattice.cli.data import data_app, featurize
from matlattice.cli.demo import demo
from matlattice.cli.design import design
from matlattice.cli.diagnostics import entangle, fidelity
from matlattice.cli.fit import calibrate, fit, predict
from matlattice.cli.report import report
from matlattice.cli.serve import serve
from matlattice.cli.structure import structure_app
from matlattice.errors import MatlatticeError

__all__ = ["app"]

USER_ERROR, BUG = 2, 1


class _OneErrorPath(TyperGroup):
    """The root command group: turns exceptions from any command into one line."""

    def invoke(self, ctx: typer.Context) -> object:
        verbose = bool(ctx.params.get("verbose", False))
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # click's own reports
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except (MatlatticeError, OSError) as exc:
            _report(exc, "error", verbose)
            raise typer.Exit(USER_ERROR) from exc
        except Exception as exc:
            _report(exc, "internal error (a bug in matlattice; please report it)", verbose)
            raise typer.Exit(BUG) from exc


def _report(exc: BaseException, label: str, verbose: bool) -> None:
    if verbose:
        err_console.print("".join(traceback.format_exception(exc)), markup=False, end="")
    elif label.startswith("internal"):
        label += "; rerun with -v for the traceback"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    err_console.print(f"[bold red]{label}:[/] ", end="", soft_wrap=True)
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


app = typer.Typer(
    cls=_OneErrorPath,
    help="matlattice: materials representation learning on real data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.add_typer(campaign_app, name="campaign")
app.add_typer(structure_app, name="structure")
for command in (
    featurize,
    fit,
    predict,
    calibrate,
    fidelity,
    entangle,
    design,
    report,
    serve,
    demo,
):
    app.command()(command)


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details; tracebacks of errors.")
    ] = False,
):
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


if __name__ == "__main__":  # pragma: no cover
    app()
