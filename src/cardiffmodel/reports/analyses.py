"""The analyses one report needs, run through the analysis layer and gathered in one place.

Nothing here computes a statistic: each field is the result of an analysis function. The
region-wide results (hotspots, rises, data quality) depend only on the area layer and the
period, so they are run once and shared by every group reported on that layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
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
from cardiffmodel.analysis.excess import ExcessResult, excess_by_area
from cardiffmodel.analysis.hotspots import HotspotResult, contiguity, counts_by_area, gi_star
from cardiffmodel.analysis.profiles import HourWeekday, Profile, hour_weekday, profile
from cardiffmodel.analysis.quality import DataQuality, data_quality
from cardiffmodel.analysis.rise_check import RiseCheck, check_rises
from cardiffmodel.analysis.selection import Selection, held_part
from cardiffmodel.config import GroupConfig
from cardiffmodel.coverage import Coverage
from cardiffmodel.places.areas import AreaLayer

# Profiles shown in a report (weapon, place, person) and used by the advice rules.
REPORT_PROFILES = ("weapon", "location_type", "age_band", "sex", "relationship")
TREND_MONTHS = 24  # this year's months and the same months a year earlier
VENUES_SHOWN = 10
HOTSPOT_PERMUTATIONS = 9999  # enough for a lone beat of a few dozen to pass FDR control
HOTSPOT_SEED = 0


class NotHeld(ValueError):
    """No source holds the whole period: a report of it would print absence as zeros."""

    def __init__(self, sel: Selection, coverage: Coverage):
        super().__init__(f"no source holds {period_code(sel)} (held: {held_summary(coverage)})")
        self.selection = sel


def period_code(sel: Selection) -> str:
    """ "2019-01", or "2019-01 to 2019-03" for a longer period."""
    last = sel.end - timedelta(days=1)
    if (sel.start.year, sel.start.month) == (last.year, last.month):
        return f"{sel.start:%Y-%m}"
    return f"{sel.start:%Y-%m} to {last:%Y-%m}"


def held_summary(coverage: Coverage) -> str:
    """Each source's covered months on one line: "uhw (ed) 2018-01 to 2019-12; ..."."""
    if not coverage.sources:
        return "nothing yet"
    return "; ".join(line.replace("):", ")") for line in coverage.describe().splitlines())


def held_selection(sel: Selection, coverage: Coverage | None) -> Selection:
    """The selection narrowed to the kinds that hold its whole period (see
    :func:`~cardiffmodel.analysis.selection.held_part`); raises :class:`NotHeld` if none."""
    held = held_part(sel, coverage)
    if held is None:
        raise NotHeld(sel, coverage or Coverage())
    return held


@dataclass(frozen=True)
class RegionAnalyses:
    """Results over every area of a layer for one period, shared by the groups on it.

    Attributes
    ----------
    selection : Selection
        The period over the whole layer (no area restriction), narrowed to the source
        kinds that hold it.
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
        Its period and areas, and the source kinds that hold the whole period (no other
        kind is counted anywhere in the report).
    missing : tuple of str
        Configured sources (by name) that deliver at other times but do not hold this
        period, so the report can say whose data it lacks.
    ranking : AreaRanking
        The group's areas ranked, all sources together.
    by_source : Mapping of str to AreaRanking
        The same ranking for each source kind that holds the period, alone: the
        aggregate hospital, ambulance and police comparison per area (a stand-in until
        ``analysis.gap`` lands).
    venues : VenueRanking
        The venues in the group's areas with most incidents.
    when : HourWeekday
        Hour by weekday of all the group's incidents.
    licensed_when : HourWeekday
        Hour by weekday of the incidents at licensed premises.
    licensed_ranking : AreaRanking
        The group's areas ranked by incidents at licensed premises.
    trend : MonthlyTrend
        ``TREND_MONTHS`` months up to the period's last month; None for months the same
        sources do not hold.
    profiles : Mapping of str to Profile
        One per field of ``REPORT_PROFILES``.
    """

    group: GroupConfig
    selection: Selection
    missing: tuple[str, ...]
    ranking: AreaRanking
    by_source: Mapping[str, AreaRanking]
    venues: VenueRanking
    when: HourWeekday
    licensed_when: HourWeekday
    licensed_ranking: AreaRanking
    trend: MonthlyTrend
    profiles: Mapping[str, Profile]


def analyse_group(
    t: ibis.Table,
    layer: AreaLayer,
    group: GroupConfig,
    sel: Selection,
    coverage: Coverage | None = None,
) -> GroupAnalyses:
    """Run the analyses of one group's report over the sources that hold its period.

    Comparisons with the previous period, last year and trend months are made only
    where ``coverage`` says the same sources hold them (None: the caller vouches that
    every period is held). Raises :class:`NotHeld` when no source holds the period.
    """
    sel = held_selection(sel, coverage)
    areas = layer.lookup(group.areas)
    licensed = t.filter(t.location_type == "licensed_premises")
    missing = coverage.missing(sel.start, sel.end) if coverage is not None else ()
    return GroupAnalyses(
        group=group,
        selection=sel,
        missing=missing,
        ranking=rank_areas(t, sel, areas, coverage=coverage),
        by_source=MappingProxyType(
            {
                s: rank_areas(t, dataclasses.replace(sel, sources=(s,)), areas, coverage=coverage)
                for s in sel.sources
            }
        ),
        venues=rank_venues(t, sel, limit=VENUES_SHOWN, coverage=coverage),
        when=hour_weekday(t, sel),
        licensed_when=hour_weekday(licensed, sel),
        licensed_ranking=rank_areas(licensed, sel, areas, coverage=coverage),
        trend=monthly_trend(t, sel, months_back=TREND_MONTHS, coverage=coverage),
        profiles=MappingProxyType({field: profile(t, sel, field) for field in REPORT_PROFILES}),
    )


def analyse_region(
    t: ibis.Table, layer: AreaLayer, sel: Selection, coverage: Coverage | None = None
) -> RegionAnalyses:
    """Run the layer-wide analyses for the period of ``sel`` (its areas are ignored), over
    the source kinds that hold it; raises :class:`NotHeld` when none does.

    Rises learn only from the weeks ``coverage`` (the store's) holds; None vouches that
    every week is held."""
    region = held_selection(dataclasses.replace(sel, areas=None, layer=layer.layer), coverage)
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
        excess=excess_by_area(t, region, layer.codes, layer.population, coverage=coverage),
        rises=check_rises(t, dataclasses.replace(region, areas=layer.codes), coverage),
        quality=data_quality(t, region),
    )
