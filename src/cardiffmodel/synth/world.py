"""The real geography of the synthetic city and the places where its violence happens.

Everything here comes from the open data in the shared data folder: venues (FSA), streets
and the police.uk anonymised map points, ward boundaries (the stand-in police beats) and
LSOA residents with their deprivation decile. Only the weights that turn places into
violence rates are invented, and those are seeded.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely import STRtree

from cardiffmodel.config import AreaConfig
from cardiffmodel.places.areas import AreaLayer, load_area_layer
from cardiffmodel.places.gazetteer import Place, build_gazetteer

BBOX = (-3.35, 51.38, -3.05, 51.57)
HOTSPOT_NAMES = ("Cathays", "Butetown")  # the city-centre and bay night-time economies
RISING_NAME = "Ely"
HOTSPOT_FACTOR = 2.5  # extra violence at places in a hotspot beat
HOTSPOT_HOME_FACTOR = 1.6  # hotspots are rougher for residents too, but less so
OUTSIDE_FACTOR = 0.25  # places in the bbox but outside every Cardiff beat
VIOLENT_POLICE_UK = "Violence and sexual offences"

# Events a year at scale 1 in each setting: the mix that makes ~27,000 true assaults,
# of which about 4,000 reach an Emergency Department and 12,000 are recorded by police.
SETTING_PER_YEAR = {
    "licensed": 3600.0,
    "nte_street": 4200.0,
    "street": 5400.0,
    "venue_other": 1500.0,
    "school_work": 900.0,
    "transport": 700.0,
    "home": 10200.0,
}
OTHER_VENUE_WEIGHTS = {
    "Takeaway/sandwich shop": 3.0,
    "Restaurant/Cafe/Canteen": 1.0,
    "Hotel/bed & breakfast/guest house": 1.0,
    "Other catering premises": 0.5,
    "Retailers - supermarkets/hypermarkets": 1.0,
    "Retailers - other": 0.3,
}
WORK_VENUE_WEIGHTS = {
    "School/college/university": 1.0,
    "Hospitals/Childcare/Caring Premises": 0.7,
}
# Postcode sectors for homes outside Cardiff (Penarth, Dinas Powys, Barry), where the
# FSA Cardiff file has no venues to borrow sectors from.
OUTSIDE_SECTORS = ("CF64 1", "CF64 2", "CF64 3", "CF64 4", "CF62 7", "CF63 4")


def to_metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Local flat coordinates in metres around Cardiff: good to a metre over 20 km."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return np.column_stack(
        ((lon + 3.18) * 111_320 * np.cos(np.radians(51.48)), (lat - 51.48) * 110_540)
    )


def from_metres(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``to_metres``."""
    lon = xy[:, 0] / (111_320 * np.cos(np.radians(51.48))) - 3.18
    return lon, xy[:, 1] / 110_540 + 51.48


@dataclass(frozen=True)
class SnapPoints:
    """The police.uk anonymised map points: where police records are published."""

    lon: np.ndarray
    lat: np.ndarray
    location: np.ndarray  # "On or near X Street"
    tree: STRtree  # over the points in metres

    def nearest(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the map point nearest each location."""
        points = shapely.points(to_metres(lon, lat))
        return self.tree.query_nearest(points, all_matches=False)[1]


@dataclass(frozen=True)
class HomeAreas:
    """Residential pieces (an LSOA cut by the beat boundaries) where homes are drawn."""

    geometries: np.ndarray  # shapely polygons, WGS84
    beat: np.ndarray  # beat code or None outside every beat
    residents: np.ndarray
    deprivation: np.ndarray  # WIMD decile 1 (most deprived) to 10
    sector: tuple[str, ...]  # a postcode sector for fake home postcodes


@dataclass(frozen=True)
class Geography:
    """The real, unseeded inputs: gazetteer, beats, homes and police.uk map points."""

    places: tuple[Place, ...]
    layer: AreaLayer
    place_beat: np.ndarray
    place_street: tuple[int, ...]  # gazetteer index of the street a place stands on, or -1
    near_licensed: np.ndarray  # licensed venues within 250 m of each place
    near_takeaways: np.ndarray  # takeaways within 150 m of each place
    nearest_venue: np.ndarray  # for streets, the nearest named venue within 120 m, or -1
    street_violence: np.ndarray  # police.uk violent crimes on each street (4 months)
    homes: HomeAreas
    snap: SnapPoints
    hotspot_beats: tuple[str, ...]
    rising_beat: str


def load_geography(data_dir: Path) -> Geography:
    """Read the shared open data once; nothing here is random."""
    police_csvs = sorted((data_dir / "police_uk").glob("*.csv"))
    places = tuple(
        build_gazetteer(
            [data_dir / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml"], police_csvs, BBOX
        )
    )
    layer = ward_beats(data_dir)
    lon = np.array([p.lon for p in places])
    lat = np.array([p.lat for p in places])
    place_beat = layer.assign(lon, lat)
    xy = to_metres(lon, lat)
    points = shapely.points(xy)
    licensed = np.array([p.licensed for p in places])
    takeaway = np.array([p.category.startswith("Takeaway") for p in places])
    venue = np.array([p.kind == "venue" for p in places])
    snap, violence_by_name = _read_police_uk(police_csvs)
    code_of = dict(zip(layer.names, layer.codes, strict=True))
    beat_sectors = _postcode_sectors(places, place_beat)
    return Geography(
        places=places,
        layer=layer,
        place_beat=place_beat,
        place_street=_streets_of_places(places),
        near_licensed=_count_within(points, licensed, 250.0),
        near_takeaways=_count_within(points, takeaway, 150.0),
        nearest_venue=_nearest_venue(points, venue, 120.0),
        street_violence=np.array(
            [violence_by_name.get(p.name, 0) if p.kind == "street" else 0 for p in places],
            dtype=float,
        ),
        homes=_home_areas(layer, data_dir, beat_sectors),
        snap=snap,
        hotspot_beats=tuple(code_of[n] for n in HOTSPOT_NAMES),
        rising_beat=code_of[RISING_NAME],
    )


def _streets_of_places(places: tuple[Place, ...]) -> tuple[int, ...]:
    """Match each venue's address line to the gazetteer street it ends with, so texts such as
    'Revolution on St Mary St' name a street the matcher can actually find."""
    streets = {p.name.lower(): i for i, p in enumerate(places) if p.kind == "street"}
    found = []
    for i, place in enumerate(places):
        if place.kind == "street":
            found.append(i)
            continue
        words = place.street.lower().split()
        suffixes = (" ".join(words[k:]) for k in range(len(words)))  # longest first
        found.append(next((streets[s] for s in suffixes if s in streets), -1))
    return tuple(found)


def _count_within(points: np.ndarray, mask: np.ndarray, metres: float) -> np.ndarray:
    targets = np.flatnonzero(mask)
    pairs = STRtree(points[targets]).query(points, predicate="dwithin", distance=metres)
    return np.bincount(pairs[0], minlength=len(points)).astype(float)


def _nearest_venue(points: np.ndarray, venue: np.ndarray, metres: float) -> np.ndarray:
    targets = np.flatnonzero(venue)
    source, target = STRtree(points[targets]).query_nearest(points, max_distance=metres)
    nearest = np.full(len(points), -1)
    nearest[source] = targets[target]
    nearest[venue] = -1
    return nearest


def _read_police_uk(paths: list[Path]) -> tuple[SnapPoints, Counter[str]]:
    points: dict[tuple[float, float], str] = {}
    violence: Counter[str] = Counter()
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                if not row["Longitude"]:
                    continue
                lon, lat = float(row["Longitude"]), float(row["Latitude"])
                if not (BBOX[0] <= lon <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]):
                    continue
                points.setdefault((lon, lat), row["Location"])
                if row["Crime type"] == VIOLENT_POLICE_UK:
                    violence[row["Location"].removeprefix("On or near ")] += 1
    keys = sorted(points)
    lon = np.array([k[0] for k in keys])
    lat = np.array([k[1] for k in keys])
    tree = STRtree(shapely.points(to_metres(lon, lat)))
    location = np.array([points[k] for k in keys], dtype=object)
    return SnapPoints(lon, lat, location, tree), violence


def _postcode_sectors(places: tuple[Place, ...], beats: np.ndarray) -> dict[str, list[str]]:
    sectors: dict[str, set[str]] = {}
    for place, beat in zip(places, beats, strict=True):
        if beat is not None and len(place.postcode) >= 6 and " " in place.postcode:
            sectors.setdefault(beat, set()).add(place.postcode[:-2])
    return {beat: sorted(found) for beat, found in sectors.items()}


def _home_areas(layer: AreaLayer, data_dir: Path, sectors: dict[str, list[str]]) -> HomeAreas:
    """Cut each LSOA by the beats so every residential piece lies in one beat (or none)."""
    lsoas = pyogrio.read_dataframe(
        data_dir / "boundaries" / "cardiff_lsoa2021_population_wimd.geojson",
        columns=["population", "wimd_decile"],
    ).to_crs("EPSG:4326")
    shapes = np.asarray(lsoas.geometry.values, dtype=object)
    population = lsoas["population"].to_numpy(float)
    decile = lsoas["wimd_decile"].fillna(5).to_numpy(float)
    lsoa_index, beat_index = STRtree(layer.geometries).query(shapes, predicate="intersects")
    pieces = shapely.intersection(shapes[lsoa_index], layer.geometries[beat_index])
    outside = shapely.difference(shapes, shapely.union_all(layer.geometries))
    geometries = np.concatenate([pieces, outside])
    owners = np.concatenate([lsoa_index, np.arange(len(shapes))])
    beat = np.concatenate(
        [
            np.asarray(layer.codes, dtype=object)[beat_index],
            np.full(len(shapes), None, dtype=object),
        ]
    )
    share = shapely.area(geometries) / shapely.area(shapes[owners])
    keep = share > 0.01  # slivers from boundaries that do not quite agree
    sector_of = [sectors.get(b) or list(OUTSIDE_SECTORS) for b in beat]
    return HomeAreas(
        geometries=geometries[keep],
        beat=beat[keep],
        residents=(population[owners] * share)[keep],
        deprivation=decile[owners][keep],
        sector=tuple(s[i % len(s)] for i, s in enumerate(sector_of) if keep[i]),
    )


def ward_beats(data_dir: Path) -> AreaLayer:
    """Cardiff's 2013 wards as the stand-in beats (beats are not open data), with residents
    summed from the 2021 LSOA populations."""
    return load_area_layer(
        AreaConfig(
            layer="beat",
            path=data_dir / "boundaries" / "cardiff_wards_2013.geojson",
            code_field="WD13CD",
            name_field="WD13NM",
            population_field="population",
            population_path=data_dir / "boundaries" / "cardiff_lsoa2021_population_wimd.geojson",
        )
    )
