"""Every count a group report prints, as one system of linked figures.

A report's tables share totals: the beats, the sources, each profile and the hour grid all
add up to the period's total, the beat-by-source table's rows are the beat ranking, and
the monthly trend holds the period, the previous period and the same period last year.
Protected one table at a time, a cell hidden in one could be worked out from another, so
they are suppressed together (:func:`cardiffmodel.disclosure.suppress_linked`), and every
place a figure appears reads the same cell.
"""

from __future__ import annotations

from collections.abc import Hashable

from cardiffmodel.analysis.selection import Selection
from cardiffmodel.disclosure import Cell, SuppressedFigures, suppress_linked
from cardiffmodel.reports.analyses import REPORT_PROFILES, GroupAnalyses
from cardiffmodel.schema import SOURCES

TOTAL, PREVIOUS, LAST_YEAR, TIME_UNKNOWN = "total", "previous", "last_year", "time_unknown"


def period_months(sel: Selection) -> int:
    """Whole calendar months in the selection (1 for a month, 3 for a quarter)."""
    return (sel.end.year - sel.start.year) * 12 + sel.end.month - sel.start.month


def report_figures(group: GroupAnalyses) -> tuple[dict[Hashable, int], list]:
    """The counts a report prints, by key, and the sums (lines) that bind them."""
    values: dict[Hashable, int] = {
        TOTAL: group.ranking.total,
        PREVIOUS: sum(row.previous_count for row in group.ranking.rows),
        LAST_YEAR: sum(row.last_year_count for row in group.ranking.rows),
    }
    lines: list[tuple[list[Hashable], Hashable]] = []
    codes = [row.code for row in group.ranking.rows]
    for row in group.ranking.rows:
        values["beat", row.code] = row.count
        values["previous_beat", row.code] = row.previous_count
    lines.append(([("beat", c) for c in codes], TOTAL))
    lines.append(([("previous_beat", c) for c in codes], PREVIOUS))
    for source in SOURCES:
        ranking = group.by_source[source]
        values["source", source] = ranking.total
        for row in ranking.rows:
            values["beat_source", row.code, source] = row.count
        lines.append(([("beat_source", c, source) for c in codes], ("source", source)))
    for c in codes:
        lines.append(([("beat_source", c, s) for s in SOURCES], ("beat", c)))
    lines.append(([("source", s) for s in SOURCES], TOTAL))

    k, n = period_months(group.selection), len(group.trend.months)
    for i, count in enumerate(group.trend.counts):
        values["month", i] = count
    lines.append(([("month", i) for i in range(n - k, n)], TOTAL))
    lines.append(([("month", i) for i in range(n - 2 * k, n - k)], PREVIOUS))
    lines.append(([("month", i) for i in range(n - 12 - k, n - 12)], LAST_YEAR))

    for field in REPORT_PROFILES:
        p = group.profiles[field]
        keys = [("profile", field, code) for code in p.codes]
        values.update(zip(keys, p.counts, strict=True))
        if p.uncoded:
            keys.append(("profile", field, None))
            values["profile", field, None] = p.uncoded
        lines.append((keys, TOTAL))

    grid = group.when
    hours = [("hour", d, h) for d in range(7) for h in range(24)]
    values.update(zip(hours, (n for day in grid.counts for n in day), strict=True))
    values[TIME_UNKNOWN] = grid.time_unknown
    lines.append(([*hours, TIME_UNKNOWN], TOTAL))

    for venue in group.venues.rows:  # in no line: top venues add up to nothing printed
        values["venue", venue.place_id] = venue.count
        values["previous_venue", venue.place_id] = venue.previous_count
    return values, lines


def publish(group: GroupAnalyses, protect: bool, threshold: int = 5) -> SuppressedFigures:
    """The report's figures, suppressed together for audiences outside health."""
    values, lines = report_figures(group)
    if protect:
        return suppress_linked(values, lines, threshold)
    return SuppressedFigures(
        keys=tuple(values),
        cells=tuple(Cell(v, f"{v:,}") for v in values.values()),
        lines=tuple((tuple(parts), total) for parts, total in lines),
        threshold=threshold,
    )
