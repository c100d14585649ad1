"""Which incidents an analysis looks at: a period, sources, an area layer and a group's areas.

A selection is plain data, so every analysis of one report shares exactly the same filter,
and the comparison periods (previous, same period last year) are derived, never retyped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from cardiffmodel.coverage import Coverage
from cardiffmodel.schema import AREA_LAYERS, SOURCES


@dataclass(frozen=True)
class Selection:
    """Incidents that occurred in ``[start, end)``, from some sources, placed on one layer.

    Attributes
    ----------
    start, end : date
        Half-open period on ``occurred_date``: ``start`` is included, ``end`` is not.
    sources : tuple of str
        Sources to include (a subset of ``schema.SOURCES``).
    layer : str
        Area layer the analysis places incidents in (a ``schema.AREA_LAYERS`` column).
    areas : tuple of str or None
        Area codes of that layer to restrict to (a Local Violence Prevention Group's
        areas); ``None`` keeps every incident, including those not placed in any area.
    """

    start: date
    end: date
    sources: tuple[str, ...] = SOURCES
    layer: str = "beat"
    areas: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"selection start {self.start} must be before end {self.end}")
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown or not self.sources:
            raise ValueError(f"selection sources {self.sources!r}: expected some of {SOURCES}")
        if self.layer not in AREA_LAYERS:
            raise ValueError(f"selection layer {self.layer!r}: expected one of {AREA_LAYERS}")

    @property
    def days(self) -> int:
        """Length of the period in days (the exposure when comparing two periods)."""
        return (self.end - self.start).days

    def previous(self) -> Selection:
        """The period of the same length immediately before.

        A period of whole calendar months gives the same number of whole months before
        (March's previous is February), as monthly and quarterly reports expect; any
        other period gives the same number of days before.
        """
        months = _whole_months(self.start, self.end)
        if months is None:
            start = self.start - timedelta(days=self.days)
        else:
            start = add_months(self.start, -months)
        return dataclasses.replace(self, start=start, end=self.start)

    def last_year(self) -> Selection:
        """The same dates one year earlier (29 February becomes 28 February)."""
        return dataclasses.replace(
            self, start=_year_earlier(self.start), end=_year_earlier(self.end)
        )


def held_part(sel: Selection, coverage: Coverage | None) -> Selection | None:
    """The selection narrowed to the source kinds that hold its whole period, or None
    when none does. Records of a kind that does not cover the period (stragglers of the
    next month's extract) are left out, so a figure always means "all the violence those
    sources saw". ``coverage`` None means the caller vouches that everything is held."""
    if coverage is None:
        return sel
    kinds = coverage.kinds_covering(sel.start, sel.end, sel.sources)
    return dataclasses.replace(sel, sources=kinds) if kinds else None


def comparable(sel: Selection, other: Selection, coverage: Coverage | None) -> bool:
    """True when the same sources hold both periods, so their counts may be compared."""
    if coverage is None:
        return True
    return coverage.comparable((sel.start, sel.end), (other.start, other.end), sel.sources)


def month_selection(month: str, **kw) -> Selection:
    """The calendar month ``"YYYY-MM"``; keywords go to :class:`Selection`."""
    start = _parse_month(month)
    return Selection(start=start, end=add_months(start, 1), **kw)


def quarter_selection(quarter_start_month: str, **kw) -> Selection:
    """Three calendar months from ``"YYYY-MM"`` (any month may start a quarter)."""
    start = _parse_month(quarter_start_month)
    return Selection(start=start, end=add_months(start, 3), **kw)


def filter_incidents(t: ibis.Table, sel: Selection) -> ibis.Table:
    """The incidents of ``t`` that fall in the selection."""
    return t.filter(in_period(t, sel), *_source_and_area_filters(t, sel))


def filter_periods(t: ibis.Table, sel: Selection, *comparisons: Selection) -> ibis.Table:
    """Incidents of the selection's sources and areas, in its period or a comparison's.

    Lets an analysis fetch a period and its comparison periods in one query, telling
    them apart with :func:`in_period`.
    """
    when = in_period(t, sel)
    for period in comparisons:
        when |= in_period(t, period)
    return t.filter(when, *_source_and_area_filters(t, sel))


def in_period(t: ibis.Table, sel: Selection) -> ir.BooleanValue:
    """True for incidents of ``t`` that occurred in the selection's period."""
    return (t.occurred_date >= sel.start) & (t.occurred_date < sel.end)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` calendar months from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _source_and_area_filters(t: ibis.Table, sel: Selection) -> list[ir.BooleanValue]:
    filters = [t.source.isin(sel.sources)]
    if sel.areas is not None:
        filters.append(t[sel.layer].isin(sel.areas))
    return filters


def _parse_month(month: str) -> date:
    try:
        year, number = month.split("-")
        if len(year) != 4 or len(number) != 2:
            raise ValueError(month)
        return date(int(year), int(number), 1)
    except ValueError as err:
        raise ValueError(f"month {month!r}: expected YYYY-MM, e.g. 2019-01") from err


def _whole_months(start: date, end: date) -> int | None:
    if start.day != 1 or end.day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month


def _year_earlier(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)
