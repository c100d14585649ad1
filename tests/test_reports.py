"""Group reports: real PDFs, self-contained HTML, protected tables, and advice that appears
only with its finding.

The demo project (a synthetic city ingested through the real pipeline) gives realistic
reports; small hand-made stores put one finding in or leave it out.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from cardiffmodel.cli import main
from cardiffmodel.config import write_settings
from cardiffmodel.demo import GROUPS, run_demo
from cardiffmodel.disclosure import (
    SECONDARY,
    SUPPRESSED,
    Cell,
    SuppressedTable,
    recover_bounds,
    suppress_counts,
    suppress_linked,
    suppress_table,
)
from cardiffmodel.project import Project
from cardiffmodel.reports.advice import REFERENCES, RULES, advise
from cardiffmodel.reports.analyses import analyse_group, analyse_region
from cardiffmodel.reports.builder import build_group_report, selection_for
from cardiffmodel.reports.findings import find
from cardiffmodel.reports.published import publish, report_figures
from cardiffmodel.reports.render import render_html
from cardiffmodel.schema import INCIDENT_SCHEMA, SOURCES
from cardiffmodel.store.interventions import (
    Intervention,
    WhatWorksRow,
    add_intervention,
    save_results,
)

PERIOD = "2019-02"  # the last whole month of a 14-month demo from January 2018
CITY = "City Centre and Bay"
HEALTH = "City Centre and Bay (health)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("reports-demo")
    run_demo(folder, shared_data, seed=4, months=14, scale=0.08)
    raw = tomllib.loads((folder / "cardiff.toml").read_text(encoding="utf-8"))
    raw["groups"].append(
        {"name": HEALTH, "layer": "beat", "areas": GROUPS[CITY], "audience": "health"}
    )
    write_settings(raw, folder)
    # The demo wrote every group's HTML for the last month; add the health group's and a PDF.
    for group, fmt in ((HEALTH, "html"), (CITY, "pdf")):
        result = CliRunner().invoke(
            main,
            [
                "--project",
                str(folder),
                "report",
                "--group",
                group,
                "--period",
                PERIOD,
                "--format",
                fmt,
            ],
        )
        assert result.exit_code == 0, result.output
    return folder


def _report(folder: Path, name: str, fmt: str) -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return folder / "reports" / PERIOD / f"{slug}.{fmt}"


class Tables(HTMLParser):
    """Every table's cell texts, row by row, and every src/href attribute."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(path: Path) -> Tables:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _table_after(html: str, heading: str) -> list[list[str]]:
    parser = Tables()
    parser.feed(html[html.index(heading) :])
    return parser.tables[0]


def test_pdf_is_produced_with_the_group_and_page_numbers(demo):
    reader = PdfReader(_report(demo, CITY, "pdf"))
    pages = len(reader.pages)
    assert pages >= 3
    text = [page.extract_text() for page in reader.pages]
    assert CITY in text[0] and "February 2019" in text[0]
    for number, page in enumerate(text, 1):
        assert f"Page {number} of {pages}" in page
        assert "Violence in City Centre and Bay" in page  # the running header
    assert "Produced" in text[-1] and "Methods" in "".join(text)


def test_html_is_self_contained(demo):
    for name in (CITY, HEALTH):
        parsed = _parse(_report(demo, name, "html"))
        assert parsed.links, "the charts and map are missing"
        assert all(link.startswith("data:image/svg+xml;base64,") for link in parsed.links)
        html = _report(demo, name, "html").read_text(encoding="utf-8")
        assert not re.search(r"<(script|link|iframe)\b", html)
        assert not re.search(r"url\(\s*['\"]?https?:", html)


def test_no_table_of_a_partnership_report_shows_a_small_count(demo):
    for group in GROUPS:
        tables = _parse(_report(demo, group, "html")).tables
        assert len(tables) >= 10
        # Rank and venue numbers are positions, not counts.
        cells = [
            cell
            for table in tables
            for row in table
            for cell in (row[1:] if table[0][0] in ("Rank", "No.") else row)
        ]
        small = [c for c in cells if re.fullmatch(r"[1-4]", c)]
        assert not small, (group, small)
        assert any(c == SUPPRESSED for c in cells)  # there is something to protect


def test_the_published_hospital_police_table_cannot_be_attacked(demo):
    """Rebuild the beat x source table from the HTML alone and attack it by LP."""
    html = _report(demo, CITY, "html").read_text(encoding="utf-8")
    rows = _table_after(html, "Hospital and police compared")[1:]

    def cell(text: str) -> Cell:
        if text == SUPPRESSED:
            return Cell(None, text, primary=True)
        if text == SECONDARY:
            return Cell(None, text, secondary=True)
        return Cell(int(text.replace(",", "")), text)

    grid = [[cell(text) for text in row[1:]] for row in rows]
    table = SuppressedTable(
        row_labels=tuple(row[0] for row in rows[:-1]),
        col_labels=SOURCES,
        cells=tuple(tuple(r[:-1]) for r in grid[:-1]),
        row_totals=tuple(r[-1] for r in grid[:-1]),
        col_totals=tuple(grid[-1][:-1]),
        grand_total=grid[-1][-1],
    )
    bounds = recover_bounds(table)
    flat = [c for r in table.grid for c in r]
    assert any(c.primary for c in flat)
    for (i, j), (low, high) in bounds.items():
        if table.grid[i][j].primary:
            assert low < high, ((i, j), low, high)


def test_every_figure_of_the_report_is_protected_together(demo):
    """All the report's figures as one system: no small count can be pinned down, and the
    truth lies within what an attacker can work out."""
    project = Project.open(demo)
    group = next(g for g in project.settings.groups if g.name == CITY)
    with project.store(read_only=True) as store:
        analyses = analyse_group(
            store.incidents(), project.layer("beat"), group, selection_for(PERIOD, False, group)
        )
    values, _ = report_figures(analyses)
    figures = publish(analyses, protect=True).figures
    bounds = recover_bounds(figures)
    primary = [key for key, c in zip(figures.keys, figures.cells, strict=True) if c.primary]
    assert primary
    for key, (low, high) in bounds.items():
        assert low <= values[key] <= high, key
        if figures[key].primary:
            assert low < high, key
    html = _report(demo, CITY, "html").read_text(encoding="utf-8")
    for code, name in zip(
        group.areas, map(project.layer("beat").name_of, group.areas), strict=True
    ):
        shown = figures[("beat", code)]
        row = next(r for r in _table_after(html, "Beats to prioritise") if r[1:2] == [name])
        assert row[2] == (shown.shown if shown.value is None else f"{shown.value:,}")
        if shown.value is None:
            assert row[3] == "-"  # no rate for a hidden count


def test_health_report_shows_exact_counts(demo):
    health = _report(demo, HEALTH, "html").read_text(encoding="utf-8")
    partnership = _report(demo, CITY, "html").read_text(encoding="utf-8")
    cells = [c for t in _parse(_report(demo, HEALTH, "html")).tables for r in t for c in r]
    assert SUPPRESSED not in cells and SECONDARY not in cells
    assert any(re.fullmatch(r"[1-4]", c) for c in cells)
    assert "Exact counts for health staff" in health
    gap_health = _table_after(health, "Hospital and police compared")
    gap_partnership = _table_after(partnership, "Hospital and police compared")
    by_beat = {row[0]: row for row in gap_health}
    assert by_beat.keys() == {row[0] for row in gap_partnership}
    for row_p in gap_partnership:  # the same figures, with nothing hidden
        for h, p in zip(by_beat[row_p[0]], row_p, strict=True):
            assert p in (SUPPRESSED, SECONDARY) or h == p


def test_report_command_writes_a_quarter_and_refuses_unknown_formats(demo):
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["--project", str(demo), "report", "--group", CITY, "--period", "2018-12", "--quarter"],
    )
    assert result.exit_code == 0, result.output
    html = Path(result.output.strip()).read_text(encoding="utf-8")
    assert "December 2018 to February 2019" in html
    result = runner.invoke(
        main, ["--project", str(demo), "report", "--all", "--period", PERIOD, "--format", "doc"]
    )
    assert result.exit_code != 0 and "doc" in result.output


def test_linked_tables_protect_what_separate_suppression_leaks():
    """A beat x source table and a police-by-beat list, each safe alone, together give the
    small count away; protected together they do not."""
    matrix = [[3, 20], [30, 40]]  # beats x (ed, police)
    table = suppress_table(matrix, ["A", "B"], ["ed", "police"])
    police = suppress_counts([20, 40])
    assert table.cells[0][1].secondary and police.cells[0].value == 20
    # The attacker reads the police list: the hidden 20 is known, so the "<5" is 23 - 20.
    values = {("c", r, c): v for r, row in enumerate(matrix) for c, v in enumerate(row)}
    values |= {("row", 0): 23, ("row", 1): 70, ("col", 0): 33, ("col", 1): 60, "all": 93}
    values |= {("police", 0): 20, ("police", 1): 40, "police_all": 60}
    lines = [([("c", r, 0), ("c", r, 1)], ("row", r)) for r in range(2)] + [
        ([("c", 0, c), ("c", 1, c)], ("col", c)) for c in range(2)
    ]
    lines += [([("row", 0), ("row", 1)], "all"), ([("col", 0), ("col", 1)], "all")]
    lines += [([("c", 0, 1)], ("police", 0)), ([("c", 1, 1)], ("police", 1))]
    lines += [([("police", 0), ("police", 1)], "police_all"), ([("col", 1)], "police_all")]
    linked = suppress_linked(values, lines)
    bounds = recover_bounds(linked)
    assert linked[("c", 0, 0)].primary
    low, high = bounds[("c", 0, 0)]
    assert low < high and low <= 3 <= high
    assert linked[("police", 0)].value is None  # hidden in both places, as it must be


def test_suppress_linked_checks_its_lines():
    with pytest.raises(ValueError, match="add up to 5, expected 6"):
        suppress_linked({"a": 2, "b": 3, "t": 6}, [(["a", "b"], "t")])
    with pytest.raises(ValueError, match="not among the values"):
        suppress_linked({"a": 2, "t": 2}, [(["a", "z"], "t")])


def test_every_rule_has_referenced_actions():
    for rule, actions in RULES.items():
        assert actions, rule
        for action in actions:
            assert action.references and all(r in REFERENCES for r in action.references)
    assert advise([], sections=frozenset()) == ()


# --- small stores: one finding in, or left out ------------------------------------------

CATHAYS = "W05000857"
FRIDAY_NIGHT = datetime(2019, 3, 1, 22, 30)  # a Friday
TUESDAY_NOON = datetime(2019, 3, 5, 12, 30)


def _incidents(n, when, source="ed", beat=CATHAYS, located=True, tag="", **fields):
    return [
        {
            "incident_id": f"{tag}{source}-{when:%Y%m%d%H}-{beat}-{sorted(fields.items())}-{k}",
            "source": source,
            "site": "test",
            "batch_id": "test",
            "occurred_at": when + timedelta(days=7 * (k % 3)),
            "occurred_date": (when + timedelta(days=7 * (k % 3))).date(),
            "time_known": True,
            "location_type": "street",
            "weapon": "body",
            "relationship": "stranger",
            "age_band": "25-34",
            "sex": "male",
            "lon": -3.18 if located else None,
            "lat": 51.49 if located else None,
            "beat": beat if located else None,
        }
        | fields
        for k in range(n)
    ]


def _small_project(folder: Path, shared_data: Path, rows: list[dict]) -> Project:
    settings = {
        "project": {"name": "test", "store": "cardiff.duckdb", "suppress_below": 5},
        "areas": [
            {
                "layer": "beat",
                "path": str(shared_data / "boundaries/cardiff_wards_2013.geojson"),
                "code_field": "WD13CD",
                "name_field": "WD13NM",
            }
        ],
        "places": {"fsa_xml": [str(shared_data / "venues/fsa_food_hygiene_cardiff_2020-11.xml")]},
        "groups": [{"name": CITY, "layer": "beat", "areas": GROUPS[CITY]}],
    }
    write_settings(settings, folder)
    project = Project.open(folder)
    with project.store() as store:
        store.con.register("rows", pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA))
        store.con.execute("INSERT INTO incidents SELECT * FROM rows")
        # Each source delivered the report's month (2019-03), as a monthly extract would.
        for kind in sorted({row["source"] for row in rows}):
            store.con.execute(
                "INSERT INTO batches (batch_id, source, kind, period_start, period_end, status) "
                "VALUES (?, ?, ?, DATE '2019-03-01', DATE '2019-03-31', 'ingested')",
                [f"test-{kind}", kind, kind],
            )
    return project


BACKGROUND = _incidents(8, TUESDAY_NOON, source="police", tag="background")
SCENARIOS = {
    "night_time_economy": (
        _incidents(12, FRIDAY_NIGHT, location_type="licensed_premises"),
        _incidents(12, TUESDAY_NOON, location_type="licensed_premises"),
    ),
    "glass_injuries": (
        _incidents(6, TUESDAY_NOON, weapon="bottle_glass"),
        _incidents(4, TUESDAY_NOON, weapon="bottle_glass"),
    ),
    "knife_injuries": (
        _incidents(5, TUESDAY_NOON, weapon="knife_sharp"),
        _incidents(4, TUESDAY_NOON, weapon="knife_sharp"),
    ),
    "domestic": (
        _incidents(10, TUESDAY_NOON, location_type="home", relationship="partner"),
        _incidents(10, TUESDAY_NOON, location_type="street", relationship="stranger"),
    ),
    "hidden_violence": (
        _incidents(12, TUESDAY_NOON, source="ed"),
        _incidents(12, TUESDAY_NOON, source="police"),
    ),
    "location_quality": (
        _incidents(8, TUESDAY_NOON, source="ed", located=False),
        _incidents(8, TUESDAY_NOON, source="ed"),
    ),
}


@pytest.mark.parametrize(("rule", "present"), list(itertools.product(SCENARIOS, (True, False))))
def test_advice_appears_only_with_its_finding(tmp_path, shared_data, rule, present):
    rows = BACKGROUND + SCENARIOS[rule][0 if present else 1]
    project = _small_project(tmp_path, shared_data, rows)
    group = project.settings.groups[0]
    sel = selection_for("2019-03", False, group)
    report = build_group_report(project, group, sel, venues={}, today=date(2019, 4, 2))
    rules = [a.finding.rule for a in report.advice]
    assert (rule in rules) is present, rules
    assert [f.rule for f in report.findings] == rules  # advice only where a finding is
    html = render_html(report)
    for action in RULES[rule]:
        assert (action.lead + ":" in html and action.references[0] in html) or not present


def test_partnership_evidence_gives_no_new_figures(tmp_path, shared_data):
    rows = BACKGROUND + SCENARIOS["night_time_economy"][0] + SCENARIOS["domestic"][0]
    project = _small_project(tmp_path, shared_data, rows)
    group = project.settings.groups[0]
    sel = selection_for("2019-03", False, group)
    layer = project.layer("beat")
    with project.store(read_only=True) as store:
        analyses = analyse_group(store.incidents(), layer, group, sel)
        region = analyse_region(store.incidents(), layer, sel, store.coverage())
    protected = {f.rule: f.evidence for f in find(analyses, region, protect=True)}
    exact = {f.rule: f.evidence for f in find(analyses, region, protect=False)}
    assert {"night_time_economy", "domestic"} <= set(protected)
    assert "12 of the 12" in exact["night_time_economy"]
    for rule in ("night_time_economy", "domestic"):
        numbers = set(re.findall(r"\d+", protected[rule]))
        assert numbers <= {"10", "40", "25", "20", "00", "04"}, (rule, numbers)


def test_partnership_report_holds_no_record_level_data(demo):
    html = _report(demo, CITY, "html").read_text(encoding="utf-8")
    with Project.open(demo).store(read_only=True) as store:
        records = store.con.execute(
            "SELECT incident_id, batch_id, strftime(occurred_at, '%Y-%m-%d %H:%M') "
            "FROM incidents WHERE occurred_date >= DATE '2019-02-01' AND occurred_at IS NOT NULL"
        ).fetchall()
    assert records
    for incident_id, batch_id, when in records:
        assert incident_id not in html and batch_id not in html and when not in html


def _result(name: str, kind: str, method: str, ratio, low, high, verdict: str, text: str):
    return WhatWorksRow(
        name, kind, "all", method, ratio, low, high, True, verdict, text, datetime(2019, 4, 1)
    )


def test_what_works_lists_only_the_groups_evaluated_interventions(tmp_path, shared_data):
    project = _small_project(tmp_path, shared_data, BACKGROUND)
    group = project.settings.groups[0]
    sel = selection_for("2019-03", False, group)
    before = build_group_report(project, group, sel, venues={}, today=date(2019, 4, 2))
    assert before.what_works == () and "What works" not in render_html(before)

    outside = next(code for code in project.layer("beat").codes if code not in group.areas)
    with project.store() as store:
        for name, kind, area in (
            ("Cathays CCTV", "cctv", CATHAYS),
            ("Elsewhere patrols", "patrols", outside),
            ("Cathays glassware", "glassware", CATHAYS),  # registered, never evaluated
        ):
            add_intervention(store.con, Intervention(name, kind, "beat", (area,), date(2018, 6, 1)))
        save_results(
            store.con,
            (
                _result("Cathays CCTV", "cctv", "did", 0.8, 0.7, 0.91, "reduced", "Fell by 20%."),
                _result("Cathays CCTV", "cctv", "its", None, None, None, "too_weak", "No fit."),
                _result("Elsewhere patrols", "patrols", "did", 1.0, 0.8, 1.2, "no_change", "Same."),
            ),
        )
    report = build_group_report(project, group, sel, venues={}, today=date(2019, 4, 2))
    assert [r.cells for r in report.what_works] == [
        ("Cathays CCTV", "CCTV", "All sources", "Difference in differences",
         "0.80 (0.70 to 0.91)", "Fell by 20%."),
        ("Cathays CCTV", "CCTV", "All sources", "Interrupted time series",
         "Not estimated", "No fit."),
    ]  # fmt: skip
    table = _table_after(render_html(report), "<h2>What works</h2>")
    assert table[1] == list(report.what_works[0].cells)
    assert all("Elsewhere" not in cell for row in table for cell in row)
