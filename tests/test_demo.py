"""End to end: the demo builds a synthetic city, ingests it and writes the reports, and the
result agrees with the synthetic ground truth."""

from __future__ import annotations

import csv
import re
import shutil

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.demo import DemoError, run_demo
from cardiffmodel.project import Project


@pytest.fixture(scope="module")
def demo(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("demo")
    summary = run_demo(folder, shared_data, seed=3, months=14, scale=0.15)
    return folder, summary


def _store(folder):
    return duckdb.connect(str(folder / "cardiff.duckdb"), read_only=True)


def test_every_row_is_accepted_or_quarantined(demo):
    folder, summary = demo
    with _store(folder) as con:
        batches = con.sql("SELECT sum(rows_in), sum(accepted), sum(quarantined) FROM batches")
        rows_in, accepted, quarantined = batches.fetchall()[0]
        stored = con.sql("SELECT count(*) FROM incidents").fetchall()[0][0]
    truth = pd.read_parquet(folder / "extracts" / "truth.parquet")
    assert rows_in >= len(truth)  # police files also hold non-violent crime
    assert accepted == stored == summary.accepted
    assert quarantined == summary.quarantined
    assert summary.accepted + summary.quarantined == summary.rows_in


def test_planted_errors_are_quarantined_at_their_row(demo):
    folder, _ = demo
    truth = pd.read_parquet(folder / "extracts" / "truth.parquet")
    planted = truth[truth["planted_error"].notna()]
    assert len(planted) > 0
    with _store(folder) as con:
        quarantined = {
            (file, row)
            for file, row in con.sql("SELECT file, row_number FROM quarantine").fetchall()
        }
    for item in planted.itertuples():
        # The truth counts data rows from 1; the quarantine uses file rows (header is row 1).
        assert (str(folder / "extracts" / item.file), item.row + 1) in quarantined, item


def test_no_identifier_crosses_the_boundary(demo):
    folder, _ = demo
    names, nhs = set(), set()
    for path in (folder / "extracts" / "ed" / "uhw").glob("*.csv"):
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                names.add(row["PatientName"])
                nhs.add(row["NHSNumber"].replace(" ", ""))
    with _store(folder) as con:
        texts = [t for (t,) in con.sql("SELECT location_text FROM incidents").fetchall() if t]
        texts += [r for (r,) in con.sql("SELECT raw FROM quarantine").fetchall()]
        removed = con.sql("SELECT string_agg(identifiers_removed, ',') FROM batches").fetchall()
    blob = "\n".join(texts)
    assert names and not any(name in blob for name in names)
    truth = pd.read_parquet(folder / "extracts" / "truth.parquet")
    assert truth["identifiers"].map(lambda kinds: "name" in kinds).any()
    assert not any(number in blob.replace(" ", "") for number in nhs)
    assert not re.search(r"\b07\d{3}\s?\d{6}\b", blob)
    assert not re.search(r"\bCF\d{1,2}\s?\d[A-Z]{2}\b", blob)
    assert "phone" in removed[0][0] and "postcode" in removed[0][0]


def test_the_planted_hotspot_tops_the_ranking_and_reports_exist(demo):
    _, summary = demo
    assert summary.top_beats[0][0] in ("Cathays", "Butetown")
    assert sorted(p.suffix for p in summary.reports) == [".html"] * 4 + [".pdf"] * 4
    assert all(p.stat().st_size > 0 for p in summary.reports)
    html = summary.reports[0].read_text(encoding="utf-8")
    assert "City Centre and Bay" in html and "Beats to prioritise" in html
    assert "Cathays" in html


def test_reingesting_the_same_and_an_overlapping_extract_adds_nothing(demo, tmp_path):
    folder, _ = demo
    copy = tmp_path / "project"
    shutil.copytree(folder, copy)
    project = Project.open(copy)
    first = sorted((copy / "extracts" / "ed" / "uhw").glob("*.csv"))[0]
    with project.store(read_only=True) as store:
        before = store.incident_count()
    (same,) = project.ingest("uhw", [first])
    assert same.skipped and "already ingested" in same.skipped
    overlapping = tmp_path / "overlap.csv"
    lines = first.read_text(encoding="utf-8-sig").splitlines()
    overlapping.write_text("\n".join(lines[:20]) + "\n", encoding="utf-8")  # a re-sent part
    (again,) = project.ingest("uhw", [overlapping])
    assert again.new == 0 and again.duplicates == again.accepted > 0
    with project.store(read_only=True) as store:
        assert store.incident_count() == before


def test_cli_commands_work_in_the_demo_folder(demo):
    folder, _ = demo
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["--project", str(folder), "analyse", "beats", "--period", "2019-02", "--format", "csv"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "code,name,count,rate_per_1000,previous,change,change_p,last_year"
    )
    assert result.stderr.startswith("sources holding 2019-02-01 to 2019-02-28: ed")
    assert len(result.stdout.splitlines()) == 31  # header + 29 wards + unplaced
    result = runner.invoke(main, ["--project", str(folder), "quarantine"])
    assert result.exit_code == 0 and "quarantined rows" in result.output
    result = runner.invoke(main, ["--project", str(folder), "batches"])
    assert result.exit_code == 0 and "uhw" in result.output


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path, shared_data):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not empty"):
        run_demo(tmp_path, shared_data, months=1, scale=0.05)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_report_shading_does_not_reveal_suppressed_cells(demo):
    _, summary = demo
    html = summary.reports[0].read_text(encoding="utf-8")
    shades = re.findall(r'<td class="s(\d)">([^<]*)</td>', html.replace("&lt;", "<"))
    assert shades, "the hour x weekday grid is missing"
    assert all(shade == "0" for shade, shown in shades if shown in ("<5", "*"))
