"""Counts behind a routine report: areas ranked, top venues, and the monthly trend.

Each function builds one Ibis query (so it runs on DuckDB or Spark alike), aggregates in
the engine, and returns a small frozen result; presentation layers only render these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

import ibis
import ibis.expr.types as ir
import numpy as np
from scipy.stats import binom

from cardiffmodel.analysis.selection import (
    Selection,
    add_months,
    comparable,
    filter_incidents,
    filter_periods,
    in_period,
)
from cardiffmodel.coverage import Coverage

# Gazetteer ids of streets start with this; every other place is a venue (FSA premises
# today, and any venue list added later), so new venue sources need no change here.
STREET_PREFIX = "street:"


@dataclass(frozen=True)
class AreaCount:
    """One area's count in the selection and its comparisons.

    Attributes
    ----------
    code, name : str
        Area code of the selection's layer and its name (the code itself when the area
        is not among the configured areas).
    count : int
        Incidents in the selected period.
    population : float or None
        Residents, where known.
    rate_per_1000 : float or None
        ``count`` per 1,000 residents; None when the population is unknown or zero.
    previous_count : int or None
        Incidents in the previous period (:meth:`Selection.previous`); None when the same
        sources do not hold both periods (not held is not zero).
    change : int or None
        ``count - previous_count``; None when the previous period is not held.
    change_p_value : float or None
        Two-sided exact test that the two periods share one Poisson rate: conditional on
        ``count + previous_count``, ``count`` is binomial with probability equal to the
        selected period's share of the two periods' days. 1.0 when both counts are zero;
        None when the previous period is not held.
    last_year_count : int or None
        Incidents in the same period a year earlier (:meth:`Selection.last_year`); None
        when the same sources do not hold it.
    """

    code: str
    name: str
    count: int
    population: float | None
    rate_per_1000: float | None
    previous_count: int | None
    change: int | None
    change_p_value: float | None
    last_year_count: int | None


@dataclass(frozen=True)
class AreaRanking:
    """Areas ranked by count.

    Attributes
    ----------
    selection : Selection
        What was counted.
    layer : str
        The area layer (``selection.layer``).
    rows : tuple of AreaCount
        Every configured area of the selection (zero counts included), then any other
        area code found in the incidents; sorted by count descending, then code.
    total : int
        Incidents in the selection; ``sum(row.count) + unplaced == total``.
    unplaced : int
        Incidents in the selection with no area code on this layer. Always 0 when the
        selection is restricted to a group's areas, since unplaced incidents belong to
        no group.
    previous_held, last_year_held : bool
        Whether the same sources hold the previous period and the same period last year
        (when False, every row's comparison with that period is None).
    previous_unplaced, last_year_unplaced : int or None
        Unplaced incidents in those periods (None when not held).
    """

    selection: Selection
    layer: str
    rows: tuple[AreaCount, ...]
    total: int
    unplaced: int
    previous_held: bool = True
    last_year_held: bool = True
    previous_unplaced: int | None = None
    last_year_unplaced: int | None = None


@dataclass(frozen=True)
class VenueCount:
    """One venue's count.

    Attributes
    ----------
    place_id, place_name : str
        The gazetteer place.
    count : int
        Incidents there in the selected period.
    previous_count : int or None
        Incidents there in the previous period; None when it is not held by the same
        sources.
    area : str or None
        The venue's area code on the selection's layer (the smallest, should its
        incidents disagree); None when not placed.
    """

    place_id: str
    place_name: str
    count: int
    previous_count: int | None
    area: str | None


@dataclass(frozen=True)
class VenueRanking:
    """The venues with most incidents.

    A venue is a gazetteer place that is not a street (its id does not start with
    ``street:``); incidents located at the injured person's home (match method ``home``)
    are left out, so that no home address is ever ranked.

    Attributes
    ----------
    selection : Selection
        What was counted.
    rows : tuple of VenueCount
        At most ``limit`` venues with at least one incident, by count descending, then
        place id.
    total_at_venues : int
        Incidents in the selection at any venue, including venues beyond ``limit``.
    """

    selection: Selection
    rows: tuple[VenueCount, ...]
    total_at_venues: int


@dataclass(frozen=True)
class MonthlyTrend:
    """Incidents per calendar month.

    Attributes
    ----------
    months : tuple of str
        ``"YYYY-MM"``, oldest first, ending with the month holding the selection's last day.
    counts : tuple of int or None
        Incidents per month, all selected sources together; None for a month that the
        sources holding the latest held month do not all hold (a gap, never a zero).
    by_source : Mapping of str to tuple of int or None
        Incidents per month of each selected source (read-only; every selected source
        present, zero months included; None where that source's kind is not held as it
        is in the latest held month).
    """

    months: tuple[str, ...]
    counts: tuple[int | None, ...]
    by_source: Mapping[str, tuple[int | None, ...]]


def rank_areas(
    t: ibis.Table,
    sel: Selection,
    areas: Mapping[str, tuple[str, float | None]],
    coverage: Coverage | None = None,
) -> AreaRanking:
    """Rank the areas of ``sel.layer`` by count, with rates and period comparisons.

    ``areas`` maps each configured area code of the layer to its name and population;
    the areas ranked are ``sel.areas`` when given, otherwise all of ``areas``.
    Comparisons are made only with periods that the same sources hold (``coverage``;
    None means the caller vouches that every period is held).
    """
    wanted = wanted_areas(sel, areas)
    previous, last_year = sel.previous(), sel.last_year()
    previous_held = comparable(sel, previous, coverage)
    last_year_held = comparable(sel, last_year, coverage)
    rows_in = filter_periods(t, sel, previous, last_year)
    query = rows_in.group_by(code=rows_in[sel.layer]).aggregate(
        count=rows_in.count(where=in_period(rows_in, sel)),
        previous_count=rows_in.count(where=in_period(rows_in, previous)),
        last_year_count=rows_in.count(where=in_period(rows_in, last_year)),
    )
    found = {row.pop("code"): row for row in query.to_pyarrow().to_pylist()}
    for row in found.values():
        if not previous_held:
            row["previous_count"] = None
        if not last_year_held:
            row["last_year_count"] = None
    empty = {"count": 0, "previous_count": 0, "last_year_count": 0}
    unplaced = found.pop(None, empty)
    blank = {
        "count": 0,
        "previous_count": 0 if previous_held else None,
        "last_year_count": 0 if last_year_held else None,
    }
    codes = list(wanted) + sorted(code for code in found if code not in wanted)
    share = sel.days / (sel.days + previous.days)
    rows = [
        _area_count(code, *areas.get(code, (code, None)), **found.get(code, blank), share=share)
        for code in codes
    ]
    rows.sort(key=lambda row: (-row.count, row.code))
    return AreaRanking(
        selection=sel,
        layer=sel.layer,
        rows=tuple(rows),
        total=sum(row.count for row in rows) + unplaced["count"],
        unplaced=unplaced["count"],
        previous_held=previous_held,
        last_year_held=last_year_held,
        previous_unplaced=unplaced["previous_count"] if previous_held else None,
        last_year_unplaced=unplaced["last_year_count"] if last_year_held else None,
    )


def wanted_areas(sel: Selection, areas: Mapping[str, tuple[str, float | None]]) -> tuple[str, ...]:
    """The areas an area table lists: the selection's, or every configured one."""
    wanted = sel.areas if sel.areas is not None else tuple(areas)
    missing = [code for code in wanted if code not in areas]
    if missing:
        raise ValueError(f"selection areas {missing} are not among the {sel.layer} areas given")
    return wanted


def at_a_venue(rows: ibis.Table) -> ir.BooleanValue:
    """True for incidents at a venue: a gazetteer place that is not a street, never a home."""
    return (
        rows.place_id.notnull()
        & ~rows.place_id.startswith(STREET_PREFIX)
        & (rows.match_method.fill_null("") != "home")
    )


def _area_count(
    code: str,
    name: str,
    population: float | None,
    count: int,
    previous_count: int | None,
    last_year_count: int | None,
    share: float,
) -> AreaCount:
    if previous_count is None:
        change, p_value = None, None
    else:
        pairs = count + previous_count
        change = count - previous_count
        p_value = _two_sided_binomial_p(count, pairs, share) if pairs else 1.0
    return AreaCount(
        code=code,
        name=name,
        count=count,
        population=population,
        rate_per_1000=count / population * 1000 if population else None,
        previous_count=previous_count,
        change=change,
        change_p_value=p_value,
        last_year_count=last_year_count,
    )


def _two_sided_binomial_p(k: int, n: int, p: float) -> float:
    """``scipy.stats.binomtest(k, n, p).pvalue`` (to 1e-14), six times faster.

    The p-value sums the probabilities of every outcome no likelier than ``k``, with
    scipy's relative tolerance; binomtest's per-call overhead made ranking 600 beats
    take half a second.
    """
    pmf = binom.pmf(np.arange(n + 1), n, p)
    return float(min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum()))


def rank_venues(
    t: ibis.Table, sel: Selection, limit: int = 20, coverage: Coverage | None = None
) -> VenueRanking:
    """The ``limit`` venues with most incidents in the selection (see :class:`VenueRanking`);
    previous counts only where the same sources hold the previous period."""
    if limit < 1:
        raise ValueError(f"venue ranking limit {limit}: expected at least 1")
    previous = sel.previous()
    previous_held = comparable(sel, previous, coverage)
    rows_in = filter_periods(t, sel, previous)
    at_venue = rows_in.filter(at_a_venue(rows_in))
    query = (
        at_venue.group_by("place_id")
        .aggregate(
            place_name=at_venue.place_name.max(),
            count=at_venue.count(where=in_period(at_venue, sel)),
            previous_count=at_venue.count(where=in_period(at_venue, previous)),
            area=at_venue[sel.layer].min(),
        )
        .filter(ibis._["count"] > 0)
        .mutate(total_at_venues=ibis._["count"].sum().over())
        .order_by([ibis.desc("count"), "place_id"])
        .limit(limit)
    )
    found = query.to_pyarrow().to_pylist()
    total = found[0]["total_at_venues"] if found else 0
    for row in found:
        if not previous_held:
            row["previous_count"] = None
    rows = tuple(
        VenueCount(**{k: v for k, v in row.items() if k != "total_at_venues"}) for row in found
    )
    return VenueRanking(selection=sel, rows=rows, total_at_venues=total)


def monthly_trend(
    t: ibis.Table, sel: Selection, months_back: int = 24, coverage: Coverage | None = None
) -> MonthlyTrend:
    """Monthly counts for the ``months_back`` months up to the selection's last month.

    The selection's sources and areas apply; its start does not, so a one-month report
    still shows two years of context. A month is shown only when the sources holding
    the latest held month hold it too (``coverage``); otherwise it is a gap (None), not
    a zero.
    """
    if months_back < 1:
        raise ValueError(f"months_back {months_back}: expected at least 1")
    end = add_months(sel.end - timedelta(days=1), 1)
    window = Selection(
        start=add_months(end, -months_back),
        end=end,
        sources=sel.sources,
        layer=sel.layer,
        areas=sel.areas,
    )
    rows_in = filter_incidents(t, window)
    query = rows_in.group_by(
        year=rows_in.occurred_date.year(),
        month=rows_in.occurred_date.month(),
        source=rows_in.source,
    ).aggregate(count=rows_in.count())
    months = tuple(add_months(window.start, i).strftime("%Y-%m") for i in range(months_back))
    position = {month: i for i, month in enumerate(months)}
    by_source: dict[str, list[int | None]] = {source: [0] * months_back for source in sel.sources}
    for row in query.to_pyarrow().to_pylist():
        by_source[row["source"]][position[f"{row['year']:04d}-{row['month']:02d}"]] = row["count"]
    starts = [add_months(window.start, i) for i in range(months_back)]
    spans = [(first, add_months(first, 1)) for first in starts]
    whole: list[bool] = [True] * months_back
    if coverage is not None:
        for source, column in by_source.items():
            # The latest month held is the reference: a window running past the data
            # (a month chosen before its extract came) keeps its held history.
            reference = next(
                (c for c in (coverage.covering(*span, (source,)) for span in spans[::-1]) if c),
                frozenset(),
            )
            for i, span in enumerate(spans):
                if not reference:  # a kind absent in the last month is in no total
                    column[i] = None
                elif coverage.covering(*span, (source,)) != reference:
                    column[i] = None
                    whole[i] = False
    totals = tuple(
        sum(c for c in column if c is not None) if whole[i] else None
        for i, column in enumerate(zip(*by_source.values(), strict=True))
    )
    return MonthlyTrend(
        months=months,
        counts=totals,
        by_source=MappingProxyType({s: tuple(c) for s, c in by_source.items()}),
    )
