"""Area layers (beats, LSOAs, wards, local authorities) and point-in-polygon assignment.

Any format GDAL reads (GeoJSON, Shapefile, KML, GeoPackage) in any CRS is loaded and held
in WGS84 lon/lat, the CRS of the incident table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely

from cardiffmodel.config import AreaConfig

WGS84 = "EPSG:4326"
# Overlaps below this share of a population area are boundary slivers, not residents.
SLIVER = 0.05
LOG = logging.getLogger(__name__)


class AreaError(ValueError):
    """An area layer file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class AreaLayer:
    """Polygons of one layer with their codes, names and (where known) residents."""

    layer: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    geometries: np.ndarray  # shapely geometries, WGS84
    population: tuple[float | None, ...]

    def name_of(self, code: str) -> str:
        return self.names[self.codes.index(code)]

    def lookup(self, only: tuple[str, ...] | None = None) -> dict[str, tuple[str, float | None]]:
        """code -> (name, residents), for the analysis layer; ``only`` keeps some codes."""
        return {
            code: (name, people)
            for code, name, people in zip(self.codes, self.names, self.population, strict=True)
            if only is None or code in only
        }

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The code of the area holding each point, or None outside every area or without
        a point (NaN).

        A point on a shared boundary belongs to both polygons; it goes to the area whose
        code sorts first, so the answer never depends on file order. Areas are visited in
        code order; each tests only the points inside its bounding box (found by binary
        search on the points sorted by longitude) with a prepared polygon, which is about
        five times faster than a spatial join over point objects.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        result = np.full(len(lon), None, dtype=object)
        valid = np.flatnonzero(~(np.isnan(lon) | np.isnan(lat)))
        order = valid[np.argsort(lon[valid], kind="stable")]
        xs, ys = lon[order], lat[order]
        placed = np.zeros(len(order), dtype=bool)
        shapely.prepare(self.geometries)  # a cache inside each geometry; values unchanged
        bounds = shapely.bounds(self.geometries)
        for k in sorted(range(len(self.codes)), key=self.codes.__getitem__):
            west, south, east, north = bounds[k]
            lo = np.searchsorted(xs, west, side="left")
            hi = np.searchsorted(xs, east, side="right")
            near = lo + np.flatnonzero((ys[lo:hi] >= south) & (ys[lo:hi] <= north))
            near = near[~placed[near]]
            inside = near[shapely.intersects_xy(self.geometries[k], xs[near], ys[near])]
            placed[inside] = True
            result[order[inside]] = self.codes[k]
        return result


def read_polygons(path: Path, columns: list[str]):
    """Read a polygon file into a GeoDataFrame in WGS84, with a clear error if unusable."""
    if not path.exists():
        raise AreaError(f"{path}: area layer file not found")
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as err:  # pyogrio raises several GDAL error types
        raise AreaError(f"{path}: cannot read as a polygon layer: {err}") from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AreaError(f"{path}: missing field(s) {missing}; fields are {list(frame.columns)}")
    if frame.crs is None:
        raise AreaError(f"{path}: has no coordinate reference system")
    return frame.to_crs(WGS84)


def load_area_layer(config: AreaConfig) -> AreaLayer:
    """Load a configured layer; population comes from its own field or, when another
    population layer is named, from that layer's areas shared out by overlap
    (:func:`apportion`)."""
    fields = [config.code_field, config.name_field]
    if config.population_field and not config.population_path:
        fields.append(config.population_field)
    frame = read_polygons(config.path, fields)
    codes = tuple(str(c) for c in frame[config.code_field])
    if len(set(codes)) != len(codes):
        raise AreaError(f"{config.path}: codes in field {config.code_field!r} are not unique")
    layer = AreaLayer(
        layer=config.layer,
        codes=codes,
        names=tuple(str(n) for n in frame[config.name_field]),
        geometries=np.asarray(frame.geometry.values, dtype=object),
        population=tuple([None] * len(codes)),
    )
    if config.population_field is None:
        return layer
    if config.population_path is None:
        population = tuple(float(p) for p in frame[config.population_field])
    else:
        population = _population_from(layer, config.population_path, config.population_field)
    return AreaLayer(layer.layer, layer.codes, layer.names, layer.geometries, population)


def _population_from(layer: AreaLayer, path: Path, field: str) -> tuple[float | None, ...]:
    small = read_polygons(path, [field])
    shares = apportion(layer, np.asarray(small.geometry.values, dtype=object), small[field])
    if shares.outside or shares.stretched:
        LOG.warning(
            "%s: %d of %d population areas (%s residents) lie outside every %s area and are "
            "not counted; %d more are partly outside by over %.0f%% (coast or generalised "
            "boundaries) and give all their %s residents to the part inside",
            path,
            len(shares.outside),
            len(small),
            f"{shares.outside_people:,.0f}",
            layer.layer,
            len(shares.stretched),
            SLIVER * 100,
            f"{shares.stretched_people:,.0f}",
        )
    return tuple(shares.population[c] or None for c in layer.codes)


@dataclass(frozen=True)
class Apportioned:
    """Residents of a finer population layer shared out over an area layer.

    Attributes
    ----------
    population : dict
        Residents per area code of the target layer.
    outside : tuple of int
        Positions (in the population file) of the areas outside every target area: their
        residents are not counted anywhere.
    outside_people : float
        How many residents that is.
    stretched : tuple of int
        Positions of the areas partly outside (by more than ``SLIVER`` of their area):
        all their residents went to the part inside, since the part outside is water or
        a generalisation gap far more often than a neighbour's homes.
    stretched_people : float
        The residents of those areas.
    """

    population: dict[str, float]
    outside: tuple[int, ...]
    outside_people: float
    stretched: tuple[int, ...]
    stretched_people: float


def apportion(layer: AreaLayer, geometries: np.ndarray, values) -> Apportioned:
    """Share each small area's residents over the areas of ``layer`` by overlap.

    An area's residents are split in proportion to the part of it inside each target
    area. Overlaps under ``SLIVER`` of its area are left out: two boundary sets
    generalised differently overlap in thin slivers that would hand a neighbouring
    authority's residents to the edge beats. What remains shares all the residents, so a
    coastal area whose polygon runs out over the water still counts everyone. An area
    inside no target area (beyond slivers) is reported, never spread.

    Areas are compared in degrees of lon/lat: within one small area the scale is
    constant, so the shares are those an equal-area projection gives.
    """
    people = np.asarray(values, dtype=float)
    geometries = shapely.make_valid(geometries)
    targets = shapely.make_valid(layer.geometries)
    small, target = shapely.STRtree(targets).query(geometries, predicate="intersects")
    overlap = shapely.area(shapely.intersection(geometries[small], targets[target]))
    share = overlap / np.maximum(shapely.area(geometries[small]), np.finfo(float).tiny)
    keep = share >= SLIVER
    small, target, share = small[keep], target[keep], share[keep]
    covered = np.bincount(small, weights=share, minlength=len(geometries))
    spread = people[small] * share / covered[small]
    totals = np.bincount(target, weights=spread, minlength=len(layer.codes))
    outside = np.flatnonzero(covered == 0)
    stretched = np.flatnonzero((covered > 0) & (covered < 1 - SLIVER))
    return Apportioned(
        population={code: float(total) for code, total in zip(layer.codes, totals, strict=True)},
        outside=tuple(int(i) for i in outside),
        outside_people=float(people[outside].sum()),
        stretched=tuple(int(i) for i in stretched),
        stretched_people=float(people[stretched].sum()),
    )
