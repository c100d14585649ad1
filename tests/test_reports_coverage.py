"""Reports fit the sources held: a police-only deployment built from the real
data.police.uk files gets a police report (no hospital cards, no empty hour grid, no
all-unknown tables), periods the store does not hold read "not held" (never 0, never a
change), and a period no source holds is refused rather than reported as no violence.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.disclosure import recover_bounds
from cardiffmodel.project import Project
from cardiffmodel.reports.advice import advise
from cardiffmodel.reports.analyses import analyse_group
from cardiffmodel.reports.builder import selection_for
from cardiffmodel.reports.findings import Finding
from cardiffmodel.reports.published import LAST_YEAR, PREVIOUS, publish, report_figures
from ingest_support import POLICE_ONLY_AREAS
from test_reports import Tables

SLUG = "city-centre-and-bay"


def _write(folder: Path, period: str, *extra: str):
    return CliRunner().invoke(
        main, ["--project", str(folder), "report", "--all", "--period", period, *extra]
    )


@pytest.fixture(scope="module")
def police_reports(police_only_project) -> dict[str, str]:
    """The HTML of the police-only group's report for its first two months."""
    html = {}
    for period in ("2018-10", "2018-11"):
        result = _write(police_only_project, period)
        assert result.exit_code == 0, result.output
        path = police_only_project / "reports" / period / f"{SLUG}.html"
        html[period] = path.read_text(encoding="utf-8")
    return html


def _tables(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def _text(html: str) -> str:
    body = re.sub(r'src="data:[^"]+"', "", html[html.find("<body>") + 1 :])
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _headline(html: str) -> str:
    return _text(html[html.index("<h2>Headlines</h2>") : html.index("<h2>Findings and advice")])


def _beats(html: str) -> list[list[str]]:
    return next(t for t in _tables(html) if t[0][:2] == ["Rank", "Beat"])


def test_police_only_report_names_only_police_and_shows_no_absent_tables(police_reports):
    for period, html in police_reports.items():
        text = _text(html)
        assert "Sources: Police (recorded violent crime), by beat." in text
        for absent in ("Emergency Department", "Ambulance", "ambulance", "ISTV"):
            assert absent not in text, (period, absent)
        assert "Hospital and police compared" not in html
        # police.uk gives the month only: no hour grid, and the reason instead of it.
        assert 'class="grid"' not in html and "record no time of day" in text
        tables = _tables(html)
        assert not any(row[:1] == ["Unknown"] for table in tables for row in table)
        for title in ("Weapon or method", "Age of the injured person", "Sex of the injured"):
            assert f"<h3>{title}" not in html
        assert "Not shown: weapon or method" in text
        assert "the grid above" not in text  # advice never points to an absent grid
    headline = _headline(police_reports["2018-11"])
    assert "Incidents (Police)" in headline and "0 Emergency" not in headline


def test_previous_period_is_shown_only_where_held(police_reports, police_only_project):
    october, november = police_reports["2018-10"], police_reports["2018-11"]
    # October 2018 is the first month held: its previous month and last year are not.
    assert "previous period not held; same period last year not held" in _headline(october)
    assert "%" not in _headline(october) and "significant rise" not in october
    assert all(row[4] == "not held" and row[5] == "" for row in _beats(october)[1:])
    # November's previous month (October) is held: real counts, and changes tested.
    rows = _beats(november)[1:]
    assert all(re.fullmatch(r"[\d,]+|<5|\*", row[4]) for row in rows)
    assert "same period last year not held" in _headline(november)
    with Project.open(police_only_project).store(read_only=True) as store:
        (count,) = store.con.execute(
            "SELECT count(*) FROM incidents WHERE occurred_date = DATE '2018-10-01' AND beat IN ?",
            [POLICE_ONLY_AREAS],
        ).fetchone()
    assert f"previous period {count:,}" in _headline(november)
    trend = next(t for t in _tables(november) if t[0][0] == "Month")
    this_year = dict(zip(trend[0][1:], trend[1][1:], strict=True))
    assert this_year["Oct"] == f"{count:,}" and this_year["Sep"] == "not held"
    assert set(trend[2][1:]) == {"not held"}  # a year earlier: nothing held, nothing 0


def test_not_held_figures_stay_out_of_suppression(police_only_project):
    project = Project.open(police_only_project)
    group = project.settings.groups[0]
    with project.store(read_only=True) as store:
        analyses = analyse_group(
            store.incidents(),
            project.layer("beat"),
            group,
            selection_for("2018-10", False, group),
            store.coverage(),
        )
    values, _ = report_figures(analyses)
    assert values[PREVIOUS] is None and values[LAST_YEAR] is None
    assert all(values["previous_beat", code] is None for code in group.areas)
    assert analyses.selection.sources == ("police",)
    published = publish(analyses, protect=True)
    assert {PREVIOUS, LAST_YEAR} <= published.not_held
    assert not set(published.figures.keys) & published.not_held
    for key, (low, high) in recover_bounds(published.figures).items():
        assert low <= values[key] <= high
        if published.figures[key].primary:
            assert low < high, key


def test_a_month_no_source_holds_is_refused(police_only_project):
    result = _write(police_only_project, "2019-02")
    assert result.exit_code != 0
    assert (
        "no source holds 2019-02 (held: police_uk (police) 2018-10 to 2019-01); nothing written"
        in result.output
    )
    assert not (police_only_project / "reports" / "2019-02").exists()
    quarter = _write(police_only_project, "2018-12", "--quarter")  # Dec to Feb: Feb missing
    assert quarter.exit_code != 0 and "2018-12 to 2019-02" in quarter.output

    written = _write(police_only_project, "2019-02", "--allow-empty")
    assert written.exit_code == 0, written.output
    html = Path(written.output.strip()).read_text(encoding="utf-8")
    assert "(no data held)" in html and "No data held for this period" in html
    assert not _tables(html)  # no figure at all, so no zero to misread


def test_advice_points_to_the_hour_grid_only_when_the_report_has_one():
    finding = Finding("hotspot", "Part of the group's area is a hot spot.", "Gi*.", ("Cathays",))
    with_grid = advise([finding], sections=frozenset({"grid"}))[0].actions[0].text
    without = advise([finding], sections=frozenset())[0].actions[0].text
    assert "grid" in with_grid and "Cathays" in with_grid
    assert "grid" not in without and "Cathays" in without


def test_demo_first_month_shows_last_year_as_not_held(tmp_path_factory, shared_data):
    from cardiffmodel.demo import build_demo_store

    folder = tmp_path_factory.mktemp("demo-first-month")
    build_demo_store(folder, shared_data, seed=5, months=3, scale=0.05)
    result = _write(folder, "2018-01")
    assert result.exit_code == 0, result.output
    html = Path(result.output.splitlines()[0]).read_text(encoding="utf-8")
    headline = _headline(html)
    assert "previous period not held; same period last year not held" in headline
    assert "%" not in headline
    trend = next(t for t in _tables(html) if t[0][0] == "Month")
    assert trend[1][-1] not in ("not held", "0") and set(trend[1][1:-1]) == {"not held"}
    assert set(trend[2][1:]) == {"not held"}
    assert "Violence in City Centre and Bay: January 2018" in html
