"""The FastAPI application of ``matlattice serve`` (routes in the module docstring of
:mod:`matlattice.service`; OpenAPI docs at ``/docs``).

Every refusal is JSON ``{"error": message}`` with its status: 401 (no or wrong token), 404
(no such campaign or run), 409 (a conflict: another value for a told proposal or a value
against "not measurable", a name taken, a campaign another process is writing), 413 (a body
over the limit), 422 (a bad value).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from matlattice.service.auth import token_matches
from matlattice.service.campaigns import CampaignHub, ServiceError, checked_name
from matlattice.service.limits import BodyLimit

__all__ = ["create_app"]

MAX_BODY = 2_000_000  # bytes of one request body
MAX_FORMULAS = 100_000  # formulas in one pool or one predict request


class CampaignIn(BaseModel):
    name: str
    pool: list[str] | str = Field(description="Formulas, or the name of a registered dataset.")
    target: str
    goal: Literal["max", "min"] = "max"
    acquisition: str = "ucb"
    model: str = "rf"
    batch: int = Field(8, ge=1)
    budget: int = Field(100, ge=1)
    initial: int = Field(16, ge=1)
    seed: int = 0


class AskIn(BaseModel):
    n: int | None = Field(None, ge=1, le=10_000)


class ResultIn(BaseModel):
    id: str
    value: float | None = None
    values: dict[str, float] | None = None


class TellIn(BaseModel):
    results: list[ResultIn] = Field(max_length=100_000)
    amend: bool = False


class PredictIn(BaseModel):
    formulas: list[str] = Field(max_length=MAX_FORMULAS)
    interval: float | None = Field(None, gt=0.0, lt=1.0)


def create_app(
    store: Path, token: str, *, runs: Path | None = None, max_body: int = MAX_BODY
) -> FastAPI:
    """The service over the campaign stores in ``store`` (and the fit runs in ``runs`` for
    predictions); every route but ``/health`` needs ``Authorization: Bearer <token>``."""
    hub = CampaignHub(store)

    def authorised(request: Request) -> None:
        if not token_matches(request.headers.get("authorization"), token):
            raise ServiceError(401, "missing or wrong bearer token")

    app = FastAPI(  # the docs too sit behind the token (added below)
        title="matlattice",
        description="Ask/tell campaigns and predictions.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(BodyLimit, limit=max_body)
    _handlers(app)
    guarded = [Depends(authorised)]

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "campaigns": len(hub.names())}

    @app.get("/openapi.json", dependencies=guarded, include_in_schema=False)
    def openapi() -> dict:
        return app.openapi()

    @app.get("/docs", dependencies=guarded, include_in_schema=False)
    def docs():
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title="matlattice API")

    @app.get("/campaigns", dependencies=guarded)
    def list_campaigns() -> dict:
        return {"campaigns": hub.names()}

    @app.post("/campaigns", dependencies=guarded)
    def create(body: CampaignIn) -> JSONResponse:
        settings = {
            "target": body.target,
            "goal": body.goal,
            "acquisition": body.acquisition,
            "model": body.model,
            "batch_size": body.batch,
            "budget": body.budget,
            "initial": body.initial,
            "seed": body.seed,
        }
        made = hub.create(body.name, _pool(body.pool), settings)
        return JSONResponse(made, status_code=201 if made["created"] else 200)

    @app.post("/campaigns/{name}/ask", dependencies=guarded)
    def ask(name: str, body: AskIn | None = None) -> dict:
        return hub.ask(name, body.n if body else None)

    @app.post("/campaigns/{name}/tell", dependencies=guarded)
    def tell(name: str, body: TellIn) -> dict:
        return hub.tell(name, [r.model_dump() for r in body.results], amend=body.amend)

    @app.get("/campaigns/{name}", dependencies=guarded)
    def status(name: str) -> dict:
        return hub.status(name)

    @app.get("/campaigns/{name}/export", dependencies=guarded)
    def export(name: str) -> dict:
        return {"proposals": hub.export(name)}

    @app.post("/models/{run}/predict", dependencies=guarded)
    def predict(run: str, body: PredictIn) -> dict:
        return _predict(runs, run, body)

    return app


def _pool(pool: list[str] | str) -> list[str]:
    if isinstance(pool, list):
        if not pool or len(pool) > MAX_FORMULAS:
            raise ServiceError(422, f"pool of {len(pool)} formulas; give 1 to {MAX_FORMULAS}")
        return pool
    from matlattice.data.registry import list_datasets

    if pool not in list_datasets():
        raise ServiceError(
            422,
            f"pool {pool!r} is not a registered dataset; give a list of "
            "formulas or one of GET-able names in `matlattice data list`",
        )
    from matlattice.data import load_dataset
    from matlattice.errors import MatlatticeError

    try:
        return load_dataset(pool).frame["formula"].drop_duplicates().tolist()
    except MatlatticeError as exc:
        raise ServiceError(422, f"pool {pool!r} cannot be loaded here: {exc}") from exc


def _predict(runs: Path | None, run: str, body: PredictIn) -> dict:
    from matlattice.errors import MatlatticeError
    from matlattice.jobs.predict import predict_run
    from matlattice.service.campaigns import _number

    if runs is None:
        raise ServiceError(404, "this server was started without --runs: no models to predict with")
    folder = Path(runs) / checked_name(run, "run")
    if not (folder / "metrics.json").is_file():
        raise ServiceError(404, f"no fit run {run!r} in the runs folder")
    try:
        frame = predict_run(folder, body.formulas, interval=body.interval)
    except MatlatticeError as exc:
        raise ServiceError(422, str(exc)) from exc
    rows = [
        {
            k: None if _missing(v) else _number(v) if isinstance(v, float) else v
            for k, v in row.items()
        }
        for row in frame.astype(object).to_dict("records")
    ]
    return {"predictions": rows, "interval": body.interval}


def _missing(value: object) -> bool:
    """NaN, None and pandas' NA (whose ``==`` is neither true nor false)."""
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _handlers(app: FastAPI) -> None:
    from starlette.exceptions import HTTPException

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(ServiceError)
    def refused(request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            {
                "error": f"{where}: {first.get('msg', 'invalid request')}",
                "detail": jsonable_encoder(exc.errors()),
            },
            status_code=422,
        )
