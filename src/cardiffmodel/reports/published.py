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
from dataclasses import dataclass

from cardiffmodel.analysis.profiles import Profile
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.disclosure import Cell, SuppressedFigures, suppress_linked
from cardiffmodel.reports.analyses import REPORT_PROFILES, GroupAnalyses

TOTAL, PREVIOUS, LAST_YEAR, TIME_UNKNOWN = "total", "previous", "last_year", "time_unknown"
NOT_HELD = "not held"
Lines = list[tuple[list[Hashable], Hashable]]


def period_months(sel: Selection) -> int:
    """Whole calendar months in the selection (1 for a month, 3 for a quarter)."""
    return (sel.end.year - sel.start.year) * 12 + sel.end.month - sel.start.month


def shows_grid(group: GroupAnalyses) -> bool:
    """An hour grid only when some incident has a time of day: sources that give the
    month alone (data.police.uk) would draw an empty grid that looks like a quiet week."""
    return group.when.time_unknown < group.when.total


def has_known_values(p: Profile) -> bool:
    """Whether any incident has a known value of the field: a table whose every row is
    "unknown" tells the reader only that the sources do not record it."""
    return bool(p.uncoded) or any(
        n for code, n in zip(p.codes, p.counts, strict=True) if code != "unknown"
    )


def shown_profiles(group: GroupAnalyses) -> tuple[str, ...]:
    """The profiles a report prints: those with a known value."""
    return tuple(f for f in REPORT_PROFILES if has_known_values(group.profiles[f]))


def shows_gap(group: GroupAnalyses) -> bool:
    """The hospital and police table only when both hold the period: against an absent
    source every beat would look like violence the other one misses."""
    return {"ed", "police"} <= set(group.selection.sources)


def report_figures(group: GroupAnalyses) -> tuple[dict[Hashable, int | None], Lines]:
    """The counts a report prints, by key, and the sums (lines) that bind them.

    A figure of a period the same sources do not hold is None ("not held"); figures the
    report does not print (an empty hour grid, an all-unknown profile, the source table
    without both hospital and police) are left out, so they cause no suppression.
    """
    ranking = group.ranking
    values: dict[Hashable, int | None] = {
        TOTAL: ranking.total,
        PREVIOUS: sum(r.previous_count for r in ranking.rows) if ranking.previous_held else None,
        LAST_YEAR: sum(r.last_year_count for r in ranking.rows) if ranking.last_year_held else None,
    }
    lines: Lines = []
    codes = [row.code for row in ranking.rows]
    for row in ranking.rows:
        values["beat", row.code] = row.count
        values["previous_beat", row.code] = row.previous_count
    lines.append(([("beat", c) for c in codes], TOTAL))
    lines.append(([("previous_beat", c) for c in codes], PREVIOUS))
    sources = group.selection.sources
    for source in sources:
        values["source", source] = group.by_source[source].total
    lines.append(([("source", s) for s in sources], TOTAL))
    if shows_gap(group):
        for source in sources:
            for row in group.by_source[source].rows:
                values["beat_source", row.code, source] = row.count
            lines.append(([("beat_source", c, source) for c in codes], ("source", source)))
        for c in codes:
            lines.append(([("beat_source", c, s) for s in sources], ("beat", c)))

    k, n = period_months(group.selection), len(group.trend.months)
    for i, count in enumerate(group.trend.counts):
        values["month", i] = count
    lines.append(([("month", i) for i in range(n - k, n)], TOTAL))
    lines.append(([("month", i) for i in range(n - 2 * k, n - k)], PREVIOUS))
    lines.append(([("month", i) for i in range(n - 12 - k, n - 12)], LAST_YEAR))

    for field in shown_profiles(group):
        p = group.profiles[field]
        keys = [("profile", field, code) for code in p.codes]
        values.update(zip(keys, p.counts, strict=True))
        if p.uncoded:
            keys.append(("profile", field, None))
            values["profile", field, None] = p.uncoded
        lines.append((keys, TOTAL))

    if shows_grid(group):
        grid = group.when
        hours = [("hour", d, h) for d in range(7) for h in range(24)]
        values.update(zip(hours, (n for day in grid.counts for n in day), strict=True))
        values[TIME_UNKNOWN] = grid.time_unknown
        lines.append(([*hours, TIME_UNKNOWN], TOTAL))

    for venue in group.venues.rows:  # in no line: top venues add up to nothing printed
        values["venue", venue.place_id] = venue.count
        values["previous_venue", venue.place_id] = venue.previous_count
    return values, lines


@dataclass(frozen=True)
class Published:
    """A report's figures after disclosure control, and the keys of those not held."""

    figures: SuppressedFigures
    not_held: frozenset[Hashable]


def publish(group: GroupAnalyses, protect: bool, threshold: int = 5) -> Published:
    """The report's figures, suppressed together for audiences outside health.

    Figures not held are no counts: they stay out of suppression, and so does every line
    through one (a sum with an unpublished part gives an attacker nothing).
    """
    values, lines = report_figures(group)
    not_held = frozenset(key for key, value in values.items() if value is None)
    held = {key: value for key, value in values.items() if value is not None}
    lines = [(p, t) for p, t in lines if not not_held.intersection((*p, t))]
    if protect:
        return Published(suppress_linked(held, lines, threshold), not_held)
    figures = SuppressedFigures(
        keys=tuple(held),
        cells=tuple(Cell(v, f"{v:,}") for v in held.values()),
        lines=tuple((tuple(parts), total) for parts, total in lines),
        threshold=threshold,
    )
    return Published(figures, not_held)
