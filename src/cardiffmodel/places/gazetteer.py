"""The gazetteer: named places (venues, streets) with coordinates, built from open data.

Venues come from the Food Standards Agency food hygiene XML (every pub, club, takeaway and
shop that serves food has an entry with a geocode); streets come from the anonymised map
points of data.police.uk ("On or near X Street"), which cover every street where crime
was recorded. A plain CSV adds what neither holds (landmarks, parks, a club the FSA files
under its company name), and postcodes come from ``postcodes.py``.
"""

from __future__ import annotations

import csv
import math
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cardiffmodel.places.normalise import STREET_TYPES

# FSA business types that are licensed to sell alcohol for consumption on the premises.
LICENSED_TYPES = frozenset({"Pub/bar/nightclub"})

# Bar chains the FSA sometimes files under another business type (Cardiff's Walkabout is a
# "Hotel/bed & breakfast/guest house", Revolution a "Restaurant/Cafe/Canteen"); a venue
# whose name starts with one of these is licensed whatever its FSA type.
LICENSED_BRANDS = (
    "walkabout",
    "revolution",
    "revolucion",
    "wetherspoon",
    "jd wetherspoon",
    "yates",
    "o'neills",
    "slug and lettuce",
    "be at one",
    "popworld",
    "tiger tiger",
    "pryzm",
)

# Police.uk map points of one street name further apart than this (single linkage) are
# different streets that share a name (Cardiff's Queen Street and Barry's).
SAME_STREET_GAP_M = 1000.0

# data.police.uk snaps some crimes to a kind of place rather than a street: these names
# say nothing about where, so they are not gazetteer entries.
GENERIC_POLICE_UK_NAMES = frozenset(
    {
        "shopping area",
        "supermarket",
        "nightclub",
        "parking area",
        "petrol station",
        "pedestrian subway",
        "police station",
        "hospital",
        "prison",
        "church",
        "cinema",
        "theatre",
        "bus station",
        "train station",
        "airport",
    }
)

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Place:
    """One gazetteer entry. ``kind`` is ``venue`` or ``street``."""

    place_id: str
    name: str
    kind: str
    category: str
    licensed: bool
    street: str
    postcode: str
    lon: float
    lat: float
    crimes: int = 0  # police-recorded crimes snapped here: a prior for where incidents happen
    aliases: tuple[str, ...] = ()  # other names people use for it ("Revs")
    address: str = ""  # the whole address (street, district, town): words that place it
    source: str = ""  # fsa, police_uk, os_open_names, naptan, osm, csv, postcode
    complete: bool = True  # from a list holding every place of its kind (not police.uk streets)
    venues: int = 0  # venues whose address names this street: a prior like ``crimes``


class GazetteerError(ValueError):
    """A gazetteer input file cannot be read; the message names the file and the problem."""


PLACE_KINDS = ("venue", "street")
PLACES_CSV_REQUIRED = ("name", "lon", "lat")
PLACES_CSV_OPTIONAL = ("place_id", "kind", "category", "licensed", "street", "postcode", "aliases")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})


def _inside(lon: float, lat: float, bbox: Bbox | None) -> bool:
    return bbox is None or (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3])


def _text(element: ET.Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""


def fsa_venue(
    fhrsid: str,
    name: str,
    category: str,
    lines: Sequence[str],
    postcode: str,
    lon: float,
    lat: float,
) -> Place:
    """One FSA establishment as a venue, whatever its address layout: the street may be in
    any of AddressLine1-4, or packed with the name, number and town into one line."""
    lines = [line.strip() for line in lines if line and line.strip()]
    return Place(
        place_id=f"fsa:{fhrsid}",
        name=name,
        kind="venue",
        category=category,
        licensed=category in LICENSED_TYPES or _is_bar_brand(name),
        street=street_of_address(lines),
        postcode=postcode.upper(),
        lon=lon,
        lat=lat,
        address=", ".join(lines),
        source="fsa",
    )


def load_fsa_xml(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Venues from an FSA food hygiene ratings XML file; entries without a geocode are skipped
    because a venue we cannot place on the map cannot place an incident either."""
    places = []
    try:
        for _, element in ET.iterparse(path, events=("end",)):
            if element.tag != "EstablishmentDetail":
                continue
            lon, lat = _text(element, "Geocode/Longitude"), _text(element, "Geocode/Latitude")
            if lon and lat and _inside(float(lon), float(lat), bbox):
                places.append(
                    fsa_venue(
                        _text(element, "FHRSID"),
                        _text(element, "BusinessName"),
                        _text(element, "BusinessType"),
                        [_text(element, f"AddressLine{k}") for k in range(1, 5)],
                        _text(element, "PostCode"),
                        float(lon),
                        float(lat),
                    )
                )
            element.clear()
    except (ET.ParseError, OSError, ValueError) as err:
        raise GazetteerError(f"{path}: not a readable FSA food hygiene XML file: {err}") from err
    return places


def _is_bar_brand(name: str) -> bool:
    lowered = name.lower().removeprefix("the ")
    return any(lowered == b or lowered.startswith(b + " ") for b in LICENSED_BRANDS)


# Words ending a street's name in an address (abbreviations included), and Welsh street
# words that begin one ("Heol Dulais"); a compass word may follow ("Cowbridge Road East").
_ADDRESS_TYPES = frozenset(STREET_TYPES | {"rd", "ave", "tce", "cres", "sq", "pl", "hill"})
_WELSH_LEADING = frozenset({"heol", "ffordd", "stryd", "lon", "rhodfa", "llys", "clos", "teras"})
_COMPASS = frozenset({"east", "west", "north", "south", "upper", "lower"})


def street_of_address(lines: Sequence[str]) -> str:
    """The street of an address given as lines in any layout.

    The first line holding a street word is taken; within it, what follows the last comma
    and the last house number, up to its last street word: "Angel Inn 39 West Street
    Newport South Wales" -> "West Street", "Stall 200, Central Market St Mary Street" ->
    "Central Market St Mary Street" (later matched to the known street it ends with),
    "Heol Dulais" -> "Heol Dulais". Without a street word, the first line as before."""
    for line in lines:
        part = line.rsplit(",", 1)[-1].strip()
        words = part.split()
        lowered = [w.lower().strip(".") for w in words]
        numbers = [k for k, w in enumerate(words) if re.fullmatch(r"[\d\-/]+[a-zA-Z]?", w)]
        start = numbers[-1] + 1 if numbers else 0
        ends = [k for k in range(start, len(words)) if lowered[k] in _ADDRESS_TYPES and k > start]
        if ends:
            end = ends[-1] + 1
            if end < len(words) and lowered[end] in _COMPASS and end + 1 == len(words):
                end += 1
            return " ".join(words[start:end])
        if start < len(words) and lowered[start] in _WELSH_LEADING and len(words) - start > 1:
            return " ".join(words[start:])
    return _street_of_address(lines[0]) if lines else ""


def _street_of_address(line: str) -> str:
    """'12 Church Street' -> 'Church Street'; 'Tesco Express, 134 - 142 City Road' ->
    'City Road' (the street follows the last comma; numbers and unit letters dropped)."""
    last = line.rsplit(",", 1)[-1]
    return re.sub(r"^[\d\-/,\s]+[a-zA-Z]?\s+(?=[A-Za-z])", "", last.strip()).strip()


def _is_street_name(name: str) -> bool:
    lowered = name.lower()
    return bool(name) and "/" not in name and lowered not in GENERIC_POLICE_UK_NAMES


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance: exact enough within a city and much cheaper than geodesic."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * math.cos(mean_lat), a[1] - b[1]) * 111_195.0


def _clusters(points: dict[tuple[float, float], int]) -> list[dict[tuple[float, float], int]]:
    """Group one street name's map points by single linkage at ``SAME_STREET_GAP_M``.

    Police.uk snaps crimes to a handful of points per street, so the quadratic loop is over
    a few points (at most a few dozen) per name.
    """
    coords = sorted(points)
    parent = list(range(len(coords)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(coords)):
        for j in range(i):
            if _metres(coords[i], coords[j]) <= SAME_STREET_GAP_M:
                parent[root(i)] = root(j)
    groups: dict[int, dict[tuple[float, float], int]] = defaultdict(dict)
    for i, xy in enumerate(coords):
        groups[root(i)][xy] = points[xy]
    return sorted(groups.values(), key=lambda g: (-sum(g.values()), min(g)))


def _weighted_median(values: list[tuple[float, int]]) -> float:
    ordered = sorted(values)
    half, running = sum(w for _, w in ordered) / 2, 0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def police_uk_points(
    paths: Iterable[Path], bbox: Bbox | None = None
) -> dict[str, dict[tuple[float, float], int]]:
    """Crimes per map point per street name of data.police.uk street-level crime CSVs."""
    points: dict[str, dict[tuple[float, float], int]] = defaultdict(lambda: defaultdict(int))
    for path in paths:
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                for row in csv.DictReader(handle):
                    location = (row.get("Location") or "").removeprefix("On or near ").strip()
                    if not row.get("Longitude") or not _is_street_name(location):
                        continue
                    lon, lat = float(row["Longitude"]), float(row["Latitude"])
                    if _inside(lon, lat, bbox):
                        points[location][(lon, lat)] += 1
        except (OSError, KeyError, ValueError) as err:
            raise GazetteerError(f"{path}: not a data.police.uk street-level CSV: {err}") from err
    return points


def load_police_uk_streets(paths: Iterable[Path], bbox: Bbox | None = None) -> list[Place]:
    """Streets from data.police.uk street-level crime CSVs, placed at the crime-weighted
    median of their map points.

    Map points of one name more than ``SAME_STREET_GAP_M`` apart become separate streets:
    the busiest keeps the plain id (``street:queen-street``), the others get ``-2``, ``-3``
    ... in decreasing order of crimes. ``crimes`` counts the records snapped to each.
    """
    return street_places(police_uk_points(paths, bbox))


def address_points(venues: Iterable[Place]) -> dict[str, dict[tuple[float, float], int]]:
    """The points of the streets venues' addresses name (a venue stands on its street)."""
    points: dict[str, dict[tuple[float, float], int]] = defaultdict(lambda: defaultdict(int))
    for venue in venues:
        street = venue.street
        if venue.kind == "venue" and street and street.split()[-1].lower() in _ADDRESS_TYPES:
            points[street.title() if street.isupper() else street][(venue.lon, venue.lat)] += 1
    return points


def street_places(
    crimes: dict[str, dict[tuple[float, float], int]],
    addresses: dict[str, dict[tuple[float, float], int]] | None = None,
) -> list[Place]:
    """Streets from police.uk map points (with their crimes) and, where given, the points of
    venues whose address names the street: a street no crime was recorded on in the loaded
    months is still known when a venue stands on it, and venues along a long road join its
    sparse crime points into one street. Both lists are incomplete (``complete`` False):
    streets with neither crime nor venue are missing, so a name found once may have an
    unseen namesake. Streets only venues name get ids ``street:`` + name + ``-a``."""
    addresses = addresses or {}
    by_key: dict[str, str] = {}
    for name in crimes:
        by_key.setdefault(_slug(name), name)
    merged: dict[str, dict[tuple[float, float], tuple[int, int]]] = defaultdict(dict)
    for name, counts in crimes.items():
        for xy, n in counts.items():
            merged[name][xy] = (n, n)
    for name, counts in addresses.items():
        known = by_key.get(_slug(name), name)
        for xy, n in counts.items():
            crimes_here, weight = merged[known].get(xy, (0, 0))
            merged[known][xy] = (crimes_here, weight + n)
    streets = []
    for name, points in sorted(merged.items()):
        slug = "street:" + _slug(name)
        clusters = _clusters({xy: w for xy, (_, w) in points.items()})
        clusters.sort(key=lambda g: (-sum(points[xy][0] for xy in g), -sum(g.values()), min(g)))
        for rank, cluster in enumerate(clusters, start=1):
            crime_count = sum(points[xy][0] for xy in cluster)
            if name not in crimes:
                place_id = f"{slug}-a" if rank == 1 else f"{slug}-a{rank}"
            else:
                place_id = slug if rank == 1 else f"{slug}-{rank}"
            streets.append(
                Place(
                    place_id=place_id,
                    name=name,
                    kind="street",
                    category="street",
                    licensed=False,
                    street=name,
                    postcode="",
                    lon=_weighted_median([(xy[0], n) for xy, n in cluster.items()]),
                    lat=_weighted_median([(xy[1], n) for xy, n in cluster.items()]),
                    crimes=crime_count,
                    venues=sum(points[xy][1] - points[xy][0] for xy in cluster),
                    source="police_uk" if crime_count else "fsa_address",
                    complete=False,
                )
            )
    return streets


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def load_places_csv(path: Path) -> list[Place]:
    """Places from a plain CSV with columns (in any case) ``name``, ``lon``, ``lat`` (WGS84)
    and optionally ``place_id``, ``kind`` (venue or street; default venue), ``category``
    (e.g. Landmark), ``licensed`` (yes/no), ``street``, ``postcode`` and ``aliases``
    (separated by ``;``).

    The file is curated by hand, so every row is kept (no region box) and any mistake
    stops the load with the row (file line) and column named. Without ``place_id`` a row
    gets ``csv:`` and its name, with ``-2``, ``-3`` ... for repeats.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [c.strip().lower() for c in reader.fieldnames or []]
            missing = [c for c in PLACES_CSV_REQUIRED if c not in header]
            if missing:
                raise GazetteerError(
                    f"{path}: missing column(s) {missing}; the file has {header}, "
                    f"expected {list(PLACES_CSV_REQUIRED)} and optionally "
                    f"{list(PLACES_CSV_OPTIONAL)}"
                )
            rows = [
                (line, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k})
                for line, row in enumerate(reader, start=2)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GazetteerError(f"{path}: not a readable CSV file: {err}") from err
    places, seen = [], set()
    for line, row in rows:
        place = _csv_place(path, line, row)
        if place.place_id in seen and row.get("place_id"):
            raise GazetteerError(
                f"{path} row {line} column place_id: {place.place_id!r} is used twice"
            )
        if place.place_id in seen:
            n = 2
            while f"{place.place_id}-{n}" in seen:
                n += 1
            place = replace(place, place_id=f"{place.place_id}-{n}")
        seen.add(place.place_id)
        places.append(place)
    return places


def _csv_place(path: Path, line: int, row: dict[str, str]) -> Place:
    def fail(column: str, expected: str) -> GazetteerError:
        return GazetteerError(
            f"{path} row {line} column {column}: {row.get(column, '')!r}; expected {expected}"
        )

    name = row["name"]
    if not name:
        raise fail("name", "the place's name")
    coordinates = []
    for column, limit in (("lon", 180.0), ("lat", 90.0)):
        try:
            value = float(row[column])
        except ValueError:
            raise fail(column, "a number (WGS84 degrees)") from None
        if not -limit <= value <= limit:
            raise fail(column, f"WGS84 degrees between -{limit:g} and {limit:g}")
        coordinates.append(value)
    kind = (row.get("kind") or "venue").lower()
    if kind not in PLACE_KINDS:
        raise fail("kind", " or ".join(PLACE_KINDS))
    licensed = (row.get("licensed") or "").lower()
    if licensed not in _TRUE | _FALSE:
        raise fail("licensed", "yes or no (or true/false, 1/0)")
    return Place(
        place_id=row.get("place_id") or f"csv:{_slug(name)}",
        name=name,
        kind=kind,
        category=row.get("category") or ("street" if kind == "street" else ""),
        licensed=licensed in _TRUE or _is_bar_brand(name),
        street=row.get("street") or (name if kind == "street" else ""),
        postcode=row.get("postcode", "").upper(),
        lon=coordinates[0],
        lat=coordinates[1],
        aliases=tuple(a.strip() for a in row.get("aliases", "").split(";") if a.strip()),
    )


def build_gazetteer(
    fsa_xml: Iterable[Path],
    police_uk_streets: Iterable[Path],
    bbox: Bbox | None = None,
    places_csv: Iterable[Path] = (),
    sources: Iterable[Path] = (),
    address_streets: bool = False,
) -> list[Place]:
    """All places: the hand-made CSV places first (so that, on a tie, the curated entry is
    listed first), then FSA venues and the other ``sources`` (any format
    ``sources.source_kind`` recognises), then streets from police.uk crime points, joined,
    with ``address_streets``, with the streets venues' addresses name (what a project's
    matcher uses; the synthetic city keeps the crime-point streets it was built on)."""
    from cardiffmodel.places.sources import load_sources  # it builds on this module

    paths = [*places_csv, *fsa_xml, *sources, *police_uk_streets]
    return load_sources(paths, bbox, address_streets)
