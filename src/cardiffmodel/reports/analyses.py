"""The analyses one report needs, run through the analysis layer and gathered in one place.

Nothing here computes a statistic: each field is the result of an analysis function. The
region-wide results (hotspots, rises, data quality) depend only on the area layer and the
period, so they are run once and shared by every group reported on that layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
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
from cardiffmodel.analysis.hotspots import HotspotResult, contiguity, counts_by_area, gi_star
from cardiffmodel.analysis.profiles import HourWeekday, Profile, hour_weekday, profile
from cardiffmodel.analysis.quality import DataQuality, data_quality
from cardiffmodel.analysis.rise_check import RiseCheck, check_rises
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.config import GroupConfig
from cardiffmodel.coverage import Coverage
from cardiffmodel.places.areas import AreaLayer
from cardiffmodel.schema import SOURCES

# Profiles shown in a report (weapon, place, person) and used by the advice rules.
REPORT_PROFILES = ("weapon", "location_type", "age_band", "sex", "relationship")
TREND_MONTHS = 24  # this year's months and the same months a year earlier
VENUES_SHOWN = 10
HOTSPOT_PERMUTATIONS = 9999  # enough for a lone beat of a few dozen to pass FDR control
HOTSPOT_SEED = 0


@dataclass(frozen=True)
class RegionAnalyses:
    """Results over every area of a layer for one period, shared by the groups on it.

    Attributes
    ----------
    selection : Selection
        The period over the whole layer (no area restriction).
    hotspots : HotspotResult
        Getis-Ord Gi* of the period's counts on the layer's contiguity, FDR-controlled.
    rises : RiseCheck
        Weekly rise detection over the layer's areas.
    quality : DataQuality
        Completeness by source over the region.
    """

    selection: Selection
    hotspots: HotspotResult
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


def analyse_region(
    t: ibis.Table, layer: AreaLayer, sel: Selection, coverage: Coverage | None = None
) -> RegionAnalyses:
    """Run the layer-wide analyses for the period of ``sel`` (its areas are ignored).

    Rises learn only from the weeks ``coverage`` (the store's) holds; None vouches that
    every week is held."""
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
        rises=check_rises(t, dataclasses.replace(region, areas=layer.codes), coverage),
        quality=data_quality(t, region),
    )
