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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

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
                category = _text(element, "BusinessType")
                name = _text(element, "BusinessName")
                places.append(
                    Place(
                        place_id=f"fsa:{_text(element, 'FHRSID')}",
                        name=name,
                        kind="venue",
                        category=category,
                        licensed=category in LICENSED_TYPES or _is_bar_brand(name),
                        street=_street_of_address(_text(element, "AddressLine1")),
                        postcode=_text(element, "PostCode").upper(),
                        lon=float(lon),
                        lat=float(lat),
                    )
                )
            element.clear()
    except (ET.ParseError, OSError) as err:
        raise GazetteerError(f"{path}: not a readable FSA food hygiene XML file: {err}") from err
    return places


def _is_bar_brand(name: str) -> bool:
    lowered = name.lower().removeprefix("the ")
    return any(lowered == b or lowered.startswith(b + " ") for b in LICENSED_BRANDS)


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


def load_police_uk_streets(paths: Iterable[Path], bbox: Bbox | None = None) -> list[Place]:
    """Streets from data.police.uk street-level crime CSVs, placed at the crime-weighted
    median of their map points.

    Map points of one name more than ``SAME_STREET_GAP_M`` apart become separate streets:
    the busiest keeps the plain id (``street:queen-street``), the others get ``-2``, ``-3``
    ... in decreasing order of crimes. ``crimes`` counts the records snapped to each.
    """
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
    streets = []
    for name, counts in sorted(points.items()):
        slug = "street:" + _slug(name)
        for rank, cluster in enumerate(_clusters(counts), start=1):
            streets.append(
                Place(
                    place_id=slug if rank == 1 else f"{slug}-{rank}",
                    name=name,
                    kind="street",
                    category="street",
                    licensed=False,
                    street=name,
                    postcode="",
                    lon=_weighted_median([(xy[0], n) for xy, n in cluster.items()]),
                    lat=_weighted_median([(xy[1], n) for xy, n in cluster.items()]),
                    crimes=sum(cluster.values()),
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
) -> list[Place]:
    """All venues and streets: the hand-made CSV places first (so that, on a tie, the
    curated entry is listed first), then FSA venues, then police.uk streets."""
    places: list[Place] = []
    for path in places_csv:
        places.extend(load_places_csv(path))
    for path in fsa_xml:
        places.extend(load_fsa_xml(path, bbox))
    places.extend(load_police_uk_streets(police_uk_streets, bbox))
    return places
