"""A live server on 127.0.0.1 (a free port) over a small demo project, and Debian's
Chromium driven by Playwright. No browser is ever downloaded: /usr/bin/chromium is
installed by the Makefile/CI (``apt-get install -y chromium``)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from cardiffmodel.demo import run_demo
from cardiffmodel.web.accounts import Accounts
from cardiffmodel.web.app import create_app
from cardiffmodel.web.database import Database

CHROMIUM = Path(os.environ.get("CARDIFF_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
USERS = (
    ("nurse", "health", "Cardiff and Vale UHB", ("7A4BV",)),
    ("constable", "police", "South Wales Police", ()),
)


@pytest.fixture(scope="session")
def e2e_project(tmp_path_factory, shared_data) -> Path:
    """The same demo folder as tests/web builds (whichever runs first builds it)."""
    folder = tmp_path_factory.getbasetemp() / "web-demo"
    if not (folder / "cardiff.toml").exists():
        run_demo(folder, shared_data, seed=3, months=14, scale=0.1)
    accounts = Accounts(Database.in_project(folder), HASHER)
    for name, role, organisation, sites in USERS:
        if accounts.user(name) is None:
            accounts.add_user(name, PASSWORD, role, organisation, sites)
    return folder


@pytest.fixture(scope="session")
def live_server(e2e_project):
    """The dashboard served by uvicorn in a thread; yields its base URL."""
    app = create_app(e2e_project, hasher=HASHER)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: $CARDIFF_SCREENSHOTS to keep them for a person to check."""
    kept = os.environ.get("CARDIFF_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def password() -> str:
    return PASSWORD
