"""Project folders and extract files for the ingest tests (real files, real stores)."""

from __future__ import annotations

import csv
from pathlib import Path

from cardiffmodel.config import write_settings
from cardiffmodel.project import Project

BBOX = [-3.35, 51.38, -3.05, 51.57]
# The police-only deployment's group (tests/conftest.py ``police_only_project``).
POLICE_ONLY_GROUP = "City Centre and Bay"
POLICE_ONLY_AREAS = ["W05000857", "W05000854", "W05000853", "W05000873", "W05000877", "W05000863"]
HEADER = ["Ref", "Arrived", "Assault date", "Assault time", "Patient", "DOB", "Where", "Weapon"]
ED_SOURCE = {
    "name": "uhw",
    "kind": "ed",
    "site": "7A4BV",
    "columns": {
        "source_record_id": "Ref",
        "arrived_at": "Arrived",
        "occurred_date": "Assault date",
        "occurred_time": "Assault time",
        "date_of_birth": "DOB",
        "location_text": "Where",
        "weapon": "Weapon",
    },
    "formats": {
        "arrived_at": "%d/%m/%Y %H:%M",
        "occurred_date": "%d/%m/%Y",
        "date_of_birth": "%d/%m/%Y",
    },
    "codes": {"weapon": {"Bottle": "bottle_glass", "GL": "bottle_glass", "Fist": "body"}},
}


def make_project(
    folder: Path, data: Path, sources: list[dict] | None = None, places: bool = False
) -> Project:
    """A project with the wards of Cardiff as its beat layer; ``places`` adds the real
    gazetteer (FSA venues, police.uk streets), which costs a second to build."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = {
        "project": {"name": "test", "region_bbox": BBOX},
        "areas": [
            {
                "layer": "beat",
                "path": str(data / "boundaries/cardiff_wards_2013.geojson"),
                "code_field": "WD13CD",
                "name_field": "WD13NM",
            }
        ],
        "sources": sources or [ED_SOURCE],
    }
    if places:
        raw["places"] = {
            "fsa_xml": [str(data / "venues/fsa_food_hygiene_cardiff_2020-11.xml")],
            "police_uk_streets": [str(data / "police_uk/2019-01-south-wales-street.csv")],
        }
    write_settings(raw, folder)
    return Project.open(folder)


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, **options) -> Path:
    with open(path, "w", newline="", encoding=options.pop("encoding", "utf-8")) as handle:
        writer = csv.writer(handle, **options)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def ed_row(ref: str, day: int = 5, weapon: str = "Bottle", where: str = "o/s Walkabout") -> list:
    """A valid attendance on ``day`` January 2019, born 6 January 1994."""
    return [
        ref,
        f"{day:02d}/01/2019 23:40",
        f"{day:02d}/01/2019",
        "23:10",
        "John Smith",
        "06/01/1994",
        where,
        weapon,
    ]


def many_rows(path: Path, count: int, prefix: str = "B", start: int = 0) -> Path:
    """A long extract of valid rows with distinct record ids (and a few repeated texts)."""
    places = ("o/s Walkabout", "Queen St", "pts home", "town", "nr castle")
    rows = (
        ed_row(f"{prefix}{i:07d}", day=1 + i % 28, where=places[i % len(places)])
        for i in range(start, start + count)
    )
    return write_csv(path, list(rows))
