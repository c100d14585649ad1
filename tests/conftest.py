"""Shared fixtures: the real open data in ../shared/data and small extract files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cardiffmodel.config import write_settings
from cardiffmodel.project import Project
from ingest_support import POLICE_ONLY_AREAS, POLICE_ONLY_GROUP

SHARED_DATA = Path(
    os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
CARDIFF_BBOX = (-3.35, 51.38, -3.05, 51.57)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "venues").exists():
        pytest.fail(f"the shared open data is not at {SHARED_DATA}; set CARDIFF_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def police_only_project(tmp_path_factory, shared_data) -> Path:
    """A deployment holding only data.police.uk street-level files (October 2018 to January
    2019, as published: month-level dates, no weapon, age or sex), with Cardiff's wards as
    beats: what a partnership without hospital data starts from."""
    folder = tmp_path_factory.mktemp("police-only")
    raw = {
        "project": {"name": "police only", "region_bbox": list(CARDIFF_BBOX)},
        "areas": [
            {
                "layer": "beat",
                "path": str(shared_data / "boundaries/cardiff_wards_2013.geojson"),
                "code_field": "WD13CD",
                "name_field": "WD13NM",
            }
        ],
        "sources": [{"name": "police_uk", "kind": "police", "site": "62", "format": "police_uk"}],
        "groups": [{"name": POLICE_ONLY_GROUP, "layer": "beat", "areas": POLICE_ONLY_AREAS}],
    }
    write_settings(raw, folder)
    files = sorted((shared_data / "police_uk").glob("*-south-wales-street.csv"))
    assert [f.name[:7] for f in files] == ["2018-10", "2018-11", "2018-12", "2019-01"]
    results = Project.open(folder).ingest("police_uk", files)
    assert all(r.accepted and not r.skipped for r in results)
    return folder
