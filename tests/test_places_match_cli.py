"""``cardiff places match``: a CSV of texts in, a CSV of places out, with no project."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.places.batch import OUTPUT_COLUMNS

POSTCODES = Path(__file__).parent / "data" / "cardiff_postcodes_from_fsa.csv"
UHW = ("-3.1900", "51.5070")
BARRY = ("-3.2700", "51.4050")
CARDIFF_BBOX = ("-3.35", "51.38", "-3.05", "51.57")
ROWS = [
    ("1", "o/s Walkabout St Marys St", "", ""),
    ("2", "Revs nr Cardiff Castle", *UHW),
    ("3", "pts home", "", ""),
    ("4", "pts home CF10 2", "", ""),
    ("5", "park behind tescos", "", ""),
    ("6", "by the big wheel", "", ""),
    ("7", "castle st", *UHW),  # Tongwynlais's or Barry's: both far from the hospital
    ("8", "castle st", *BARRY),  # Barry's, or the city centre's that venues' addresses name
    ("9", "", "", ""),
]


def write_rows(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def gazetteer_args(shared_data, tmp_path_factory):
    places = write_rows(
        tmp_path_factory.mktemp("gazetteer") / "landmarks.csv",
        ["name", "lon", "lat", "category", "aliases"],
        [["Cardiff Eye", "-3.1740", "51.4640", "Landmark", "big wheel"]],
    )
    return [
        "--gazetteer", str(places),
        "--gazetteer", str(shared_data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml"),
        "--gazetteer", str(shared_data / "police_uk" / "2019-01-south-wales-street.csv"),
        "--postcodes", str(POSTCODES),
        "--beats", str(shared_data / "boundaries" / "cardiff_wards_2013.geojson"),
        "--beat-field", "WD13CD",
        "--bbox", *CARDIFF_BBOX,
    ]  # fmt: skip


def run(*args: str):
    # the project folder need not exist: with --gazetteer no project is opened
    return CliRunner().invoke(main, ["--project", "/nonexistent", "places", "match", *args])


def test_texts_resolve_to_places_homes_and_unresolved(tmp_path, gazetteer_args):
    source = write_rows(tmp_path / "in.csv", ["id", "text", "site_lon", "site_lat"], ROWS)
    target = tmp_path / "out.csv"
    result = run(*gazetteer_args, "--input", str(source), "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "9 texts, 3 matched, 2 home, 4 unresolved" in result.output
    with open(target, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == OUTPUT_COLUMNS
        out = {row["id"]: row for row in reader}
    assert [out[k]["place_id"] for k in "12345"] == [
        "fsa:971230",  # the Walkabout, St Mary Street
        "fsa:970273",  # Revolution, Castle Street
        "",  # a home without a postcode
        "sector:CF10 2",
        "",  # "tescos" is a chain and "park" names nothing
    ]
    assert out["4"]["status"] == "home" and float(out["4"]["lat"]) == pytest.approx(
        51.481, abs=0.01
    )
    assert (out["6"]["place_name"], out["6"]["location_type"]) == ("Cardiff Eye", "other")
    assert out["1"]["location_type"] == "licensed_premises"
    assert out["7"]["status"] == "unresolved"
    # unresolved texts say why: the candidates when ambiguous, nothing when blank
    assert out["8"]["status"] == "unresolved"
    assert "places named 'Castle Street'" in out["8"]["reason"]
    assert "street:castle-street-2" in out["8"]["reason"]
    assert out["5"]["reason"].startswith("ambiguous")
    assert (out["9"]["status"], out["9"]["score"], out["9"]["lon"]) == ("unresolved", "0.0000", "")
    assert out["9"]["reason"].startswith("blank")
    assert out["1"]["reason"] == ""
    assert all(0.85 <= float(out[k]["score"]) <= 1 for k in "126")


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["id", "location"], [["1", "x"]], "missing column(s) ['text']"),
        (["id", "text", "site_lon", "site_lat"], [["1", "x", "", ""], ["2", "y", "-3.2", ""]],
         "row 3 column site_lat: ''; expected WGS84 degrees"),
        (["id", "text", "site_lon", "site_lat"], [["1", "x", "west", "51.5"]],
         "row 2 column site_lon: 'west'"),
    ],
)  # fmt: skip
def test_input_mistakes_are_named(tmp_path, header, rows, message):
    source = write_rows(tmp_path / "in.csv", header, rows)
    places = write_rows(tmp_path / "places.csv", ["name", "lon", "lat"], [["X", "-3.1", "51.5"]])
    result = run("--gazetteer", str(places), "--input", str(source), "--output", "out.csv")
    assert result.exit_code == 1
    assert str(source) in result.output and message in result.output


def test_a_file_that_is_no_gazetteer_is_refused(tmp_path):
    source = write_rows(tmp_path / "in.csv", ["id", "text"], [["1", "x"]])
    other = write_rows(tmp_path / "other.csv", ["a", "b"], [["1", "2"]])
    result = run("--gazetteer", str(other), "--input", str(source), "--output", "out.csv")
    assert result.exit_code == 1
    assert "not a gazetteer file" in result.output and "['a', 'b']" in result.output
