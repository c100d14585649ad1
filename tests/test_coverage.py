"""Coverage: which periods the store holds, so that a period not held is never a 0."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from cardiffmodel.analysis.counts import monthly_trend, rank_areas
from cardiffmodel.analysis.selection import held_part, month_selection
from cardiffmodel.cli import main
from cardiffmodel.coverage import (
    Coverage,
    file_name_month,
    held_run,
    months_period,
    records_period,
)
from ingest_support import ED_SOURCE, ed_row, make_project, write_csv

POLICE_UK = {"name": "police_uk", "kind": "police", "site": "62", "format": "police_uk"}


def _days(*pairs: tuple[str, int]) -> pd.Series:
    """``count`` assaults on the 10th of each month ``"YYYY-MM"``."""
    return pd.Series([pd.Timestamp(f"{month}-10") for month, count in pairs for _ in range(count)])


def test_a_monthly_extract_covers_its_month_and_not_its_stragglers():
    assert records_period(_days(("2018-12", 2), ("2019-01", 40))) == (
        date(2019, 1, 1),
        date(2019, 1, 31),
    )


def test_a_yearly_extract_covers_every_month_between_its_first_and_last():
    months = [(f"2019-{m:02d}", 30 + m) for m in range(1, 13) if m != 7]
    assert records_period(_days(*months)) == (date(2019, 1, 1), date(2019, 12, 31))


def test_an_empty_extract_covers_nothing():
    assert records_period(pd.Series([], dtype="datetime64[ns]")) is None
    assert months_period(pd.Series(["", None])) is None


def test_published_months_give_whole_months():
    assert months_period(pd.Series(["2019-01", "2019-02 "])) == (
        date(2019, 1, 1),
        date(2019, 2, 28),
    )


def test_coverage_merges_batches_and_compares_periods_held_by_the_same_sources():
    coverage = Coverage.from_batches(
        [
            ("uhw", "ed", date(2019, 1, 1), date(2019, 1, 31)),
            ("uhw", "ed", date(2019, 2, 1), date(2019, 2, 28)),
            ("police", "police", date(2019, 2, 1), date(2019, 2, 28)),
            ("never", "ambulance", None, None),
        ]
    )
    jan, feb, mar = (
        (date(2019, 1, 1), date(2019, 2, 1)),
        (date(2019, 2, 1), date(2019, 3, 1)),
        (
            date(2019, 3, 1),
            date(2019, 4, 1),
        ),
    )
    assert coverage.covering(*feb) == {"uhw", "police"}
    assert coverage.comparable(jan, feb, ("ed",))
    assert not coverage.comparable(jan, feb)  # the police joined in February
    assert not coverage.held(*mar)
    assert coverage.kinds_covering(date(2019, 1, 15), date(2019, 2, 15)) == ("ed",)
    assert coverage.extent() == (date(2019, 1, 1), date(2019, 3, 1))
    assert "uhw (ed): 2019-01 to 2019-02" in coverage.describe()


def test_held_run_is_the_last_unbroken_run():
    assert held_run([True, False, True, True, False]) == (2, 4)
    assert held_run([False, False]) is None
    assert held_run([True, True]) == (0, 2)


def test_a_missing_month_is_not_held_and_never_compared(tmp_path, shared_data):
    """Two police.uk months with the month between them never ingested."""
    project = make_project(tmp_path / "p", shared_data, [POLICE_UK])
    files = [shared_data / f"police_uk/{m}-south-wales-street.csv" for m in ("2018-11", "2019-01")]
    project.ingest("police_uk", files)
    areas = project.layer("beat").lookup()
    with project.store(read_only=True) as store:
        coverage = store.coverage()
        t = store.incidents()
        assert coverage.describe() == "police_uk (police): 2018-11, 2019-01"
        january = month_selection("2019-01")
        assert held_part(january, coverage).sources == ("police",)
        assert held_part(month_selection("2018-12"), coverage) is None
        ranking = rank_areas(t, held_part(january, coverage), areas, coverage)
        trend = monthly_trend(t, held_part(january, coverage), 4, coverage)
        complete = rank_areas(t, january, areas)  # no coverage: the caller vouches
    assert not ranking.previous_held and not ranking.last_year_held
    assert all(r.previous_count is None and r.change is None for r in ranking.rows)
    assert all(r.change_p_value is None and r.last_year_count is None for r in ranking.rows)
    assert ranking.total == complete.total > 0
    assert {r.previous_count for r in complete.rows} == {0}  # what the old code printed
    assert trend.months == ("2018-10", "2018-11", "2018-12", "2019-01")
    assert trend.counts[0] is None and trend.counts[2] is None
    assert trend.counts[1] > 0 and trend.counts[3] == ranking.total


def test_analyse_beats_prints_not_held_and_the_unplaced_row(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data, [POLICE_UK])
    files = [shared_data / f"police_uk/{m}-south-wales-street.csv" for m in ("2018-12", "2019-01")]
    project.ingest("police_uk", files)
    folder = str(tmp_path / "p")
    runner = CliRunner()
    args = ["--project", folder, "analyse", "beats", "--format", "json"]
    held = runner.invoke(main, [*args, "--period", "2019-01"])
    assert held.exit_code == 0, held.output
    rows = json.loads(held.stdout)
    assert set(rows[0]) == {
        "code",
        "name",
        "count",
        "rate_per_1000",
        "previous",
        "change",
        "change_p",
        "last_year",
    }
    assert rows[-1]["code"] == "(unplaced)"
    assert all(isinstance(r["previous"], int) for r in rows)
    assert all(r["last_year"] == "not held" for r in rows)
    first = json.loads(runner.invoke(main, [*args, "--period", "2018-12"]).stdout)
    assert {r["previous"] for r in first} == {"not held"}
    assert {r["change"] for r in first} == {"not held"}
    empty = runner.invoke(main, [*args, "--period", "2019-05"])
    assert empty.exit_code == 1
    assert "no source holds 2019-05-01 to 2019-05-31" in empty.output
    assert "police_uk (police): 2018-12 to 2019-01" in empty.output


def test_user_mistakes_are_one_line_not_a_traceback(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    folder = str(tmp_path / "p")
    runner = CliRunner()
    fresh = runner.invoke(main, ["--project", folder, "analyse", "beats", "--period", "2019-01"])
    assert fresh.exit_code == 1 and "no store yet" in fresh.output
    assert "Traceback" not in fresh.output
    project.ingest(
        "uhw", [write_csv(tmp_path / "e.csv", [ed_row(f"R{i}", 1 + i) for i in range(9)])]
    )
    for args, message in [
        (["analyse", "beats", "--period", "2019-01", "--layer", "ward"], "no area layer 'ward'"),
        (["analyse", "venues", "--period", "2019-01", "--limit", "0"], "expected at least 1"),
        (["analyse", "beats", "--period", "2019-13"], "expected YYYY-MM"),
    ]:
        result = runner.invoke(main, ["--project", folder, *args])
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and result.exception.__class__ is SystemExit


def test_covers_in_the_config_wins_over_the_records(tmp_path, shared_data):
    source = {**ED_SOURCE, "covers": ["2019-01", "2019-03"]}
    project = make_project(tmp_path / "p", shared_data, [source])
    project.ingest("uhw", [write_csv(tmp_path / "e.csv", [ed_row("R1", 3)])])
    with project.store(read_only=True) as store:
        assert store.coverage().covering(date(2019, 1, 1), date(2019, 4, 1)) == {"uhw"}


def test_a_version_2_store_gets_kinds_and_periods_from_its_records(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data)
    rows = [ed_row(f"R{i}", 1 + i) for i in range(20)]
    project.ingest("uhw", [write_csv(tmp_path / "e.csv", rows)])
    path = project.settings.store
    with duckdb.connect(str(path)) as con:  # as a version 2 store left it
        con.execute("UPDATE batches SET kind = NULL, period_start = NULL, period_end = NULL")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with project.store() as store:
        assert store.coverage().describe() == "uhw (ed): 2019-01"


def test_a_file_name_gives_one_month_or_none():
    assert file_name_month("uhw_2019-06.csv") == (date(2019, 6, 1), date(2019, 6, 30))
    assert file_name_month("2019-02-gwent-street.csv") == (date(2019, 2, 1), date(2019, 2, 28))
    assert file_name_month("ed201912.xlsx") == (date(2019, 12, 1), date(2019, 12, 31))
    assert file_name_month("uhw_2019-01_to_2019-03.csv") is None
    assert file_name_month("uhw_20190.csv") is None
    assert file_name_month("extract.csv") is None


def test_an_empty_extract_holds_its_month_and_a_quiet_month_is_zero(tmp_path, shared_data):
    """A small hospital with no assault attendances in February sends a header only: the
    month is held with 0 incidents, so January and March stay comparable with it."""
    project = make_project(tmp_path / "p", shared_data)
    header_only = write_csv(tmp_path / "uhw_2019-02.csv", [])
    (result,) = project.ingest("uhw", [header_only])
    assert result.skipped is None and result.rows_in == 0 and result.accepted == 0
    january = write_csv(tmp_path / "uhw_2019-01.csv", [ed_row(f"R{i}", 1 + i) for i in range(9)])
    project.ingest("uhw", [january])
    with project.store(read_only=True) as store:
        assert store.coverage().describe() == "uhw (ed): 2019-01 to 2019-02"
        february = month_selection("2019-02", sources=("ed",))
        ranking = rank_areas(
            store.incidents(), february, project.layer("beat").lookup(), store.coverage()
        )
    assert ranking.previous_held and ranking.total == 0
    assert sum(r.previous_count for r in ranking.rows) + ranking.previous_unplaced == 9
    nameless = write_csv(tmp_path / "extract.csv", [])
    (refused,) = make_project(tmp_path / "q", shared_data).ingest("uhw", [nameless])
    assert "does not say which period it covers" in refused.skipped


def test_a_trend_running_past_the_data_keeps_its_held_months(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data, [POLICE_UK])
    files = [shared_data / f"police_uk/{m}-south-wales-street.csv" for m in ("2018-12", "2019-01")]
    project.ingest("police_uk", files)
    with project.store(read_only=True) as store:
        after = month_selection("2019-03", sources=("police",))
        trend = monthly_trend(store.incidents(), after, 5, store.coverage())
    assert trend.months == ("2018-11", "2018-12", "2019-01", "2019-02", "2019-03")
    assert trend.counts[0] is None and trend.counts[3:] == (None, None)
    assert trend.counts[1] > 0 and trend.counts[2] > 0


def test_a_two_digit_year_is_not_a_month():
    for text in ("19-11", "2019-1", "201911"):
        with pytest.raises(ValueError, match="expected YYYY-MM"):
            month_selection(text)


def test_police_uk_dates_are_months_only_and_older_stores_learn_it(tmp_path, shared_data):
    project = make_project(tmp_path / "p", shared_data, [POLICE_UK, ED_SOURCE])
    project.ingest("police_uk", [shared_data / "police_uk/2019-01-south-wales-street.csv"])
    project.ingest("uhw", [write_csv(tmp_path / "e.csv", [ed_row(f"R{i}", 1) for i in range(25)])])
    with project.store(read_only=True) as store:
        assert store.coverage().month_only() == ("police_uk",)
        assert store.coverage().daily().describe() == "uhw (ed): 2019-01"
    with duckdb.connect(str(project.settings.store)) as con:  # as a version 4 store left it
        con.execute("UPDATE batches SET month_only = false")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    with project.store() as store:  # 25 ED records all on the 1st: a hospital records days
        assert store.coverage().month_only() == ("police_uk",)
