"""Data quality per source: how complete the fields that drive the analyses are.

A partnership must know how much of each source could be placed on the map and in time
before trusting a ranking; a location that cannot be resolved belongs to no beat.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import ibis

from cardiffmodel.analysis.selection import Selection, filter_incidents


@dataclass(frozen=True)
class SourceQuality:
    """Completeness of one source's records in the period.

    Attributes
    ----------
    source : str
        ed, ambulance or police.
    records : int
        Records in the period (whatever their location).
    located : int
        Records placed on the map (coordinates given or location text resolved).
    with_time : int
        Records with a time of day.
    with_weapon : int
        Records whose assault method is known.
    """

    source: str
    records: int
    located: int
    with_time: int
    with_weapon: int


@dataclass(frozen=True)
class DataQuality:
    """Completeness by source for a period, over the whole region.

    Attributes
    ----------
    selection : Selection
        The period and sources; its area restriction is ignored, because records that
        could not be located belong to no area.
    rows : tuple of SourceQuality
        One per source with records, in source order.
    """

    selection: Selection
    rows: tuple[SourceQuality, ...]


def data_quality(t: ibis.Table, sel: Selection) -> DataQuality:
    """Completeness of location, time and weapon per source over the region."""
    region = replace(sel, areas=None)
    counts = (
        filter_incidents(t, region)
        .group_by("source")
        .aggregate(
            records=ibis._.count(),
            located=ibis._.lon.notnull().sum(),
            with_time=ibis._.time_known.fill_null(False).sum(),
            with_weapon=(ibis._.weapon != "unknown").sum(),
        )
        .execute()
    )
    by_source = {row.source: row for row in counts.itertuples()}
    rows = tuple(
        SourceQuality(s, int(r.records), int(r.located), int(r.with_time), int(r.with_weapon))
        for s in sel.sources
        if (r := by_source.get(s)) is not None
    )
    return DataQuality(selection=sel, rows=rows)
