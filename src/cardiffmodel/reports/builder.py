"""Routine reports for Local Violence Prevention Groups.

The builder runs the analyses for a group and a period, passes every published number
through disclosure control, and hands the template nothing but text to place. The
template never computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2

from cardiffmodel.analysis.counts import AreaRanking, monthly_trend, rank_areas, rank_venues
from cardiffmodel.analysis.profiles import hour_weekday, profile
from cardiffmodel.analysis.quality import data_quality
from cardiffmodel.analysis.selection import Selection, month_selection, quarter_selection
from cardiffmodel.config import GroupConfig
from cardiffmodel.disclosure import (
    Cell,
    needs_suppression,
    suppress_counts,
    suppress_rate,
    suppress_table,
)
from cardiffmodel.project import Project

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LABELS = {
    "ed": "Emergency Department",
    "ambulance": "Ambulance",
    "police": "Police",
    "body": "Fist, feet or body",
    "knife_sharp": "Knife or sharp object",
    "bottle_glass": "Bottle or glass",
    "blunt_object": "Blunt object",
    "firearm": "Firearm",
    "home": "Own home",
    "other_home": "Someone else's home",
    "street": "Street or public place",
    "licensed_premises": "Licensed premises",
    "transport": "Transport",
    "school_work": "School or work",
}

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("cardiffmodel.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def label(code: str) -> str:
    return LABELS.get(code, code.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Row:
    """One line of a published table: label cells already suppressed and formatted."""

    cells: tuple[str, ...]


@dataclass(frozen=True)
class GroupReport:
    """Everything the template shows for one group and period, as display text."""

    title: str
    group: str
    period: str
    produced: str
    audience: str
    suppressed: bool
    headline: tuple[tuple[str, str, str], ...]  # label, value, comparison
    beats: tuple[Row, ...]
    venues: tuple[Row, ...]
    grid: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # weekday, (shown, shade 0-5)
    grid_note: str
    trend: tuple[Row, ...]
    weapons: tuple[Row, ...]
    location_types: tuple[Row, ...]
    quality: tuple[Row, ...]


def _shown(cell: Cell) -> str:
    return cell.shown


def _period_label(sel: Selection) -> str:
    last = date.fromordinal(sel.end.toordinal() - 1)
    if (sel.start.year, sel.start.month) == (last.year, last.month):
        return sel.start.strftime("%B %Y")
    return f"{sel.start:%B %Y} to {last:%B %Y}"


def _cells(counts: Sequence[int], protect: bool) -> tuple[Cell, ...]:
    """Counts as published cells: suppressed for audiences outside health."""
    if protect:
        return suppress_counts(list(counts)).cells
    return tuple(Cell(n, f"{n:,}") for n in counts)


def _counts_rows(labels: Sequence[str], counts: Sequence[int], protect: bool) -> tuple[Row, ...]:
    cells = _cells(counts, protect)
    return tuple(Row((lab, cell.shown)) for lab, cell in zip(labels, cells, strict=True))


def _beat_rows(ranking: AreaRanking, protect: bool) -> tuple[Row, ...]:
    cells = _cells([r.count for r in ranking.rows], protect)
    previous = _cells([r.previous_count for r in ranking.rows], protect)
    rows = []
    for rank, (area, cell, before) in enumerate(zip(ranking.rows, cells, previous, strict=True), 1):
        rate = suppress_rate(cell, area.rate_per_1000)
        flag = ""
        if (
            area.change_p_value is not None
            and area.change_p_value < 0.05
            and cell.value is not None
        ):
            flag = "rise" if area.change > 0 else "fall"
        rows.append(Row((str(rank), area.name, cell.shown, rate, before.shown, flag)))
    return tuple(rows)


def _grid(matrix: Sequence[Sequence[int]], protect: bool):
    """Hour x weekday cells with a shade from 0 to 5; a hidden cell is unshaded, because a
    shade computed from its true count would reveal what the "<5" hides."""
    if protect:
        table = suppress_table(matrix, WEEKDAYS, [f"{h:02d}" for h in range(24)])
        cells = [list(row) for row in table.cells]
    else:
        cells = [[Cell(v, str(v)) for v in row] for row in matrix]
    top = max((c.value or 0 for row in cells for c in row), default=0) or 1
    return tuple(
        (day, tuple((c.shown, round(5 * (c.value or 0) / top)) for c in cells[d]))
        for d, day in enumerate(WEEKDAYS)
    )


def build_group_report(
    project: Project, group: GroupConfig, sel: Selection, today: date | None = None
) -> GroupReport:
    """Run the analyses for one group and period and make them safe to publish."""
    protect = needs_suppression(group.audience)
    layer = project.layer(group.layer)
    with project.store(read_only=True) as store:
        t = store.incidents()
        ranking = rank_areas(t, sel, layer.lookup(group.areas))
        venues = rank_venues(t, sel, limit=10)
        grid = hour_weekday(t, sel)
        trend = monthly_trend(t, sel, months_back=13)
        weapons = profile(t, sel, "weapon")
        places = profile(t, sel, "location_type")
        quality = data_quality(t, sel)
        sources = profile(t, sel, "source")
    previous = sum(r.previous_count for r in ranking.rows)
    last_year = sum(r.last_year_count for r in ranking.rows)
    headline = [
        (
            "All sources",
            _count_text(ranking.total, protect),
            f"previous period {_count_text(previous, protect)}; "
            f"a year earlier {_count_text(last_year, protect)}",
        )
    ]
    headline += [
        (label(code), _count_text(n, protect), "")
        for code, n in zip(sources.codes, sources.counts, strict=True)
    ]
    return GroupReport(
        title=f"Violence in {group.name}: {_period_label(sel)}",
        group=group.name,
        period=_period_label(sel),
        produced=(today or date.today()).strftime("%d %B %Y"),
        audience=group.audience,
        suppressed=protect,
        headline=tuple(headline),
        beats=_beat_rows(ranking, protect),
        venues=_counts_rows(
            [v.place_name or v.place_id for v in venues.rows],
            [v.count for v in venues.rows],
            protect,
        ),
        grid=_grid(grid.counts, protect),
        grid_note=f"{grid.time_unknown} incidents with no recorded time are not in the grid.",
        trend=_counts_rows(list(trend.months), list(trend.counts), protect),
        weapons=_counts_rows([label(c) for c in weapons.codes], weapons.counts, protect),
        location_types=_counts_rows([label(c) for c in places.codes], places.counts, protect),
        quality=tuple(
            Row(
                (
                    label(q.source),
                    str(q.records),
                    _percent(q.located, q.records),
                    _percent(q.with_time, q.records),
                    _percent(q.with_weapon, q.records),
                )
            )
            for q in quality.rows
        ),
    )


def _count_text(n: int, protect: bool) -> str:
    return "<5" if protect and 0 < n < 5 else f"{n:,}"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def render_html(report: GroupReport) -> str:
    return _env.get_template("group_report.html.j2").render(report=report)


def selection_for(period: str, quarter: bool, group: GroupConfig) -> Selection:
    make = quarter_selection if quarter else month_selection
    return make(period, layer=group.layer, areas=group.areas)


def write_reports(
    project: Project, groups: Sequence[GroupConfig], period: str, quarter: bool = False
) -> list[Path]:
    """Write one self-contained HTML report per group into the project's reports folder."""
    out = project.settings.reports_dir / period
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for group in groups:
        report = build_group_report(project, group, selection_for(period, quarter, group))
        path = out / f"{group.slug}.html"
        path.write_text(render_html(report), encoding="utf-8")
        paths.append(path)
    return paths
