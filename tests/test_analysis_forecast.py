"""Hotspot forecasts and their scores (HR, PAI, PEI) on hand-worked and simulated data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cardiffmodel import testing
from cardiffmodel.analysis.forecast import (
    KDE,
    Events,
    Naive,
    Prospective,
    Retrospective,
    Units,
    area_units,
    forecast_hotspots,
    grid_units,
    load_events,
)
from cardiffmodel.analysis.forecast_eval import Hits, coverage_hits, evaluate_forecasts
from cardiffmodel.analysis.grid import GridLayer, from_bng, make_grid
from cardiffmodel.analysis.selection import Selection, add_months
from cardiffmodel.config import AreaConfig
from cardiffmodel.places.areas import load_area_layer

START = date(2019, 1, 1)
ORIGINS = [date(2019, m, 1) for m in (6, 7, 8, 9)]


def square_grid(side: int, cell_m: float = 250.0) -> GridLayer:
    """``side`` x ``side`` cells of ``cell_m`` metres in central Cardiff."""
    return GridLayer(cell_m, 316000.0, 174000.0, side, side, np.arange(side * side))


@dataclass(frozen=True)
class Random:
    """Every unit scores alike, so the seeded tie-break alone ranks them."""

    name: str = "random"

    def __call__(self, events: Events, units: Units, origin: date) -> np.ndarray:
        return np.zeros(len(units.codes))


def simulate(units: Units, grid: GridLayer, seed: int = 1) -> Events:
    """Nine months: a persistent hotspot (4 a day, 150 m about one point) over uniform noise
    (6 a day over the whole grid)."""
    rng = np.random.default_rng(seed)
    side = grid.ncols * grid.cell_m
    xs, ys, days = [], [], []
    for day in range((date(2019, 10, 1) - START).days):
        n = rng.poisson(4)
        xs.append(grid.x0 + 1400 + rng.normal(0, 150, n))
        ys.append(grid.y0 + 3300 + rng.normal(0, 150, n))
        m = rng.poisson(6)
        xs.append(grid.x0 + rng.uniform(0, side, m))
        ys.append(grid.y0 + rng.uniform(0, side, m))
        days.append(np.full(n + m, np.datetime64(START, "D") + day))
    x, y = np.concatenate(xs), np.concatenate(ys)
    return Events(x, y, np.concatenate(days), grid.locate(x, y), np.ones(len(x), dtype=int))


@pytest.fixture(scope="module")
def simulated():
    grid = square_grid(20)
    units = grid_units(grid)
    return units, simulate(units, grid)


def test_hand_worked_hit_rate_pai_and_pei_on_equal_cells():
    actual = np.array([5, 3, 0, 0, 2, 0, 0, 0, 0, 0])
    scores = np.array([0, 9, 0, 0, 8, 0, 0, 0, 0, 0])
    hits = coverage_hits(scores, actual, np.ones(10), 0.2, np.zeros(10))
    # Cells 1 and 4 are chosen: 3 + 2 of 10 incidents in 2 of 10 cells; the best two
    # cells (0 and 1) held 5 + 3.
    assert hits == Hits(n=5, total=10, area=2.0, total_area=10.0, best=8.0)
    assert (hits.hit_rate, hits.pai, hits.pei) == (0.5, 2.5, 5 / 8)


def test_hand_worked_scores_on_unequal_areas_never_overstate_pei():
    actual, area = np.array([4, 3, 0]), np.array([2.0, 1.0, 1.0])
    hits = coverage_hits(np.array([1, 0, 0]), actual, area, 0.25, np.zeros(3))
    # Area 0 alone reaches a quarter of the 4 m2: a = 2, n = 4 of 7, so PAI = (4/7)/(2/4).
    assert (hits.n, hits.area) == (4, 2.0)
    assert_allclose([hits.hit_rate, hits.pai], [4 / 7, 8 / 7])
    # Best 2 m2: area 1 (3 incidents in 1 m2) and half of area 0 (2): bound 5, while
    # the best whole selection holds 4, so PEI is 0.8, not 1.
    assert hits.best == 5.0 and hits.pei == 0.8
    missed = coverage_hits(np.array([0, 0, 1]), actual, area, 0.25, np.zeros(3))
    assert (missed.n, missed.area, missed.best, missed.pei) == (0, 1.0, 3.0, 0.0)


def test_ties_are_broken_by_the_given_order_and_coverage_is_checked():
    actual = np.array([0, 0, 7, 0])
    first = coverage_hits(np.zeros(4), actual, np.ones(4), 0.25, np.array([0.9, 0.8, 0.1, 0.5]))
    assert first.n == 7
    last = coverage_hits(np.zeros(4), actual, np.ones(4), 0.25, np.array([0.1, 0.2, 0.9, 0.5]))
    assert last.n == 0
    with pytest.raises(ValueError, match=r"coverage 0: expected a share"):
        coverage_hits(np.zeros(4), actual, np.ones(4), 0, np.zeros(4))


def test_an_oracle_reaches_the_pai_bound_and_pei_of_one():
    rng = np.random.default_rng(0)
    actual = np.zeros(400)
    actual[rng.choice(400, 15, replace=False)] = rng.integers(1, 9, 15)
    for coverage in (0.05, 0.10):
        hits = coverage_hits(actual, actual, np.ones(400), coverage, rng.random(400))
        # Every incident lies in 15 cells, fewer than the 20 or 40 selected.
        assert hits.hit_rate == 1.0
        assert hits.pai == pytest.approx(1 / coverage)
        assert hits.pei == 1.0


def test_methods_beat_a_random_ranking_and_pei_never_exceeds_one(simulated):
    units, events = simulated
    methods = [Naive(), Retrospective(), Prospective(), KDE(), Random()]
    scores = evaluate_forecasts(events, units, methods, ORIGINS, seed=3)
    assert len(scores) == len(methods) * 3
    table = {(s.method, s.coverage): s for s in scores}
    for coverage in (0.01, 0.05, 0.10):
        random = table["random", coverage]
        # A random ranking's expected PAI is 1; 1% of 400 cells is too few to be close.
        assert random.pai_mean < 2 or coverage == 0.01
        for method in methods[:-1]:
            found = table[method.name, coverage]
            assert found.pai_mean > 2 * random.pai_mean, (method.name, coverage)
            assert found.origins == tuple(ORIGINS) and len(found.pai) == len(ORIGINS)
    for s in scores:
        assert all(0 <= p <= 1 for p in s.pei)
        assert all(0 <= h <= 1 for h in s.hit_rate)
        assert all(p <= 1 / s.coverage + 1e-9 for p in s.pai)


def test_methods_see_only_the_incidents_before_each_origin(simulated):
    units, events = simulated
    seen = []

    @dataclass(frozen=True)
    class Spy:
        name: str = "spy"

        def __call__(self, history: Events, units: Units, origin: date) -> np.ndarray:
            seen.append((history.day.max(), origin))
            return np.zeros(len(units.codes))

    evaluate_forecasts(events, units, [Spy()], ORIGINS)
    assert [origin for _, origin in seen] == ORIGINS
    assert all(last < np.datetime64(origin) for last, origin in seen)
    with pytest.raises(ValueError, match="distinct names"):
        evaluate_forecasts(events, units, [Naive(), Naive()], ORIGINS)


def events_at(units: Units, cell: int, *visits: tuple[date, int]) -> Events:
    """Incidents at the centre of one cell: ``count`` of them on each ``(day, count)``."""
    days, counts = zip(*visits, strict=True)
    where = np.full(len(visits), cell)
    return Events(
        units.x[where], units.y[where], np.array(days, "datetime64[D]"), where, np.array(counts)
    )


def test_prospective_weights_follow_bowers_distance_and_week_decay():
    units = grid_units(square_grid(5))
    centre = 12  # row 2, column 2
    origin = date(2019, 6, 1)
    yesterday = events_at(units, centre, (origin - timedelta(days=1), 1))
    score = Prospective()(yesterday, units, origin)
    assert score[centre] == 1.0
    assert score[centre + 1] == 0.5  # 250 m away: one cell width
    assert score[centre + 6] == pytest.approx(1 / (1 + np.sqrt(2)))  # diagonal, 354 m
    assert score[centre + 2] == 0.0  # 500 m: beyond the 400 m bandwidth
    assert np.count_nonzero(score) == 9
    week_ago = events_at(units, centre, (origin - timedelta(days=8), 1))
    assert Prospective()(week_ago, units, origin)[centre] == 0.5
    too_old = events_at(units, centre, (origin - timedelta(weeks=9), 1))
    assert not Prospective()(too_old, units, origin).any()


def test_retrospective_naive_and_kde_windows():
    units = grid_units(square_grid(40))
    origin = date(2019, 6, 1)
    visits = ((date(2019, 5, 20), 2), (date(2019, 4, 20), 3), (date(2019, 3, 1), 5))
    events = events_at(units, 820, *visits)
    assert Naive()(events, units, origin)[820] == 2  # May only
    assert Retrospective(weeks=8)(events, units, origin)[820] == 5  # since 6 April
    assert Retrospective(weeks=20)(events, units, origin)[820] == 10
    density = KDE(bandwidth_m=250, weeks=8)(events, units, origin)
    assert density.argmax() == 820
    # The kernel's mass, 5 km (20 bandwidths) from any edge, lies within the grid.
    assert density.sum() == pytest.approx(1.0, abs=0.01)
    assert not KDE(weeks=1)(events, units, origin).any()


def test_forecast_hotspots_picks_the_top_cells(simulated):
    units, events = simulated
    found = forecast_hotspots(events, units, Retrospective(), ORIGINS[0], coverage=0.01)
    assert len(found.codes) == 4  # 1% of 400 cells
    top = set(np.argsort(-found.scores)[:4])
    assert {units.codes.index(c) for c in found.codes} == top
    assert (found.method, found.origin) == ("retrospective", ORIGINS[0])
    later = Events(*(np.concatenate([a, a]) for a in events.__dict__.values()))
    again = forecast_hotspots(later, units, Retrospective(), ORIGINS[0], coverage=0.01)
    assert_array_equal(again.scores, 2 * found.scores)


@pytest.fixture(scope="module")
def wards(shared_data):
    path = shared_data / "boundaries" / "cardiff_wards_2013.geojson"
    config = AreaConfig(layer="beat", path=path, code_field="WD13CD", name_field="WD13NM")
    return load_area_layer(config)


def test_area_units_measure_the_wards_in_square_metres(wards):
    units = area_units(wards, sample_m=200)
    # Cardiff is about 140 km2.
    assert 130e6 < units.area_m2.sum() < 150e6
    assert set(units.sample_unit) == set(range(len(wards.codes)))
    sampled = np.bincount(units.sample_unit) * units.sample_m2
    assert_allclose(sampled, units.area_m2, rtol=0.2)
    assert units.layer == "beat" and units.grid is None


@pytest.fixture
def store(tmp_path, wards):
    """Three incidents: two at one point on one day, one placed in a ward only."""
    x, y = 318100.0, 176100.0  # central Cardiff
    lon, lat = from_bng(np.array([x]), np.array([y]))
    code = wards.assign(lon, lat)[0]
    rows = []
    for n, fields in enumerate(
        [
            {"lon": lon[0], "lat": lat[0], "beat": code},
            {"lon": lon[0], "lat": lat[0], "beat": code},
            {"beat": code},
        ]
    ):
        rows.append(testing.incident(date(2019, 2, 3), incident_id=f"i{n}", **fields))
    path = tmp_path / "store.duckdb"
    testing.write_incidents(path, rows)
    return testing.open_incidents(path), code


def test_load_events_places_incidents_on_a_grid_or_in_wards(store, wards):
    t, code = store
    february = Selection(date(2019, 2, 1), add_months(date(2019, 2, 1), 1))
    grid = make_grid((-3.35, 51.38, -3.05, 51.57), 250)
    on_grid = load_events(t, february, grid_units(grid))
    assert on_grid.per_unit(len(grid.cells)).sum() == 2  # the third has no coordinates
    assert grid.codes[on_grid.unit[on_grid.unit >= 0][0]] == "E318000N176000"
    in_wards = load_events(t, february, area_units(wards, sample_m=500))
    per_ward = in_wards.per_unit(len(wards.codes))
    assert per_ward.sum() == 3 and per_ward[wards.codes.index(code)] == 3
    assert sorted(in_wards.count) == [1, 2]  # aggregated per point and day in the engine
    empty = load_events(t, Selection(date(2019, 3, 1), date(2019, 4, 1)), grid_units(grid))
    assert len(empty.count) == 0
