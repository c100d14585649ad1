"""Data quality per source: how complete the fields that drive the analyses are.

A partnership must know how much of each source could be placed on the map and in time
before trusting a ranking; a location that cannot be resolved belongs to no beat. Month by
month, the same measures plus timeliness and volume show when a data flow breaks: a
hospital whose extract silently lost its location column, or stopped arriving.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import ibis

from cardiffmodel.analysis.selection import Selection, add_months, filter_incidents


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


@dataclass(frozen=True)
class MonthQuality:
    """One source's records that occurred in one month, and how good they are.

    Attributes
    ----------
    source : str
        The ``[[sources]]`` name in cardiff.toml (one organisation's data flow).
    month : date
        First day of the month the assaults occurred in.
    records : int
        Records stored for the month (0 when none arrived).
    location_given, time_known, weapon_known : float or None
        Share of the records with a location (text or coordinates), a time of day and a
        known assault method; None when there are no records.
    located : float or None
        Share placed on the map (homes never are).
    median_days, p90_days : float or None
        Days from the assault to receipt (the start of the ingest that brought the
        record): the median and the 90th percentile.
    baseline : float or None
        Mean records per month over the previous ``baseline_months`` months that the
        source was already sending; None for its first month.
    volume_ratio : float or None
        ``records / baseline``.
    drop : bool
        The volume fell below ``drop_ratio`` of the baseline: a broken or late data flow.
    """

    source: str
    month: date
    records: int
    location_given: float | None
    time_known: float | None
    weapon_known: float | None
    located: float | None
    median_days: float | None
    p90_days: float | None
    baseline: float | None
    volume_ratio: float | None
    drop: bool


@dataclass(frozen=True)
class MonthlyQuality:
    """Data quality per source and month for ``[start, end)``.

    Attributes
    ----------
    start, end : date
        First days of the first month shown and of the month after the last.
    baseline_months : int
        How many previous months the volume is compared with.
    drop_ratio : float
        A month below this share of its baseline is flagged.
    rows : tuple of MonthQuality
        By source, then month; every month of the period for every source that has sent
        anything by then, including months with no records.
    """

    start: date
    end: date
    baseline_months: int
    drop_ratio: float
    rows: tuple[MonthQuality, ...]

    @property
    def drops(self) -> tuple[MonthQuality, ...]:
        return tuple(r for r in self.rows if r.drop)


def monthly_quality(
    incidents: ibis.Table,
    batches: ibis.Table,
    start: date | None = None,
    end: date | None = None,
    baseline_months: int = 3,
    drop_ratio: float = 0.5,
) -> MonthlyQuality:
    """Completeness, placement, timeliness and volume per source and month.

    ``batches`` is the store's batches table (source name and receipt time of each
    batch). Without ``start``/``end`` the period is the twelve months up to the latest
    month with records.
    """
    if baseline_months < 1 or not 0 < drop_ratio < 1:
        raise ValueError("baseline_months must be >= 1 and drop_ratio between 0 and 1")
    received = batches.select("batch_id", "started_at", source_name=batches.source)
    t = incidents.join(received, "batch_id")
    if end is None:
        latest = incidents.occurred_date.max().execute()
        end = add_months(latest or date.today(), 1)
    start = start or add_months(end, -12)
    since = add_months(start, -baseline_months)
    days = t.started_at.date().delta(t.occurred_date, unit="day")
    stats = (
        t.filter(t.occurred_date >= since, t.occurred_date < end)
        .mutate(month=t.occurred_date.truncate("M"), days=days)
        .group_by(["source_name", "month"])
        .aggregate(
            records=ibis._.count(),
            location_given=(ibis._.location_text.notnull() | ibis._.lon.notnull()).sum(),
            time_known=ibis._.time_known.fill_null(False).sum(),
            weapon_known=(ibis._.weapon.fill_null("unknown") != "unknown").sum(),
            located=ibis._.lon.notnull().sum(),
            median_days=ibis._.days.median(),
            p90_days=ibis._.days.quantile(0.9),
        )
        .execute()
    )
    rows = []
    for source, group in stats.groupby("source_name", sort=True):
        by_month = {_first_of_month(r.month): r for r in group.itertuples()}
        rows.extend(_source_months(str(source), by_month, start, end, baseline_months, drop_ratio))
    return MonthlyQuality(start, end, baseline_months, drop_ratio, tuple(rows))


def _first_of_month(value) -> date:
    day = value.date() if hasattr(value, "date") else value
    return day.replace(day=1)


def _source_months(
    source: str, by_month: dict, start: date, end: date, baseline_months: int, drop_ratio: float
) -> list[MonthQuality]:
    """Every month from the source's first (or ``start``) to ``end``, zeros included."""
    month = min(by_month)
    counts: list[int] = []
    rows = []
    while month < end:
        r = by_month.get(month)
        n = int(r.records) if r is not None else 0
        previous = counts[-baseline_months:]
        baseline = sum(previous) / len(previous) if previous else None
        ratio = n / baseline if baseline else None
        if month >= start:
            rows.append(
                MonthQuality(
                    source=source,
                    month=month,
                    records=n,
                    location_given=_share(r, "location_given"),
                    time_known=_share(r, "time_known"),
                    weapon_known=_share(r, "weapon_known"),
                    located=_share(r, "located"),
                    median_days=_number(r, "median_days"),
                    p90_days=_number(r, "p90_days"),
                    baseline=baseline,
                    volume_ratio=ratio,
                    drop=baseline is not None and baseline > 0 and n < drop_ratio * baseline,
                )
            )
        counts.append(n)
        month = add_months(month, 1)
    return rows


def _share(row, name: str) -> float | None:
    if row is None or not row.records:
        return None
    return float(getattr(row, name)) / float(row.records)


def _number(row, name: str) -> float | None:
    value = None if row is None else getattr(row, name)
    return None if value is None or value != value else float(value)


@dataclass(frozen=True)
class PlacementQuality:
    """How one source's live batches in a period were placed on the map.

    Attributes
    ----------
    source : str
        The ``[[sources]]`` name.
    unlocatable : int
        Rows with no map point or area code in a published force-wide file: not stored,
        since nobody can tell whether they happened in the area.
    codes_checked : int
        Records that carried an official area code (police.uk's LSOA code) the layer
        has, and a map point.
    codes_differ : int
        Of those, how many point-in-polygon would have put in another area (or none):
        the official code is what is stored.
    """

    source: str
    unlocatable: int
    codes_checked: int
    codes_differ: int

    @property
    def differ_share(self) -> float | None:
        return self.codes_differ / self.codes_checked if self.codes_checked else None


def placement_quality(
    batches: ibis.Table, start: date | None = None, end: date | None = None
) -> tuple[PlacementQuality, ...]:
    """Per source, over live batches whose period overlaps ``[start, end)`` (all when
    not given): unlocatable rows and disagreements between official area codes and
    point-in-polygon. Sources with neither are left out. Batches written before these
    were counted (NULL) count as zero."""
    live = batches.filter(batches.status == "ingested")
    if start is not None:
        live = live.filter(live.period_end.isnull() | (live.period_end >= start))
    if end is not None:
        live = live.filter(live.period_start.isnull() | (live.period_start < end))
    sums = (
        live.group_by("source")
        .aggregate(
            unlocatable=live.unlocatable.fill_null(0).sum(),
            codes_checked=live.codes_checked.fill_null(0).sum(),
            codes_differ=live.codes_differ.fill_null(0).sum(),
        )
        .order_by("source")
        .execute()
    )
    return tuple(
        PlacementQuality(
            str(r.source), int(r.unlocatable), int(r.codes_checked), int(r.codes_differ)
        )
        for r in sums.itertuples()
        if r.unlocatable or r.codes_checked
    )
