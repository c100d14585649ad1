"""Ingest end to end into real stores: presets, the privacy boundary, nothing lost or
doubled, corrections of quarantined rows, withdrawal, and the data-quality summary."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from cardiffmodel.analysis.quality import monthly_quality
from cardiffmodel.cli import main
from cardiffmodel.config import CONFIG_NAME
from cardiffmodel.ingest.pipeline import incident_ids
from ingest_support import ed_row, make_project, write_csv


def _everything_stored(project) -> str:
    """Every value in every table of the store, as one text."""
    with duckdb.connect(str(project.settings.store), read_only=True) as con:
        tables = [t for (t,) in con.execute("SHOW TABLES").fetchall()]
        return "\n".join(str(con.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)


def _incidents(project) -> dict[str, dict]:
    with project.store(read_only=True) as store:
        frame = store.incidents().execute()
    return {row["incident_id"]: row for row in frame.to_dict("records")}


def test_dates_of_birth_become_age_bands_and_never_reach_the_store(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    rows = [
        ed_row("A1", day=5),  # born 06/01/1994: still 24 on 5 January 2019
        ed_row("A2", day=6),  # 25 on the birthday
        [*ed_row("A3")[:5], "31/02/1990", *ed_row("A3")[6:]],  # impossible date of birth
        [*ed_row("A4")[:5], "06/01/2020", *ed_row("A4")[6:]],  # born after the assault
        [*ed_row("A5")[:6], "dob 12/03/1987 rang 07700 900461", "Fist"],
    ]
    (result,) = project.ingest("uhw", [write_csv(tmp_path / "e.csv", rows)])
    assert (result.accepted, result.quarantined) == (3, 2)
    assert result.columns_not_read == ("Patient",)
    # Five dates of birth in their column, one in the free text, and a phone number.
    assert result.identifiers_removed == {"date_of_birth": 6, "phone": 1}
    bands = sorted(row["age_band"] for row in _incidents(project).values())
    assert bands == ["18-24", "18-24", "25-34"]
    with project.store(read_only=True) as store:
        problems = {
            rid: q
            for q in store.quarantine()
            for rid in ("A3", "A4")
            if q["record_id"] == store.record_hash(rid)
        }
    assert (
        problems["A3"]["value"] == "[withheld]" and "not a valid date" in problems["A3"]["reason"]
    )
    assert "after the assault" in problems["A4"]["reason"]
    stored = _everything_stored(project)
    for secret in ("1994", "1990", "1987", "900461", "John Smith", "31/02"):
        assert secret not in stored, secret


def test_record_ids_that_are_nhs_numbers_reject_the_file(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    rows = [ed_row(nhs) for nhs in ("943 476 5919", "4010232137", "9990000018", "9990000026")]
    (result,) = project.ingest("uhw", [write_csv(tmp_path / "e.csv", rows)])
    assert result.skipped and "holds NHS numbers" in result.skipped
    with project.store(read_only=True) as store:
        assert store.incident_count() == 0 and store.batches() == []


def test_police_uk_street_level_files_are_read_as_published(tmp_path, shared_data):
    """With wards as the only layer, a force-wide file keeps the violent crimes whose map
    point is in a ward; "No Location" rows are unlocatable; every row is counted."""
    source = {"name": "police_uk", "kind": "police", "site": "62", "format": "police_uk"}
    project = make_project(tmp_path / "p", shared_data, [source])
    path = shared_data / "police_uk/2019-01-south-wales-street.csv"
    (result,) = project.ingest("police_uk", [path])
    records = pd.read_csv(path, dtype=str, keep_default_na=False)
    wards = shapely.union_all(
        pyogrio.read_dataframe(shared_data / "boundaries/cardiff_wards_2013.geojson").geometry
    )
    violent = records[records["Crime type"] == "Violence and sexual offences"]
    located = violent[violent["Longitude"] != ""]
    here = shapely.intersects_xy(
        wards, located["Longitude"].astype(float), located["Latitude"].astype(float)
    )
    assert result.rows_in == len(records)
    assert result.unlocatable == len(violent) - len(located) > 0
    assert result.filtered_reasons == {
        "crime type not analysed": len(records) - len(violent),
        "outside the area": int((~here).sum()),
    }
    assert (result.accepted, result.quarantined) == (int(here.sum()), 0)
    stored = _incidents(project).values()
    assert {r["occurred_date"].date() for r in stored} == {date(2019, 1, 1)}
    assert not any(r["time_known"] for r in stored)
    assert all(r["beat"] is not None for r in stored)
    (again,) = project.ingest("police_uk", [path])
    assert again.skipped.startswith("already ingested")


def _istv(path: Path, rows: list[list[str]], site: str = "7A4BV", end: str = "2019-01-31"):
    header = [
        ["REPORTING PERIOD START DATE", "2019-01-01"],
        ["REPORTING PERIOD END DATE", end],
        ["SITE CODE (OF TREATMENT)", site],
        [],
        [
            "ARRIVAL DATE AND TIME AT ACCIDENT AND EMERGENCY DEPARTMENT",
            "ASSAULT DATE AND TIME",
            "ASSAULT METHOD",
            "ASSAULT METHOD OTHER DESCRIPTION",
            "ASSAULT LOCATION TYPE",
            "ASSAULT LOCATION DESCRIPTION",
        ],
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(header + rows)
    return path


ISTV_ROWS = [
    ["2019-01-05T23:40", "2019-01-05T23:10", "Bottle/glass", "", "Licensed premises", "Revs"],
    ["2019-01-06T01:00", "2019-01-06", "Fist/feet", "", "Street/public place", "Queen St"],
    ["2019-01-06T01:00", "2019-01-06", "Fist/feet", "", "Street/public place", "Queen St"],
    ["2019-02-02T01:00", "2019-02-02T00:30", "Knife/sharp object", "", "Home", "pts home"],
]


def test_istv_extracts_with_their_submission_header(tmp_path, shared_data):
    source = {"name": "istv", "kind": "ed", "site": "7A4BV", "format": "istv"}
    project = make_project(tmp_path / "p", shared_data, [source])
    (first,) = project.ingest("istv", [_istv(tmp_path / "jan.csv", ISTV_ROWS)])
    # Two identical attendances stay two; February is outside the reporting period.
    assert (first.accepted, first.quarantined) == (3, 1)
    with project.store(read_only=True) as store:
        (problem,) = store.quarantine()
    assert "outside the reporting period 2019-01-01 to 2019-01-31" in problem["reason"]
    assert problem["row_number"] == 9
    stored = sorted(_incidents(project).values(), key=lambda r: r["occurred_at"])
    assert [(r["weapon"], r["location_type"], r["time_known"]) for r in stored] == [
        ("bottle_glass", "licensed_premises", True),
        ("body", "street", False),
        ("body", "street", False),
    ]
    # The same attendances re-sent in a longer extract: ids from content are stable.
    (resent,) = project.ingest("istv", [_istv(tmp_path / "jan2.csv", ISTV_ROWS, end="2019-02-28")])
    assert (resent.new, resent.duplicates, resent.resolved) == (1, 3, 1)
    (wrong,) = project.ingest("istv", [_istv(tmp_path / "other.csv", ISTV_ROWS, site="RYJ01")])
    assert "is 'RYJ01' but this source is site '7A4BV'" in wrong.skipped


def test_overlapping_and_corrected_extracts_neither_double_nor_lose(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    january = write_csv(tmp_path / "jan.csv", [ed_row(f"A{i}", day=i) for i in range(1, 9)])
    (first,) = project.ingest("uhw", [january])
    # A re-sent extract overlapping January, with A3's weapon corrected, and A9 new.
    resent = [ed_row(f"A{i}", day=i) for i in range(5, 10)]
    resent[0] = ed_row("A5", day=5, weapon="Fist")
    (second,) = project.ingest("uhw", [write_csv(tmp_path / "jan-feb.csv", resent)])
    assert (second.new, second.duplicates, second.updated) == (1, 3, 1)
    weapons = {r["incident_id"]: r["weapon"] for r in _incidents(project).values()}
    assert len(weapons) == 9 and sorted(weapons.values()).count("body") == 1
    runner = CliRunner()
    listing = runner.invoke(main, ["--project", str(tmp_path / "p"), "batches"])
    assert listing.exit_code == 0 and second.batch_id in listing.output
    withdrawn = runner.invoke(
        main, ["--project", str(tmp_path / "p"), "batches", "withdraw", second.batch_id]
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "1 records removed" in withdrawn.output and "1 restored" in withdrawn.output
    assert sorted(r["weapon"] for r in _incidents(project).values()) == ["bottle_glass"] * 8
    (again,) = project.ingest("uhw", [tmp_path / "jan-feb.csv"])  # a withdrawn file may return
    assert again.batch_id and (again.new, again.updated) == (1, 1)
    assert first.accepted == 8


def test_quarantined_rows_are_exported_corrected_and_ingested_again(tmp_path, shared_data):
    folder = tmp_path / "p"
    project = make_project(folder, shared_data)
    rows = [
        ed_row("A1"),
        ed_row("A2", weapon="Spoon"),
        ["A3", "05/01/2019 23:40", "31/02/2019", "23:10", "X", "06/01/1990", "pts home", "GL"],
        ed_row("", where="by John Smith nr Revs"),
    ]
    project.ingest("uhw", [write_csv(tmp_path / "e.csv", rows)])
    runner = CliRunner()
    listed = runner.invoke(main, ["--project", str(folder), "quarantine"])
    assert "e.csv row 3 column Weapon value 'Spoon': Weapon: unknown code" in listed.output
    assert "3 quarantined rows" in listed.output
    fix = tmp_path / "fix.csv"
    exported = runner.invoke(
        main, ["--project", str(folder), "quarantine", "--source", "uhw", "--export", str(fix)]
    )
    assert exported.exit_code == 0, exported.output
    with open(fix, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [t["Ref"] for t in table] == ["A2", "A3", ""]
    assert all(t["DOB"] == "" for t in table)  # dates of birth never leave
    assert "John Smith" not in fix.read_text(encoding="utf-8")
    table[0]["Weapon"] = "Fist"  # corrected
    table[1]["Assault date"] = "28/02/2019"  # still wrong: after arrival
    table[2]["Ref"] = "A4"
    with open(fix, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    ingested = runner.invoke(main, ["--project", str(folder), "ingest", "uhw", str(fix)])
    assert (
        "2 accepted" in ingested.output and "2 earlier quarantined rows resolved" in ingested.output
    )
    with project.store(read_only=True) as store:
        still = store.quarantine()
        expected = [(store.record_hash("A3"), str(fix))]
        assert [(q["record_id"], q["file"]) for q in still] == expected
        assert "after arrival" in still[0]["reason"]
        states = sorted(q["status"] for q in store.quarantine(states=("resolved", "superseded")))
    assert states == ["resolved", "resolved", "superseded"]
    assert (folder / CONFIG_NAME).exists()


def test_monthly_quality_shows_completeness_timeliness_and_a_drop(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    rows = []
    for month, count in ((1, 10), (2, 12), (3, 11), (4, 3)):  # April's flow broke
        for i in range(count):
            where = "" if i % 2 else "Queen St"
            rows.append(
                [
                    f"R{month}-{i}",
                    f"05/{month:02d}/2019 23:40",
                    f"05/{month:02d}/2019",
                    "" if i == 0 else "23:10",
                    "",
                    "",
                    where,
                    "Bottle",
                ]
            )
    project.ingest("uhw", [write_csv(tmp_path / "e.csv", rows)])
    with project.store(read_only=True) as store:
        quality = monthly_quality(store.incidents(), store.batches_table(), end=date(2019, 6, 1))
    by_month = {r.month.month: r for r in quality.rows}
    assert [by_month[m].records for m in (1, 2, 3, 4, 5)] == [10, 12, 11, 3, 0]
    assert [m.month.month for m in quality.drops] == [4, 5]
    assert by_month[4].baseline == pytest.approx(11.0)
    assert by_month[1].location_given == pytest.approx(0.5)
    assert by_month[1].time_known == pytest.approx(0.9)
    assert by_month[1].weapon_known == 1.0 and by_month[5].weapon_known is None
    received = date.today()
    assert by_month[1].median_days == (received - date(2019, 1, 5)).days
    result = CliRunner().invoke(
        main, ["--project", str(tmp_path / "p"), "quality", "--from", "2019-01", "--to", "2019-05"]
    )
    assert result.exit_code == 0, result.output
    assert "uhw 2019-04, uhw 2019-05" in result.output


def test_unknown_source_and_missing_file_are_clear(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(tmp_path / "p"), "ingest", "nope", "x.csv"])
    assert result.exit_code != 0 and "no source named 'nope'" in result.output
    (missing,) = project.ingest("uhw", [tmp_path / "absent.csv"])
    assert missing.skipped == f"rejected: {tmp_path / 'absent.csv'}: file not found"


def test_incident_ids_are_the_same_whichever_way_they_are_hashed():
    many = pd.Series([f"A{i}" for i in range(60_000)])
    bulk = incident_ids("ed", "7A4BV", many)
    few = incident_ids("ed", "7A4BV", many.iloc[[0, 1, 59_999]])
    assert list(bulk[[0, 1, 59_999]]) == list(few)
    assert few[0] == hashlib.sha256(b"ed|7A4BV|A0").hexdigest()[:24]
    assert isinstance(bulk[0], str) and isinstance(few[0], str)
