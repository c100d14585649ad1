"""The gazetteer: named places (venues, streets) with coordinates, built from open data.

Venues come from the Food Standards Agency food hygiene XML (every pub, club, takeaway and
shop that serves food has an entry with a geocode); streets come from the anonymised map
points of data.police.uk ("On or near X Street"), which cover every street where crime
was recorded.
"""

from __future__ import annotations

import csv
import re
import statistics
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# FSA business types that are licensed to sell alcohol for consumption on the premises.
LICENSED_TYPES = frozenset({"Pub/bar/nightclub"})

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


class GazetteerError(ValueError):
    """A gazetteer input file cannot be read; the message names the file and the problem."""


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
                places.append(
                    Place(
                        place_id=f"fsa:{_text(element, 'FHRSID')}",
                        name=_text(element, "BusinessName"),
                        kind="venue",
                        category=category,
                        licensed=category in LICENSED_TYPES,
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


def _street_of_address(line: str) -> str:
    """'12 Church Street' -> 'Church Street' (house numbers and unit letters dropped)."""
    return re.sub(r"^[\d\-/,\s]+[a-zA-Z]?\s+(?=[A-Za-z])", "", line).strip()


def _is_street_name(name: str) -> bool:
    lowered = name.lower()
    return bool(name) and "/" not in name and lowered not in GENERIC_POLICE_UK_NAMES


def load_police_uk_streets(paths: Iterable[Path], bbox: Bbox | None = None) -> list[Place]:
    """Streets from data.police.uk street-level crime CSVs: one entry per street name, placed
    at the median of its map points (robust to the odd far-off snap point)."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for path in paths:
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                for row in csv.DictReader(handle):
                    location = (row.get("Location") or "").removeprefix("On or near ").strip()
                    if not row.get("Longitude") or not _is_street_name(location):
                        continue
                    lon, lat = float(row["Longitude"]), float(row["Latitude"])
                    if _inside(lon, lat, bbox):
                        points[location].append((lon, lat))
        except (OSError, KeyError, ValueError) as err:
            raise GazetteerError(f"{path}: not a data.police.uk street-level CSV: {err}") from err
    return [
        Place(
            place_id="street:" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
            name=name,
            kind="street",
            category="street",
            licensed=False,
            street=name,
            postcode="",
            lon=statistics.median(p[0] for p in coords),
            lat=statistics.median(p[1] for p in coords),
        )
        for name, coords in sorted(points.items())
    ]


def build_gazetteer(
    fsa_xml: Iterable[Path], police_uk_streets: Iterable[Path], bbox: Bbox | None = None
) -> list[Place]:
    """All venues and streets inside the region, venues first."""
    places: list[Place] = []
    for path in fsa_xml:
        places.extend(load_fsa_xml(path, bbox))
    places.extend(load_police_uk_streets(police_uk_streets, bbox))
    return places
