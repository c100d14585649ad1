"""Shared fixtures: the real open data in ../shared/data and small extract files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
CARDIFF_BBOX = (-3.35, 51.38, -3.05, 51.57)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "venues").exists():
        pytest.fail(f"the shared open data is not at {SHARED_DATA}; set CARDIFF_DATA")
    return SHARED_DATA
