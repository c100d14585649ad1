"""The synthetic city, generated from the real shared Cardiff data and read back as ingest
would read it: with the delimiter, encoding, sheet, columns, formats and codes it declares."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from cardiffmodel.config import settings_from_dict
from cardiffmodel.places.gazetteer import build_gazetteer
from cardiffmodel.schema import AGE_BANDS, CODE_LISTS
from cardiffmodel.synth import CityManifest, generate_city
from cardiffmodel.synth.identity import nhs_check_digit
from cardiffmodel.synth.layouts import LAYOUTS
from cardiffmodel.synth.world import ward_beats

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BBOX = (-3.35, 51.38, -3.05, 51.57)
NIGHTS = (
    (4, 22),
    (4, 23),
    (5, 0),
    (5, 1),
    (5, 2),
    (5, 3),
    (5, 22),
    (5, 23),
    (6, 0),
    (6, 1),
    (6, 2),
    (6, 3),
)  # (weekday, hour) Fri/Sat nights


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> CityManifest:
    return generate_city(tmp_path_factory.mktemp("city"), data_dir=DATA, seed=3, scale=0.4)


@pytest.fixture(scope="module")
def truth(city) -> pd.DataFrame:
    return pq.read_table(city.truth_path).to_pandas()


def read_rows(source: dict, path: Path) -> list[dict]:
    """Rows as ingest would see them, using only what the source entry declares."""
    if source["format"] == "xlsx":
        book = load_workbook(path, read_only=True)
        rows = list(book[source["sheet"]].iter_rows(values_only=True))
        book.close()
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    with open(path, newline="", encoding=source["encoding"]) as handle:
        return list(csv.DictReader(handle, delimiter=source["delimiter"]))


@pytest.fixture(scope="module")
def extracts(city) -> dict[str, list[tuple[str, int, dict]]]:
    """Every row of every source as (file relative to the city folder, row number, row)."""
    return {
        source["name"]: [
            (path.relative_to(city.out_dir).as_posix(), i + 1, row)
            for path in city.files[source["name"]]
            for i, row in enumerate(read_rows(source, path))
        ]
        for source in city.sources
    }


def planted(truth: pd.DataFrame, kind: str | None = None) -> set[tuple[str, int]]:
    rows = truth[truth["planted_error"].notna()]
    if kind is not None:
        rows = rows[rows["planted_error"] == kind]
    return set(zip(rows["file"], rows["row"], strict=True))


def test_manifest_describes_the_period_and_the_planted_patterns(city):
    assert (city.start, city.end) == (date(2018, 1, 1), date(2020, 1, 1))
    assert date(2019, 4, 20) <= city.rise_start <= date(2019, 5, 15)
    assert city.rise_start.weekday() == 0
    assert city.rising_beat not in city.hotspot_beats
    assert 2 <= len(city.hotspot_beats) <= 3
    for name, files in city.files.items():
        assert len(files) == 24, name
        assert [f.name for f in files] == sorted(f.name for f in files)
        assert files[0].name.startswith(f"{name}_2018-01")
    assert city.files["uhw"][0] == city.out_dir / "ed" / "uhw" / "uhw_2018-01.csv"
    assert city.files["cri"][0].suffix == ".xlsx"


def test_the_same_seed_makes_the_same_city_and_another_seed_another(tmp_path):
    one = generate_city(tmp_path / "a", data_dir=DATA, seed=7, scale=0.1)
    two = generate_city(tmp_path / "b", data_dir=DATA, seed=7, scale=0.1)
    other = generate_city(tmp_path / "c", data_dir=DATA, seed=8, months=3, scale=0.1)
    for name in ("uhw", "llandough", "was", "swp"):
        for a, b in zip(one.files[name], two.files[name], strict=True):
            assert a.read_bytes() == b.read_bytes()
    cri = one.sources[[s["name"] for s in one.sources].index("cri")]
    for a, b in zip(one.files["cri"], two.files["cri"], strict=True):
        assert read_rows(cri, a) == read_rows(cri, b)
    first, second = (pq.read_table(m.truth_path).to_pandas() for m in (one, two))
    pd.testing.assert_frame_equal(first, second)
    assert one.files["uhw"][0].read_bytes() != other.files["uhw"][0].read_bytes()


def test_sources_are_accepted_by_the_config_loader(city):
    settings = settings_from_dict({"sources": list(city.sources)}, city.out_dir)
    assert [s.name for s in settings.sources] == ["uhw", "llandough", "cri", "was", "swp"]
    assert {s.kind for s in settings.sources} == {"ed", "ambulance", "police"}
    assert settings.source("llandough").delimiter == ";"
    assert settings.source("llandough").encoding == "cp1252"
    assert settings.source("cri").format == "xlsx"


def test_files_read_with_the_declared_layout_and_match_the_truth(city, truth, extracts):
    with open(city.files["uhw"][0], "rb") as handle:
        assert handle.read(3) == b"\xef\xbb\xbf"  # Excel-style UTF-8 with BOM
    for source in city.sources:
        rows = extracts[source["name"]]
        header = set(rows[0][2])
        assert set(source["columns"].values()) <= header, source["name"]
        assert len(rows) == (truth["source"] == source["name"]).sum()
    ids = {row["AttendanceNo"] for _, _, row in extracts["uhw"]}
    expected = truth.loc[truth["source"] == "uhw", "source_record_id"].dropna()
    assert set(expected) <= ids


def test_scale_one_volumes_are_about_right(truth):
    per_year = truth.groupby("kind").size() / 2 / 0.4
    assert 3200 < per_year["ed"] < 5000
    assert 1500 < per_year["ambulance"] < 2700
    assert 10000 < per_year["police"] < 14000
    assert set(truth.loc[truth["kind"] == "ed", "source"]) == {"uhw", "llandough", "cri"}


def test_every_code_written_is_in_the_codes_table(city, truth, extracts):
    bad_codes = planted(truth, "unknown_code")
    for source in city.sources:
        for field, table in source["codes"].items():
            column = source["columns"][field]
            known = {raw.strip().lower() for raw in table}
            for file, row_number, row in extracts[source["name"]]:
                value = row[column]
                if value in (None, "") or (file, row_number) in bad_codes:
                    continue
                assert str(value).strip().lower() in known, (source["name"], column, value)


def test_codes_tables_translate_to_canonical_codes_only():
    allowed = {**CODE_LISTS, "admitted": ("true", "false"), "age_band": AGE_BANDS}
    for layout in LAYOUTS:
        for field, table in layout.codes.items():
            lowered = [raw.strip().lower() for raw in table]
            assert len(set(lowered)) == len(lowered), (layout.name, field)
            assert set(table.values()) <= set(allowed[field]), (layout.name, field)
        field, code = layout.unknown_code
        assert code.lower() not in {raw.lower() for raw in layout.codes[field]}


def test_dates_parse_with_the_declared_formats_except_planted_bad_dates(city, truth, extracts):
    bad = planted(truth, "bad_date")
    seen_bad = 0
    for source in city.sources:
        if source["format"] == "xlsx":
            continue
        for file, row_number, row in extracts[source["name"]]:
            for field, fmt in source["formats"].items():
                value = row[source["columns"][field]]
                if not value:
                    assert field == "occurred_time"
                    continue
                try:
                    datetime.strptime(value, fmt)
                except ValueError:
                    assert (file, row_number) in bad, (source["name"], value)
                    seen_bad += 1
    assert seen_bad >= 0.8 * len({b for b in bad if not b[0].endswith(".xlsx")})


def test_xlsx_holds_real_excel_dates(extracts):
    rows = [row for _, _, row in extracts["cri"]]
    arrivals = [row["Arrival"] for row in rows]
    assert all(isinstance(a, datetime) for a in arrivals)
    times = [row["Assault time"] for row in rows if row["Assault time"] is not None]
    assert len(times) > 0.8 * len(rows)


def test_planted_errors_are_few_and_really_wrong(truth, extracts):
    share = truth["planted_error"].notna().mean()
    assert 0.002 < share < 0.01
    kinds = set(truth["planted_error"].dropna())
    assert {"bad_date", "unknown_code", "blank_id", "assault_after_arrival"} <= kinds
    blank = planted(truth, "blank_id")
    after = planted(truth, "assault_after_arrival")
    for file, row_number, row in extracts["uhw"]:
        key = (file, row_number)
        if key in blank:
            assert row["AttendanceNo"] == ""
        if key in after and row["IncidentTime"]:
            occurred = datetime.strptime(
                f"{row['IncidentDate']} {row['IncidentTime']}", "%d/%m/%Y %H:%M"
            )
            assert occurred > datetime.strptime(row["ArrivalDateTime"], "%d/%m/%Y %H:%M")
    assert truth.loc[truth["planted_error"] == "blank_id", "source_record_id"].isna().all()


def test_most_ed_attendances_are_unknown_to_the_police(truth):
    ed = truth[truth["kind"] == "ed"]
    unknown = 1 - ed["in_police"].mean()
    assert 0.51 <= unknown <= 0.67
    young_men = ed[(ed["sex"] == "male") & ed["age"].between(18, 34)]
    assert 1 - young_men["in_police"].mean() > unknown  # as Gray et al. found
    strangers = ed[ed["relationship"] == "stranger"]
    assert 1 - strangers["in_police"].mean() > unknown


def test_friday_and_saturday_nights_peak_in_licensed_premises(truth):
    ed = truth[truth["kind"] == "ed"]
    when = pd.to_datetime(ed["occurred_at"])
    night = pd.Series(
        list(zip(when.dt.day_of_week, when.dt.hour, strict=True)), index=ed.index
    ).isin(NIGHTS)
    assert night.mean() > 3 * len(NIGHTS) / 168
    licensed = ed["setting"] == "licensed"
    assert night[licensed].mean() > 0.4
    assert night[ed["setting"] == "home"].mean() < 0.25


def test_night_peak_is_in_the_recorded_times_too(extracts):
    hours = np.zeros((7, 24))
    for _, _, row in extracts["uhw"]:
        try:
            when = datetime.strptime(
                f"{row['IncidentDate']} {row['IncidentTime']}", "%d/%m/%Y %H:%M"
            )
        except ValueError:
            continue
        hours[when.weekday(), when.hour] += 1
    night = sum(hours[d, h] for d, h in NIGHTS)
    assert night / hours.sum() > 0.2


def test_hotspot_beats_have_the_highest_rates(city, truth):
    layer = ward_beats(DATA)
    population = dict(zip(layer.codes, layer.population, strict=True))
    for kind in ("ed", "police"):
        records = truth[(truth["kind"] == kind) & truth["beat"].notna()]
        rates = records.groupby("beat").size() / records.groupby("beat").size().index.map(
            population
        )
        top = set(rates.sort_values(ascending=False).index[: len(city.hotspot_beats)])
        assert top == set(city.hotspot_beats), kind


def test_the_rising_beat_rises_and_the_rest_do_not(city, truth):
    events = truth.drop_duplicates("event_id")
    after = pd.to_datetime(events["occurred_at"]) >= pd.Timestamp(city.rise_start)
    weeks_before = (city.rise_start - city.start).days / 7
    weeks_after = (city.end - city.rise_start).days / 7
    rising = events["beat"] == city.rising_beat

    def ratio(rows):
        return (rows & after).sum() / weeks_after / ((rows & ~after).sum() / weeks_before)

    rest = ratio(~rising & events["beat"].notna())
    assert 0.85 < rest < 1.2  # only the season differs
    assert 1.9 < ratio(rising) / rest < 3.2


def test_december_is_busier_than_june(truth):
    month = pd.to_datetime(truth.drop_duplicates("event_id")["occurred_at"]).dt.month
    assert (month == 12).sum() > (month == 6).sum()


def test_identifiers_are_there_for_ingest_to_strip(truth, extracts):
    uhw = [row for _, _, row in extracts["uhw"]]
    numbers = [row["NHSNumber"] for row in uhw]
    assert all(len(n) == 10 and nhs_check_digit(n[:9]) == int(n[9]) for n in numbers)
    assert all(re.fullmatch(r"[A-Z][a-z']+ [A-Z][a-zA-Z']+", row["PatientName"]) for row in uhw)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", row["DOB"]) for row in uhw)
    texts = " | ".join(row["IncidentLocation"] for row in uhw)
    assert re.search(r"07700 ?900\d{3}", texts)
    assert re.search(r"\bCF\d{1,2} \d[A-Z]{2}\b", texts)
    assert re.search(r"\b999 ?\d{3} ?\d{4}\b", texts)
    named = truth["identifiers"].apply(lambda kinds: "name" in kinds)
    assert named.sum() > 0
    ed = truth[truth["kind"] == "ed"]
    share = ed["identifiers"].apply(len).gt(0).mean()
    assert 0.01 < share < 0.1
    llandough = [row for _, _, row in extracts["llandough"]]
    assert all(re.fullmatch(r"CF\d{1,2} \d[A-Z]{2}", row["Pt Postcode"]) for row in llandough)


def test_nhs_check_digit_matches_the_published_example():
    assert nhs_check_digit("943476591") == 9  # 943 476 5919, the NHS's own example


def test_free_text_names_real_places_about_as_often_as_real_ed_data(truth, extracts):
    ed = truth[truth["kind"] == "ed"]
    assert 0.3 < ed["text_names_place"].mean() < 0.55
    blank = ed["noise"].apply(lambda n: "blank" in n).mean()
    assert 0.1 < blank < 0.2
    gazetteer = {
        p.place_id
        for p in build_gazetteer(
            [DATA / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml"],
            sorted((DATA / "police_uk").glob("*.csv")),
            BBOX,
        )
    }
    assert set(ed["text_place_id"].dropna()) <= gazetteer
    homes = ed[ed["setting"] == "home"]
    assert homes["place_id"].isna().all() and not homes["text_names_place"].any()
    venue_texts = [row["IncidentLocation"] for _, _, row in extracts["uhw"]]
    assert any(t.lower().startswith(("o/s ", "nr ", "opp ", "outside ")) for t in venue_texts)
    assert any(re.search(r"\b(pts|pt's|patient's) home\b", t, re.I) for t in venue_texts)


def test_police_points_are_police_uk_points_and_ambulance_points_are_near(truth, extracts):
    published = set()
    for path in sorted((DATA / "police_uk").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            published |= {(r["Longitude"], r["Latitude"]) for r in csv.DictReader(handle)}
    published = {(f"{float(a):.6f}", f"{float(b):.6f}") for a, b in published if a}
    police = [row for _, _, row in extracts["swp"] if row["Longitude"]]
    assert all((row["Longitude"], row["Latitude"]) in published for row in police)
    was = truth[truth["source"] == "was"].reset_index(drop=True)
    rows = [row for _, _, row in extracts["was"]]
    lon = np.array([float(r["Longitude"]) for r in rows])
    lat = np.array([float(r["Latitude"]) for r in rows])
    metres = np.hypot((lon - was["lon"]) * 69_400, (lat - was["lat"]) * 111_200)
    assert 15 < np.median(metres) < 60
