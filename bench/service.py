"""The ask/tell service under load: requests/s and p50/p99 latency of ask and tell at 1, 8 and
32 concurrent clients, against the same ask and tell called in-process (issue 26).

The server (``matlattice serve``, one uvicorn process) runs pinned to one core, the clients
(threads of this process) on the other. Each client drives its own campaign (a random
acquisition over 2,000 formulas, so no surrogate is fitted: what is timed is the service and
the engine) through ``--cycles`` ask(5) + tell(5) rounds. The in-process side opens the
campaign, asks or tells, and closes it, exactly as one request does, with no HTTP: the
ratio of the two is the price of the service. A last run times asks that fit the random
forest surrogate (UCB), where the model dominates.

Writes ``bench/results/service.{json,md}``.

Run: ``python bench/service.py``
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from provenance import machine, provenance

RESULTS = Path(__file__).parent / "results"
TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
POOL = [f"Li{i}Na{j}K{k}Cl1" for i in range(1, 14) for j in range(1, 14) for k in range(1, 13)]


def _server(store: Path, port: int, core: int) -> subprocess.Popen:
    import httpx

    command = [
        "taskset",
        "-c",
        str(core),
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
        command, env={**os.environ, "MATLATTICE_TOKEN": TOKEN, "OMP_NUM_THREADS": "1"}
    )
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    sys.exit("the server did not start")


def _create(http, name: str, acquisition: str, budget: int) -> None:
    body = {
        "name": name,
        "pool": POOL,
        "target": "y",
        "acquisition": acquisition,
        "initial": 10 if acquisition != "random" else budget,
        "batch": 5,
        "budget": budget,
    }
    made = http.post("/campaigns", json=body)
    assert made.status_code in (200, 201), made.text


def _client(base: str, name: str, cycles: int) -> dict[str, list[float]]:
    """``cycles`` ask(5) + tell(5) rounds on campaign ``name``; the latency of each call."""
    import httpx

    times: dict[str, list[float]] = {"ask": [], "tell": []}
    with httpx.Client(base_url=base, headers=AUTH, timeout=120) as http:
        for _ in range(cycles):
            start = time.perf_counter()
            asked = http.post(f"/campaigns/{name}/ask", json={"n": 5}).json()["proposals"]
            times["ask"].append(time.perf_counter() - start)
            results = [{"id": p["id"], "value": float(len(p["formula"]))} for p in asked]
            start = time.perf_counter()
            http.post(f"/campaigns/{name}/tell", json={"results": results}).raise_for_status()
            times["tell"].append(time.perf_counter() - start)
    return times


def _summary(times: list[float], wall: float, n_clients: int) -> dict:
    ms = np.asarray(times) * 1e3
    return {
        "requests": len(ms),
        "requests_per_s": len(ms) / wall,
        "p50_ms": float(np.median(ms)),
        "p99_ms": float(np.percentile(ms, 99)),
        "clients": n_clients,
    }


def _http_run(base: str, n_clients: int, cycles: int, acquisition: str, tag: str) -> dict:
    import httpx

    names = [f"{tag}{n_clients}_{k}" for k in range(n_clients)]
    with httpx.Client(base_url=base, headers=AUTH, timeout=120) as http:
        for name in names:
            _create(http, name, acquisition, budget=5 * cycles + 10)
    start = time.perf_counter()
    with ThreadPoolExecutor(n_clients) as pool:
        parts = list(pool.map(lambda n: _client(base, n, cycles), names))
    wall = time.perf_counter() - start
    merged = {op: [t for p in parts for t in p[op]] for op in ("ask", "tell")}
    # both operations share the wall time: requests/s counts asks and tells together
    return {op: _summary(merged[op], wall, n_clients) for op in merged} | {
        "total_requests_per_s": sum(len(v) for v in merged.values()) / wall
    }


def _in_process(store: Path, cycles: int) -> dict:
    """The same ask(5) + tell(5) rounds called in this process: open, call, close."""
    from matlattice.discovery import CampaignSettings, open_campaign, resume_campaign

    path = store / "direct.sqlite"
    settings = CampaignSettings(
        target="y",
        acquisition="random",
        initial=5 * cycles + 10,
        batch_size=5,
        budget=5 * cycles + 10,
    )
    import pandas as pd

    with open_campaign(path, pd.DataFrame({"formula": POOL}), settings):
        pass
    times: dict[str, list[float]] = {"ask": [], "tell": []}
    for _ in range(cycles):
        start = time.perf_counter()
        with resume_campaign(path) as campaign:
            batch = campaign.ask(5)
        times["ask"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with resume_campaign(path) as campaign:
            campaign.tell(batch.assign(value=batch["formula"].str.len().astype(float)))
        times["tell"].append(time.perf_counter() - start)
    return {op: _summary(t, sum(t), 1) for op, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=40, help="ask+tell rounds per client")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument(
        "--table-only", action="store_true", help="rewrite service.md from service.json"
    )
    args = parser.parse_args()
    if args.table_only:
        import json

        saved = json.loads((RESULTS / "service.json").read_text())
        _write(saved["runs"], args, saved["command"])
        return
    os.sched_setaffinity(0, {1 - args.server_core})
    store = Path(tempfile.mkdtemp(prefix="matlattice_service_"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = _server(store / "served", port, args.server_core)
    try:
        runs = {}
        for n in (int(c) for c in args.clients.split(",")):
            runs[f"http_{n}"] = _http_run(
                base, n, max(args.cycles // max(n // 8, 1), 5), "random", "r"
            )
            print(n, runs[f"http_{n}"], flush=True)
        runs["http_1_ucb_rf"] = _http_run(base, 1, 8, "ucb", "u")
        print("ucb", runs["http_1_ucb_rf"], flush=True)
    finally:
        server.kill()
    runs["in_process"] = _in_process(store, args.cycles)
    print("in process", runs["in_process"], flush=True)
    _write(runs, args)


def _serial_rate(run: dict) -> float:
    """Requests per second of asks and tells made one after another (in-process)."""
    ops = (run["ask"], run["tell"])
    return sum(o["requests"] for o in ops) / sum(o["requests"] / o["requests_per_s"] for o in ops)


def _write(runs: dict, args, command: str | None = None) -> None:
    """``service.md`` (and, for a new measurement, ``service.json``)."""
    from matlattice.runtime.files import atomic_write_json, atomic_write_text

    here = machine()
    if command is None:
        atomic_write_json(RESULTS / "service.json", {"runs": runs, **provenance()})
        command = provenance()["command"]
    direct = runs["in_process"]
    lines = [
        "# The ask/tell service under load",
        "",
        f"Machine: {here['platform']}, {here['cpus']} cores; server (one uvicorn process) "
        f"pinned to core {args.server_core}, clients on the other. Command: "
        f"`{command}`. Each client drives its own campaign (random "
        "acquisition, 2,028 formulas, ask 5 then tell 5); in-process: the same calls through "
        "the Python API, opening and closing the campaign each time as a request does.",
        "",
        "| run | clients | ask p50 ms | ask p99 ms | tell p50 ms | tell p99 ms | requests/s "
        "| ask p50 / in-process |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in runs.items():
        same = "ucb" not in name  # the UCB asks fit a forest: no in-process twin
        ratio = f"{r['ask']['p50_ms'] / direct['ask']['p50_ms']:.2f}x" if same else "-"
        rate = r.get("total_requests_per_s") or _serial_rate(r)
        lines.append(
            f"| {name} | {r['ask']['clients']} | {r['ask']['p50_ms']:.1f} | "
            f"{r['ask']['p99_ms']:.1f} | {r['tell']['p50_ms']:.1f} | "
            f"{r['tell']['p99_ms']:.1f} | {rate:.1f} | {ratio} |"
        )
    atomic_write_text(RESULTS / "service.md", "\n".join([*lines, ""]))


if __name__ == "__main__":
    main()
