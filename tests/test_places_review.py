"""The review queue and analysts' decisions, end to end through the ``cardiff`` command on
a real project folder (real gazetteer, real boundaries, a real DuckDB store)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.config import write_settings
from cardiffmodel.places.calibrate import CARDIFF_BBOX
from cardiffmodel.places.gazetteer import load_fsa_xml
from cardiffmodel.places.matcher import Matcher
from cardiffmodel.places.review import ReviewedMatcher, decide, decision_key, load_decisions
from cardiffmodel.project import Project

POSTCODES = Path(__file__).parent / "data" / "cardiff_postcodes_from_fsa.csv"
UHW = [-3.1900, 51.5070]
CASTLE = (-3.18103, 51.48236)
CASTLE_WARD = "W05000857"  # Cathays (2013 wards), which holds the city centre
HEADER = ["id", "date", "where"]
# Texts as reception staff typed them: the matcher cannot place the first two.
FIRST_MONTH = [
    ("by the big wheel", 3),
    ("by the big-wheel.", 1),  # another spelling of the same text
    ("McDonalds", 2),  # nine branches, none nearer the hospital than the rest
    ("walkabout", 4),  # resolved: not for review
    ("pts home", 5),  # a home: never in the queue
    ("town", 2),  # names no particular place: only with --vague
    ("", 1),
]


def write_extract(path: Path, rows: list[tuple[str, int]], first_id: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        n = first_id
        for text, times in rows:
            for _ in range(times):
                writer.writerow([f"R{n}", "2019-01-05", text])
                n += 1
    return path


def write_places(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "lon", "lat", "category"])
        writer.writerow(["Cardiff Castle", *CASTLE, "Landmark"])
    return path


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("project")
    boundaries = shared_data / "boundaries"
    raw = {
        "project": {"name": "Review test", "store": "cardiff.duckdb", "region_bbox": CARDIFF_BBOX},
        "places": {
            "fsa_xml": [str(shared_data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml")],
            "police_uk_streets": [
                str(shared_data / "police_uk" / "2019-01-south-wales-street.csv")
            ],
            "csv": [str(write_places(folder / "places.csv"))],
            "postcodes": [str(POSTCODES)],
        },
        "areas": [
            {
                "layer": "beat",
                "path": str(boundaries / "cardiff_wards_2013.geojson"),
                "code_field": "WD13CD",
                "name_field": "WD13NM",
            },
            {
                "layer": "lsoa",
                "path": str(boundaries / "cardiff_lsoa2011.geojson"),
                "code_field": "LSOA11CD",
                "name_field": "LSOA11NM",
            },
        ],
        "sources": [
            {
                "name": "uhw",
                "kind": "ed",
                "site": "7A4BV",
                "site_location": UHW,
                "columns": {
                    "source_record_id": "id",
                    "occurred_date": "date",
                    "location_text": "where",
                },
            }
        ],
    }
    write_settings(raw, folder)
    result = run(folder, "ingest", "uhw", str(write_extract(folder / "jan.csv", FIRST_MONTH, 1)))
    assert "18 accepted" in result.output
    return folder


def run(folder: Path, *args: str, ok: bool = True):
    result = CliRunner().invoke(main, ["--project", str(folder), *args])
    assert (result.exit_code == 0) == ok, result.output
    return result


def stored(folder: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(folder / "cardiff.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def queue(folder: Path, *extra: str) -> list[dict]:
    return json.loads(run(folder, "places", "review", "--format", "json", *extra).output)


def test_queue_groups_spellings_most_frequent_first_without_homes_blanks_or_resolved(
    project_dir,
):
    items = queue(project_dir)
    assert [(i["text"], i["incidents"], i["spellings"]) for i in items] == [
        ("by the big wheel", 4, 2),
        ("McDonalds", 2, 1),
    ]
    assert all(i["status"] == "unresolved" and i["reason"] for i in items)
    assert len(items[1]["suggestions"].split()) == 9  # the McDonalds branches
    assert "town" in [i["text"] for i in queue(project_dir, "--vague")]


def test_a_decision_replaces_stored_incidents_and_places_later_ones(project_dir):
    result = run(
        project_dir,
        "places",
        "decide",
        "By the big wheel",
        "--place",
        "csv:cardiff-castle",
        "--by",
        "A. Analyst",
        "--note",
        "the Cardiff Eye stood by the castle",
    )
    assert "'by the big wheel' means Cardiff Castle (csv:cardiff-castle); 4 stored" in result.output
    rows = stored(
        project_dir,
        "SELECT match_method, match_score, place_id, lon, lat, beat, lsoa FROM incidents "
        "WHERE replace(lower(location_text), '-', ' ') LIKE 'by the big wheel%'",
    )
    assert len(rows) == 4
    assert {r[:6] for r in rows} == {("review", 1.0, "csv:cardiff-castle", *CASTLE, CASTLE_WARD)}
    assert all(r[6] is not None for r in rows)
    assert [i["text"] for i in queue(project_dir)] == ["McDonalds"]

    later = write_extract(project_dir / "feb.csv", [("by the BIG wheel", 2), ("McDonalds", 1)], 100)
    run(project_dir, "ingest", "uhw", str(later))
    rows = stored(
        project_dir,
        "SELECT match_method, match_score, place_id, beat FROM incidents "
        "WHERE location_text = 'by the BIG wheel'",
    )
    assert rows == [("review", 1.0, "csv:cardiff-castle", CASTLE_WARD)] * 2
    assert queue(project_dir)[0]["incidents"] == 3  # McDonalds, the month after


def test_a_text_decided_to_name_no_place_leaves_the_queue_and_stays_unresolved(project_dir):
    result = run(project_dir, "places", "decide", "mcdonalds", "--not-a-place", "--by", "B")
    assert "means no place; 3 stored incidents updated" in result.output
    assert queue(project_dir) == []
    matcher = Project.open(project_dir).matcher
    found = matcher.match("McDonalds")
    assert (found.status, found.place_id, found.reason) == (
        "unresolved",
        None,
        "reviewed by B: names no place",
    )


def test_decide_refuses_unclear_requests(project_dir):
    for args, message in (
        (["x"], "give either --place PLACE_ID or --not-a-place"),
        (["x", "--place", "fsa:1", "--not-a-place"], "give either"),
        (["x", "--place", "fsa:nothing"], "no gazetteer place has the id 'fsa:nothing'"),
        (["...", "--not-a-place"], "a blank text cannot be decided"),
    ):
        result = run(project_dir, "places", "decide", *args, "--by", "C", ok=False)
        assert message in result.output


def test_decisions_are_keyed_by_canonical_spelling_and_latest_wins(tmp_path, shared_data):
    with duckdb.connect(str(tmp_path / "store.duckdb")) as con:
        assert load_decisions(con) == {}
        decide(con, "O/S Walkabout, St Mary St", None, "first")
        decide(con, "outside walkabout st marys street", None, "second")
        decisions = load_decisions(con)
    assert list(decisions) == [decision_key("o/s walkabout st marys st")]
    assert decisions[decision_key("OUTSIDE WALKABOUT ST MARYS STREET")].decided_by == "second"
    fsa = load_fsa_xml(shared_data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml")
    matcher = ReviewedMatcher(Matcher(fsa), decisions)
    texts = ["o/s walkabout st mary's st", "walkabout", "O/S WALKABOUT ST MARYS ST"]
    found = matcher.match_many(texts)
    assert [m.reason for m in found] == ["reviewed by second: names no place", "", found[0].reason]
    assert [m.place_id for m in found] == [None, "fsa:971230", None]
