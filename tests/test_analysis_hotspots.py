"""Hotspots on the real Cardiff wards and on a British National Grid grid, via esda."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from esda import G_Local, Moran_Local
from numpy.testing import assert_allclose, assert_array_equal

from cardiffmodel import testing
from cardiffmodel.analysis.grid import GridLayer, grid_counts, make_grid, to_bng
from cardiffmodel.analysis.hotspots import (
    contiguity,
    counts_by_area,
    gi_star,
    hotspot_persistence,
    local_moran,
)
from cardiffmodel.analysis.selection import Selection, month_selection
from cardiffmodel.cli import main
from cardiffmodel.config import AreaConfig, write_settings
from cardiffmodel.places.areas import load_area_layer

HEATH = "W05000864"  # an inland ward with eight neighbours
SIGNIFICANT = ("hot", "cold", "high_low", "low_high")


@pytest.fixture(scope="module")
def wards(shared_data):
    path = shared_data / "boundaries" / "cardiff_wards_2013.geojson"
    config = AreaConfig(layer="beat", path=path, code_field="WD13CD", name_field="WD13NM")
    return load_area_layer(config)


@pytest.fixture(scope="module")
def graph(wards):
    return contiguity(wards.geometries, wards.codes)


def cluster_of(graph) -> set[str]:
    return {HEATH, *graph[HEATH].index}


def planted(graph, seed: int) -> np.ndarray:
    """Poisson counts: mean 30 in Heath and its neighbours, 3 everywhere else."""
    rng = np.random.default_rng(seed)
    inside = np.isin(graph.unique_ids, list(cluster_of(graph)))
    return np.where(inside, rng.poisson(30, graph.n), rng.poisson(3, graph.n))


@pytest.mark.parametrize("statistic", [gi_star, local_moran])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_planted_cluster_of_wards_is_hot_and_nothing_else_is_flagged(graph, statistic, seed):
    result = statistic(planted(graph, seed), graph, seed=seed)
    hot = set(result.codes_of("hot"))
    assert HEATH in hot
    assert hot <= cluster_of(graph)
    flagged = {code for kind in SIGNIFICANT for code in result.codes_of(kind)}
    assert flagged == hot
    assert result.z[result.codes.index(HEATH)] > 3


@pytest.mark.parametrize("statistic", [gi_star, local_moran])
def test_pure_poisson_noise_flags_no_more_than_the_false_discovery_rate(graph, statistic):
    """Under no clustering at all every flag is false, so the false discovery rate is the
    chance of flagging anything: it must stay near alpha, while the unadjusted p-values
    flag about alpha of all areas, and hence something in most replications."""
    alpha, replications = 0.05, 100
    flagged_share, any_flagged, raw_share = [], 0, []
    for seed in range(replications):
        counts = np.random.default_rng(1000 + seed).poisson(5, graph.n)
        result = statistic(counts, graph, permutations=1999, seed=seed, alpha=alpha)
        flagged = np.isin(result.classification, SIGNIFICANT)
        flagged_share.append(flagged.mean())
        any_flagged += flagged.any()
        raw_share.append((np.minimum(1, 2 * result.p_sim) <= alpha).mean())
    assert np.mean(flagged_share) <= alpha
    # Binomial(100, 0.05) exceeds 11 with probability below 0.5%.
    assert any_flagged <= 11
    assert 0.03 <= np.mean(raw_share) <= 0.08


def test_gi_star_z_matches_the_ord_getis_formula_on_independent_neighbours(wards, graph):
    """Ord and Getis (1995), eq. 14, with binary weights including the area itself."""
    geoms = wards.geometries
    near = shapely.intersects(geoms[:, None], geoms[None, :])
    order = [wards.codes.index(code) for code in graph.unique_ids]
    w = near[np.ix_(order, order)].astype(float)  # queen contiguity plus the diagonal
    assert_array_equal(w - np.eye(len(w)), graph.sparse.toarray())
    x = planted(graph, 7).astype(float)
    n = len(x)
    mean, sd = x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    wsum = w.sum(axis=1)
    direct = (w @ x - mean * wsum) / (sd * np.sqrt((n * (w**2).sum(axis=1) - wsum**2) / (n - 1)))
    assert_allclose(gi_star(x, graph).z, direct, rtol=1e-10)


def test_local_moran_values_match_the_anselin_formula(graph):
    """Anselin (1995): I_i = (n - 1) z_i sum_j w_ij z_j / sum_k z_k^2, rows summing to 1."""
    x = planted(graph, 3).astype(float)
    w = graph.sparse.toarray()
    w = w / w.sum(axis=1, keepdims=True)
    z = x - x.mean()
    direct = (len(x) - 1) * z * (w @ z) / (z**2).sum()
    assert_allclose(local_moran(x, graph).values, direct, rtol=1e-10)


def busiest_among_quiet_neighbours(graph) -> np.ndarray:
    """Heath far busier than anywhere, its neighbours empty, the rest middling: the
    busiest area of a city whose neighbours are quieter than the rest."""
    inside = np.isin(graph.unique_ids, list(cluster_of(graph) - {HEATH}))
    counts = np.where(inside, 0, 10)
    counts[graph.unique_ids.get_loc(HEATH)] = 200
    return counts


def simulated_tails(statistic, counts, graph, permutations, seed):
    """Upper and lower pseudo p-values (ties counted) from esda's own permutations."""
    y = counts.astype(float)
    options = {"permutations": permutations, "seed": seed, "n_jobs": 1, "keep_simulations": True}
    with warnings.catch_warnings():  # esda's notice of a future default; p-values unused
        warnings.simplefilter("ignore", DeprecationWarning)
        if statistic is gi_star:
            g = G_Local(y, graph, transform="B", star=True, **options)
            observed, sims = g.Gs, g.rGs
        else:
            m = Moran_Local(y, graph, transformation="r", **options)
            observed, sims = m.Is, m.rlisas
    upper = ((sims >= observed[:, None] - 1e-9).sum(axis=1) + 1) / (permutations + 1)
    lower = ((sims <= observed[:, None] + 1e-9).sum(axis=1) + 1) / (permutations + 1)
    return upper, lower


@pytest.mark.parametrize("statistic", [gi_star, local_moran])
@pytest.mark.parametrize("case", ["planted", "busiest", "noise"])
def test_every_label_names_the_tail_its_p_value_comes_from(graph, statistic, case):
    """Hot (Gi*) and like-neighbour classes (Local Moran) are tested in the upper tail,
    cold (Gi*) and outliers in the lower one, on every area, significant or not."""
    counts = {
        "planted": planted(graph, 4),
        "busiest": busiest_among_quiet_neighbours(graph),
        "noise": np.random.default_rng(9).poisson(5, graph.n),
    }[case]
    result = statistic(counts, graph, permutations=999, seed=3)
    upper, lower = simulated_tails(statistic, counts, graph, 999, 3)
    upper_kinds = ("hot",) if statistic is gi_star else ("hot", "cold")
    in_upper = np.isin(result.direction, upper_kinds)
    assert_allclose(result.p_sim, np.where(in_upper, upper, lower), rtol=1e-12)
    if statistic is gi_star:
        assert_array_equal(in_upper, result.z > 0)
    for kind, direction in zip(result.classification, result.direction, strict=True):
        assert kind in (direction, "not_significant")


def test_the_busiest_area_with_quiet_neighbours_is_not_called_a_hot_spot(graph):
    """Gi*'s z is positive (the area is the neighbourhood's bulk), but with its own count
    held, its neighbours fall in the lower tail: the label's tail gives p > 0.5."""
    result = gi_star(busiest_among_quiet_neighbours(graph), graph, permutations=999, seed=0)
    heath = result.codes.index(HEATH)
    upper, lower = simulated_tails(gi_star, busiest_among_quiet_neighbours(graph), graph, 999, 0)
    assert result.z[heath] > 0 and lower[heath] < 0.5 < upper[heath]
    assert result.direction[heath] == "hot"
    assert result.p_sim[heath] > 0.5
    assert result.classification[heath] == "not_significant"


def test_results_are_seeded_and_inputs_untouched(graph):
    counts = planted(graph, 0)
    before_counts, before_graph = counts.copy(), graph.copy()
    first = gi_star(counts, graph, permutations=999, seed=5)
    again = gi_star(counts, graph, permutations=999, seed=5)
    other = gi_star(counts, graph, permutations=999, seed=6)
    assert_array_equal(first.p_sim, again.p_sim)
    assert not np.array_equal(first.p_sim, other.p_sim)
    assert (first.seed, first.permutations) == (5, 999)
    assert_array_equal(counts, before_counts)
    local_moran(counts, graph)
    assert graph.equals(before_graph)


def test_islands_are_not_tested_and_equal_counts_flag_nothing():
    whole = make_grid((-3.2, 51.45, -3.15, 51.5), cell_m=1000)
    # Three by three cells, plus one cell far from them.
    block = [r * whole.ncols + c for r in range(3) for c in range(3)]
    cells = np.array([*block, 5 * whole.ncols + 5])
    grid = GridLayer(whole.cell_m, whole.x0, whole.y0, whole.nrows, whole.ncols, cells)
    graph = contiguity(grid.boxes(), grid.codes)
    counts = np.array([9, 8, 1, 7, 9, 1, 1, 1, 2, 50])
    for statistic in (gi_star, local_moran):
        result = statistic(counts, graph, permutations=999)
        assert result.classification[-1] == "no_neighbours"
        assert np.isnan(result.p_sim[-1]) and np.isnan(result.p_adjusted[-1])
        assert not np.isnan(result.p_sim[:-1]).any()
        flat = statistic(np.zeros(10), graph, permutations=999)
        assert flat.classification == ("not_significant",) * 9 + ("no_neighbours",)


def test_bad_inputs_are_refused_with_what_was_expected(graph):
    with pytest.raises(ValueError, match=r"expected \(29,\)"):
        gi_star(np.ones(3), graph)
    with pytest.raises(TypeError, match="libpysal Graph"):
        gi_star(np.ones(29), graph.to_W())
    with pytest.raises(ValueError, match="'queen', 'rook' or 'fuzzy'"):
        contiguity(np.array([]), [], rule="bishop")


def test_gi_star_refuses_a_seed_numpy_cannot_take(graph):
    with pytest.raises(ValueError, match=r"seed -1: expected a whole number from 0 to 2\*\*32 - 1"):
        gi_star(np.ones(29), graph, seed=-1)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--permutations", "10", "10 is not in the range x>=99"),
        ("--alpha", "1.5", "1.5 is not in the range 0<x<1"),
        ("--alpha", "0", "0.0 is not in the range 0<x<1"),
        ("--seed", "-1", "-1 is not in the range 0<=x<=4294967295"),
        ("--history", "0", "0 is not in the range x>=1"),
    ],
)
def test_out_of_range_options_are_one_clear_line(tmp_path, option, value, expected):
    args = ["--project", str(tmp_path), "analyse", "hotspots", "--period", "2019-01"]
    result = CliRunner().invoke(main, [*args, option, value])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a usage error, not a traceback
    assert f"Error: Invalid value for '{option}': {expected}" in result.output


def test_excess_against_population_without_populations_is_one_clear_line(tmp_path, shared_data):
    layer = {
        "layer": "beat",
        "path": str(shared_data / "boundaries/cardiff_wards_2013.geojson"),
        "code_field": "WD13CD",
        "name_field": "WD13NM",
    }
    write_settings({"project": {"name": "t", "store": "s.duckdb"}, "areas": [layer]}, tmp_path)
    testing.store_batch(
        tmp_path / "s.duckdb",
        [testing.incident("2019-01-02", beat=HEATH)],
        "uhw",
        "ed",
        (date(2019, 1, 1), date(2019, 1, 31)),
    )
    args = ["--project", str(tmp_path), "analyse", "hotspots", "--period", "2019-01"]
    result = CliRunner().invoke(main, [*args, "--statistic", "excess", "--basis", "population"])
    assert result.exit_code == 1
    message = "excess against population: no area of the layer has a population"
    assert result.stderr.splitlines()[-1] == f"Error: {message}"


def test_grid_cells_line_up_on_the_national_grid_and_know_their_neighbours():
    grid = make_grid((-3.35, 51.38, -3.05, 51.57), cell_m=250)
    assert grid.x0 % 250 == 0 and grid.y0 % 250 == 0
    assert len(grid.codes) == len(set(grid.codes)) == len(grid.cells)
    x, y = grid.centres()
    assert_array_equal(grid.locate(x, y), np.arange(len(grid.cells)))
    assert_array_equal(grid.locate(np.array([0.0]), np.array([0.0])), [-1])
    # Cardiff Castle lies in one 250 m cell whose code names its south-west corner.
    cx, cy = to_bng(np.array([-3.1810]), np.array([51.4822]))
    code = grid.codes[grid.locate(cx, cy)[0]]
    assert code == f"E{cx[0] // 250 * 250:.0f}N{cy[0] // 250 * 250:.0f}"
    queen = contiguity(grid.boxes(), grid.codes).cardinalities.max()
    rook = contiguity(grid.boxes(), grid.codes, rule="rook").cardinalities.max()
    assert (queen, rook) == (8, 4)
    back = np.array([shapely.area(g) for g in grid.geometries()[:1]])
    assert back[0] > 0


def test_a_grid_within_the_wards_leaves_out_the_sea(wards):
    bbox = (-3.35, 51.38, -3.05, 51.57)
    land = shapely.intersection(shapely.union_all(wards.geometries), shapely.box(*bbox))
    clipped = make_grid(bbox, 500, within=land)
    whole = make_grid(bbox, 500)
    assert 0 < len(clipped.cells) < len(whole.cells)
    assert set(clipped.codes) <= set(whole.codes)
    assert shapely.intersects(clipped.geometries(), land).all()


def incident(day: date, **fields) -> dict:
    return testing.incident(day, **{"source": "police", "site": "62", **fields})


@pytest.fixture
def store(tmp_path, wards, graph):
    """Two months with incidents piled in Heath and its neighbours, a third spread evenly."""
    inner = shapely.point_on_surface(wards.geometries)
    where = {code: (p.x, p.y) for code, p in zip(wards.codes, inner, strict=True)}
    rows = []
    for month, clustered in ((1, True), (2, True), (3, False)):
        for i, code in enumerate(wards.codes):
            n = 30 if clustered and code in cluster_of(graph) else 3 + i % 3
            lon, lat = where[code]
            rows += [incident(date(2019, month, 10), beat=code, lon=lon, lat=lat)] * n
    rows.append(incident(date(2019, 1, 2)))  # placed nowhere: counted in no area or cell
    path = tmp_path / "store.duckdb"
    testing.write_incidents(path, rows)
    return testing.open_incidents(path)


def test_counts_from_the_store_on_wards_and_on_a_grid(store, wards, graph):
    january = month_selection("2019-01")
    by_ward = counts_by_area(store, january, graph.unique_ids)
    assert by_ward[list(graph.unique_ids).index(HEATH)] == 30
    assert by_ward.sum() == 9 * 30 + sum(
        3 + i % 3 for i, c in enumerate(wards.codes) if c not in cluster_of(graph)
    )
    grid = make_grid((-3.35, 51.38, -3.05, 51.57), 250)
    on_grid = grid_counts(store, january, grid)
    assert on_grid.sum() == by_ward.sum()
    assert sorted(on_grid[on_grid > 0]) == sorted(by_ward)


def test_persistence_counts_the_months_an_area_was_hot(store, graph):
    months = [month_selection(f"2019-0{m}") for m in (1, 2, 3)]
    result = hotspot_persistence(store, months, graph, seed=1)
    heath = result.codes.index(HEATH)
    assert result.hot.shape == (3, 29)
    assert result.months_hot[heath] == 2
    assert not result.hot[2].any()
    assert set(np.array(result.codes)[result.months_hot > 0]) <= cluster_of(graph)
    assert result.periods == tuple(months)
    with pytest.raises(ValueError, match="expected one of"):
        hotspot_persistence(store, months, graph, statistic="kulldorff")


def test_persistence_on_a_grid(store, wards):
    grid = make_grid((-3.35, 51.38, -3.05, 51.57), 1000, within=shapely.union_all(wards.geometries))
    graph = contiguity(grid.boxes(), grid.codes)
    period = Selection(start=date(2019, 3, 1), end=date(2019, 4, 1))
    result = hotspot_persistence(store, [period], graph, grid=grid, permutations=999)
    assert result.codes == grid.codes
    assert result.hot.shape == (1, len(grid.cells))


def test_generalised_boundaries_get_neighbours_and_find_the_city_centre(shared_data):
    """ONS LSOA outlines do not share vertices exactly: exact contiguity would make every
    LSOA an island; the fuzzy fallback gives each neighbours and a planted centre is hot."""
    lsoas = load_area_layer(
        AreaConfig(
            "lsoa", shared_data / "boundaries/cardiff_lsoa2011.geojson", "LSOA11CD", "LSOA11NM"
        )
    )
    graph = contiguity(lsoas.geometries, lsoas.codes)
    assert len(graph.isolates) == 0
    centre = graph.unique_ids[0]
    ring = set(graph[centre].index)
    counts = np.array([40 if c == centre or c in ring else 2 for c in graph.unique_ids])
    result = gi_star(counts, graph, permutations=9999, seed=1)
    assert result.classification[0] == "hot"


def test_an_island_is_reported_not_tested(wards):
    graph = contiguity(wards.geometries, wards.codes)
    island = shapely.box(-3.0, 51.0, -2.99, 51.01)  # far from every ward
    codes = (*wards.codes, "ISLAND")
    with_island = contiguity(np.append(wards.geometries, island), codes, rule="rook")
    counts = np.arange(len(codes)) % 7
    for statistic in (gi_star, local_moran):
        result = statistic(counts, with_island, permutations=199, seed=0)
        assert result.classification[-1] == "no_neighbours"
        assert np.isnan(result.z[-1]) and not np.isnan(result.z[:-1]).any()
    assert graph.n == len(wards.codes)
