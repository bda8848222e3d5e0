"""A real server under load, killed and restarted: 20 concurrent clients tell 500 results
while the server is SIGKILLed mid-way and started again on the same store; every result is
then stored exactly once, with its value (clients retry what got no answer: tell is
idempotent per proposal id)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

TOKEN = "restart-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
POOL = [f"Li{i}Na{j}Cl1" for i in range(1, 26) for j in range(1, 26)]  # 625 compositions


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(store, port) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "matlattice",
        "serve",
        "--store",
        str(store),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(
        command,
        env={**os.environ, "MATLATTICE_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
        if server.poll() is not None:
            pytest.fail(f"the server exited: {server.stderr.read().decode()[-2000:]}")
    server.kill()
    pytest.fail("the server did not answer /health within 60 s")


def _value(formula: str) -> float:
    return float(sum(map(ord, formula)) % 97) / 7.0


def _tell_all(base: str, chunks: list[list[dict]], told: list[int]) -> int:
    """Tell every chunk, retrying until an answer comes; returns the retries needed."""
    retries = 0
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as http:
        for chunk in chunks:
            while True:
                try:
                    answer = http.post("/campaigns/c/tell", json={"results": chunk})
                except httpx.HTTPError:
                    retries += 1
                    time.sleep(0.05)
                    continue
                assert answer.status_code == 200, answer.text
                told.append(len(chunk))
                break
    return retries


def test_results_survive_a_killed_server_exactly_once(tmp_path):
    store, port = tmp_path / "store", _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(store, port)
    try:
        made = httpx.post(
            f"{base}/campaigns",
            headers=AUTH,
            timeout=30,
            json={
                "name": "c",
                "pool": POOL,
                "target": "y",
                "acquisition": "random",
                "initial": 500,
                "batch": 500,
                "budget": 600,
            },
        )
        assert made.status_code == 201, made.text
        asked = httpx.post(f"{base}/campaigns/c/ask", headers=AUTH, json={"n": 500}, timeout=60)
        proposals = asked.json()["proposals"]
        assert len(proposals) == 500
        results = [{"id": p["id"], "value": _value(p["formula"])} for p in proposals]
        per_client = [results[k::20] for k in range(20)]  # 25 each, told 5 at a time
        chunks = [[c[i : i + 5] for i in range(0, 25, 5)] for c in per_client]
        told: list[int] = []
        with ThreadPoolExecutor(20) as clients:
            futures = [clients.submit(_tell_all, base, c, told) for c in chunks]
            while sum(told) < 150:  # mid-way: kill it, start it again
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)
            server.wait()
            killed_at = sum(told)
            server = _start(store, port)
            retries = sum(f.result() for f in futures)
        assert killed_at < 500 and retries > 0  # the kill really hit clients mid-flight
        status = httpx.get(f"{base}/campaigns/c", headers=AUTH).json()
        assert status["n_results"] == 500 and status["n_pending"] == 0
        exported = httpx.get(f"{base}/campaigns/c/export", headers=AUTH).json()["proposals"]
        assert {p["id"]: p["value"] for p in exported} == {r["id"]: r["value"] for r in results}
    finally:
        server.kill()
        server.wait()
    with sqlite3.connect(store / "c.sqlite") as db:  # exactly once in the store itself
        rows = db.execute("SELECT COUNT(*), COUNT(DISTINCT formula) FROM results").fetchone()
    assert rows == (500, 500)
