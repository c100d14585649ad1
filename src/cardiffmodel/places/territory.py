"""The deployment's area, and how a record is placed in it and in its area layers.

A partnership covers one area (a city, a borough): the union of its beat layer, or the
polygons of a boundary file. Force-wide files (data.police.uk) cover far more, so whether
a record is inside decides whether it belongs to the deployment at all.

Where a record carries an official area code (police.uk's ``LSOA code``) and the
configured layer uses the same codes, the code is the record's area: police.uk codes the
true location before snapping it to an anonymised map point, and those points often lie
on an LSOA boundary, where point-in-polygon on generalised polygons lands on the wrong
side. Membership follows the code too: a record coded to one of the deployment's LSOAs is
inside, one coded to another LSOA is not. Layers without a code are placed by the point;
a record inside the area whose point misses every area of a layer (generalised
boundaries again) takes the area that holds most of its coded area, or else the nearest
area within ``NEAREST_METRES``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from cardiffmodel.places.areas import AreaLayer, read_polygons

# An area of a layer belongs to the deployment when this share of it lies inside.
MEMBER_SHARE = 0.5
# A point inside the area but in no area of a layer goes to the nearest one this close.
NEAREST_METRES = 100.0
# Coordinates further than this outside the area's bounds are errors, not neighbours.
MARGIN_DEGREES = 0.05
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Placement:
    """Where a batch's records are.

    Attributes
    ----------
    codes : dict
        Layer name to an array of area codes (None where unplaced); records outside the
        area have no codes.
    inside : numpy.ndarray of bool
        The record is in the deployment's area (by official code, else by point).
    checked : int
        Records whose official code the layer has and that also have a point, so that
        point-in-polygon could be compared with the code.
    differ : int
        Of those, how many point-in-polygon would have put in another area (or none).
    ignored : tuple of str
        Layers whose given codes the layer does not have at all (another code set, such
        as 2021 codes against a 2011 layer): those codes were not used.
    """

    codes: dict[str, np.ndarray]
    inside: np.ndarray
    checked: int
    differ: int
    ignored: tuple[str, ...]


class Territory:
    """The deployment's outline and area layers; see the module docstring for the rules."""

    def __init__(self, outline: shapely.Geometry, layers: Sequence[AreaLayer]):
        self.outline = outline
        shapely.prepare(outline)
        self.layers = {layer.layer: layer for layer in layers}
        self.members = {layer.layer: _members(layer, outline) for layer in layers}
        self._holders: dict[tuple[str, str], dict[str, str]] = {}

    @property
    def region_bbox(self) -> tuple[float, float, float, float]:
        """The outline's bounds widened by ``MARGIN_DEGREES``: the coordinates that can be
        checked as plausible when cardiff.toml sets no ``region_bbox``."""
        west, south, east, north = shapely.bounds(self.outline)
        m = MARGIN_DEGREES
        return (float(west - m), float(south - m), float(east + m), float(north + m))

    def usable(self, given: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The given codes of configured layers that share the layer's code set (at least
        one given code is one of the layer's); blanks become None."""
        usable = {}
        for name, codes in given.items():
            layer = self.layers.get(name)
            codes = _clean(codes)
            if layer is not None and np.isin(codes, layer.codes).any():
                usable[name] = codes
        return usable

    def holds(
        self, lon: np.ndarray, lat: np.ndarray, given: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        """Whether each record is in the area: by its official code where it has one the
        layer shares, else by its point (False without either)."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        point = ~(np.isnan(lon) | np.isnan(lat))
        inside = np.zeros(len(lon), dtype=bool)
        inside[point] = shapely.intersects_xy(self.outline, lon[point], lat[point])
        for name, codes in self.usable(given).items():
            coded = ~_blank(codes)
            inside[coded] = np.isin(codes[coded], list(self.members[name]))
        return inside

    def place(self, lon: np.ndarray, lat: np.ndarray, given: Mapping[str, np.ndarray]) -> Placement:
        """Area codes of every layer for each record, with the area test and how often
        official codes and point-in-polygon disagree."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        usable = self.usable(given)
        inside = self.holds(lon, lat, given)
        point = ~(np.isnan(lon) | np.isnan(lat))
        codes: dict[str, np.ndarray] = {}
        checked = differ = 0
        for name, layer in self.layers.items():
            found = layer.assign(lon, lat)
            if name in usable:
                official = usable[name]
                known = np.isin(official, layer.codes)
                compare = known & point
                checked += int(compare.sum())
                differ += int((found[compare] != official[compare]).sum())
                found = np.where(known, official, found)
            codes[name] = found
        for name, found in codes.items():
            if name not in usable:
                self._fill(name, found, usable, inside, lon, lat)
            found[~inside] = None
        ignored = tuple(n for n in given if n in self.layers and n not in usable)
        return Placement(codes, inside, checked, differ, ignored)

    def _fill(
        self,
        name: str,
        found: np.ndarray,
        usable: Mapping[str, np.ndarray],
        inside: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
    ) -> None:
        """Records inside the area but in no area of layer ``name``: the area holding
        most of their coded area, else the nearest within NEAREST_METRES."""
        for coded_layer, official in usable.items():
            missing = inside & _blank(found) & ~_blank(official)
            if missing.any():
                holder = self.holder(coded_layer, name)
                found[missing] = [holder.get(code) for code in official[missing]]
        missing = np.flatnonzero(inside & _blank(found) & ~np.isnan(lon) & ~np.isnan(lat))
        if len(missing):
            found[missing] = _nearest(self.layers[name], lon[missing], lat[missing])

    def holder(self, coded_layer: str, layer: str) -> dict[str, str]:
        """Code of ``coded_layer`` -> the code of the area of ``layer`` holding most of it."""
        key = (coded_layer, layer)
        if key not in self._holders:
            self._holders[key] = _largest_overlap(self.layers[coded_layer], self.layers[layer])
        return self._holders[key]


def load_territory(layers: Sequence[AreaLayer], boundary: Path | None = None) -> Territory | None:
    """The deployment's area: the boundary file's polygons, else the beat layer, else the
    first layer; None when there are no areas at all (nothing is then filtered)."""
    if boundary is not None:
        frame = read_polygons(boundary, [])
        outline = shapely.union_all(shapely.make_valid(np.asarray(frame.geometry.values)))
    elif layers:
        by_name = {layer.layer: layer for layer in layers}
        first = by_name.get("beat", layers[0])
        outline = shapely.union_all(shapely.make_valid(first.geometries))
    else:
        return None
    return Territory(outline, layers)


def _clean(codes: np.ndarray) -> np.ndarray:
    """Codes as an object array of stripped text, None where blank or missing."""
    out = np.full(len(codes), None, dtype=object)
    for i, code in enumerate(codes):
        if isinstance(code, str) and code.strip():
            out[i] = code.strip()
    return out


def _blank(codes: np.ndarray) -> np.ndarray:
    return np.fromiter((c is None for c in codes), dtype=bool, count=len(codes))


def _members(layer: AreaLayer, outline: shapely.Geometry) -> frozenset[str]:
    """Codes of the layer's areas that lie mostly inside the outline."""
    geometries = shapely.make_valid(layer.geometries)
    inside = shapely.area(shapely.intersection(geometries, outline))
    share = inside / np.maximum(shapely.area(geometries), np.finfo(float).tiny)
    return frozenset(c for c, s in zip(layer.codes, share, strict=True) if s >= MEMBER_SHARE)


def _largest_overlap(small: AreaLayer, large: AreaLayer) -> dict[str, str]:
    first = shapely.make_valid(small.geometries)
    second = shapely.make_valid(large.geometries)
    i, j = shapely.STRtree(second).query(first, predicate="intersects")
    overlap = shapely.area(shapely.intersection(first[i], second[j]))
    best: dict[str, tuple[float, str]] = {}
    for a, b, size in zip(i, j, overlap, strict=True):
        code = small.codes[a]
        if size > best.get(code, (0.0, ""))[0]:
            best[code] = (float(size), large.codes[b])
    return {code: holder for code, (_, holder) in best.items()}


def _nearest(layer: AreaLayer, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """The nearest area within NEAREST_METRES of each point (None beyond). Distances are
    in degrees, a degree taken as its north-south length, so that the reach east-west is
    shorter still and never beyond NEAREST_METRES."""
    reach = NEAREST_METRES / _METRES_PER_DEGREE
    points = shapely.points(lon, lat)
    found = [None] * len(points)
    tree = shapely.STRtree(layer.geometries)
    which, area = tree.query_nearest(points, max_distance=reach, all_matches=False)
    for w, a in zip(which, area, strict=True):
        found[w] = layer.codes[a]
    return found
