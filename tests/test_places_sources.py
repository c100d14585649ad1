"""Gazetteer sources in their published formats (small hand-written fixtures in
tests/data, written from each format's column specification), and what matching gains
from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiffmodel.places.gazetteer import GazetteerError, street_of_address
from cardiffmodel.places.matcher import Matcher
from cardiffmodel.places.postcodes import load_postcodes
from cardiffmodel.places.sources import load_sources, source_kind

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("file", "kind"),
    [
        ("os_open_names_sample.csv", "os_open_names"),
        ("naptan_stops_sample.csv", "naptan"),
        ("osm_sample.geojson", "osm_geojson"),
        ("osm_sample.osm", "osm_xml"),
        ("fsa_sample.csv", "fsa_csv"),
    ],
)
def test_each_source_is_recognised_by_its_contents(file, kind):
    assert source_kind(DATA / file) == kind


def test_os_open_names_roads_are_complete_streets_with_welsh_names():
    places = {p.name: p for p in load_sources([DATA / "os_open_names_sample.csv"])}
    street = places["Commercial Street"]
    assert (street.kind, street.complete, street.source) == ("street", True, "os_open_names")
    assert street.aliases == ("Stryd Fasnachol",)
    assert street.lon == pytest.approx(-2.9938, abs=1e-3)  # BNG converted to WGS84
    assert places["Newport Station"].category == "Railway Station"
    # numbered roads, postcodes and settlements name no spot
    assert not {"A4042", "NP20 1AA", "Newport", "Caerleon"} & set(places)


def test_naptan_keeps_stations_once_and_drops_bus_stops():
    places = load_sources([DATA / "naptan_stops_sample.csv"])
    assert [p.name for p in places] == [
        "Friars Walk Bus Station",  # the entrance; its bay is the same station
        "Newport (S Wales) Rail Station",  # placed from easting/northing
    ]
    rail = places[1]
    assert rail.lat == pytest.approx(51.587, abs=2e-3) and rail.category == "Rail station"
    assert "Newport Rail station" in rail.aliases


@pytest.mark.parametrize("file", ["osm_sample.geojson", "osm_sample.osm"])
def test_osm_named_features_and_roads(file):
    places = {p.name: p for p in load_sources([DATA / file])}
    assert places["The Murenger"].licensed and places["The Murenger"].kind == "venue"
    assert places["Belle Vue Park"].category == "leisure=park"
    assert places["Belle Vue Park"].lat == pytest.approx(51.5808, abs=1e-3)
    assert places["Skinner Street"].kind == "street" and places["Skinner Street"].complete
    assert "Clarence Place" not in places  # a bus stop's name is not a place


def test_fsa_csv_reads_any_address_layout_and_names_streets_from_addresses():
    places = {p.place_id: p for p in load_sources([DATA / "fsa_sample.csv"])}
    assert places["fsa:906232"].street == "West Street"  # packed into AddressLine1
    assert places["fsa:999001"].street == "Bennett Street"  # in AddressLine2
    assert places["fsa:999002"].street == "Heol Dulais"  # a Welsh street word leads
    assert "fsa:999003" not in places  # no geocode
    west = places["street:west-street-a"]  # known from the address alone: incomplete
    assert (west.kind, west.complete, west.venues) == ("street", False, 1)


@pytest.mark.parametrize(
    ("lines", "street"),
    [
        (["Angel Inn 39 West Street Newport South Wales"], "West Street"),
        (["Tesco Express, 134 - 142 City Road"], "City Road"),
        (["Unit 5", "Queen Street", "Cardiff"], "Queen Street"),
        (["12 Cowbridge Road East"], "Cowbridge Road East"),
        (["Red Lion Hotel 47 Stow Hill Newport South Wales"], "Stow Hill"),
        ([], ""),
    ],
)
def test_street_is_found_in_any_address_line(lines, street):
    assert street_of_address(lines) == street


def test_code_point_open_is_read_without_a_header():
    places = load_postcodes(DATA / "codepoint_open_sample.csv")
    assert [p.postcode for p in places] == ["NP20 1FQ", "NP20 4DD"]
    assert places[0].lat == pytest.approx(51.5887, abs=1e-3)


def test_an_unknown_file_is_refused_with_its_header(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(GazetteerError, match="not a gazetteer file"):
        source_kind(path)


def test_landmarks_from_open_sources_are_matched_and_settlements_stay_vague():
    matcher = Matcher(
        load_sources(
            [
                DATA / "os_open_names_sample.csv",
                DATA / "naptan_stops_sample.csv",
                DATA / "osm_sample.geojson",
            ]
        )
    )
    assert matcher.match("friars walk bus station").place_id == "naptan:5320AWB00001"
    assert matcher.match("o/s belle vue park").place_id == "osm:way:2002"
    assert matcher.match("newport").place_id is None
