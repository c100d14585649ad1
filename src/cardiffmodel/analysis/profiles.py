"""Profiles of the incidents in a selection: when (hour x weekday) and what (code lists).

Each function is one Ibis query aggregated in the engine, returning a frozen result.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from cardiffmodel.analysis.selection import Selection, filter_incidents
from cardiffmodel.schema import CODE_LISTS

PROFILE_FIELDS = ("weapon", "location_type", "age_band", "sex", "relationship", "source")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class HourWeekday:
    """Incidents by weekday and hour of the day they occurred.

    The calendar hour of ``occurred_at`` is used as it is: an assault at 01:00 on a
    Saturday counts on Saturday, not as part of Friday night.

    Attributes
    ----------
    counts : tuple of 7 tuples of 24 int
        ``counts[weekday][hour]``, Monday first (see ``WEEKDAYS``), hours 0 to 23.
    total : int
        Incidents in the selection; ``sum of counts + time_unknown == total``.
    time_unknown : int
        Incidents whose time of day is unknown (``time_known`` false or null, or no
        ``occurred_at``): left out of the grid and counted here.
    """

    counts: tuple[tuple[int, ...], ...]
    total: int
    time_unknown: int


@dataclass(frozen=True)
class Profile:
    """Incidents by the codes of one field.

    Attributes
    ----------
    field : str
        The column profiled (one of ``PROFILE_FIELDS``).
    codes : tuple of str
        Every code of the field's schema code list, in that list's order.
    counts : tuple of int
        Incidents per code (zero included). A missing value counts as ``unknown``
        where the code list has it.
    total : int
        Incidents in the selection; ``sum(counts) + uncoded == total``.
    uncoded : int
        Incidents whose value is not in the code list (so they are never silently
        dropped; ingest validation should keep this at 0).
    """

    field: str
    codes: tuple[str, ...]
    counts: tuple[int, ...]
    total: int
    uncoded: int


def hour_weekday(t: ibis.Table, sel: Selection) -> HourWeekday:
    """Count the selection's incidents by weekday and hour of occurrence."""
    rows_in = filter_incidents(t, sel)
    known = rows_in.time_known.fill_null(False) & rows_in.occurred_at.notnull()
    query = rows_in.group_by(
        weekday=known.ifelse(rows_in.occurred_at.day_of_week.index(), -1),
        hour=known.ifelse(rows_in.occurred_at.hour(), -1),
    ).aggregate(count=rows_in.count())
    grid = [[0] * 24 for _ in WEEKDAYS]
    time_unknown = 0
    for row in query.to_pyarrow().to_pylist():
        if row["weekday"] < 0:
            time_unknown = row["count"]
        else:
            grid[row["weekday"]][row["hour"]] = row["count"]
    counts = tuple(tuple(day) for day in grid)
    return HourWeekday(
        counts=counts,
        total=sum(map(sum, counts)) + time_unknown,
        time_unknown=time_unknown,
    )


def profile(t: ibis.Table, sel: Selection, field: str) -> Profile:
    """Count the selection's incidents by each code of ``field``."""
    if field not in PROFILE_FIELDS:
        raise ValueError(f"profile field {field!r}: expected one of {PROFILE_FIELDS}")
    codes = CODE_LISTS[field]
    rows_in = filter_incidents(t, sel)
    value = rows_in[field]
    if "unknown" in codes:
        value = value.fill_null("unknown")
    query = rows_in.group_by(code=value).aggregate(count=rows_in.count())
    found = {row["code"]: row["count"] for row in query.to_pyarrow().to_pylist()}
    counts = tuple(found.pop(code, 0) for code in codes)
    uncoded = sum(found.values())
    return Profile(
        field=field,
        codes=codes,
        counts=counts,
        total=sum(counts) + uncoded,
        uncoded=uncoded,
    )
