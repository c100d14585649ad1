"""A small demo project (real Cardiff boundaries and venues, synthetic incidents) with one
user of every role, and signed-in HTTP clients that talk to the app in-process."""

from __future__ import annotations

import re
import shutil
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import uvicorn
from argon2 import PasswordHasher

from cardiffmodel.demo import run_demo
from cardiffmodel.web.accounts import Accounts
from cardiffmodel.web.app import create_app
from cardiffmodel.web.auth import LoginLimiter
from cardiffmodel.web.database import Database

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx is what is pinned
    from fastapi.testclient import TestClient

# Argon2 at its production cost takes ~50 ms per hash; tests sign in dozens of times.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery staple"
HEALTH_SITES = ("7A4BV",)  # University Hospital of Wales (source "uhw") only
USERS = {
    "health": ("nurse", "Cardiff and Vale UHB", HEALTH_SITES),
    "police": ("constable", "South Wales Police", ()),
    "council": ("officer", "Cardiff Council", ()),
    "analyst": ("analyst", "Cardiff Community Safety Partnership", ()),
    "admin": ("root", "Cardiff Community Safety Partnership", ()),
}
ROLES = tuple(USERS)


def add_users(folder: Path) -> None:
    accounts = Accounts(Database.in_project(folder), FAST_HASHER)
    for role, (name, organisation, sites) in USERS.items():
        if accounts.user(name) is None:
            accounts.add_user(name, PASSWORD, role, organisation, sites)


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory, shared_data) -> Path:
    """Fourteen months of a synthetic city at a tenth of Cardiff's volume, with reports.

    tests/e2e uses the same folder (and users), so it is built once per session."""
    folder = tmp_path_factory.getbasetemp() / "web-demo"
    if not (folder / "cardiff.toml").exists():
        run_demo(folder, shared_data, seed=3, months=14, scale=0.1)
    add_users(folder)
    return folder


@pytest.fixture
def project_copy(demo_project, tmp_path) -> Path:
    """A copy of the demo project that a test may change (uploads write to the store)."""
    folder = tmp_path / "project"
    shutil.copytree(demo_project, folder)
    return folder


def make_app(folder: Path, **options):
    return create_app(folder, hasher=FAST_HASHER, **options)


def sign_in(client, username: str, password: str = PASSWORD):
    """Sign in through the form, as a browser does; returns the final response."""
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token, "next": "/"},
    )


def csrf_of(client) -> str:
    return client.get("/api/me").json()["csrf_token"]


@pytest.fixture(scope="module")
def app(demo_project):
    return make_app(demo_project, limiter=LoginLimiter())


@pytest.fixture(scope="module")
def clients(app):
    """One signed-in client per role, sharing the app."""
    opened = {}
    for role, (name, _, _) in USERS.items():
        client = TestClient(app, base_url="https://testserver")
        client.__enter__()
        assert sign_in(client, name).status_code == 200
        opened[role] = client
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


@pytest.fixture
def anonymous(app):
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def new_client(app):
    return TestClient(app, base_url="https://testserver")


@contextmanager
def serving(app) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (a free port) in a thread; yields its URL.

    For the abuse tests, which need what only a real server shows: concurrent requests,
    bodies sent in chunks, answers sent before a body has been read."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def web():
    """The helpers above, for test modules (which cannot import a conftest by name)."""
    return SimpleNamespace(
        sign_in=sign_in,
        csrf_of=csrf_of,
        new_client=new_client,
        serving=serving,
        make_app=make_app,
        add_users=add_users,
        password=PASSWORD,
        users=USERS,
        roles=ROLES,
        health_sites=HEALTH_SITES,
        hasher=FAST_HASHER,
    )
