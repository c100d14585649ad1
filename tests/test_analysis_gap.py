"""The gap between hospital and police records: hand-worked counts on a real DuckDB store,
and record linkage measured against the synthetic city's ground truth."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner

from cardiffmodel.analysis.gap import M_PER_DEGREE_LAT, area_gap
from cardiffmodel.analysis.linkage import (
    Link,
    LinkageOptions,
    known_links,
    link_ed_police,
    link_quality,
)
from cardiffmodel.analysis.selection import Selection, month_selection
from cardiffmodel.cli import main
from cardiffmodel.demo import build_demo_store
from cardiffmodel.ingest.pipeline import incident_ids
from cardiffmodel.schema import COLUMN_NAMES, INCIDENT_SCHEMA

AREAS = {"B1": ("Cathays", 100.0), "B2": ("Butetown", 200.0), "B3": ("Ely", None)}
MARCH = month_selection("2019-03")
VENUE = (-3.18, 51.48)


def records(n: int, source: str, **fields) -> list[dict]:
    """``n`` canonical rows of one source in March 2019 (defaults: no place, no time)."""
    base = dict.fromkeys(COLUMN_NAMES)
    base.update(source=source, site="S", batch_id="b", occurred_date=date(2019, 3, 10))
    return [{**base, **fields} for _ in range(n)]


def north_of_venue(metres: float) -> dict:
    return {"lon": VENUE[0], "lat": VENUE[1] + metres / M_PER_DEGREE_LAT}


@pytest.fixture
def store(tmp_path):
    """A DuckDB store holding the given rows, as its Ibis ``incidents`` table."""
    path = tmp_path / "gap.duckdb"

    def build(rows: list[dict]) -> ibis.Table:
        rows = [{**row, "incident_id": f"i{k}"} for k, row in enumerate(rows)]
        with duckdb.connect(str(path)) as con:
            con.register("rows", pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA))
            con.execute("CREATE TABLE incidents AS SELECT * FROM rows")
        return ibis.duckdb.connect(path).table("incidents")

    return build


def test_area_gap_counts_ratio_and_excess(store):
    t = store(
        [
            *records(6, "ed", beat="B1"),
            *records(2, "police", beat="B1"),
            *records(2, "ed", beat="B2"),
            *records(6, "police", beat="B2"),
            *records(3, "ed"),  # at home: never placed
            *records(1, "police"),
            *records(1, "police", beat="BX"),  # not a configured beat
            *records(5, "ambulance", beat="B3"),  # not part of the comparison
            *records(4, "ed", beat="B1", occurred_date=date(2019, 4, 1)),  # after March
        ]
    )
    gap = area_gap(t, MARCH, AREAS)
    # Placed: 8 ED and 9 police, so each police record "predicts" 8/9 ED attendances.
    assert gap.city_ratio == pytest.approx(8 / 9)
    rows = {row.code: row for row in gap.rows}
    assert [row.code for row in gap.rows] == ["B1", "B3", "BX", "B2"]
    assert (rows["B1"].ed, rows["B1"].police, rows["B1"].ed_per_police) == (6, 2, 3.0)
    assert rows["B1"].excess == pytest.approx(6 - 2 * 8 / 9)
    assert rows["B2"].excess == pytest.approx(2 - 6 * 8 / 9)
    assert (rows["B3"].ed, rows["B3"].police, rows["B3"].ed_per_police) == (0, 0, None)
    assert rows["BX"].name == "BX" and rows["BX"].excess == pytest.approx(-8 / 9)
    assert sum(row.excess for row in gap.rows) == pytest.approx(0)
    assert (gap.ed_total, gap.ed_unplaced, gap.police_total, gap.police_unplaced) == (11, 3, 10, 1)


def test_area_gap_for_a_group_and_chosen_crime_types(store):
    t = store(
        [
            *records(3, "ed", beat="B1"),
            *records(2, "police", beat="B1", crime_type="Violence with injury"),
            *records(4, "police", beat="B1", crime_type="Violence without injury"),
            *records(5, "police", beat="B2", crime_type="Violence with injury"),
            *records(2, "ed"),
        ]
    )
    group = month_selection("2019-03", areas=("B1",), sources=("ambulance",))
    gap = area_gap(t, group, AREAS, police_crime_types=("Violence with injury",))
    assert [(r.code, r.ed, r.police) for r in gap.rows] == [("B1", 3, 2)]
    assert gap.city_ratio == 1.5 and gap.rows[0].excess == 0
    assert (gap.ed_unplaced, gap.police_total) == (0, 2)
    assert area_gap(t, group, AREAS).rows[0].police == 6
    with pytest.raises(ValueError, match=r"\['B9'\] are not among the beat areas"):
        area_gap(t, month_selection("2019-03", areas=("B9",)), AREAS)


def test_venues_count_police_records_within_the_radius(store):
    at_venue = {"place_id": "fsa:1", "place_name": "The Lion", "beat": "B1"}
    t = store(
        [
            *records(3, "ed", **at_venue, **north_of_venue(0)),
            *records(2, "ed", place_id="fsa:2", place_name="Bar 2", **north_of_venue(500)),
            *records(1, "ed", place_id="street:x", place_name="X Street", **north_of_venue(0)),
            *records(1, "ed", place_id="fsa:3", match_method="home", **north_of_venue(0)),
            *records(1, "police", **north_of_venue(60)),
            *records(1, "police", **north_of_venue(-90)),
            *records(1, "police", **north_of_venue(140)),
            *records(1, "police", lon=VENUE[0] + 0.002, lat=VENUE[1]),  # about 139 m east
            *records(1, "police", **north_of_venue(60), occurred_date=date(2019, 2, 1)),
        ]
    )
    gap = area_gap(t, MARCH, AREAS, radius_m=100)
    assert [(v.place_id, v.place_name, v.area, v.ed, v.police_nearby) for v in gap.venues] == [
        ("fsa:1", "The Lion", "B1", 3, 2),
        ("fsa:2", "Bar 2", None, 2, 0),  # 500 m north: the nearest is 360 m away
    ]
    wider = area_gap(t, MARCH, AREAS, radius_m=150, venue_limit=1)
    assert [(v.place_id, v.police_nearby) for v in wider.venues] == [("fsa:1", 4)]
    assert area_gap(t, MARCH, AREAS, venue_limit=0).venues == ()


def test_link_quality_and_known_links_by_hand():
    found = [Link("e1", "p1", 0.9), Link("e2", "p2", 0.8), Link("e3", "p9", 0.6)]
    quality = link_quality(found, [("e1", "p1"), ("e2", "p2"), ("e4", "p4")])
    assert (quality.found, quality.true, quality.correct) == (3, 3, 2)
    assert quality.precision == pytest.approx(2 / 3) and quality.recall == pytest.approx(2 / 3)
    truth = pd.DataFrame(
        {
            "kind": ["ed", "police", "ed", "ambulance", "police", "ed"],
            "site": ["7A4", "62", "7A4", "RT4", "62", "7A4"],
            "source_record_id": ["1", "P1", "2", "A1", "P2", None],
            "event_id": ["T1", "T1", "T2", "T2", "T3", "T3"],
        }
    )
    ids = {rid: incident_ids(k, s, [rid])[0] for k, s, rid in truth.dropna().values[:, :3]}
    assert known_links(truth) == {(ids["1"], ids["P1"])}


@pytest.fixture(scope="module")
def city(tmp_path_factory, shared_data):
    """A small synthetic city, ingested: its folder and the incidents table."""
    folder = tmp_path_factory.mktemp("gap-city")
    build_demo_store(folder, shared_data, seed=5, months=12, scale=0.25)
    con = ibis.duckdb.connect(folder / "cardiff.duckdb", read_only=True)
    yield folder, con.table("incidents")
    con.disconnect()


@pytest.fixture(scope="module")
def linked(city):
    _, t = city
    return link_ed_police(t, Selection(date(2018, 1, 1), date(2019, 1, 1)))


def test_linkage_finds_the_true_links_and_the_unknown_share(city, linked):
    folder, t = city
    stored = set(t.filter(t.source == "ed").incident_id.to_pyarrow().to_pylist())
    true = {(e, p) for e, p in known_links(pd.read_parquet(folder / "extracts/truth.parquet"))}
    true = {(e, p) for e, p in true if e in stored}
    quality = link_quality(linked.links, true)
    assert quality.precision > 0.88 and quality.recall > 0.88, quality
    assert linked.ed_records == len(stored)
    true_unknown = 1 - len({e for e, _ in true}) / len(stored)
    assert 0.5 < true_unknown < 0.7  # the synthetic city plants Gray et al.'s 59%
    assert linked.unknown_share == pytest.approx(true_unknown, abs=0.03)
    assert linked.expected_unknown_share == pytest.approx(true_unknown, abs=0.03)
    assert 0 < linked.same_day_match_rate < 0.2


def test_links_are_one_to_one_same_or_next_day_and_above_the_threshold(city, linked):
    _, t = city
    days = dict(zip(*t.select("incident_id", "occurred_date").to_pandas().T.values, strict=True))
    assert len({link.ed_id for link in linked.links}) == len(linked.links)
    assert len({link.police_id for link in linked.links}) == len(linked.links)
    assert all(link.probability >= 0.5 for link in linked.links)
    gaps = {abs((days[link.ed_id] - days[link.police_id]).days) for link in linked.links}
    assert gaps <= {0, 1}


def test_shares_partition_the_ed_records(city, linked):
    _, t = city
    placed = t.filter(t.source == "ed", t.beat.notnull(), t.occurred_date < date(2019, 1, 1))
    for shares in (linked.by_sex_age, linked.by_relationship):
        assert sum(s.ed for s in shares) == linked.ed_records
        assert sum(s.linked for s in shares) == len(linked.links)
    assert sum(s.ed for s in linked.by_area) == placed.count().to_pyarrow().as_py()
    unknowns = [s.unknown for s in linked.by_area]
    assert unknowns == sorted(unknowns, reverse=True)
    assert linked.by_venue and all(not s.key.startswith("street") for s in linked.by_venue)


def test_young_men_and_strangers_are_least_known_to_the_police(linked):
    def share(shares, keys):
        chosen = [s for s in shares if s.key in keys]
        return 1 - sum(s.linked for s in chosen) / sum(s.ed for s in chosen)

    young_men = share(linked.by_sex_age, {"male 18-24", "male 25-34"})
    women = share(linked.by_sex_age, {s.key for s in linked.by_sex_age if "female" in s.key})
    assert young_men > women + 0.1
    assert share(linked.by_relationship, {"stranger"}) > share(linked.by_relationship, {"partner"})


def test_the_trained_model_rewards_agreement(linked):
    weights = {(w.comparison, w.level): w for w in linked.weights}
    for key, factor in (
        (("minute_of_day", "same minute"), 100),
        (("lat_lon", "Distance less than 0.1km"), 20),
        (("age_band", "Exact match on age_band"), 3),
        (("sex", "Exact match on sex"), 1.5),  # about half of all pairs share a sex
    ):
        assert weights[key].m > factor * weights[key].u, weights[key]
    assert weights[("minute_of_day", "All other comparisons")].m < 0.05
    assert weights[("occurred_date", "Exact match on occurred_date")].m == 0.95


def test_a_month_linked_with_a_model_trained_on_the_year_is_reproducible(city, linked):
    folder, t = city
    june = link_ed_police(t, month_selection("2018-06"), training=linked.selection)
    # The same model, trained again from the seed (DuckDB's parallel sums may differ in
    # the last bit).
    assert [(w.comparison, w.level) for w in june.weights] == [
        (w.comparison, w.level) for w in linked.weights
    ]
    assert [p for w in june.weights for p in (w.m, w.u)] == pytest.approx(
        [p for w in linked.weights for p in (w.m, w.u)], rel=1e-9
    )
    true = known_links(pd.read_parquet(folder / "extracts/truth.parquet"))
    assert link_quality(june.links, true).precision > 0.85
    in_june = {link for link in linked.links if link.ed_id in {k.ed_id for k in june.links}}
    assert len(in_june) > 0.85 * len(june.links)  # mostly the links the year's run found
    assert 0.4 < june.unknown_share < 0.8
    assert min(w.m for w in june.weights) >= 0.9e-3  # no disagreement rules a link out


def test_linkage_needs_records_of_both_sources(city):
    _, t = city
    with pytest.raises(ValueError, match="0 ED and 0 police records"):
        link_ed_police(t, month_selection("2030-01"))
    with pytest.raises(ValueError, match=r"threshold 1\.5"):
        LinkageOptions(threshold=1.5)


def run_cli(folder, *args: str) -> str:
    result = CliRunner().invoke(main, ["--project", str(folder), "analyse", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_gap_counts_and_links(city):
    folder, _ = city
    rows = json.loads(
        run_cli(folder, "gap", "--period", "2018-12", "--months", "6", "--format", "json")
    )
    assert rows[-1]["code"] == "unplaced" and rows[-1]["ed"] > 0
    assert {"code", "name", "ed", "police", "ed_per_police", "excess"} <= set(rows[0])
    linked = run_cli(
        folder, "gap", "--period", "2018-12", "--link", "--train-months", "6", "--format", "csv"
    )
    lines = linked.splitlines()
    assert lines[0] == "group,key,ed,linked,unknown,unknown_share"
    assert lines[1].startswith("all,all ED attendances,")
    assert any(line.startswith("sex_age,male 18-24,") for line in lines)
    venues = json.loads(
        run_cli(folder, "gap", "--period", "2018-12", "--venues", "--format", "json")
    )
    assert venues and {"place_id", "ed", "police_nearby"} <= set(venues[0])


def test_cli_venues_profile_hotspots_and_rises(city):
    folder, _ = city
    period = ("--period", "2018-12", "--format", "json")
    venues = json.loads(run_cli(folder, "venues", *period, "--limit", "3"))
    assert 0 < len(venues) <= 3 and venues[0]["count"] >= venues[-1]["count"]
    grid = json.loads(run_cli(folder, "profile", *period))
    assert grid[0]["weekday"] == "Monday" and len(grid) == 7 and len(grid[0]) == 25
    weapons = json.loads(run_cli(folder, "profile", *period, "--field", "weapon"))
    assert [row["weapon"] for row in weapons][:2] == ["body", "knife_sharp"]
    hot = json.loads(run_cli(folder, "hotspots", *period, "--months", "3", "--permutations", "99"))
    assert len(hot) == 29 and hot[0]["z"] >= hot[1]["z"]
    group = json.loads(
        run_cli(folder, "hotspots", *period, "--group", "East Cardiff", "--permutations", "99")
    )
    assert len(group) == 8
    excess = json.loads(run_cli(folder, "hotspots", *period, "--statistic", "excess"))
    assert len(excess) == 29 and excess[0]["ratio"] >= excess[1]["ratio"]
    assert (excess[0]["name"], excess[0]["class"]) == ("Cathays", "high")
    rises = json.loads(run_cli(folder, "rises", *period, "--method", "ears_c3", "--all"))
    assert len(rises) == 29 * 4 and {"observed", "expected", "upper", "alarm"} <= set(rises[0])
