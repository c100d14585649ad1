"""Readers for the open gazetteer sources a partnership can download, each in its published
format, and one entry point that tells them apart by their contents.

- FSA food hygiene ratings: XML (``gazetteer.load_fsa_xml``) or CSV with the XML's field
  names; every geocoded business is a venue, whatever its address layout;
- data.police.uk street-level crime CSV: streets with crime in the loaded months;
- OS Open Names CSV (no header; columns of its technical specification): named roads (a
  complete road list), settlements and named places, Welsh names as aliases;
- NaPTAN ``Stops.csv``: bus and coach stations, rail and metro stations, ferry terminals,
  airports and taxi ranks (not single bus stops);
- OpenStreetMap GeoJSON (as Overpass turbo or osmtogeojson export it) or ``.osm`` XML:
  named amenities, leisure, shops, tourism, stations; named highways (a road list as
  complete as the extract);
- your own landmarks: a places CSV (``gazetteer.load_places_csv``).

Each place records its ``source`` and whether that source is a complete list of its kind
(``complete``): a street known only from crime points or venue addresses may have an
unseen namesake, and the matcher's confidence says so.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from pyproj import Transformer

from cardiffmodel.places.gazetteer import (
    Bbox,
    GazetteerError,
    Place,
    _inside,
    _slug,
    address_points,
    fsa_venue,
    load_fsa_xml,
    load_places_csv,
    police_uk_points,
    street_places,
)

BRITISH_NATIONAL_GRID = "EPSG:27700"

# OS Open Names CSV columns, in order (OS Open Names technical specification; the data
# files have no header row, the header ships as a separate file).
OS_OPEN_NAMES_COLUMNS = (
    "ID", "NAMES_URI", "NAME1", "NAME1_LANG", "NAME2", "NAME2_LANG", "TYPE", "LOCAL_TYPE",
    "GEOMETRY_X", "GEOMETRY_Y", "MOST_DETAIL_VIEW_RES", "LEAST_DETAIL_VIEW_RES", "MBR_XMIN",
    "MBR_YMIN", "MBR_XMAX", "MBR_YMAX", "POSTCODE_DISTRICT", "POSTCODE_DISTRICT_URI",
    "POPULATED_PLACE", "POPULATED_PLACE_URI", "POPULATED_PLACE_TYPE", "DISTRICT_BOROUGH",
    "DISTRICT_BOROUGH_URI", "DISTRICT_BOROUGH_TYPE", "COUNTY_UNITARY", "COUNTY_UNITARY_URI",
    "COUNTY_UNITARY_TYPE", "REGION", "REGION_URI", "COUNTRY", "COUNTRY_URI",
    "RELATED_SPATIAL_OBJECT", "SAME_AS_DBPEDIA", "SAME_AS_GEONAMES",
)  # fmt: skip
# OS Open Names types kept: roads are streets; the rest are named places.
OS_ROAD_TYPES = frozenset({"Named Road", "Section Of Named Road"})
OS_SKIP_TYPES = frozenset({"Postcode", "Numbered Road", "Section Of Numbered Road"})
# Settlements are not where an assault can be mapped ("Newport", "Caerleon" name a town or
# a district): left out, so a text naming only one stays unresolved as too vague.
OS_SKIP_THEMES = frozenset({"populatedPlace"})

# NaPTAN stop types that are places people name (stations, not each bus stop).
NAPTAN_TYPES = {
    "BST": "Bus station",
    "BCS": "Bus station",
    "RSE": "Rail station",
    "RLY": "Rail station",
    "MET": "Metro station",
    "FTD": "Ferry terminal",
    "AIR": "Airport",
    "TXR": "Taxi rank",
}
NAPTAN_REQUIRED = ("ATCOCode", "CommonName", "StopType")

# OpenStreetMap keys whose named features are places (the key=value is the category).
OSM_PLACE_KEYS = (
    "amenity", "leisure", "shop", "tourism", "historic", "railway", "public_transport",
    "natural", "building", "landuse", "place",
)  # fmt: skip
OSM_LICENSED = frozenset({"pub", "bar", "nightclub", "biergarten"})
OSM_SKIP_HIGHWAYS = frozenset({"bus_stop", "street_lamp", "traffic_signals", "crossing"})

FSA_CSV_FIELDS = ("FHRSID", "BusinessName", "BusinessType")


def _read_header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GazetteerError(f"{path}: cannot read: {err}") from err


def _to_wgs84(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    transform = Transformer.from_crs(BRITISH_NATIONAL_GRID, "EPSG:4326", always_xy=True)
    lon, lat = transform.transform(list(xs), list(ys))
    return list(lon), list(lat)


def _float(path: Path, line: int, column: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise GazetteerError(
            f"{path} row {line} column {column}: {value!r}; expected a number"
        ) from None


# ---- FSA CSV ---------------------------------------------------------------------------


def load_fsa_csv(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Venues from an FSA ratings CSV with the XML's field names (``FHRSID``,
    ``BusinessName``, ``BusinessType``, ``AddressLine1``-``4``, ``PostCode``, ``Longitude``,
    ``Latitude``; ``Geocode/Longitude`` also accepted); rows without a geocode are skipped."""
    places = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for line, row in enumerate(reader, start=2):
                lon = row.get("Longitude") or row.get("Geocode/Longitude") or ""
                lat = row.get("Latitude") or row.get("Geocode/Latitude") or ""
                if not lon.strip() or not lat.strip():
                    continue
                x = _float(path, line, "Longitude", lon)
                y = _float(path, line, "Latitude", lat)
                if not _inside(x, y, bbox):
                    continue
                places.append(
                    fsa_venue(
                        row["FHRSID"],
                        row["BusinessName"],
                        row.get("BusinessType") or "",
                        [row.get(f"AddressLine{k}") or "" for k in range(1, 5)],
                        row.get("PostCode") or "",
                        x,
                        y,
                    )
                )
    except (OSError, UnicodeDecodeError, csv.Error, KeyError) as err:
        raise GazetteerError(f"{path}: not a readable FSA ratings CSV: {err}") from err
    return places


# ---- OS Open Names ---------------------------------------------------------------------


def load_os_open_names(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Named places and roads from an OS Open Names CSV (no header; British National Grid).

    Named roads become streets from a complete road list; other named features (stations,
    named buildings, woods, beaches) become venues of category ``LOCAL_TYPE``. A Welsh (or
    English) second name is kept as an alias. Numbered roads, postcodes (they come from a
    postcode lookup) and settlements (a town names no spot) are left out."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line, values in enumerate(csv.reader(handle), start=1):
                if not values or values[0] == "ID":
                    continue  # a header row added by hand
                if len(values) < len(OS_OPEN_NAMES_COLUMNS):
                    raise GazetteerError(
                        f"{path} row {line}: {len(values)} columns; an OS Open Names CSV has "
                        f"{len(OS_OPEN_NAMES_COLUMNS)}, starting "
                        f"{', '.join(OS_OPEN_NAMES_COLUMNS[:8])}"
                    )
                row = dict(zip(OS_OPEN_NAMES_COLUMNS, values, strict=False))
                if row["LOCAL_TYPE"] in OS_SKIP_TYPES or row["TYPE"] in OS_SKIP_THEMES:
                    continue
                x = _float(path, line, "GEOMETRY_X", row["GEOMETRY_X"])
                y = _float(path, line, "GEOMETRY_Y", row["GEOMETRY_Y"])
                rows.append((row, x, y))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GazetteerError(f"{path}: not a readable OS Open Names CSV: {err}") from err
    if not rows:
        return []
    lons, lats = _to_wgs84([r[1] for r in rows], [r[2] for r in rows])
    places = []
    for (row, _, _), lon, lat in zip(rows, lons, lats, strict=True):
        if not _inside(lon, lat, bbox):
            continue
        road = row["LOCAL_TYPE"] in OS_ROAD_TYPES
        district = row["POPULATED_PLACE"] or row["DISTRICT_BOROUGH"]
        places.append(
            Place(
                place_id=f"osnames:{row['ID']}",
                name=row["NAME1"],
                kind="street" if road else "venue",
                category="street" if road else row["LOCAL_TYPE"],
                licensed=False,
                street=row["NAME1"] if road else "",
                postcode="",
                lon=lon,
                lat=lat,
                aliases=(row["NAME2"],) if row["NAME2"] else (),
                address=", ".join(p for p in (district, row["POSTCODE_DISTRICT"]) if p),
                source="os_open_names",
                complete=True,
            )
        )
    return places


# ---- NaPTAN ----------------------------------------------------------------------------


def load_naptan(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Stations, terminals and taxi ranks from a NaPTAN ``Stops.csv`` (single bus stops are
    left out: "bus stop" names no particular place). WGS84 ``Longitude``/``Latitude`` are
    used when given, else ``Easting``/``Northing``. The locality joins the address, so
    "bus station Newport" and a same-named station elsewhere are told apart."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                kind = NAPTAN_TYPES.get((row.get("StopType") or "").strip())
                if kind is None or (row.get("Status") or "active").lower() not in ("active", "act"):
                    continue
                if (row.get("Longitude") or "").strip():
                    x = _float(path, line, "Longitude", row["Longitude"])
                    y = _float(path, line, "Latitude", row["Latitude"])
                    grid = False
                else:
                    x = _float(path, line, "Easting", row.get("Easting") or "")
                    y = _float(path, line, "Northing", row.get("Northing") or "")
                    grid = True
                rows.append((row, kind, x, y, grid))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GazetteerError(f"{path}: not a readable NaPTAN Stops CSV: {err}") from err
    grid_rows = [k for k, r in enumerate(rows) if r[4]]
    points = [(r[2], r[3]) for r in rows]
    if grid_rows:
        lons, lats = _to_wgs84([rows[k][2] for k in grid_rows], [rows[k][3] for k in grid_rows])
        for k, lon, lat in zip(grid_rows, lons, lats, strict=True):
            points[k] = (lon, lat)
    places, seen = [], set()
    for (row, kind, _, _, _), (lon, lat) in zip(rows, points, strict=True):
        if not _inside(lon, lat, bbox):
            continue
        locality = row.get("LocalityName") or row.get("Town") or ""
        name = row["CommonName"].strip()
        key = (_slug(name), _slug(locality), kind)
        if key in seen:  # one station, many entrances and bays
            continue
        seen.add(key)
        places.append(
            Place(
                place_id=f"naptan:{row['ATCOCode']}",
                name=name,
                kind="venue",
                category=kind,
                licensed=False,
                street=row.get("Street") or "",
                postcode="",
                lon=lon,
                lat=lat,
                aliases=tuple(a for a in {f"{locality} {kind}".strip(), f"{name} {kind}"} if a),
                address=", ".join(p for p in (row.get("Street") or "", locality) if p),
                source="naptan",
                complete=True,
            )
        )
    return places


# ---- OpenStreetMap ---------------------------------------------------------------------


def _osm_place(
    osm_id: str, tags: dict[str, str], lon: float, lat: float, roads: bool
) -> Place | None:
    name = (tags.get("name") or "").strip()
    if not name:
        return None
    highway = tags.get("highway")
    aliases = tuple(
        tags[k].strip()
        for k in ("name:cy", "name:en", "alt_name", "old_name", "short_name")
        if tags.get(k, "").strip() and tags[k].strip() != name
    )
    address = ", ".join(tags[k] for k in ("addr:street", "addr:suburb", "addr:city") if tags.get(k))
    is_road = highway and highway not in OSM_SKIP_HIGHWAYS
    if is_road and not any(k in tags for k in ("amenity", "shop")):
        if not roads:
            return None
        return Place(
            f"osm:{osm_id}", name, "street", "street", False, name, "", lon, lat,
            aliases=aliases, address=address, source="osm", complete=True,
        )  # fmt: skip
    key = next((k for k in OSM_PLACE_KEYS if tags.get(k)), None)
    if key is None:
        return None
    value = tags[key]
    return Place(
        place_id=f"osm:{osm_id}",
        name=name,
        kind="venue",
        category=f"{key}={value}",
        licensed=key == "amenity" and value in OSM_LICENSED,
        street=tags.get("addr:street", ""),
        postcode=(tags.get("addr:postcode") or "").upper(),
        lon=lon,
        lat=lat,
        aliases=aliases,
        address=address,
        source="osm",
        complete=True,
    )


def _centre(coordinates) -> tuple[float, float]:
    """Mean of a GeoJSON geometry's positions: close enough for a named feature's point."""
    flat: list[tuple[float, float]] = []

    def walk(c) -> None:
        if c and isinstance(c[0], (int, float)):
            flat.append((float(c[0]), float(c[1])))
        else:
            for part in c:
                walk(part)

    walk(coordinates)
    if not flat:
        raise ValueError("a geometry without coordinates")
    return sum(x for x, _ in flat) / len(flat), sum(y for _, y in flat) / len(flat)


def load_osm_geojson(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Named OpenStreetMap features from GeoJSON (Overpass turbo / osmtogeojson export:
    tags as properties, or under ``tags``; ids as ``@id`` or ``id``). Points stay; lines
    and polygons are placed at the mean of their vertices."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        features = data["features"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise GazetteerError(f"{path}: not a readable GeoJSON FeatureCollection: {err}") from err
    places = []
    for k, feature in enumerate(features):
        properties = feature.get("properties") or {}
        tags = {**properties, **(properties.get("tags") or {})}
        tags = {str(key): str(value) for key, value in tags.items() if isinstance(value, str)}
        osm_id = str(properties.get("@id") or feature.get("id") or properties.get("id") or k)
        geometry = feature.get("geometry") or {}
        try:
            lon, lat = _centre(geometry.get("coordinates") or [])
        except (ValueError, TypeError, IndexError):
            continue
        place = _osm_place(osm_id.replace("/", ":"), tags, lon, lat, roads=True)
        if place is not None and _inside(lon, lat, bbox):
            places.append(place)
    return places


def load_osm_xml(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Named OpenStreetMap nodes and ways from ``.osm`` XML; a way is placed at the mean
    of its nodes (nodes must be in the file, as in any extract)."""
    nodes: dict[str, tuple[float, float]] = {}
    places = []
    try:
        for _, element in ET.iterparse(path, events=("end",)):
            if element.tag not in ("node", "way"):
                continue
            tags = {t.get("k", ""): t.get("v", "") for t in element.findall("tag")}
            if element.tag == "node":
                xy = (float(element.get("lon", "nan")), float(element.get("lat", "nan")))
                nodes[element.get("id", "")] = xy
                place = _osm_place(f"node:{element.get('id')}", tags, *xy, roads=False)
            else:
                refs = [
                    nodes[n.get("ref", "")] for n in element.findall("nd") if n.get("ref") in nodes
                ]
                place = None
                if refs and tags.get("name"):
                    lon = sum(x for x, _ in refs) / len(refs)
                    lat = sum(y for _, y in refs) / len(refs)
                    place = _osm_place(f"way:{element.get('id')}", tags, lon, lat, roads=True)
            if place is not None and _inside(place.lon, place.lat, bbox):
                places.append(place)
            if element.tag == "way":
                element.clear()
    except (ET.ParseError, OSError, ValueError) as err:
        raise GazetteerError(f"{path}: not a readable OpenStreetMap XML file: {err}") from err
    return places


# ---- one entry point -------------------------------------------------------------------


def source_kind(path: Path) -> str:
    """What a gazetteer file is, from its name and contents: ``fsa_xml``, ``osm_xml``,
    ``osm_geojson``, ``police_uk``, ``fsa_csv``, ``naptan``, ``os_open_names`` or
    ``places_csv``."""
    suffix = path.suffix.lower()
    if suffix in (".xml", ".osm"):
        try:
            with open(path, "rb") as handle:
                start = handle.read(2048)
        except OSError as err:
            raise GazetteerError(f"{path}: cannot read: {err}") from err
        return "osm_xml" if b"<osm" in start else "fsa_xml"
    if suffix in (".geojson", ".json"):
        return "osm_geojson"
    header = _read_header(path)
    if "Crime ID" in header and "Location" in header:
        return "police_uk"
    if all(f in header for f in FSA_CSV_FIELDS):
        return "fsa_csv"
    if all(f in header for f in NAPTAN_REQUIRED):
        return "naptan"
    if header and (header[0] == "ID" or header[0].startswith("osgb")) and len(header) >= 30:
        return "os_open_names"
    if "name" in [h.strip().lower() for h in header]:
        return "places_csv"
    raise GazetteerError(
        f"{path}: not a gazetteer file: expected FSA XML or CSV, a data.police.uk street-level "
        f"CSV, OS Open Names CSV, NaPTAN Stops.csv, OpenStreetMap GeoJSON or .osm XML, or a "
        f"places CSV with a 'name' column; the header is {header[:8]}"
    )


_READERS = {
    "fsa_xml": load_fsa_xml,
    "fsa_csv": load_fsa_csv,
    "os_open_names": load_os_open_names,
    "naptan": load_naptan,
    "osm_geojson": load_osm_geojson,
    "osm_xml": load_osm_xml,
}


def load_sources(
    paths: Iterable[Path], bbox: Bbox | None = None, address_streets: bool = True
) -> list[Place]:
    """Places from files of any supported kind (``source_kind``): the hand-made places CSVs
    first (a curated entry is listed first on a tie), then the other sources, then streets
    from police.uk crime points joined with the streets venues' addresses name. ``bbox``
    keeps the downloaded sources' places inside it; a hand-made CSV is kept whole."""
    by_kind: dict[str, list[Path]] = {}
    for path in paths:
        by_kind.setdefault(source_kind(Path(path)), []).append(Path(path))
    places = [p for path in by_kind.get("places_csv", []) for p in load_places_csv(path)]
    for kind, reader in _READERS.items():
        for path in by_kind.get(kind, []):
            places.extend(reader(path, bbox))
    crimes = police_uk_points(by_kind.get("police_uk", []), bbox)
    named = address_points(p for p in places if p.source == "fsa") if address_streets else {}
    return places + street_places(crimes, named)
