"""Area layers from real boundary files: any format, any CRS, and points assigned the same
way every time (on boundaries, outside every area, with no point at all)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from cardiffmodel.config import AreaConfig
from cardiffmodel.places.areas import AreaError, load_area_layer

CARDIFF_AND_VALE = "W11000029"
# (lon, lat) of places whose health board is not in doubt
TOWNS = {
    "Cardiff city centre": ((-3.1791, 51.4816), CARDIFF_AND_VALE),
    "Barry": ((-3.2700, 51.4050), CARDIFF_AND_VALE),
    "Swansea": ((-3.9436, 51.6214), "W11000031"),
    "Newport": ((-2.9977, 51.5842), "W11000028"),
    "Merthyr Tydfil": ((-3.3786, 51.7487), "W11000030"),
    "Aberystwyth": ((-4.0829, 52.4153), "W11000025"),
    "Llandrindod Wells": ((-3.3792, 52.2417), "W11000024"),
    "Wrexham": ((-2.9916, 53.0462), "W11000023"),
}


@pytest.fixture(scope="module")
def boundaries(shared_data):
    return shared_data / "boundaries"


@pytest.fixture(scope="module")
def health_boards(boundaries):
    path = boundaries / "wales_health_boards_epsg27700.geojson"
    return load_area_layer(AreaConfig("la", path, "LHB20CD", "LHB20NM"))


@pytest.fixture(scope="module")
def wards(boundaries):
    path = boundaries / "cardiff_wards_2013.geojson"
    return load_area_layer(AreaConfig("beat", path, "WD13CD", "WD13NM"))


def cardiff_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-3.35, -3.05, n), rng.uniform(51.38, 51.57, n)


def test_british_national_grid_layer_places_known_towns(health_boards):
    lon = np.array([xy[0] for xy, _ in TOWNS.values()])
    lat = np.array([xy[1] for xy, _ in TOWNS.values()])
    assigned = dict(zip(TOWNS, health_boards.assign(lon, lat), strict=True))
    assert assigned == {town: code for town, (_, code) in TOWNS.items()}
    assert health_boards.name_of(CARDIFF_AND_VALE) == "Cardiff and Vale University Health Board"


def test_british_national_grid_layer_agrees_with_the_file_in_its_own_crs(health_boards, boundaries):
    """Points reprojected to the grid and tested against the untouched file's polygons get
    the same boards (an independent check of the CRS handling)."""
    frame = pyogrio.read_dataframe(boundaries / "wales_health_boards_epsg27700.geojson")
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(-5.2, -2.7, 3000), rng.uniform(51.35, 53.4, 3000)
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        lon, lat
    )
    points = shapely.points(easting, northing)
    expected = np.full(len(points), None, dtype=object)
    for code, polygon in zip(frame["LHB20CD"], frame.geometry, strict=True):
        expected[shapely.contains(polygon, points)] = code
    got = health_boards.assign(lon, lat)
    inside = sum(e is not None for e in expected)
    assert inside > 1000  # most of the box is Wales, the rest sea and England
    assert (got == expected).mean() > 0.999  # reprojection may move boundary points by mm


@pytest.mark.parametrize(
    ("driver", "suffix"), [("ESRI Shapefile", "shp"), ("GPKG", "gpkg"), ("KML", "kml")]
)
def test_other_formats_of_the_wards_assign_identically(wards, boundaries, tmp_path, driver, suffix):
    frame = pyogrio.read_dataframe(boundaries / "cardiff_wards_2013.geojson")
    path = tmp_path / f"wards.{suffix}"
    pyogrio.write_dataframe(frame, path, driver=driver)
    layer = load_area_layer(AreaConfig("beat", path, "WD13CD", "WD13NM"))
    assert sorted(layer.codes) == sorted(wards.codes)
    lon, lat = cardiff_points(20_000, seed=1)
    expected = wards.assign(lon, lat)
    assert sum(c is not None for c in expected) > 5_000  # a third of the box is Cardiff
    assert list(layer.assign(lon, lat)) == list(expected)


def test_a_point_on_a_shared_boundary_goes_to_the_smaller_code(wards):
    """Vertices shared by two wards lie in both: the answer is the code that sorts first,
    whatever order the polygons come in."""
    owners: dict[tuple[float, float], set[str]] = {}
    for code, geometry in zip(wards.codes, wards.geometries, strict=True):
        for ring in shapely.get_parts(geometry):
            for xy in shapely.get_coordinates(ring.exterior):
                owners.setdefault(tuple(xy), set()).add(code)
    shared = [(xy, codes) for xy, codes in owners.items() if len(codes) == 2][:200]
    assert len(shared) == 200
    lon = np.array([xy[0] for xy, _ in shared])
    lat = np.array([xy[1] for xy, _ in shared])
    assert list(wards.assign(lon, lat)) == [min(codes) for _, codes in shared]
    reversed_layer = type(wards)(
        wards.layer,
        wards.codes[::-1],
        wards.names[::-1],
        wards.geometries[::-1],
        wards.population[::-1],
    )
    assert list(reversed_layer.assign(lon, lat)) == [min(codes) for _, codes in shared]


def test_points_outside_every_area_and_missing_points_get_none(wards):
    lon = np.array([-3.1791, -2.9977, 0.0, np.nan, -3.1791, np.nan])
    lat = np.array([51.4816, 51.5842, 0.0, 51.48, np.nan, np.nan])
    got = wards.assign(lon, lat)
    assert got[0] is not None  # Cardiff city centre
    assert list(got[1:]) == [None] * 5  # Newport, the Gulf of Guinea, no lon, no lat, neither
    assert list(wards.assign(np.array([]), np.array([]))) == []


def test_every_point_of_a_layer_lands_in_exactly_one_area(wards):
    lon, lat = cardiff_points(50_000, seed=2)
    got = wards.assign(lon, lat)
    counts = Counter(got)
    assert set(counts) - {None} == set(wards.codes)  # every ward gets points in the box


def test_unusable_layers_are_named(boundaries, tmp_path):
    with pytest.raises(AreaError, match="not found"):
        load_area_layer(AreaConfig("beat", tmp_path / "none.geojson", "A", "B"))
    with pytest.raises(AreaError, match=r"missing field\(s\) \['BEAT'\]"):
        load_area_layer(
            AreaConfig("beat", boundaries / "cardiff_wards_2013.geojson", "BEAT", "WD13NM")
        )
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(AreaError, match="cannot read"):
        load_area_layer(AreaConfig("beat", broken, "A", "B"))
