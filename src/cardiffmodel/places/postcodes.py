"""Postcodes as gazetteer places: full postcodes, and sectors where a sector is precise enough.

A location text sometimes carries a postcode ("o/s 12 Bute St CF10 5AF"); the privacy scrub
at ingest cuts every full postcode to its sector ("CF10 5"), because a full postcode with a
home pins a handful of households. So full postcodes place texts given to the matcher
directly (``cardiff places match``), and sectors place what survives ingest.

A sector holds a few thousand households and can straddle beats. The Cardiff Model maps to
beats, so a sector becomes a place only when every postcode of it in the lookup file falls
in one area of the layer it is checked against (the beat layer): then the sector says which
beat, which is all the map needs. Its point is the centroid of its postcodes, or, when a
crescent-shaped sector puts the centroid in another area, the postcode nearest to it.

The lookup file is any CSV with a header naming the postcode (``pcds``, ``pcd``, ``pcd2``
or ``postcode``) and either WGS84 ``lat``/``long`` (ONS Postcode Directory) or British
National Grid ``oseast1m``/``osnrth1m`` or ``easting``/``northing`` (Code-Point Open, with
its header row added), converted with pyproj.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from pyproj import Transformer

from cardiffmodel.places.gazetteer import Bbox, GazetteerError, Place

if TYPE_CHECKING:  # the matcher imports this module and need not load GDAL
    from cardiffmodel.places.areas import AreaLayer

POSTCODE_FIELDS = ("pcds", "pcd", "pcd2", "postcode")
LON_FIELDS = ("long", "lon", "longitude")
LAT_FIELDS = ("lat", "latitude")
EASTING_FIELDS = ("oseast1m", "easting", "eastings")
NORTHING_FIELDS = ("osnrth1m", "northing", "northings")
BRITISH_NATIONAL_GRID = "EPSG:27700"
POSTCODE_KINDS = ("postcode", "sector")

_FULL = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})")


def canonical_postcode(text: str) -> str | None:
    """'cf101bg', 'CF10 1BG', 'CF5  1AA' -> 'CF10 1BG'...; None when not a full postcode."""
    found = _FULL.fullmatch(re.sub(r"\s+", "", text.upper()))
    return f"{found.group(1)} {found.group(2)}" if found else None


def sector_of(postcode: str) -> str:
    """'CF10 1BG' -> 'CF10 1' (the outward code and the first digit of the inward code)."""
    return postcode[:-2]


def _field(header: Sequence[str], options: Sequence[str]) -> str | None:
    lowered = {h.lower(): h for h in header}
    return next((lowered[o] for o in options if o in lowered), None)


def _numbers(path: Path, values: pa.ChunkedArray, column: str) -> np.ndarray:
    """A text column as floats, blanks as NaN; anything else stops with its row named."""
    text = pd.Series(values.to_pylist(), dtype=object).fillna("").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy() & (text != "").to_numpy())
    if len(bad):
        row = int(bad[0])
        raise GazetteerError(
            f"{path} row {row + 2} column {column}: {text.iloc[row]!r}; expected a number"
        )
    return numbers.to_numpy(dtype=float, copy=True)


def _read(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Postcodes with WGS84 points (NaN where the file gives none)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            header = [h.strip() for h in handle.readline().split(",")]
    except (OSError, UnicodeDecodeError) as err:
        raise GazetteerError(f"{path}: not a readable postcode CSV: {err}") from err
    if (
        _field(header, POSTCODE_FIELDS) is None
        and header
        and canonical_postcode(header[0].strip('"'))
    ):
        return _read_code_point(path)
    postcode = _field(header, POSTCODE_FIELDS)
    lon, lat = _field(header, LON_FIELDS), _field(header, LAT_FIELDS)
    east, north = _field(header, EASTING_FIELDS), _field(header, NORTHING_FIELDS)
    wgs84 = lon is not None and lat is not None
    if postcode is None or not (wgs84 or (east is not None and north is not None)):
        raise GazetteerError(
            f"{path}: expected a postcode column (one of {list(POSTCODE_FIELDS)}) and "
            f"lat/long or easting/northing (British National Grid) columns; "
            f"the header is {header}"
        )
    columns = [postcode, *((lon, lat) if wgs84 else (east, north))]
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                include_columns=columns, column_types=dict.fromkeys(columns, pa.string())
            ),
        )
    except (pa.ArrowInvalid, OSError) as err:
        raise GazetteerError(f"{path}: not a readable postcode CSV: {err}") from err
    x = _numbers(path, table[columns[1]], columns[1])
    y = _numbers(path, table[columns[2]], columns[2])
    if wgs84:
        # ONSPD gives postcodes without a grid reference lat 99.999999
        missing = (np.abs(y) > 90) | (np.abs(x) > 180)
    else:
        missing = np.isnan(x) | np.isnan(y)
        x, y = Transformer.from_crs(BRITISH_NATIONAL_GRID, "EPSG:4326", always_xy=True).transform(
            x, y
        )
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x[missing], y[missing] = np.nan, np.nan
    return [str(p or "") for p in table[postcode].to_pylist()], x, y


# Code-Point Open CSV columns (its user guide; the data files have no header row).
CODE_POINT_COLUMNS = (
    "Postcode", "Positional_quality_indicator", "Eastings", "Northings", "Country_code",
    "NHS_regional_HA_code", "NHS_HA_code", "Admin_county_code", "Admin_district_code",
    "Admin_ward_code",
)  # fmt: skip


def _read_code_point(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Postcodes of a Code-Point Open CSV as published (no header; British National Grid)."""
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=list(CODE_POINT_COLUMNS)),
            convert_options=pacsv.ConvertOptions(
                include_columns=["Postcode", "Eastings", "Northings"],
                column_types=dict.fromkeys(CODE_POINT_COLUMNS, pa.string()),
            ),
        )
    except (pa.ArrowInvalid, OSError) as err:
        raise GazetteerError(f"{path}: not a readable Code-Point Open CSV: {err}") from err
    x = _numbers(path, table["Eastings"], "Eastings")
    y = _numbers(path, table["Northings"], "Northings")
    missing = np.isnan(x) | np.isnan(y) | ((x == 0) & (y == 0))
    x, y = Transformer.from_crs(BRITISH_NATIONAL_GRID, "EPSG:4326", always_xy=True).transform(x, y)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x[missing], y[missing] = np.nan, np.nan
    return [str(p or "") for p in table["Postcode"].to_pylist()], x, y


def load_postcodes(path: Path, bbox: Bbox | None = None) -> list[Place]:
    """Full postcodes with a point (inside ``bbox`` when given) as places of kind
    ``postcode``; rows without a point (ONSPD lists some) are skipped, and a value that is
    not a postcode stops the load with its row named."""
    codes, lon, lat = _read(path)
    places = []
    for row, (code, x, y) in enumerate(zip(codes, lon, lat, strict=True), start=2):
        postcode = canonical_postcode(code)
        if postcode is None:
            raise GazetteerError(
                f"{path} row {row}: {code!r} is not a full UK postcode (e.g. CF10 1BG)"
            )
        if np.isnan(x) or (bbox and not (bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3])):
            continue
        places.append(_postcode_place("postcode", postcode, "postcode", float(x), float(y)))
    return places


def sector_places(postcodes: Sequence[Place], within: AreaLayer) -> list[Place]:
    """Sectors (kind ``sector``) of the given postcodes that lie in one area of ``within``,
    in sector order; sectors straddling areas, or partly outside all, are left out."""
    members: dict[str, list[Place]] = defaultdict(list)
    for place in postcodes:
        if place.kind == "postcode":
            members[sector_of(place.postcode)].append(place)
    sectors = []
    for sector, units in sorted(members.items()):
        lon = np.array([u.lon for u in units])
        lat = np.array([u.lat for u in units])
        areas = set(within.assign(lon, lat).tolist())
        if len(areas) != 1 or None in areas:
            continue
        centre = (float(lon.mean()), float(lat.mean()))
        if within.assign(np.array([centre[0]]), np.array([centre[1]]))[0] not in areas:
            nearest = int(np.argmin((lon - centre[0]) ** 2 + (lat - centre[1]) ** 2))
            centre = (float(lon[nearest]), float(lat[nearest]))
        category = f"postcode sector in {within.layer} {areas.pop()}"
        sectors.append(_postcode_place("sector", sector, category, *centre))
    return sectors


def _postcode_place(kind: str, code: str, category: str, lon: float, lat: float) -> Place:
    return Place(
        place_id=f"{kind}:{code}",
        name=code,
        kind=kind,
        category=category,
        licensed=False,
        street="",
        postcode=code,
        lon=lon,
        lat=lat,
    )


class PostcodeIndex:
    """The postcode and sector places of a gazetteer, for the matcher's last resort."""

    def __init__(self, places: Sequence[Place]):
        self.places = {p.postcode: p for p in places if p.kind in POSTCODE_KINDS}
        # Outward codes a sector in a text may start with (venues' postcodes count too,
        # so a sector is recognised, and kept out of the words, even without a lookup file).
        self.districts = frozenset(p.postcode.split()[0] for p in places if " " in p.postcode)

    def locate(self, postcode: str, sector: str, home: bool) -> Place | None:
        """The full postcode's place, else its sector's; a home never gets more than its
        sector, so that a map point never pins a home closer than the privacy scrub does."""
        found = None if home or not postcode else self.places.get(postcode)
        return found or (self.places.get(sector) if sector else None)


def postcode_gazetteer(
    paths: Sequence[Path], bbox: Bbox | None, within: AreaLayer | None
) -> list[Place]:
    """The postcodes of the lookup files, then the sectors lying in one area of ``within``
    (no sectors without a layer to check them against)."""
    units = [place for path in paths for place in load_postcodes(path, bbox)]
    return units + (sector_places(units, within) if within is not None else [])
