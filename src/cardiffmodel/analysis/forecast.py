"""Next-period hotspot forecasts on a grid or on beats.

A forecast ranks places (grid cells or areas) by expected incidents in the coming period;
patrols and prevention work then go to the top few per cent of the map. The methods are
the usual reference predictors (as in open_cp, QuantCrimAtLeeds/PredictCode): last
period's counts (the naive baseline), retrospective and prospective hotspotting (Bowers,
Johnson and Pease 2004), and kernel density. ``forecast_eval`` scores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import ibis
import numpy as np
import shapely
from scipy.spatial import cKDTree
from sklearn.neighbors import KernelDensity

from cardiffmodel.analysis.grid import (
    BNG,
    WGS84,
    GridLayer,
    from_bng,
    to_bng,
    transform_geometries,
)
from cardiffmodel.analysis.selection import Selection, add_months, filter_incidents
from cardiffmodel.places.areas import AreaLayer


@dataclass(frozen=True)
class Units:
    """The places a forecast ranks, in British National Grid metres.

    Attributes
    ----------
    codes : tuple of str
        Cell or area codes.
    x, y : numpy.ndarray
        Centre (centroid) of each unit.
    area_m2 : numpy.ndarray
        Area of each unit in square metres (``a`` and ``A`` of the PAI).
    sample_x, sample_y, sample_unit : numpy.ndarray
        Points where a density is evaluated, each standing for ``sample_m2`` square
        metres of the unit it lies in: cell centres on a grid, a lattice over areas.
    sample_m2 : float
        Area each sample point stands for.
    layer : str or None
        Incident column placing incidents in areas; None for a grid, whose incidents are
        placed by their coordinates.
    grid : GridLayer or None
        The grid, when the units are its cells.
    """

    codes: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    area_m2: np.ndarray
    sample_x: np.ndarray
    sample_y: np.ndarray
    sample_unit: np.ndarray
    sample_m2: float
    layer: str | None = None
    grid: GridLayer | None = None


@dataclass(frozen=True)
class HotspotForecast:
    """The units a method expects to be busiest next, covering a share of the area.

    Attributes
    ----------
    method : str
        The method's name.
    origin : date
        Start of the period forecast; only incidents before it were used.
    coverage : float
        Share of the total area the selection reaches.
    codes : tuple of str
        The selected units, highest score first.
    scores : numpy.ndarray
        Every unit's score, in ``Units.codes`` order (higher means more expected).
    """

    method: str
    origin: date
    coverage: float
    codes: tuple[str, ...]
    scores: np.ndarray


@dataclass(frozen=True)
class Events:
    """Incidents as points in time: one row per distinct place, day and unit.

    Attributes
    ----------
    x, y : numpy.ndarray
        British National Grid metres; NaN where the incident has no coordinates.
    day : numpy.ndarray of datetime64[D]
        Date of occurrence.
    unit : numpy.ndarray of int
        Position of the unit holding the incidents in ``Units.codes``, -1 for none.
    count : numpy.ndarray of int
        Incidents in the row.
    """

    x: np.ndarray
    y: np.ndarray
    day: np.ndarray
    unit: np.ndarray
    count: np.ndarray

    def between(self, start: date, end: date) -> Events:
        """The rows with ``start <= day < end``."""
        keep = (self.day >= np.datetime64(start, "D")) & (self.day < np.datetime64(end, "D"))
        return Events(
            *(column[keep] for column in (self.x, self.y, self.day, self.unit, self.count))
        )

    def per_unit(self, n_units: int, weights: np.ndarray | None = None) -> np.ndarray:
        """Incidents (times ``weights``, if given) in each unit."""
        placed = self.unit >= 0
        w = self.count if weights is None else self.count * weights
        return np.bincount(self.unit[placed], weights=w[placed], minlength=n_units)


class Method(Protocol):
    """A forecasting method: scores units from the incidents before ``origin``."""

    name: str

    def __call__(self, events: Events, units: Units, origin: date) -> np.ndarray: ...


@dataclass(frozen=True)
class Naive:
    """The baseline: incidents in the ``months`` calendar months just before the origin."""

    months: int = 1
    name: str = "naive"

    def __call__(self, events: Events, units: Units, origin: date) -> np.ndarray:
        return events.between(add_months(origin, -self.months), origin).per_unit(len(units.codes))


@dataclass(frozen=True)
class Retrospective:
    """Retrospective hotspotting: incidents in the last ``weeks`` weeks, all weighted alike."""

    weeks: int = 8
    name: str = "retrospective"

    def __call__(self, events: Events, units: Units, origin: date) -> np.ndarray:
        recent = events.between(origin - timedelta(weeks=self.weeks), origin)
        return recent.per_unit(len(units.codes))


@dataclass(frozen=True)
class Prospective:
    """Prospective hotspotting (Bowers, Johnson and Pease 2004).

    Each incident of the last ``weeks`` weeks adds ``1 / (1 + d) * 1 / (1 + t)`` to every
    unit whose centre is within ``bandwidth_m`` of its unit's centre, where ``d`` is that
    distance in ``cell_m`` widths and ``t`` the whole weeks elapsed before the origin: risk
    stays near recent incidents for a while (the "near repeat" pattern). On areas, the
    distances are between area centroids, so mostly an area's own incidents count.
    """

    bandwidth_m: float = 400.0
    weeks: int = 8
    cell_m: float = 250.0
    name: str = "prospective"

    def __call__(self, events: Events, units: Units, origin: date) -> np.ndarray:
        recent = events.between(origin - timedelta(weeks=self.weeks), origin)
        elapsed = (np.datetime64(origin, "D") - recent.day).astype(int) - 1
        heat = recent.per_unit(len(units.codes), 1.0 / (1 + elapsed // 7))
        tree = cKDTree(np.column_stack([units.x, units.y]))
        i, j = tree.query_pairs(self.bandwidth_m, output_type="ndarray").T
        near = 1.0 / (1 + np.hypot(units.x[i] - units.x[j], units.y[i] - units.y[j]) / self.cell_m)
        score = heat.copy()
        np.add.at(score, i, heat[j] * near)
        np.add.at(score, j, heat[i] * near)
        return score


@dataclass(frozen=True)
class KDE:
    """Kernel density of the last ``weeks`` weeks' incidents, summed over each unit.

    A Gaussian kernel of fixed, isotropic bandwidth ``bandwidth_m`` metres (its standard
    deviation; scikit-learn ``KernelDensity``): one fixed distance in metres is easier to
    explain and to compare across months than a data-driven rule.
    """

    bandwidth_m: float = 250.0
    weeks: int = 8
    name: str = "kde"

    def __call__(self, events: Events, units: Units, origin: date) -> np.ndarray:
        recent = events.between(origin - timedelta(weeks=self.weeks), origin)
        located = ~np.isnan(recent.x)
        if not located.any():
            return np.zeros(len(units.codes))
        kde = KernelDensity(bandwidth=self.bandwidth_m, rtol=1e-4).fit(
            np.column_stack([recent.x[located], recent.y[located]]),
            sample_weight=recent.count[located],
        )
        density = np.exp(kde.score_samples(np.column_stack([units.sample_x, units.sample_y])))
        mass = np.bincount(units.sample_unit, weights=density, minlength=len(units.codes))
        return mass * units.sample_m2


def grid_units(grid: GridLayer) -> Units:
    """The cells of ``grid`` as forecast units."""
    x, y = grid.centres()
    cells = np.arange(len(grid.cells))
    area = np.full(len(cells), grid.cell_m**2)
    return Units(grid.codes, x, y, area, x, y, cells, grid.cell_m**2, grid=grid)


def area_units(layer: AreaLayer, sample_m: float = 100.0) -> Units:
    """The areas of ``layer`` as forecast units, densities sampled every ``sample_m`` metres.

    An area too small to hold a lattice point is sampled at one inner point.
    """
    shapes = transform_geometries(layer.geometries, WGS84, BNG)
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    sx, sy = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(minx + sample_m / 2, maxx, sample_m),
            np.arange(miny + sample_m / 2, maxy, sample_m),
        )
    )
    owner = layer.assign(*from_bng(sx, sy))
    index = {code: i for i, code in enumerate(layer.codes)}
    unit = np.array([index.get(code, -1) for code in owner], dtype=np.int64)
    sx, sy, unit = sx[unit >= 0], sy[unit >= 0], unit[unit >= 0]
    missing = np.setdiff1d(np.arange(len(shapes)), unit)
    inner = shapely.point_on_surface(shapes[missing])
    centre = shapely.centroid(shapes)
    return Units(
        codes=layer.codes,
        x=shapely.get_x(centre),
        y=shapely.get_y(centre),
        area_m2=shapely.area(shapes),
        sample_x=np.concatenate([sx, shapely.get_x(inner)]),
        sample_y=np.concatenate([sy, shapely.get_y(inner)]),
        sample_unit=np.concatenate([unit, missing]),
        sample_m2=sample_m**2,
        layer=layer.layer,
    )


def load_events(t: ibis.Table, sel: Selection, units: Units) -> Events:
    """The selection's incidents as :class:`Events` placed in ``units``.

    Incidents are counted per distinct point, day and area in the engine. On a grid they
    are placed by coordinates; on areas by their code in the layer's column, so an
    incident placed in a beat without coordinates still counts (it only misses the KDE).
    """
    rows_in = filter_incidents(t, sel)
    keys = {"lon": rows_in.lon, "lat": rows_in.lat, "day": rows_in.occurred_date}
    if units.layer is not None:
        keys["code"] = rows_in[units.layer]
    found = rows_in.group_by(**keys).aggregate(count=rows_in.count()).to_pyarrow()
    lon = found["lon"].to_numpy().astype(float)
    x, y = to_bng(lon, found["lat"].to_numpy().astype(float))
    if units.grid is not None:
        unit = units.grid.locate(x, y)
    else:
        index = {code: i for i, code in enumerate(units.codes)}
        unit = np.array([index.get(c, -1) for c in found["code"].to_pylist()], dtype=np.int64)
    day = found["day"].to_numpy().astype("datetime64[D]")
    return Events(x, y, day, unit, found["count"].to_numpy().astype(np.int64))


def forecast_hotspots(
    events: Events,
    units: Units,
    method: Method,
    origin: date,
    coverage: float = 0.05,
    seed: int = 0,
) -> HotspotForecast:
    """The top units by ``method`` from the incidents before ``origin``, up to ``coverage``."""
    scores = method(events.between(date.min, origin), units, origin)
    tiebreak = np.random.default_rng(seed).random(len(units.codes))
    chosen = select_top(scores, units.area_m2, coverage, tiebreak)
    codes = tuple(units.codes[i] for i in chosen)
    return HotspotForecast(method.name, origin, coverage, codes, scores)


def select_top(
    scores: np.ndarray, area_m2: np.ndarray, coverage: float, tiebreak: np.ndarray
) -> np.ndarray:
    """Positions of the fewest top-scored units whose area reaches ``coverage`` of the total.

    Equal scores are ordered by ``tiebreak`` (random numbers, so that no method gains
    from the order of the codes).
    """
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage {coverage}: expected a share of the area in (0, 1]")
    order = np.lexsort((tiebreak, -np.asarray(scores, dtype=float)))
    # The tolerance keeps 5% of 2,000 equal cells at 100 cells despite rounding.
    reached = np.cumsum(area_m2[order]) >= coverage * area_m2.sum() * (1 - 1e-9)
    return order[: int(np.argmax(reached)) + 1]
