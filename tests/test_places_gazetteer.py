"""Gazetteer inputs beyond the FSA and police.uk: a hand-made places CSV, and postcode
lookup files whose full postcodes and sectors place texts the words cannot."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from cardiffmodel.config import AreaConfig
from cardiffmodel.places.areas import load_area_layer
from cardiffmodel.places.calibrate import CARDIFF_BBOX
from cardiffmodel.places.gazetteer import (
    GazetteerError,
    build_gazetteer,
    load_fsa_xml,
    load_places_csv,
)
from cardiffmodel.places.matcher import POSTCODE_SCORE, Matcher
from cardiffmodel.places.normalise import extract_sector
from cardiffmodel.places.postcodes import (
    canonical_postcode,
    load_postcodes,
    postcode_gazetteer,
    sector_of,
    sector_places,
)

POSTCODES = Path(__file__).parent / "data" / "cardiff_postcodes_from_fsa.csv"
CASTLE = (-3.18103, 51.48236)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture(scope="module")
def wards(shared_data):
    path = shared_data / "boundaries" / "cardiff_wards_2013.geojson"
    return load_area_layer(AreaConfig("beat", path, "WD13CD", "WD13NM"))


@pytest.fixture(scope="module")
def postcode_places(wards):
    return postcode_gazetteer([POSTCODES], CARDIFF_BBOX, wards)


@pytest.fixture(scope="module")
def matcher(shared_data, postcode_places):
    places = build_gazetteer(
        [shared_data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml"],
        sorted((shared_data / "police_uk").glob("*.csv")),
        CARDIFF_BBOX,
    )
    return Matcher(places + postcode_places)


# ---- places CSV ----------------------------------------------------------------------


def test_places_csv_rows_become_places_with_their_aliases(tmp_path, shared_data):
    path = write_csv(
        tmp_path / "places.csv",
        [
            ["Name", "Lon", "Lat", "category", "aliases", "licensed", "kind"],
            [
                "Cardiff Castle",
                str(CASTLE[0]),
                str(CASTLE[1]),
                "Landmark",
                "Castell Caerdydd; castell",
                "",
                "",
            ],
            ["Cardiff Castle", "-3.2", "51.5", "Landmark", "", "no", "venue"],
            ["Tiger Tiger", "-3.176", "51.481", "", "", "", ""],
            ["Womanby Street", "-3.1805", "51.4795", "", "", "", "street"],
        ],
    )
    places = load_places_csv(path)
    assert [p.place_id for p in places] == [
        "csv:cardiff-castle",
        "csv:cardiff-castle-2",
        "csv:tiger-tiger",
        "csv:womanby-street",
    ]
    castle = places[0]
    assert (castle.lon, castle.lat, castle.category) == (*CASTLE, "Landmark")
    assert castle.aliases == ("Castell Caerdydd", "castell")
    assert places[2].licensed  # a bar brand is licensed without being told
    assert places[3].kind == "street" and places[3].street == "Womanby Street"
    fsa = load_fsa_xml(shared_data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml")
    matcher = Matcher(places[:1] + places[2:] + fsa)
    assert matcher.match("o/s castell").place_id == "csv:cardiff-castle"
    assert matcher.match("nr castell caerdydd").place_id == "csv:cardiff-castle"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["name", "lon"], ["X", "1"]], r"missing column\(s\) \['lat'\]"),
        (
            [["name", "lon", "lat"], ["X", "-3.1", "51.5"], ["Y", "west", "51.5"]],
            "row 3 column lon: 'west'; expected a number",
        ),
        (
            [["name", "lon", "lat"], ["X", "-3.1", "151.5"]],
            "row 2 column lat: '151.5'; expected WGS84",
        ),
        ([["name", "lon", "lat"], ["", "-3.1", "51.5"]], "row 2 column name"),
        (
            [["name", "lon", "lat", "kind"], ["X", "-3.1", "51.5", "pub"]],
            "row 2 column kind: 'pub'; expected venue or street",
        ),
        (
            [["name", "lon", "lat", "licensed"], ["X", "-3.1", "51.5", "maybe"]],
            "row 2 column licensed",
        ),
        (
            [
                ["place_id", "name", "lon", "lat"],
                ["a", "X", "-3.1", "51.5"],
                ["a", "Y", "-3.1", "51.5"],
            ],
            "row 3 column place_id: 'a' is used twice",
        ),
    ],
)
def test_places_csv_mistakes_name_the_row_and_column(tmp_path, rows, message):
    path = write_csv(tmp_path / "places.csv", rows)
    with pytest.raises(GazetteerError, match=message) as caught:
        load_places_csv(path)
    assert str(path) in str(caught.value)


# ---- postcode files ------------------------------------------------------------------


def test_postcodes_are_read_in_any_spelling():
    assert canonical_postcode("cf101bg") == "CF10 1BG"
    assert canonical_postcode(" CF5  1AA ") == "CF5 1AA"
    assert canonical_postcode("CF10") is None
    assert canonical_postcode("CF10 1B") is None


def test_postcode_file_with_grid_references_loads_the_same_points(tmp_path):
    """Code-Point Open style (easting/northing, British National Grid) gives the points of
    the ONSPD-style lat/long file, and ONSPD's no-grid-reference rows are skipped."""
    by_latlong = load_postcodes(POSTCODES)
    assert len(by_latlong) == 1238
    lon = np.array([p.lon for p in by_latlong])
    lat = np.array([p.lat for p in by_latlong])
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    easting, northing = to_grid.transform(lon, lat)
    rows = [["Postcode", "Eastings", "Northings"]]
    rows += [
        [p.postcode.replace(" ", ""), f"{e:.2f}", f"{n:.2f}"]
        for p, e, n in zip(by_latlong, easting, northing, strict=True)
    ]
    rows.append(["CF99 9ZZ", "", ""])
    by_grid = load_postcodes(write_csv(tmp_path / "codepoint.csv", rows))
    assert [p.place_id for p in by_grid] == [p.place_id for p in by_latlong]
    assert np.allclose([p.lon for p in by_grid], lon, atol=1e-6)
    assert np.allclose([p.lat for p in by_grid], lat, atol=1e-6)
    onspd = write_csv(
        tmp_path / "onspd.csv",
        [["pcd", "lat", "long"], ["CF101BG", "51.48", "-3.18"], ["CF99 1AA", "99.999999", "0"]],
    )
    assert [p.postcode for p in load_postcodes(onspd)] == ["CF10 1BG"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["code", "lat", "long"], ["CF10 1BG", "51.4", "-3.1"]], "expected a postcode column"),
        ([["pcds", "lat"], ["CF10 1BG", "51.4"]], "lat/long or easting/northing"),
        (
            [["pcds", "lat", "long"], ["CF10 1BG", "51.4", "-3.1"], ["CF10 1BH", "north", "-3.1"]],
            "row 3 column lat: 'north'",
        ),
        (
            [["pcds", "lat", "long"], ["CF10 1BG", "51.4", "-3.1"], ["CF10", "51.4", "-3.1"]],
            "row 3: 'CF10' is not a full UK postcode",
        ),
    ],
)
def test_postcode_file_mistakes_are_named(tmp_path, rows, message):
    with pytest.raises(GazetteerError, match=message):
        load_postcodes(write_csv(tmp_path / "postcodes.csv", rows))


def test_a_sector_is_a_place_only_when_all_its_postcodes_lie_in_one_beat(wards):
    postcodes = load_postcodes(POSTCODES)
    sectors = {s.name: s for s in sector_places(postcodes, wards)}
    for name, sector in sectors.items():
        units = [p for p in postcodes if sector_of(p.postcode) == name]
        owners = set(
            wards.assign(np.array([u.lon for u in units]), np.array([u.lat for u in units]))
        )
        assert len(owners) == 1
        assert wards.assign(np.array([sector.lon]), np.array([sector.lat]))[0] in owners
        assert sector.category == f"postcode sector in beat {owners.pop()}"
    assert "CF10 2" in sectors  # Cathays: city centre shops
    assert "CF24 3" not in sectors  # Plasnewydd and Adamsdown: straddles wards


# ---- matching with postcodes ---------------------------------------------------------


def test_sector_in_a_text_is_recognised_only_for_known_districts():
    assert extract_sector("pts home CF24 3", {"CF24"}) == ("pts home", "CF24 3")
    assert extract_sector("o/s A48 2", {"CF24"}) == ("o/s A48 2", "")
    assert extract_sector("cf24 3rd floor", {"CF24"}) == ("cf24 3rd floor", "")


def test_a_home_with_a_sector_in_one_beat_is_placed_at_the_sector(matcher, postcode_places):
    sector = next(p for p in postcode_places if p.place_id == "sector:CF10 2")
    for text in ("pts home CF10 2", "PT'S HOME CF10 2BH"):  # a full postcode is cut to sector
        found = matcher.match(text)
        assert (found.status, found.method, found.location_type) == ("home", "home", "home")
        assert (found.place_id, found.lon, found.lat) == ("sector:CF10 2", sector.lon, sector.lat)
        assert found.score == POSTCODE_SCORE
        assert "placed at postcode sector CF10 2 (in beat W05000857)" in found.reason
    assert matcher.match("friends flat CF10 2").location_type == "other_home"


def test_a_home_in_a_sector_straddling_beats_is_not_placed(matcher):
    found = matcher.match("pts home CF24 3")
    assert (found.status, found.place_id, found.lon) == ("home", None, None)
    assert "postcode sector CF24 3 is not a place (it straddles beats" in found.reason
    assert matcher.match("pts home").place_id is None


def test_a_postcode_places_only_what_the_words_cannot(matcher):
    by_words = matcher.match("o/s walkabout CF10 2")  # the Walkabout is in CF10 1
    assert by_words.place_id == "fsa:971230"
    by_code = matcher.match("the usual spot CF10 2BH")
    assert (by_code.status, by_code.place_id, by_code.method) == (
        "matched",
        "postcode:CF10 2BH",
        "exact",
    )
    assert by_code.reason.startswith("placed at postcode CF10 2BH; words: ")
    vague = matcher.match("park CF10 2")
    assert (vague.place_id, vague.location_type) == ("sector:CF10 2", "street")
    assert matcher.match("park CF24 3").status == "unresolved"
