"""The deployment's area on real, partial data: a force-wide police.uk file ingested into
a deployment that covers one city keeps that city's records, placed in police.uk's own
LSOAs, and accounts for every other row; a finer population layer is shared out without
losing any of the city's areas."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.config import AreaConfig, write_settings
from cardiffmodel.places.areas import apportion, load_area_layer
from cardiffmodel.places.territory import MARGIN_DEGREES, load_territory
from cardiffmodel.project import Project
from cardiffmodel.store.duckdb_store import _DDL, SCHEMA_VERSION, Store
from ingest_support import write_csv

VIOLENCE = "Violence and sexual offences"
POLICE_UK = {"name": "police_uk", "kind": "police", "site": "force", "format": "police_uk"}
CITIES = {
    "newport": (
        "newport/newport_wards.geojson",
        "newport/newport_lsoa2011.geojson",
        "newport/2019-01-gwent-street.csv",
    ),
    "cardiff": (
        "boundaries/cardiff_wards_2013.geojson",
        "boundaries/cardiff_lsoa2011.geojson",
        "police_uk/2019-01-south-wales-street.csv",
    ),
}
PENARTH = (-3.1790, 51.4380)  # Vale of Glamorgan: inside the old Cardiff box, not in a ward


def police_project(folder: Path, data: Path, city: str, **project) -> Project:
    """A police-only deployment: the city's wards as beats, its 2011 LSOAs, no bbox."""
    wards, lsoas, _ = CITIES[city]
    folder.mkdir(parents=True, exist_ok=True)
    areas = [
        {
            "layer": "beat",
            "path": str(data / wards),
            "code_field": "WD13CD",
            "name_field": "WD13NM",
        },
        {
            "layer": "lsoa",
            "path": str(data / lsoas),
            "code_field": "LSOA11CD",
            "name_field": "LSOA11NM",
        },
    ]
    raw = {"project": {"name": city, **project}, "areas": areas, "sources": [POLICE_UK]}
    write_settings(raw, folder)
    return Project.open(folder)


def stored(project: Project) -> pd.DataFrame:
    with duckdb.connect(str(project.settings.store), read_only=True) as con:
        return con.execute("SELECT * FROM incidents").df()


@pytest.mark.parametrize("city", sorted(CITIES))
def test_a_force_wide_file_keeps_the_city_in_police_uk_own_lsoas(tmp_path, shared_data, city):
    """Counts per LSOA equal police.uk's own coding for the city's LSOAs; nothing from
    other LSOAs is stored; every stored record has a beat; each row is counted once."""
    project = police_project(tmp_path / city, shared_data, city)
    path = shared_data / CITIES[city][2]
    (result,) = project.ingest("police_uk", [path])

    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    city_lsoas = set(pyogrio.read_dataframe(shared_data / CITIES[city][1])["LSOA11CD"])
    violent = rows[rows["Crime type"] == VIOLENCE]
    no_location = violent[(violent["Longitude"] == "") & (violent["LSOA code"] == "")]
    expected = Counter(violent["LSOA code"][violent["LSOA code"].isin(city_lsoas)])

    incidents = stored(project)
    assert Counter(incidents["lsoa"]) == expected
    assert incidents["beat"].notna().all()
    assert result.unlocatable == len(no_location) > 0
    assert result.filtered_reasons == {
        "crime type not analysed": len(rows) - len(violent),
        "outside the area": len(violent) - len(no_location) - expected.total(),
    }
    assert result.quarantined == 0
    assert len(incidents) == result.accepted == expected.total()
    assert result.accepted + result.filtered + result.unlocatable + result.quarantined == len(rows)
    assert not incidents["location_text"].str.contains("No Location").any()


def test_newport_before_and_after(tmp_path, shared_data):
    """The measured problem: Gwent 2019-01 into Newport stored the whole force (1,651
    violent crimes); now only the 520 in Newport's LSOAs, 4 of whose map points fall in
    another LSOA than police.uk coded."""
    project = police_project(tmp_path / "n", shared_data, "newport")
    (result,) = project.ingest("police_uk", [shared_data / CITIES["newport"][2]])
    assert (result.accepted, result.unlocatable) == (520, 5)
    assert result.filtered_reasons["outside the area"] == 1651 - 520 - 5
    assert (result.codes_checked, result.codes_differ) == (520, 4)


def test_official_codes_against_point_in_polygon_in_batches_and_quality(tmp_path, shared_data):
    project = police_project(tmp_path / "c", shared_data, "cardiff")
    runner = CliRunner()
    folder = str(project.settings.root)
    path = str(shared_data / CITIES["cardiff"][2])
    out = runner.invoke(main, ["--project", folder, "ingest", "police_uk", path])
    assert out.exit_code == 0, out.output
    assert "filtered out (crime type not analysed 7930, outside the area 2301)" in out.output
    assert "47 unlocatable (no map point or area code" in out.output
    assert "point-in-polygon would differ for 33 of 963" in out.output
    batches = runner.invoke(main, ["--project", folder, "batches"])
    table = pd.read_csv(pd.io.common.StringIO(batches.output))
    assert table.loc[0, ["unlocatable", "codes_checked", "codes_differ"]].tolist() == [47, 963, 33]
    assert (
        table.loc[0, "filtered_reasons"] == "crime type not analysed: 7930, outside the area: 2301"
    )
    quality = runner.invoke(main, ["--project", folder, "quality", "--from", "2019-01"])
    assert quality.exit_code == 0, quality.output
    assert "police_uk: 47 rows unlocatable" in quality.output
    assert "differ for 33 of 963 records (3.4%)" in quality.output


def test_a_hospital_keeps_patients_hurt_outside_the_area_and_a_force_does_not(
    tmp_path, shared_data
):
    """An ED record located in Penarth is the hospital's attendance, kept with no area; a
    police record there is another area's, filtered."""
    ed = {
        "name": "uhw",
        "kind": "ed",
        "site": "7A4BV",
        "columns": {"source_record_id": "Ref", "occurred_at": "When", "lon": "X", "lat": "Y"},
    }
    police = {**ed, "name": "force", "kind": "police", "site": "62"}
    folder = tmp_path / "p"
    folder.mkdir()
    wards = shared_data / "boundaries/cardiff_wards_2013.geojson"
    write_settings(
        {
            "project": {"name": "t"},
            "areas": [
                {
                    "layer": "beat",
                    "path": str(wards),
                    "code_field": "WD13CD",
                    "name_field": "WD13NM",
                }
            ],
            "sources": [ed, police],
        },
        folder,
    )
    project = Project.open(folder)
    rows = [
        ["A1", "2019-01-05T23:10", str(PENARTH[0]), str(PENARTH[1])],
        ["A2", "2019-01-05T23:10", "-3.1791", "51.4816"],  # Cardiff city centre
        ["A3", "2019-01-05T23:10", "", ""],  # no location: still the hospital's
        ["A4", "2019-01-05T23:10", "-0.1276", "51.5072"],  # London: not a plausible point
    ]
    header = ["Ref", "When", "X", "Y"]
    (from_ed,) = project.ingest("uhw", [write_csv(tmp_path / "ed.csv", rows, header)])
    (from_police,) = project.ingest("force", [write_csv(tmp_path / "police.csv", rows, header)])
    assert (from_ed.accepted, from_ed.outside_area, from_ed.filtered, from_ed.quarantined) == (
        3,
        1,
        0,
        1,
    )
    assert from_police.filtered_reasons == {"outside the area": 2}
    assert (from_police.accepted, from_police.quarantined) == (2, 0)
    incidents = stored(project).set_index(["source", "lon"])["beat"]
    assert incidents["ed"].isna().sum() == 2 and incidents["ed"].notna().sum() == 1
    with project.store(read_only=True) as store:
        (problem,) = store.quarantine()
    assert problem["row_number"] == 5 and "outside the region" in problem["reason"]
    bbox = project.region_bbox
    west, south, east, north = shapely.bounds(
        shapely.union_all(pyogrio.read_dataframe(wards).geometry.values)
    )
    assert bbox == pytest.approx(
        (
            west - MARGIN_DEGREES,
            south - MARGIN_DEGREES,
            east + MARGIN_DEGREES,
            north + MARGIN_DEGREES,
        )
    )


def test_a_boundary_file_sets_the_area(tmp_path, shared_data):
    """``[project] boundary``: a local authority's polygon is the area; the wards inside
    it still give each record its beat."""
    authorities = pyogrio.read_dataframe(shared_data / "boundaries/wales_local_authorities.geojson")
    cardiff = authorities[authorities["LAD13NM"] == "Cardiff"]
    pyogrio.write_dataframe(cardiff, tmp_path / "cardiff.geojson")
    project = police_project(
        tmp_path / "b", shared_data, "cardiff", boundary=str(tmp_path / "cardiff.geojson")
    )
    assert project.settings.boundary == tmp_path / "cardiff.geojson"
    (result,) = project.ingest("police_uk", [shared_data / CITIES["cardiff"][2]])
    assert result.accepted == 963  # the same LSOAs are inside the authority as the wards
    assert stored(project)["beat"].notna().all()


def test_official_codes_of_another_code_set_are_not_used(shared_data):
    """Codes the layer does not have at all (here ward codes offered as LSOAs) cannot
    say where a record is: the point decides, and the layer is named."""
    wards, lsoas, _ = CITIES["cardiff"]
    layers = [
        load_area_layer(AreaConfig("beat", shared_data / wards, "WD13CD", "WD13NM")),
        load_area_layer(AreaConfig("lsoa", shared_data / lsoas, "LSOA11CD", "LSOA11NM")),
    ]
    territory = load_territory(layers)
    lon, lat = np.array([-3.1791, PENARTH[0]]), np.array([51.4816, PENARTH[1]])
    wrong = {"lsoa": np.array(["W05000857", "W05000857"], dtype=object)}
    placed = territory.place(lon, lat, wrong)
    assert placed.ignored == ("lsoa",)
    assert placed.inside.tolist() == [True, False]
    assert placed.codes["lsoa"][0] in layers[1].codes and placed.codes["lsoa"][1] is None
    right = {"lsoa": np.array(["W01001939", "W01001939"], dtype=object)}  # a Cardiff LSOA
    placed = territory.place(lon, lat, right)
    assert placed.inside.tolist() == [True, True]  # the code decides, not the point
    assert placed.codes["beat"][1] == territory.holder("lsoa", "beat")["W01001939"]


def test_population_from_finer_areas_loses_no_cardiff_lsoa(shared_data, caplog):
    """LSOAs (2021) with residents, shared out over the wards: every Cardiff LSOA counts
    in full, including those whose polygons run out over the bay; the LSOAs of
    neighbouring authorities in the file are reported, not counted."""
    boundaries = shared_data / "boundaries"
    people = boundaries / "cardiff_lsoa2021_population_wimd.geojson"
    wards = load_area_layer(
        AreaConfig("beat", boundaries / "cardiff_wards_2013.geojson", "WD13CD", "WD13NM")
    )
    lsoas = pyogrio.read_dataframe(people).to_crs("EPSG:4326")
    in_cardiff = lsoas["LSOA21NM"].str.startswith("Cardiff ").to_numpy()
    shares = apportion(wards, np.asarray(lsoas.geometry.values), lsoas["population"])
    assert sum(shares.population.values()) == pytest.approx(lsoas["population"][in_cardiff].sum())
    assert set(shares.outside) == set(np.flatnonzero(~in_cardiff))
    assert {"Cardiff 048B", "Cardiff 048F", "Cardiff 048G"} <= set(
        lsoas["LSOA21NM"].iloc[list(shares.stretched)]
    )
    with caplog.at_level(logging.WARNING, logger="cardiffmodel.places.areas"):
        layer = load_area_layer(
            AreaConfig(
                "beat",
                boundaries / "cardiff_wards_2013.geojson",
                "WD13CD",
                "WD13NM",
                population_field="population",
                population_path=people,
            )
        )
    assert "18 of 236 population areas (29,896 residents) lie outside every beat" in caplog.text
    assert sum(layer.population) == pytest.approx(383_919)


def test_a_version_3_store_gains_the_placement_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        for statement in _DDL[
            : _DDL.index("ALTER TABLE batches ADD COLUMN IF NOT EXISTS kind VARCHAR") + 1
        ]:
            con.execute(statement)
        con.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    with Store(path) as store:
        columns = {r[0] for r in store.con.execute("DESCRIBE batches").fetchall()}
        version = store.con.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchall()
    assert {
        "filtered_reasons",
        "unlocatable",
        "outside_area",
        "codes_checked",
        "codes_differ",
    } <= columns
    assert version == [(str(SCHEMA_VERSION),)]
    with Store(path) as store:  # opening again changes nothing
        assert store.batches() == []
