"""``matlattice serve``: the ask/tell HTTP service over a folder of campaign stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matlattice.cli.options import at_least
from matlattice.cli.tables import console

__all__ = ["serve"]


def serve(
    store: Annotated[
        Path, typer.Option(help="Folder of campaign stores (<name>.sqlite), created if missing.")
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(callback=at_least(1), help="Port.")] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File whose first line is the bearer token (else $MATLATTICE_TOKEN)."),
    ] = None,
    runs: Annotated[
        Path | None, typer.Option(help="Folder of fit run folders for POST /models/RUN/predict.")
    ] = None,
    max_body: Annotated[
        int, typer.Option(callback=at_least(1024), help="Largest request body in bytes.")
    ] = 2_000_000,
):
    """Serve campaigns over HTTP: POST /campaigns, POST /campaigns/NAME/ask, POST
    /campaigns/NAME/tell, GET /campaigns/NAME, GET /campaigns/NAME/export, POST
    /models/RUN/predict; OpenAPI docs at /docs. Every route but /health needs the bearer
    token, which never travels on the command line: set MATLATTICE_TOKEN or give
    --token-file. The CLI's campaign commands work on the same stores."""
    import uvicorn

    from matlattice.service import create_app, load_token

    token = load_token(token_file)
    if runs is not None and not runs.is_dir():
        raise typer.BadParameter(f"--runs {runs}: not a folder")
    app = create_app(store, token, runs=runs, max_body=max_body)
    console.print(f"serving {store} on http://{host}:{port} (docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
