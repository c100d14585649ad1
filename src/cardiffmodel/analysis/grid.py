"""A regular grid of square cells on the British National Grid, and incidents counted on it.

Beats and wards differ in size and shape, so a hotspot map or forecast on them partly
reflects their boundaries; equal cells of a set size in metres do not. Cells are laid out
in British National Grid (EPSG:27700) metres, where a square is a square, with corners on
multiples of the cell size so that grids of one size always line up.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import shapely
from pyproj import Transformer

from cardiffmodel.analysis.selection import Selection, filter_incidents

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class GridLayer:
    """Square cells kept from a rectangle of ``nrows`` x ``ncols`` cells.

    Attributes
    ----------
    cell_m : float
        Side of a cell in metres.
    x0, y0 : float
        British National Grid easting and northing of the rectangle's south-west corner,
        multiples of ``cell_m``.
    nrows, ncols : int
        Size of the rectangle, in cells.
    cells : numpy.ndarray of int
        Flat indices ``row * ncols + col`` of the cells kept, ascending; row 0 is the
        southernmost.
    """

    cell_m: float
    x0: float
    y0: float
    nrows: int
    ncols: int
    cells: np.ndarray

    @property
    def codes(self) -> tuple[str, ...]:
        """Each cell's code, ``E<easting>N<northing>`` of its south-west corner."""
        x, y = self._corners()
        return tuple(f"E{e:.0f}N{n:.0f}" for e, n in zip(x, y, strict=True))

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Easting and northing of each cell's centre, in metres."""
        x, y = self._corners()
        return x + self.cell_m / 2, y + self.cell_m / 2

    def boxes(self) -> np.ndarray:
        """Each cell as a shapely square in British National Grid metres."""
        x, y = self._corners()
        return shapely.box(x, y, x + self.cell_m, y + self.cell_m)

    def geometries(self) -> np.ndarray:
        """Each cell as a shapely polygon in WGS84 lon/lat, for maps."""
        return transform_geometries(self.boxes(), BNG, WGS84)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Position in ``cells`` of the cell holding each point, -1 outside the grid.

        A point on a cell edge belongs to the cell to its north and east.
        """
        col = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell_m)
        row = np.floor((np.asarray(y, dtype=float) - self.y0) / self.cell_m)
        inside = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        flat = np.where(inside, row * self.ncols + col, -1).astype(np.int64)
        position = np.searchsorted(self.cells, flat)
        found = inside & (position < len(self.cells))
        found[found] = self.cells[position[found]] == flat[found]
        return np.where(found, position, -1)

    def _corners(self) -> tuple[np.ndarray, np.ndarray]:
        row, col = np.divmod(self.cells, self.ncols)
        return self.x0 + col * self.cell_m, self.y0 + row * self.cell_m


def make_grid(
    bbox: tuple[float, float, float, float],
    cell_m: float = 250.0,
    within: shapely.Geometry | None = None,
) -> GridLayer:
    """Cells of ``cell_m`` metres covering ``bbox`` (west, south, east, north in WGS84).

    Only cells that intersect ``within`` (a WGS84 geometry, such as a local authority's
    boundary, to leave out the sea) are kept; by default, cells that intersect the bbox.
    """
    west, south, east, north = bbox
    if not (west < east and south < north) or cell_m <= 0:
        raise ValueError(
            f"grid bbox {bbox} and cell size {cell_m}: expected west < east, "
            "south < north and a positive cell size in metres"
        )
    area = shapely.box(west, south, east, north) if within is None else within
    # Densify first: a straight edge in lon/lat is a curve on the British National Grid.
    area = transform_geometries(np.array([shapely.segmentize(area, 0.001)]), WGS84, BNG)[0]
    minx, miny, maxx, maxy = area.bounds
    x0, y0 = np.floor(minx / cell_m) * cell_m, np.floor(miny / cell_m) * cell_m
    ncols = int(np.ceil((maxx - x0) / cell_m))
    nrows = int(np.ceil((maxy - y0) / cell_m))
    whole = GridLayer(cell_m, float(x0), float(y0), nrows, ncols, np.arange(nrows * ncols))
    keep = shapely.intersects(whole.boxes(), area) & ~shapely.touches(whole.boxes(), area)
    return GridLayer(cell_m, float(x0), float(y0), nrows, ncols, whole.cells[keep])


def grid_counts(t: ibis.Table, sel: Selection, grid: GridLayer) -> np.ndarray:
    """Incidents of the selection in each cell of ``grid`` (cells in ``grid.cells`` order).

    Incidents are counted per distinct point in the engine; only those points are
    projected here, since the engine has no map projection. Incidents without a
    location or outside the kept cells are not counted.
    """
    rows_in = filter_incidents(t, sel)
    rows_in = rows_in.filter(rows_in.lon.notnull(), rows_in.lat.notnull())
    found = rows_in.group_by(["lon", "lat"]).aggregate(count=rows_in.count()).to_pyarrow()
    x, y = to_bng(found["lon"].to_numpy(), found["lat"].to_numpy())
    cell = grid.locate(x, y)
    inside = cell >= 0
    weights = found["count"].to_numpy()[inside]
    return np.bincount(cell[inside], weights=weights, minlength=len(grid.cells)).astype(np.int64)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat to British National Grid easting and northing in metres.

    pyproj has no OSTN15 grid here, so positions are good to about 2 metres: ample for
    cells of hundreds of metres.
    """
    transformer = Transformer.from_crs(WGS84, BNG, always_xy=True)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def from_bng(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid metres back to WGS84 lon/lat."""
    transformer = Transformer.from_crs(BNG, WGS84, always_xy=True)
    lon, lat = transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def transform_geometries(geometries: np.ndarray, source: str, target: str) -> np.ndarray:
    """Shapely geometries reprojected from one CRS to another (a new array)."""
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(
        np.asarray(geometries, dtype=object),
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
    )
