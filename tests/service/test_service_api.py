"""The ask/tell service through an HTTP client: every route, the JSON refusals with their
status codes, bearer-token authentication, idempotent tell, the size limit, predictions of a
fitted run, and a server that never starts without a token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from matlattice.cli import app as cli
from matlattice.service import create_app

TOKEN = "a-test-token-of-some-length"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
POOL = [f"Li{i}Na{j}Cl1" for i in range(1, 9) for j in range(1, 9)]


@pytest.fixture
def client(tmp_path):
    return TestClient(create_app(tmp_path / "store", TOKEN, max_body=50_000))


def _create(client, **extra):
    body = {"name": "c1", "pool": POOL, "target": "y", "initial": 4, "batch": 4, "budget": 30}
    return client.post("/campaigns", headers=AUTH, json={**body, **extra})


def test_create_ask_tell_status_export(client):
    assert client.get("/health").json()["status"] == "ok"
    made = _create(client)
    assert made.status_code == 201 and made.json()["pool_size"] == len(POOL)
    assert _create(client).status_code == 200  # the same request again: nothing new
    assert _create(client, budget=31).status_code == 409  # the name is taken
    asked = client.post("/campaigns/c1/ask", headers=AUTH, json={"n": 4}).json()["proposals"]
    assert len(asked) == 4 and len({p["id"] for p in asked}) == 4
    again = client.post("/campaigns/c1/ask", headers=AUTH).json()["proposals"]
    assert [p["id"] for p in again] == [p["id"] for p in asked]  # unanswered: proposed again
    results = [{"id": p["id"], "value": float(k)} for k, p in enumerate(asked)]
    told = client.post("/campaigns/c1/tell", headers=AUTH, json={"results": results}).json()
    assert (told["stored"], told["repeated"], told["n_results"]) == (4, 0, 4)
    twice = client.post("/campaigns/c1/tell", headers=AUTH, json={"results": results}).json()
    assert (twice["stored"], twice["repeated"], twice["n_results"]) == (0, 4, 4)
    status = client.get("/campaigns/c1", headers=AUTH).json()
    assert status["n_results"] == 4 and status["best"][0]["value"] == 3.0
    assert status["n_pending"] == 0 and status["spent"] == 4
    exported = {
        p["id"]: p["value"]
        for p in client.get("/campaigns/c1/export", headers=AUTH).json()["proposals"]
    }
    assert exported == {r["id"]: r["value"] for r in results}
    assert client.get("/campaigns", headers=AUTH).json() == {"campaigns": ["c1"]}


def test_another_value_is_a_conflict_unless_amended(client):
    _create(client)
    first = client.post("/campaigns/c1/ask", headers=AUTH, json={"n": 2}).json()["proposals"][0]
    told = {"results": [{"id": first["id"], "value": 1.0}]}
    client.post("/campaigns/c1/tell", headers=AUTH, json=told)
    other = {"results": [{"id": first["id"], "value": 2.0}]}
    refused = client.post("/campaigns/c1/tell", headers=AUTH, json=other)
    assert (
        refused.status_code == 409
        and "differ from the values already told" in refused.json()["error"]
    )
    amended = client.post("/campaigns/c1/tell", headers=AUTH, json={**other, "amend": True})
    assert amended.status_code == 200 and amended.json()["stored"] == 1
    assert client.get("/campaigns/c1", headers=AUTH).json()["best"][0]["value"] == 2.0


def test_not_measurable_against_a_value_is_a_conflict_either_way(client):
    _create(client)
    first, second = client.post("/campaigns/c1/ask", headers=AUTH, json={"n": 2}).json()[
        "proposals"
    ][:2]

    def tell(proposal, value, **extra):
        body = {"results": [{"id": proposal["id"], "value": value}], **extra}
        return client.post("/campaigns/c1/tell", headers=AUTH, json=body)

    assert tell(first, None).json()["stored"] == 0  # not measurable: no value stored
    assert tell(first, None).json()["repeated"] == 0  # told again the same way: nothing new
    late = tell(first, 1.5)
    assert late.status_code == 409 and "told as not measurable" in late.json()["error"]
    assert tell(first, 1.5, amend=True).json()["stored"] == 1
    assert tell(second, 2.0).json()["stored"] == 1
    undone = tell(second, None)
    assert undone.status_code == 409 and "have measured values" in undone.json()["error"]
    status = client.get("/campaigns/c1", headers=AUTH).json()
    assert status["n_results"] == 2


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("get", "/campaigns/none", None, 404, "no campaign 'none'"),
        (
            "post",
            "/campaigns/c1/tell",
            {"results": [{"id": "nope", "value": 1}]},
            422,
            "unknown proposal ids",
        ),
        ("post", "/campaigns/c1/tell", {"results": "x"}, 422, "body.results"),
        ("post", "/campaigns/c1/ask", {"n": 0}, 422, "body.n"),
        (
            "post",
            "/campaigns",
            {"name": "../x", "pool": POOL, "target": "y"},
            422,
            "no path separators",
        ),
        (
            "post",
            "/campaigns",
            {"name": "c2", "pool": "no_such_data", "target": "y"},
            422,
            "not a registered dataset",
        ),
        (
            "post",
            "/campaigns",
            {"name": "c2", "pool": POOL, "target": "y", "acquisition": "magic"},
            422,
            "magic",
        ),
        ("post", "/models/fit1/predict", {"formulas": ["NaCl"]}, 404, "without --runs"),
    ],
)
def test_refusals_are_json_with_their_status(client, method, path, body, status, says):
    _create(client)
    answer = getattr(client, method)(path, headers=AUTH, **({"json": body} if body else {}))
    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]


def test_every_route_but_health_needs_the_token(client):
    _create(client)
    routes = [
        ("get", "/campaigns"),
        ("get", "/campaigns/c1"),
        ("get", "/campaigns/c1/export"),
        ("post", "/campaigns/c1/ask"),
        ("post", "/campaigns/c1/tell"),
        ("post", "/campaigns"),
    ]
    for header in (
        {},
        {"Authorization": "Bearer wrong-token-of-some-length"},
        {"Authorization": TOKEN},
    ):
        for method, path in routes:
            answer = getattr(client, method)(path, headers=header)
            assert answer.status_code == 401, (method, path, header)
            assert answer.headers["www-authenticate"] == "Bearer"
    assert client.get("/health").status_code == 200
    for path in ("/docs", "/openapi.json"):  # the schema too
        assert client.get(path).status_code == 401
        assert client.get(path, headers=AUTH).status_code == 200
    assert "/campaigns/{name}/tell" in client.get("/openapi.json", headers=AUTH).json()["paths"]


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(client):
    _create(client)
    piece = b'{"id": "abc", "value": 1.0},' * 500

    def chunks():  # no Content-Length: the body arrives in pieces
        yield b'{"results": ['
        for _ in range(10):
            yield piece
        yield b'{"id": "abc", "value": 1.0}]}'

    answer = client.post(
        "/campaigns/c1/tell", headers={**AUTH, "content-type": "application/json"}, content=chunks()
    )
    assert answer.status_code == 413 and "over the limit" in answer.json()["error"]


def test_a_body_over_the_limit_is_refused_with_413(client):
    _create(client)
    rows = ",".join('{"id": "abc", "value": 1.0}' for _ in range(3000))
    answer = client.post(
        "/campaigns/c1/tell",
        headers={**AUTH, "content-type": "application/json"},
        content=f'{{"results": [{rows}]}}',
    )
    assert answer.status_code == 413 and "over the limit of 50000" in answer.json()["error"]


def test_predict_returns_mean_std_interval_and_domain(tmp_path, toy_run):
    client = TestClient(create_app(tmp_path / "store", TOKEN, runs=toy_run.parent))
    answer = client.post(
        f"/models/{toy_run.name}/predict",
        headers=AUTH,
        json={"formulas": ["NaCl", "Xx2"], "interval": 0.9},
    )
    assert answer.status_code == 200, answer.text
    first, bad = answer.json()["predictions"]
    assert (
        first["y"] is not None and first["y_std"] > 0 and first["y_lo"] < first["y"] < first["y_hi"]
    )
    assert isinstance(first["in_domain"], bool)
    assert bad["y"] is None and "Xx" in bad["fault"]


@pytest.fixture
def toy_run(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    formulas = [f"Na{i}Cl{j}" for i in range(1, 12) for j in range(1, 12)]
    data = tmp_path / "toy.csv"
    pd.DataFrame({"formula": formulas, "y": rng.normal(size=len(formulas))}).to_csv(
        data, index=False
    )
    run = tmp_path / "runs" / "fit1"
    result = CliRunner().invoke(
        cli,
        [
            "fit",
            str(data),
            "--model",
            "attention",
            "--ensemble",
            "2",
            "--epochs",
            "3",
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    return run


def test_the_server_never_starts_without_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("MATLATTICE_TOKEN", raising=False)
    said = CliRunner().invoke(cli, ["serve", "--store", str(tmp_path / "s")])
    assert said.exit_code == 2 and "no token: set MATLATTICE_TOKEN" in said.output
    short = tmp_path / "token"
    short.write_text("short\n")
    said = CliRunner().invoke(
        cli, ["serve", "--store", str(tmp_path / "s"), "--token-file", str(short)]
    )
    assert said.exit_code == 2 and "has 5 characters; use at least 16" in " ".join(
        said.output.split()
    )
