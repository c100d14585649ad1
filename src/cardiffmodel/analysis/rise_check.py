"""Which rise method the store's history supports, and what it finds in a period's weeks.

Farrington flexible learns what a week should hold from the same weeks of past years, so
it needs years of weekly history before the weeks it judges; EARS C3 needs eleven weeks
and knows no season. History is only what the store holds
(:func:`cardiffmodel.analysis.rises.weekly_counts` with the store's coverage): weeks
before the first extract are not quiet weeks, and counting them as such makes every beat
look as if it is rising. :func:`check_rises` takes the longest Farrington baseline the held
weeks allow, up to the five years of Noufaily et al. (2013), else EARS C3, else nothing,
and says in words which it ran and why, for the command line and the reports alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

import ibis

from cardiffmodel.analysis.ears import EarsC3Parameters
from cardiffmodel.analysis.farrington import FarringtonParameters
from cardiffmodel.analysis.rises import (
    NotHeld,
    RiseResult,
    WeeklySeries,
    detect_rises,
    weekly_counts,
)
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.coverage import Coverage

CHOICES = ("auto", "farrington", "ears_c3")
MAX_FARRINGTON_YEARS = 5  # Noufaily et al. (2013): five years of baseline
# Part weeks either side of a reference window and the week-of-year rounding need margin.
FARRINGTON_MARGIN_WEEKS = FarringtonParameters().w + 2
EARS_HISTORY_WEEKS = EarsC3Parameters().baseline + 4


@dataclass(frozen=True)
class RiseCheck:
    """Rise detection over the whole weeks of a period, and how it was run.

    Attributes
    ----------
    result : RiseResult or None
        Every area's weekly series and alarms; None when nothing could run (``note``
        says why).
    weeks : tuple of date
        Mondays of the period's whole weeks that the store holds: the weeks judged.
    method : str
        ``"farrington"``, ``"ears_c3"`` or ``"none"``.
    years : int
        Years of baseline Farrington used (0 for the other methods).
    note : str
        In plain words: the method, the history it learnt from (dates, weeks and
        sources), and why no longer baseline or no method could be used.
    """

    result: RiseResult | None
    weeks: tuple[date, ...]
    method: str
    years: int
    note: str

    def alarms(self) -> tuple[tuple[str, date], ...]:
        """(area, week) pairs that alarmed in the period's weeks."""
        if self.result is None:
            return ()
        return tuple(pair for pair in self.result.alarms() if pair[1] in self.weeks)


def check_rises(
    t: ibis.Table,
    sel: Selection,
    coverage: Coverage | None = None,
    method: str = "auto",
    max_years: int = MAX_FARRINGTON_YEARS,
) -> RiseCheck:
    """Weekly rises in the whole weeks of ``sel``, learnt from the weeks held before them.

    ``method`` ``"auto"`` runs Farrington flexible with the longest baseline (up to
    ``max_years``) the held history allows, else EARS C3; ``"farrington"`` or
    ``"ears_c3"`` runs only that method, or nothing when the history is too short.
    ``coverage`` None means the caller vouches that every week back to ``max_years``
    years before the period is held.
    """
    if method not in CHOICES:
        raise ValueError(f"rise method {method!r}: expected one of {CHOICES}")
    period = _whole_weeks(sel.start, sel.end)
    if not period:
        return RiseCheck(None, (), "none", 0, f"{sel.start} to {sel.end} holds no whole week")
    reach = _years_before(period[0], max_years) - timedelta(weeks=FARRINGTON_MARGIN_WEEKS)
    try:
        series = weekly_counts(t, dataclasses.replace(sel, start=reach), coverage=coverage)
    except NotHeld as err:
        return RiseCheck(None, (), "none", 0, f"No rise method can run: {err}.")
    weeks = tuple(w for w in period if series.weeks[0] <= w <= series.weeks[-1])
    if not weeks:
        held = _held_text(series, series.weeks[-1] + timedelta(days=7))
        return RiseCheck(None, (), "none", 0, f"No week of the period is held: {held}.")
    held = _held_text(series, weeks[0])
    farrington_short = ""
    if method in ("auto", "farrington"):
        for years in range(max_years, 0, -1):
            start = _years_before(weeks[0], years) - timedelta(weeks=FARRINGTON_MARGIN_WEEKS)
            if start >= series.weeks[0]:
                longest = ""
                if years < max_years:
                    longest = f", the longest the history allows (up to {max_years} are used)"
                note = f"Farrington flexible with {_years(years)} of baseline{longest}; {held}."
                found = detect_rises(series.since(start), "farrington", b=years)
                return RiseCheck(found, weeks, "farrington", years, note)
        farrington_short = (
            f"Farrington needs {_years(1)} and {FARRINGTON_MARGIN_WEEKS} weeks of weekly "
            f"history before the first week judged ({weeks[0]}); {held}"
        )
        if method == "farrington":
            return RiseCheck(None, weeks, "none", 0, f"{farrington_short}.")
    start = weeks[0] - timedelta(weeks=EARS_HISTORY_WEEKS)
    if start >= series.weeks[0]:
        found = detect_rises(series.since(start), "ears_c3")
        why = f"because {farrington_short}" if farrington_short else held
        return RiseCheck(found, weeks, "ears_c3", 0, f"EARS C3 (no season): {why}.")
    ears_short = (
        f"EARS C3 needs {EARS_HISTORY_WEEKS} weeks of weekly history before the first week "
        f"judged ({weeks[0]})"
    )
    reasons = (
        f"{farrington_short}, and {ears_short}" if farrington_short else f"{ears_short}; {held}"
    )
    return RiseCheck(None, weeks, "none", 0, f"No rise method can run: {reasons}.")


def _held_text(series: WeeklySeries, first_judged: date) -> str:
    """What the store holds before the first week judged, for notes and messages."""
    before = (first_judged - series.weeks[0]).days // 7
    by = f" for {', '.join(series.held_by)}" if series.held_by else ""
    if not before:
        return f"the store holds no week before {first_judged}{by}"
    last = first_judged - timedelta(days=1)
    return f"the store holds {series.weeks[0]} to {last} ({before} weeks){by}"


def _whole_weeks(start: date, end: date) -> tuple[date, ...]:
    first = start + timedelta(days=-start.weekday() % 7)
    weeks = []
    while first + timedelta(days=7) <= end:
        weeks.append(first)
        first += timedelta(days=7)
    return tuple(weeks)


def _years_before(day: date, years: int) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - years, 2, 28)
    return day.replace(year=day.year - years)


def _years(n: int) -> str:
    return f"{n} year{'s' * (n != 1)}"
