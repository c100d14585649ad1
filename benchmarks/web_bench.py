"""Load on the dashboard's beat-map API: p95 latency with 20 concurrent clients on a store of
10 million incidents.

A small demo project (real Cardiff wards, synthetic incidents) is built, and its incidents
are copied in DuckDB SQL, with new ids and dates shifted back by whole years, into a
10-million-row store, ordered by date as monthly ingest leaves it. The dashboard runs in
its own process (``cardiff serve``'s ``serve``) on 127.0.0.1; 20 clients, each signed in
with its own session, send requests back to back after an untimed warm-up, a bounded
number, for at most a minute per scenario. Clients and server share the machine's two
cores, so the figures are pessimistic for a server with the cores to itself.

- repeated view: everyone asks for the latest month (the common case); ours is the app as
  shipped, the baseline the same app with its answer cache off (the uncached
  implementation);
- varied filters: each request a seeded random choice among 324 filter combinations, so
  most miss the cache; the baseline is the 200 ms target.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import numpy as np

from cardiffmodel.demo import run_demo
from cardiffmodel.schema import COLUMN_NAMES
from cardiffmodel.store.duckdb_store import Store
from cardiffmodel.web.accounts import Accounts
from cardiffmodel.web.database import Database

DATA = Path(os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
TARGET_ROWS = 10_000_000
CLIENTS = 20
REQUESTS = 600  # per scenario, shared by the clients
SECONDS = 60.0  # per scenario, whichever comes first
TARGET_MS = 200.0
PASSWORD = "benchmark password 1"
SEED = 7


# Each copy of the base incidents gets new ids and moves back by a whole number of years.
SHIFTED = {
    "incident_id": "md5(i.incident_id || ':' || k.copy)",
    "occurred_at": "i.occurred_at - to_years(k.copy % 10)",
    "occurred_date": "CAST(i.occurred_date - to_years(k.copy % 10) AS DATE)",
    "arrived_at": "i.arrived_at - to_years(k.copy % 10)",
}


def build_store(folder: Path) -> int:
    """A demo project in ``folder`` whose store holds ``TARGET_ROWS`` incidents."""
    run_demo(folder, DATA, seed=SEED, months=24, scale=0.3)
    big = folder / "big.duckdb"
    Store(big).close()  # the store's tables (batches, quarantine, meta) as migrations make them
    select = ", ".join(f"{SHIFTED.get(c, 'i.' + c)} AS {c}" for c in COLUMN_NAMES)
    with duckdb.connect(str(big)) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{folder / 'cardiff.duckdb'}' AS base (READ_ONLY)")
        base = con.execute("SELECT count(*) FROM base.incidents").fetchall()[0][0]
        con.execute("DROP TABLE incidents")
        con.execute(
            f"CREATE TABLE incidents AS SELECT {select} "
            f"FROM base.incidents AS i, range({-(-TARGET_ROWS // base)}) AS k(copy) "
            f"ORDER BY occurred_date LIMIT {TARGET_ROWS}"
        )
        rows = con.execute("SELECT count(*) FROM incidents").fetchall()[0][0]
    (folder / "cardiff.duckdb").unlink()
    big.rename(folder / "cardiff.duckdb")
    Accounts(Database.in_project(folder)).add_user("bench", PASSWORD, "police", "SWP")
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(folder: Path, port: int, cache_size: int) -> subprocess.Popen:
    code = (
        "import sys; from pathlib import Path; from cardiffmodel.web.app import serve; "
        f"serve(Path(sys.argv[1]), port={port}, cache_size={cache_size})"
    )
    server = subprocess.Popen([sys.executable, "-c", code, str(folder)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the dashboard did not start within 60 s")


async def _sign_in(client: httpx.AsyncClient) -> dict[str, str]:
    """Sign in as a browser would; the Cookie header that carries the session.

    The cookies are Secure, which httpx keeps to https, so they are sent by hand here.
    """
    page = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    done = await client.post(
        "/login",
        data={"username": "bench", "password": PASSWORD, "login_token": token},
        headers={"Cookie": f"cardiff_login={page.cookies['cardiff_login']}"},
    )
    if done.status_code != 303:
        raise RuntimeError(f"benchmark sign-in failed: {done.status_code}")
    return {"Cookie": f"cardiff_session={done.cookies['cardiff_session']}"}


def _queries(months: list[str], varied: bool, n: int) -> list[str]:
    if not varied:
        return [f"month={months[0]}"] * n
    rng = random.Random(SEED)
    choices = [
        f"month={m}&months={p}{s}{w}"
        for m in months[:12]
        for p in (1, 3, 12)
        for s in ("", "&source=ed", "&source=police")
        for w in ("", "&weapon=knife_sharp", "&weapon=body")
    ]
    return [rng.choice(choices) for _ in range(n)]


async def _load(base: str, queries: list[str]) -> list[float]:
    """Send the queries from CLIENTS clients, all signed in before the clock starts (each
    sign-in costs an Argon2 hash); the latencies in milliseconds."""
    pending = list(reversed(queries))
    latencies: list[float] = []

    async def client_loop(client: httpx.AsyncClient, session: dict, stop: float) -> None:
        while pending and time.monotonic() < stop:
            query = pending.pop()
            started = time.perf_counter()
            response = await client.get(f"/api/map/beats?{query}", headers=session)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(CLIENTS)]
    try:
        sessions = [await _sign_in(client) for client in clients]
        # Warm-up, not timed: the first answers open the store and load the area layer.
        warm = [queries[0], queries[-1]]
        await asyncio.gather(
            *(
                c.get(f"/api/map/beats?{q}", headers=s)
                for c, s in zip(clients, sessions, strict=True)
                for q in warm
            )
        )
        stop = time.monotonic() + SECONDS
        # The load generator's own garbage collection would pause all 20 clients at once
        # and be counted as server latency.
        gc.disable()
        await asyncio.gather(
            *(client_loop(c, s, stop) for c, s in zip(clients, sessions, strict=True))
        )
    finally:
        gc.enable()
        for client in clients:
            await client.aclose()
    return latencies


def _scenario(folder: Path, cache_size: int, varied: bool) -> float:
    """p95 latency in milliseconds of one scenario against a fresh server process."""
    port = _free_port()
    server = _start_server(folder, port, cache_size)
    try:
        latencies = asyncio.run(_run(f"http://127.0.0.1:{port}", varied))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return float(np.percentile(latencies, 95))


async def _run(base: str, varied: bool) -> list[float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        session = await _sign_in(client)
        months = (await client.get("/api/filters", headers=session)).json()
    return await _load(base, _queries(months["months"], varied, REQUESTS))


def run() -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="cardiff-web-bench-"))
    try:
        rows = build_store(folder)
        label = f"{rows / 1e6:.0f}M incidents, {CLIENTS} clients"
        cached = _scenario(folder, cache_size=256, varied=False)
        uncached = _scenario(folder, cache_size=0, varied=False)
        varied = _scenario(folder, cache_size=256, varied=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [
        {
            "target": f"web beat-map p95, {label}, one view (vs cache off)",
            "ours": cached,
            "baseline": uncached,
            "ratio": cached / uncached,
            "unit": "ms",
        },
        {
            "target": f"web beat-map p95, {label}, cache off (vs 200 ms target)",
            "ours": uncached,
            "baseline": TARGET_MS,
            "ratio": uncached / TARGET_MS,
            "unit": "ms",
        },
        {
            "target": f"web beat-map p95, {label}, varied filters (vs 200 ms target)",
            "ours": varied,
            "baseline": TARGET_MS,
            "ratio": varied / TARGET_MS,
            "unit": "ms",
        },
    ]
