"""Weekly rises per area: which beats have more incidents this week than they should?

:func:`weekly_counts` counts incidents per area and ISO week in the engine, over the
weeks the store holds; :func:`detect_rises` runs a detection method over every area's
series (Farrington flexible, :mod:`cardiffmodel.analysis.farrington`, or EARS C3,
:mod:`cardiffmodel.analysis.ears`) and returns expected counts, thresholds and alarms.

A week no extract covers is not a quiet week. Given the store's :class:`Coverage`, a
series counts the kinds of the sources that hold its latest held week, over the last
unbroken run of weeks that exactly those sources (of those kinds) cover: never a week
before the first extract, never a week a hospital did not send, and never a week when
another hospital's records swell the count. The run does not skip a gap, because every
method reads the series by position: Farrington's baseline windows sit at fixed lags of
whole years, EARS C3's at a fixed lag of weeks, and the evaluations' seasons, blocks and
event studies count weeks from the start. History before a gap is therefore not used
until the missing extract is ingested.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from types import MappingProxyType

import ibis
import numpy as np

from cardiffmodel.analysis.ears import EarsC3Parameters, ears_c3
from cardiffmodel.analysis.farrington import FarringtonParameters, farrington_flexible
from cardiffmodel.analysis.selection import Selection, filter_incidents
from cardiffmodel.coverage import Coverage, held_run
from cardiffmodel.schema import SOURCES

METHODS = ("farrington", "ears_c3")


class NotHeld(ValueError):
    """The store holds none of the weeks asked for; the message says what it holds."""


@dataclass(frozen=True)
class WeeklySeries:
    """Incidents per area per ISO week over consecutive held weeks, zero weeks included.

    Attributes
    ----------
    weeks : tuple of date
        The Monday starting each week, consecutive, oldest first.
    counts : Mapping of str to tuple of int
        Incidents of each area code per week (read-only; areas in code order, or in the
        order of the selection's areas when it names them).
    layer : str
        The area layer the codes belong to.
    unplaced : int
        Incidents in these weeks with no area code on the layer (in no series).
    held_by : tuple of str
        Names of the configured sources that cover every week (and only they do), so a
        zero is a week those sources saw no incident; empty when the caller vouched that
        the table is complete.
    """

    weeks: tuple[date, ...]
    counts: Mapping[str, tuple[int, ...]]
    layer: str = "beat"
    unplaced: int = 0
    held_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.weeks or self.weeks[0].weekday() != 0:
            raise ValueError(f"weekly series weeks start {self.weeks[:1]}: expected a Monday")
        for i, (before, after) in enumerate(pairwise(self.weeks)):
            if after - before != timedelta(days=7):
                raise ValueError(
                    f"weekly series week {i + 1} is {after}, {before} + 7 days expected"
                )
        frozen = {code: tuple(int(c) for c in row) for code, row in self.counts.items()}
        for code, row in frozen.items():
            if len(row) != len(self.weeks) or min(row, default=0) < 0:
                raise ValueError(
                    f"weekly series area {code!r}: expected {len(self.weeks)} counts of at "
                    f"least 0, got {len(row)} with minimum {min(row, default=0)}"
                )
        object.__setattr__(self, "weeks", tuple(self.weeks))
        object.__setattr__(self, "counts", MappingProxyType(frozen))
        object.__setattr__(self, "held_by", tuple(self.held_by))

    def since(self, monday: date) -> WeeklySeries:
        """The same series from the week starting ``monday`` (the weeks before dropped)."""
        first = max(0, (monday - self.weeks[0]).days // 7)
        if first >= len(self.weeks):
            raise ValueError(f"weekly series ends {self.weeks[-1]}, before {monday}")
        counts = {code: row[first:] for code, row in self.counts.items()}
        return dataclasses.replace(self, weeks=self.weeks[first:], counts=counts)


@dataclass(frozen=True)
class AreaRises:
    """One area's weekly counts against its expected level and alarm threshold.

    Attributes
    ----------
    area : str
        Area code.
    weeks : tuple of date
        Mondays of the weeks, as in the series.
    observed : tuple of int
        Incidents per week.
    expected : tuple of float
        Count the method expected (NaN where it could not judge the week: too little
        history before it, or a model that did not converge).
    upper : tuple of float
        Threshold: a count above it alarms (NaN where not judged).
    alarm : tuple of bool
        Weeks whose count exceeded the threshold (and, for Farrington, whose recent
        weeks held enough incidents).
    method : str
        ``"farrington"`` or ``"ears_c3"``.
    parameters : FarringtonParameters or EarsC3Parameters
        The method's settings.
    """

    area: str
    weeks: tuple[date, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    upper: tuple[float, ...]
    alarm: tuple[bool, ...]
    method: str
    parameters: FarringtonParameters | EarsC3Parameters


@dataclass(frozen=True)
class RiseResult:
    """Rise detection over every area of a weekly series.

    Attributes
    ----------
    method : str
        ``"farrington"`` or ``"ears_c3"``.
    parameters : FarringtonParameters or EarsC3Parameters
        The method's settings, shared by every area.
    layer : str
        The area layer.
    areas : Mapping of str to AreaRises
        Each area's result (read-only), in the series' order.
    """

    method: str
    parameters: FarringtonParameters | EarsC3Parameters
    layer: str
    areas: Mapping[str, AreaRises]

    def alarms(self) -> tuple[tuple[str, date], ...]:
        """Every (area, week) that alarmed, by week then area."""
        found = [
            (code, week)
            for code, rises in self.areas.items()
            for week, alarm in zip(rises.weeks, rises.alarm, strict=True)
            if alarm
        ]
        return tuple(sorted(found, key=lambda pair: (pair[1], pair[0])))


def weekly_counts(
    t: ibis.Table,
    sel_or_dates: Selection | tuple[date, date],
    layer: str | None = None,
    coverage: Coverage | None = None,
) -> WeeklySeries:
    """Incidents per area per ISO week (Monday to Sunday) over the whole weeks of a period.

    ``sel_or_dates`` is a :class:`Selection` (its sources, layer and areas apply) or a
    half-open ``(start, end)`` pair of dates (every source, every area). ``layer``
    defaults to the selection's, else ``"beat"``. Part weeks at either end are left out,
    since a part week would look like a fall. The areas are the selection's, when it
    names them, else every code with an incident in the weeks.

    With ``coverage`` the series keeps only the last unbroken run of weeks held by the
    sources that hold the period's latest held week, and counts only their kinds (see
    the module's docstring); sources with dates to the month only (data.police.uk) hold
    no week. It raises :class:`NotHeld` when no week of the period is held. ``coverage``
    None means the caller vouches that every week is held.
    """
    sel = _as_selection(sel_or_dates, layer)
    first = sel.start + timedelta(days=-sel.start.weekday() % 7)
    end = sel.end - timedelta(days=sel.end.weekday())
    if not first < end:
        raise ValueError(f"period {sel.start} to {sel.end} holds no whole week (Monday to Sunday)")
    held_by: tuple[str, ...] = ()
    if coverage is not None:
        mondays = tuple(first + timedelta(weeks=i) for i in range((end - first).days // 7))
        try:
            first, end, kinds, held_by = _held_weeks(coverage.daily(), mondays, sel.sources)
        except NotHeld as err:
            monthly = coverage.month_only(sel.sources)
            if not monthly:
                raise
            raise NotHeld(
                f"{err}; {', '.join(monthly)} gives dates to the month only, and weekly "
                "methods need the day of each incident"
            ) from None
        sel = dataclasses.replace(sel, sources=kinds)
    rows = filter_incidents(t, dataclasses.replace(sel, start=first, end=end))
    query = rows.group_by(code=rows[sel.layer], week=rows.occurred_date.truncate("W")).aggregate(
        count=rows.count()
    )
    found = query.to_pyarrow().to_pylist()
    weeks = tuple(first + timedelta(weeks=i) for i in range((end - first).days // 7))
    placed = sorted({row["code"] for row in found if row["code"] is not None})
    codes = sel.areas if sel.areas is not None else placed
    counts = {code: [0] * len(weeks) for code in codes}
    unplaced = 0
    for row in found:
        if row["code"] is None:
            unplaced += row["count"]
        else:
            counts[row["code"]][(row["week"] - first).days // 7] = row["count"]
    return WeeklySeries(
        weeks=weeks, counts=counts, layer=sel.layer, unplaced=unplaced, held_by=held_by
    )


def _held_weeks(
    coverage: Coverage, mondays: tuple[date, ...], kinds: tuple[str, ...]
) -> tuple[date, date, tuple[str, ...], tuple[str, ...]]:
    """First Monday, end (excluded), kinds and source names of the held run of weeks."""
    week = timedelta(days=7)
    reference = next(
        (found for m in reversed(mondays) if (found := coverage.covering(m, m + week, kinds))),
        frozenset(),
    )
    # Only the reference's kinds are counted, so other kinds' coverage cannot spoil a week.
    held_kinds = tuple(k for k in SOURCES if any(s.name in reference for s in coverage.of((k,))))
    run = held_run(coverage.usable_weeks(mondays, held_kinds, reference))
    if run is None:
        holds = "; ".join(coverage.describe(kinds).splitlines())
        raise NotHeld(
            f"the store holds no week from {mondays[0]} to {mondays[-1] + timedelta(days=6)} "
            f"for {', '.join(kinds)}; it holds: {holds}"
        )
    first, end = mondays[run[0]], mondays[run[1] - 1] + week
    return first, end, held_kinds, tuple(sorted(reference))


def detect_rises(series: WeeklySeries, method: str = "farrington", **options) -> RiseResult:
    """Expected counts, thresholds and alarms for every area of ``series``.

    ``method`` is ``"farrington"`` (Farrington flexible, Noufaily et al. 2013: needs
    ``b`` years of history, allows for season and trend) or ``"ears_c3"`` (EARS C3:
    needs ``baseline + 4`` weeks, knows no season). ``options`` are the fields of
    :class:`FarringtonParameters` or :class:`EarsC3Parameters`.
    """
    if method == "farrington":
        params = FarringtonParameters(**options)

        def run(counts: np.ndarray):
            return farrington_flexible(counts, series.weeks, params)
    elif method == "ears_c3":
        params = EarsC3Parameters(**options)

        def run(counts: np.ndarray):
            return ears_c3(counts, params)
    else:
        raise ValueError(f"rise detection method {method!r}: expected one of {METHODS}")
    areas = {}
    for code, observed in series.counts.items():
        expected, upper, alarm = run(np.asarray(observed, dtype=np.int64))
        areas[code] = AreaRises(
            area=code,
            weeks=series.weeks,
            observed=observed,
            expected=tuple(expected.tolist()),
            upper=tuple(upper.tolist()),
            alarm=tuple(alarm.tolist()),
            method=method,
            parameters=params,
        )
    return RiseResult(
        method=method, parameters=params, layer=series.layer, areas=MappingProxyType(areas)
    )


def _as_selection(sel_or_dates: Selection | tuple[date, date], layer: str | None) -> Selection:
    if isinstance(sel_or_dates, Selection):
        if layer is not None and layer != sel_or_dates.layer:
            raise ValueError(
                f"layer {layer!r} differs from the selection's layer {sel_or_dates.layer!r}"
            )
        return sel_or_dates
    start, end = sel_or_dates
    return Selection(start=start, end=end, layer=layer or "beat")
