"""Which periods the store holds, per source: so that "not held" is never shown as 0.

A month with no ED records is only a month with no assault attendances if the hospitals
sent that month's extract. Each ingested batch declares the period it covers (an ISTV
submission header, the months of a data.police.uk file, ``covers`` in the source's
configuration, or else the months its records fall in); this module turns the live
batches into :class:`Coverage`, and every count, comparison, window and report asks it
before it treats a period's silence as a zero.

A batch's period comes, in order of trust, from ``covers`` in the source's configuration,
a submission header (ISTV reporting period), the months a data.police.uk file is published
for (its ``Month`` column), or else the whole months its records fall in, leaving out
stragglers at either end (:func:`records_period`: an assault on 30 December in a January
extract does not make December held).

This module depends on nothing else of the project, like :mod:`cardiffmodel.schema`:
ingest and the store build coverage, and analysis, reports and the web read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from cardiffmodel.schema import SOURCES

Span = tuple[date, date]  # half-open: start included, end excluded


@dataclass(frozen=True)
class SourceCoverage:
    """The periods one configured source has delivered.

    Attributes
    ----------
    name : str
        The source's name in cardiff.toml.
    kind : str
        ``ed``, ``ambulance`` or ``police``.
    spans : tuple of (date, date)
        Half-open periods, merged and sorted, that live batches of this source cover.
    month_only : bool
        True when its dates are known to the month only (data.police.uk): its records
        sit on the first of each month, so weekly methods must not use it.
    """

    name: str
    kind: str
    spans: tuple[Span, ...]
    month_only: bool = False

    def covers(self, start: date, end: date) -> bool:
        """True when the whole of ``[start, end)`` lies inside one covered span."""
        return any(first <= start and end <= last for first, last in self.spans)


@dataclass(frozen=True)
class Coverage:
    """What the store holds: each source's covered periods.

    A period's count from a set of source kinds is *held* when at least one source of
    those kinds covers the whole period. Two periods may be *compared* only when exactly
    the same sources cover both: otherwise a change could be a hospital joining or a
    missing extract rather than a change in violence.
    """

    sources: tuple[SourceCoverage, ...] = ()

    @classmethod
    def from_batches(cls, rows: Iterable[tuple]) -> Coverage:
        """Build from ``(source name, kind, first day, last day[, month only])`` of each
        live batch (last day included, as batches record it). A source is month-only if
        any of its batches is."""
        spans: dict[tuple[str, str], list[Span]] = {}
        monthly: set[tuple[str, str]] = set()
        for name, kind, first, last, *month_only in rows:
            if first is None or last is None:
                continue
            spans.setdefault((name, kind), []).append((first, last + timedelta(days=1)))
            if month_only and month_only[0]:
                monthly.add((name, kind))
        return cls(
            tuple(
                SourceCoverage(name, kind, _merge(found), (name, kind) in monthly)
                for (name, kind), found in sorted(spans.items())
            )
        )

    def daily(self) -> Coverage:
        """Only the sources whose dates are known to the day: what weekly methods use."""
        return Coverage(tuple(s for s in self.sources if not s.month_only))

    def month_only(self, kinds: Sequence[str] = SOURCES) -> tuple[str, ...]:
        """Names of the sources of ``kinds`` whose dates are known to the month only."""
        return tuple(s.name for s in self.of(kinds) if s.month_only)

    @classmethod
    def complete(cls, start: date, end: date, kinds: Sequence[str] = SOURCES) -> Coverage:
        """Every kind held over ``[start, end)``: for tables known to be whole (tests,
        synthetic data) and for callers who have checked coverage themselves."""
        return cls(tuple(SourceCoverage(kind, kind, ((start, end),)) for kind in kinds))

    def of(self, kinds: Sequence[str]) -> tuple[SourceCoverage, ...]:
        return tuple(s for s in self.sources if s.kind in kinds)

    def covering(self, start: date, end: date, kinds: Sequence[str] = SOURCES) -> frozenset[str]:
        """Names of the sources of ``kinds`` that cover the whole of ``[start, end)``."""
        return frozenset(s.name for s in self.of(kinds) if s.covers(start, end))

    def kinds_covering(
        self, start: date, end: date, kinds: Sequence[str] = SOURCES
    ) -> tuple[str, ...]:
        """The kinds (in ``SOURCES`` order) with at least one source covering the period."""
        found = {s.kind for s in self.of(kinds) if s.covers(start, end)}
        return tuple(kind for kind in SOURCES if kind in found)

    def held(self, start: date, end: date, kinds: Sequence[str] = SOURCES) -> bool:
        """True when some source of ``kinds`` covers the whole period."""
        return bool(self.covering(start, end, kinds))

    def comparable(self, a: Span, b: Span, kinds: Sequence[str] = SOURCES) -> bool:
        """True when the same, non-empty set of sources covers both periods."""
        first = self.covering(*a, kinds)
        return bool(first) and first == self.covering(*b, kinds)

    def missing(self, start: date, end: date, kinds: Sequence[str] = SOURCES) -> tuple[str, ...]:
        """Sources of ``kinds`` that deliver at some time but do not cover this period."""
        return tuple(s.name for s in self.of(kinds) if not s.covers(start, end))

    def extent(self, kinds: Sequence[str] = SOURCES) -> Span | None:
        """First and last (excluded) day any source of ``kinds`` covers; None if none."""
        spans = [span for s in self.of(kinds) for span in s.spans]
        if not spans:
            return None
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def usable_weeks(
        self, weeks: Sequence[date], kinds: Sequence[str], reference: frozenset[str]
    ) -> tuple[bool, ...]:
        """For each Monday, whether exactly the ``reference`` sources cover its week."""
        return tuple(
            bool(reference) and self.covering(w, w + timedelta(days=7), kinds) == reference
            for w in weeks
        )

    def describe(self, kinds: Sequence[str] = SOURCES) -> str:
        """One line per source: its name and covered months, for messages and reports."""
        lines = []
        for source in self.of(kinds):
            spans = ", ".join(_span_text(s) for s in source.spans)
            lines.append(f"{source.name} ({source.kind}): {spans}")
        return "\n".join(lines) or "no source holds any period"


def held_run(usable: Sequence[bool]) -> tuple[int, int] | None:
    """The last unbroken run of usable positions, as ``(first, end)`` indices (end
    excluded); None when none is usable. Windows use it so they never cross a gap."""
    end = len(usable)
    while end and not usable[end - 1]:
        end -= 1
    if not end:
        return None
    first = end
    while first and usable[first - 1]:
        first -= 1
    return first, end


def month_span(month: date) -> Span:
    """The calendar month holding ``month``, half-open."""
    start = month.replace(day=1)
    nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, nxt


STRAGGLER_SHARE = 0.25  # an end month with fewer records than this share of the median


def months_period(months: pd.Series) -> tuple[date, date] | None:
    """The months named in a published file's month column ("2019-01"), first to last."""
    parsed = pd.to_datetime(
        months.dropna().astype(str).str.strip(), format="%Y-%m", errors="coerce"
    )
    parsed = parsed.dropna()
    if parsed.empty:
        return None
    return parsed.min().date(), _last_day(parsed.max().date())


def file_name_month(name: str) -> tuple[date, date] | None:
    """The one month a file name gives ("uhw_2019-06.csv", "2019-06-gwent-street.csv",
    "ed201906.xlsx"), first to last day; None when it names none or several."""
    found = {
        (int(year), int(month))
        for year, month in re.findall(r"(?<!\d)((?:19|20)\d\d)[-_]?(0[1-9]|1[0-2])(?!\d)", name)
    }
    if len(found) != 1:
        return None
    year, month = found.pop()
    return date(year, month, 1), _last_day(date(year, month, 1))


def records_period(occurred: pd.Series) -> tuple[date, date] | None:
    """Whole months from the first to the last month holding a fair share of the records.

    End months with fewer than a quarter of the median month's records are stragglers
    (late attendances, back-dated corrections) and are not taken as covered.
    """
    days = pd.to_datetime(occurred.dropna())
    if days.empty:
        return None
    per_month = days.dt.to_period("M").value_counts().sort_index()
    floor = STRAGGLER_SHARE * float(per_month.median())
    kept = per_month[(per_month >= floor).to_numpy()]
    first, last = kept.index.min(), kept.index.max()
    return first.start_time.date(), last.end_time.date()


def _last_day(month: date) -> date:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _span_text(span: Span) -> str:
    start, end = span
    last = end - timedelta(days=1)
    if start.day == 1 and end.day == 1:
        if (start.year, start.month) == (last.year, last.month):
            return f"{start:%Y-%m}"
        return f"{start:%Y-%m} to {last:%Y-%m}"
    return f"{start} to {last}"
