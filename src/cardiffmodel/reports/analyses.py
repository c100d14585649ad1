"""The analyses one report needs, run through the analysis layer and gathered in one place.

Nothing here computes a statistic: each field is the result of an analysis function. The
region-wide results (hotspots, rises, data quality) depend only on the area layer and the
period, so they are run once and shared by every group reported on that layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

import ibis

from cardiffmodel.analysis.counts import (
    AreaRanking,
    MonthlyTrend,
    VenueRanking,
    monthly_trend,
    rank_areas,
    rank_venues,
)
from cardiffmodel.analysis.ears import EarsC3Parameters
from cardiffmodel.analysis.excess import ExcessResult, excess_by_area
from cardiffmodel.analysis.farrington import FarringtonParameters
from cardiffmodel.analysis.hotspots import HotspotResult, contiguity, counts_by_area, gi_star
from cardiffmodel.analysis.profiles import HourWeekday, Profile, hour_weekday, profile
from cardiffmodel.analysis.quality import DataQuality, data_quality
from cardiffmodel.analysis.rises import RiseResult, detect_rises, weekly_counts
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.config import GroupConfig
from cardiffmodel.places.areas import AreaLayer
from cardiffmodel.schema import SOURCES

# Profiles shown in a report (weapon, place, person) and used by the advice rules.
REPORT_PROFILES = ("weapon", "location_type", "age_band", "sex", "relationship")
TREND_MONTHS = 24  # this year's months and the same months a year earlier
VENUES_SHOWN = 10
HOTSPOT_PERMUTATIONS = 9999  # enough for a lone beat of a few dozen to pass FDR control
HOTSPOT_SEED = 0
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
        Every area's weekly series and alarms; None when the store holds too little
        history for any method (``method`` then says so).
    weeks : tuple of date
        Mondays of the whole weeks inside the period, the weeks whose alarms count.
    method : str
        ``"farrington"``, ``"ears_c3"`` or ``"none"``.
    years : int
        Years of baseline Farrington used (0 for the other methods).
    """

    result: RiseResult | None
    weeks: tuple[date, ...]
    method: str
    years: int

    def alarms(self) -> tuple[tuple[str, date], ...]:
        """(area, week) pairs that alarmed in the period's weeks."""
        if self.result is None:
            return ()
        return tuple(pair for pair in self.result.alarms() if pair[1] in self.weeks)


@dataclass(frozen=True)
class RegionAnalyses:
    """Results over every area of a layer for one period, shared by the groups on it.

    Attributes
    ----------
    selection : Selection
        The period over the whole layer (no area restriction).
    hotspots : HotspotResult
        Getis-Ord Gi* of the period's counts on the layer's contiguity, FDR-controlled:
        areas in clusters of high counts.
    excess : ExcessResult
        Each area's count against its population at the region's rate (or, without
        populations, its previous periods), FDR-controlled: areas high on their own.
    rises : RiseCheck
        Weekly rise detection over the layer's areas.
    quality : DataQuality
        Completeness by source over the region.
    """

    selection: Selection
    hotspots: HotspotResult
    excess: ExcessResult
    rises: RiseCheck
    quality: DataQuality


@dataclass(frozen=True)
class GroupAnalyses:
    """Everything a group's report shows, as analysis results.

    Attributes
    ----------
    group : GroupConfig
        The Local Violence Prevention Group.
    selection : Selection
        Its period, sources and areas.
    ranking : AreaRanking
        The group's areas ranked, all sources together.
    by_source : Mapping of str to AreaRanking
        The same ranking for each source alone: the aggregate hospital, ambulance and
        police comparison per area (a stand-in until ``analysis.gap`` lands).
    venues : VenueRanking
        The venues in the group's areas with most incidents.
    when : HourWeekday
        Hour by weekday of all the group's incidents.
    licensed_when : HourWeekday
        Hour by weekday of the incidents at licensed premises.
    licensed_ranking : AreaRanking
        The group's areas ranked by incidents at licensed premises.
    trend : MonthlyTrend
        ``TREND_MONTHS`` months up to the period's last month.
    profiles : Mapping of str to Profile
        One per field of ``REPORT_PROFILES``.
    """

    group: GroupConfig
    selection: Selection
    ranking: AreaRanking
    by_source: Mapping[str, AreaRanking]
    venues: VenueRanking
    when: HourWeekday
    licensed_when: HourWeekday
    licensed_ranking: AreaRanking
    trend: MonthlyTrend
    profiles: Mapping[str, Profile]


def analyse_group(t: ibis.Table, layer: AreaLayer, group: GroupConfig, sel: Selection):
    """Run the analyses of one group's report."""
    areas = layer.lookup(group.areas)
    licensed = t.filter(t.location_type == "licensed_premises")
    return GroupAnalyses(
        group=group,
        selection=sel,
        ranking=rank_areas(t, sel, areas),
        by_source=MappingProxyType(
            {s: rank_areas(t, dataclasses.replace(sel, sources=(s,)), areas) for s in SOURCES}
        ),
        venues=rank_venues(t, sel, limit=VENUES_SHOWN),
        when=hour_weekday(t, sel),
        licensed_when=hour_weekday(licensed, sel),
        licensed_ranking=rank_areas(licensed, sel, areas),
        trend=monthly_trend(t, sel, months_back=TREND_MONTHS),
        profiles=MappingProxyType({field: profile(t, sel, field) for field in REPORT_PROFILES}),
    )


def analyse_region(t: ibis.Table, layer: AreaLayer, sel: Selection) -> RegionAnalyses:
    """Run the layer-wide analyses for the period of ``sel`` (its areas are ignored)."""
    region = dataclasses.replace(sel, areas=None, layer=layer.layer)
    weights = contiguity(layer.geometries, layer.codes)
    codes = tuple(weights.unique_ids)
    hotspots = gi_star(
        counts_by_area(t, region, codes),
        weights,
        permutations=HOTSPOT_PERMUTATIONS,
        seed=HOTSPOT_SEED,
    )
    return RegionAnalyses(
        selection=region,
        hotspots=hotspots,
        excess=excess_by_area(t, region, layer.codes, layer.population),
        rises=check_rises(t, dataclasses.replace(region, areas=layer.codes)),
        quality=data_quality(t, region),
    )


def check_rises(t: ibis.Table, sel: Selection) -> RiseCheck:
    """Weekly rises in the period's whole weeks, by the strongest method the history allows.

    Farrington flexible needs a year (plus a few weeks) of history before the period and
    uses up to five; with less, EARS C3 needs eleven weeks; with less still, nothing is
    run. History must really be in the store: weeks before the first record would count
    as quiet weeks and make any beat look like it is rising.
    """
    first = sel.start + timedelta(days=-sel.start.weekday() % 7)
    weeks = _whole_weeks(first, sel.end)
    if not weeks:
        return RiseCheck(None, (), "none", 0)
    data_start = t.occurred_date.min().to_pyarrow().as_py()
    if data_start is None:
        return RiseCheck(None, weeks, "none", 0)
    for years in range(MAX_FARRINGTON_YEARS, 0, -1):
        start = _years_before(first, years) - timedelta(weeks=FARRINGTON_MARGIN_WEEKS)
        if start >= data_start:
            series = weekly_counts(t, dataclasses.replace(sel, start=start))
            return RiseCheck(
                detect_rises(series, "farrington", b=years), weeks, "farrington", years
            )
    start = first - timedelta(weeks=EARS_HISTORY_WEEKS)
    if start >= data_start:
        series = weekly_counts(t, dataclasses.replace(sel, start=start))
        return RiseCheck(detect_rises(series, "ears_c3"), weeks, "ears_c3", 0)
    return RiseCheck(None, weeks, "none", 0)


def _whole_weeks(first: date, end: date) -> tuple[date, ...]:
    weeks = []
    while first + timedelta(days=7) <= end:
        weeks.append(first)
        first += timedelta(days=7)
    return tuple(weeks)


def _years_before(day: date, years: int) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - years, 2, 28)
    return day.replace(year=day.year - years)
