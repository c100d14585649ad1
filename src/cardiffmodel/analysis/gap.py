"""The gap between hospital and police records, counted per area and per venue.

Most violence treated in Emergency Departments never reaches police records (Gray et al.
2017: 59% in South Wales), and it is not missing evenly: some beats and venues are far
better known to the hospital than to the police. Counting both sources over the same
period and areas shows where; :mod:`cardiffmodel.analysis.linkage` goes further and links
the records one by one.

Counts are one Ibis query each, so they run on DuckDB or Spark alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cardiffmodel.analysis.counts import at_a_venue, wanted_areas
from cardiffmodel.analysis.selection import Selection, filter_incidents

GAP_SOURCES = ("ed", "police")
# Metres per degree of latitude, and of longitude at the equator (WGS84, near enough for
# distances of a few hundred metres).
M_PER_DEGREE_LAT = 111_132.0
M_PER_DEGREE_LON = 111_320.0


@dataclass(frozen=True)
class AreaGap:
    """Hospital and police counts of one area.

    Attributes
    ----------
    code, name : str
        Area code of the selection's layer and its name (the code itself when the area
        is not among the configured areas).
    ed : int
        Emergency Department assault attendances placed in the area.
    police : int
        Police-recorded violent crimes placed in the area (of the crime types chosen).
    ed_per_police : float or None
        ``ed / police``; None when the police count is zero.
    excess : float
        ``ed - police * city_ratio``, where ``city_ratio`` is the ED-to-police ratio of
        all placed records of the selection (:attr:`GapResult.city_ratio`): how many more
        hospital-recorded assaults the area has than its police count would suggest.
        Positive where violence is under-recorded by the police relative to elsewhere.
    """

    code: str
    name: str
    ed: int
    police: int
    ed_per_police: float | None
    excess: float


@dataclass(frozen=True)
class VenueGap:
    """Hospital-recorded assaults at one venue and police-recorded crimes around it.

    Attributes
    ----------
    place_id, place_name : str
        The gazetteer venue.
    area : str or None
        The venue's area code on the selection's layer.
    ed : int
        ED attendances whose location resolved to the venue.
    police_nearby : int
        Police-recorded crimes within ``GapResult.radius_m`` of the venue's point.
        Police points are published snapped to nearby map points and police records
        name no venue, so this counts the street around the venue, not the venue itself.
    """

    place_id: str
    place_name: str
    area: str | None
    ed: int
    police_nearby: int


@dataclass(frozen=True)
class GapResult:
    """ED against police counts per area, and around the venues most named by the ED.

    Attributes
    ----------
    selection : Selection
        Period, layer and areas compared (its sources are ignored: ED and police always).
    layer : str
        The area layer.
    rows : tuple of AreaGap
        Every area of the selection (all of the configured areas when it names none,
        zero counts included), then any other area code found in the records; by
        ``excess`` descending, then code.
    ed_total, police_total : int
        Records of each source in the selection, placed or not.
    ed_unplaced, police_unplaced : int
        Records with no area code on the layer (in no row). ED locations come from free
        text and attendances at home are never placed, so ``ed_unplaced`` is usually a
        large share of ``ed_total``: compare areas with each other, not ED with police
        totals.
    city_ratio : float or None
        ED-to-police ratio of the placed records; None without placed police records.
    police_crime_types : tuple of str or None
        The police crime types counted (None: all).
    venues : tuple of VenueGap
        The venues with most ED attendances, at most ``venue_limit``, by ED count
        descending then place id (homes and streets are never venues).
    radius_m : float
        The radius around each venue within which police records are counted.
    """

    selection: Selection
    layer: str
    rows: tuple[AreaGap, ...]
    ed_total: int
    police_total: int
    ed_unplaced: int
    police_unplaced: int
    city_ratio: float | None
    police_crime_types: tuple[str, ...] | None
    venues: tuple[VenueGap, ...]
    radius_m: float


def area_gap(
    t: ibis.Table,
    sel: Selection,
    areas: Mapping[str, tuple[str, float | None]],
    *,
    police_crime_types: tuple[str, ...] | None = None,
    venue_limit: int = 20,
    radius_m: float = 100.0,
) -> GapResult:
    """Compare ED and police counts per area of ``sel.layer`` and around the top ED venues.

    ``areas`` maps each configured area code of the layer to its name and population (as
    for :func:`cardiffmodel.analysis.counts.rank_areas`); ``police_crime_types``
    restricts the police records (e.g. ``("Violence with injury",)``, the comparison of
    Gray et al. 2017).
    """
    if venue_limit < 0 or radius_m <= 0:
        raise ValueError(
            f"venue_limit {venue_limit} and radius_m {radius_m}: expected at least 0 and "
            "a positive radius"
        )
    wanted = wanted_areas(sel, areas)
    gap_sel = dataclasses.replace(sel, sources=GAP_SOURCES)
    rows_in = _gap_records(t, gap_sel, police_crime_types)
    query = rows_in.group_by(code=rows_in[sel.layer]).aggregate(
        ed=rows_in.count(where=rows_in.source == "ed"),
        police=rows_in.count(where=rows_in.source == "police"),
    )
    found = {row.pop("code"): row for row in query.to_pyarrow().to_pylist()}
    unplaced = found.pop(None, {"ed": 0, "police": 0})
    codes = list(wanted) + sorted(code for code in found if code not in wanted)
    counts = {code: found.get(code, {"ed": 0, "police": 0}) for code in codes}
    ed_placed = sum(c["ed"] for c in counts.values())
    police_placed = sum(c["police"] for c in counts.values())
    ratio = ed_placed / police_placed if police_placed else None
    rows = [
        AreaGap(
            code=code,
            name=areas.get(code, (code, None))[0],
            ed=c["ed"],
            police=c["police"],
            ed_per_police=c["ed"] / c["police"] if c["police"] else None,
            excess=c["ed"] - c["police"] * (ratio or 0.0),
        )
        for code, c in counts.items()
    ]
    rows.sort(key=lambda row: (-row.excess, row.code))
    return GapResult(
        selection=sel,
        layer=sel.layer,
        rows=tuple(rows),
        ed_total=ed_placed + unplaced["ed"],
        police_total=police_placed + unplaced["police"],
        ed_unplaced=unplaced["ed"],
        police_unplaced=unplaced["police"],
        city_ratio=ratio,
        police_crime_types=police_crime_types,
        venues=_venue_gaps(rows_in, sel.layer, venue_limit, radius_m) if venue_limit else (),
        radius_m=radius_m,
    )


def _gap_records(
    t: ibis.Table, sel: Selection, police_crime_types: tuple[str, ...] | None
) -> ibis.Table:
    rows_in = filter_incidents(t, sel)
    if police_crime_types is None:
        return rows_in
    return rows_in.filter(
        (rows_in.source != "police") | rows_in.crime_type.isin(police_crime_types)
    )


def _venue_gaps(
    rows_in: ibis.Table, layer: str, limit: int, radius_m: float
) -> tuple[VenueGap, ...]:
    ed = rows_in.filter(rows_in.source == "ed", at_a_venue(rows_in))
    # Every incident at a venue carries the venue's gazetteer point; min() picks it.
    venues = (
        ed.group_by("place_id")
        .aggregate(
            place_name=ed.place_name.max(),
            area=ed[layer].min(),
            ed=ed.count(),
            vlon=ed.lon.min(),
            vlat=ed.lat.min(),
        )
        .order_by([ibis.desc("ed"), "place_id"])
        .limit(limit)
    )
    police = rows_in.filter(rows_in.source == "police", rows_in.lon.notnull())
    police = police.select(plon=police.lon, plat=police.lat)
    lat_margin = radius_m / M_PER_DEGREE_LAT
    lon_margin = radius_m / (M_PER_DEGREE_LON * venues.vlat.radians().cos())
    # A box join first (cheap on both engines), then the exact radius.
    near = venues.left_join(
        police,
        [
            police.plat.between(venues.vlat - lat_margin, venues.vlat + lat_margin),
            police.plon.between(venues.vlon - lon_margin, venues.vlon + lon_margin),
        ],
    )
    # No police record near a venue leaves nulls from the left join: they count as far.
    within = (_metres(near.vlon, near.vlat, near.plon, near.plat) <= radius_m).fill_null(False)
    query = near.group_by("place_id").aggregate(
        place_name=near.place_name.max(),
        area=near.area.min(),
        ed=near.ed.max(),
        police_nearby=near.count(where=within),
    )
    found = query.to_pyarrow().to_pylist()
    found.sort(key=lambda row: (-row["ed"], row["place_id"]))
    return tuple(VenueGap(**row) for row in found)


def _metres(
    lon1: ir.FloatingValue, lat1: ir.FloatingValue, lon2: ir.FloatingValue, lat2: ir.FloatingValue
) -> ir.FloatingValue:
    """Equirectangular distance: within a fraction of a metre of the great circle at 1 km."""
    dx = (lon2 - lon1) * M_PER_DEGREE_LON * lat1.radians().cos()
    dy = (lat2 - lat1) * M_PER_DEGREE_LAT
    return (dx * dx + dy * dy).sqrt()
