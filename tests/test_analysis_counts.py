"""Rankings, trends and profiles over a real DuckDB store built from hand-made incidents."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from cardiffmodel.analysis.counts import monthly_trend, rank_areas, rank_venues
from cardiffmodel.analysis.profiles import hour_weekday, profile
from cardiffmodel.analysis.selection import (
    Selection,
    filter_incidents,
    month_selection,
    quarter_selection,
)
from cardiffmodel.schema import AGE_BANDS, WEAPONS
from cardiffmodel.testing import incident, write_incidents

# In reverse code order, so the ranking's own tie-break is what the tests see.
AREAS = {
    "B4": ("Riverside", 1000.0),
    "B3": ("Adamsdown", None),
    "B2": ("Butetown", 500.0),
    "B1": ("Cathays", 2000.0),
}
JANUARY = month_selection("2019-01")


def many(n: int, day: str, **fields) -> list[dict]:
    return [incident(day, **fields) for _ in range(n)]


@pytest.fixture
def open_store(tmp_path):
    """Build a store from rows and return its Ibis ``incidents`` table."""
    connections = []

    def build(rows: list[dict]) -> ibis.Table:
        path = tmp_path / f"store{len(connections)}.duckdb"
        write_incidents(path, rows)
        connections.append(ibis.duckdb.connect(path))
        return connections[-1].table("incidents")

    yield build
    for con in connections:
        con.disconnect()


@pytest.fixture
def beats(open_store) -> ibis.Table:
    """January 2019 with December 2018 and January 2018 to compare against."""
    rows = [
        *many(4, "2019-01-01", beat="B1"),
        *many(2, "2019-01-31", beat="B1", source="police"),
        *many(3, "2019-01-15", beat="B2"),
        *many(2, "2019-01-10", beat="B3"),
        *many(1, "2019-01-10", beat="B3", source="ambulance"),
        *many(2, "2019-01-20"),  # not placed in any beat
        *many(1, "2019-01-20", beat="BX", source="police"),  # not a configured beat
        # previous month
        *many(1, "2018-12-31", beat="B1"),
        *many(5, "2018-12-01", beat="B2"),
        *many(2, "2018-12-15", beat="B4"),
        # a year earlier
        *many(2, "2018-01-31", beat="B1"),
        *many(1, "2018-01-01", beat="B3"),
        # outside every period of a January selection
        *many(3, "2019-02-01", beat="B1"),
        *many(1, "2018-11-30", beat="B1"),
    ]
    return open_store(rows)


def by_code(ranking):
    return {row.code: row for row in ranking.rows}


def test_selection_periods():
    assert month_selection("2019-01") == Selection(date(2019, 1, 1), date(2019, 2, 1))
    assert JANUARY.previous() == Selection(date(2018, 12, 1), date(2019, 1, 1))
    assert JANUARY.last_year() == Selection(date(2018, 1, 1), date(2018, 2, 1))
    march = month_selection("2019-03", sources=("ed",), layer="lsoa", areas=("W1",))
    assert march.previous() == month_selection(
        "2019-02", sources=("ed",), layer="lsoa", areas=("W1",)
    )
    assert quarter_selection("2019-11").end == date(2020, 2, 1)
    assert quarter_selection("2019-11").previous() == quarter_selection("2019-08")
    week = Selection(date(2019, 1, 7), date(2019, 1, 14))
    assert week.previous() == Selection(date(2018, 12, 31), date(2019, 1, 7))
    leap_day = Selection(date(2020, 2, 29), date(2020, 3, 1))
    assert leap_day.last_year() == Selection(date(2019, 2, 28), date(2019, 3, 1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Selection(date(2019, 2, 1), date(2019, 2, 1)), "before end"),
        (lambda: month_selection("2019-01", sources=("hospital",)), "sources"),
        (lambda: month_selection("2019-01", layer="postcode"), "layer"),
        (lambda: month_selection("Jan 2019"), "YYYY-MM"),
        (lambda: month_selection("2019-13"), "YYYY-MM"),
    ],
)
def test_selection_rejects_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_rank_areas_orders_rates_and_compares(beats):
    ranking = rank_areas(beats, JANUARY, AREAS)
    assert [(r.code, r.name, r.count) for r in ranking.rows] == [
        ("B1", "Cathays", 6),
        ("B2", "Butetown", 3),  # ties broken by code
        ("B3", "Adamsdown", 3),
        ("BX", "BX", 1),  # found in the data but not configured: listed, not dropped
        ("B4", "Riverside", 0),  # configured with no incidents: listed
    ]
    rows = by_code(ranking)
    assert rows["B1"].rate_per_1000 == pytest.approx(3.0)
    assert rows["B2"].rate_per_1000 == pytest.approx(6.0)
    assert rows["B4"].rate_per_1000 == 0.0
    assert rows["B3"].rate_per_1000 is None and rows["B3"].population is None
    assert rows["BX"].rate_per_1000 is None
    assert [(rows[c].previous_count, rows[c].change) for c in ("B1", "B2", "B4")] == [
        (1, 5),
        (5, -2),
        (2, -2),
    ]
    assert [rows[c].last_year_count for c in ("B1", "B2", "B3", "B4")] == [2, 0, 1, 0]
    assert ranking.unplaced == 2
    assert ranking.total == 15
    assert ranking.layer == "beat" and ranking.selection == JANUARY


def test_change_p_value_is_the_exact_conditional_test(beats):
    rows = by_code(rank_areas(beats, JANUARY, AREAS))
    # December and January both have 31 days: the null share is one half.
    assert rows["B1"].change_p_value == pytest.approx(binomtest(6, 7, 0.5).pvalue)
    assert rows["B2"].change_p_value == pytest.approx(binomtest(3, 8, 0.5).pvalue)
    assert rows["B4"].change_p_value == pytest.approx(binomtest(0, 2, 0.5).pvalue)
    assert rows["B1"].change_p_value == pytest.approx(0.125)  # 2 * 8 / 128
    # February's 28 days against January's 31.
    february = by_code(rank_areas(beats, month_selection("2019-02"), AREAS))
    assert february["B1"].change_p_value == pytest.approx(binomtest(3, 9, 28 / 59).pvalue)
    assert february["B4"].change_p_value == 1.0  # nothing in either month


def test_rank_areas_restricted_to_a_group(beats):
    group = month_selection("2019-01", areas=("B4", "B1"))
    ranking = rank_areas(beats, group, AREAS)
    assert [(r.code, r.count, r.previous_count) for r in ranking.rows] == [
        ("B1", 6, 1),
        ("B4", 0, 2),
    ]
    assert (ranking.total, ranking.unplaced) == (6, 0)


def test_rank_areas_source_filter(beats):
    ranking = rank_areas(beats, month_selection("2019-01", sources=("ed",)), AREAS)
    assert [(r.code, r.count) for r in ranking.rows] == [
        ("B1", 4),
        ("B2", 3),
        ("B3", 2),
        ("B4", 0),
    ]
    assert (ranking.total, ranking.unplaced) == (11, 2)


def test_rank_areas_rejects_group_areas_without_names(beats):
    with pytest.raises(ValueError, match=r"\['B9'\]"):
        rank_areas(beats, month_selection("2019-01", areas=("B1", "B9")), AREAS)


def test_rank_venues(open_store):
    def at(place_id, name, **kw):
        return {"place_id": place_id, "place_name": name, "match_method": "exact", **kw}

    goat = at("fsa:1", "The Goat Major", beat="B1")
    t = open_store(
        [
            *many(3, "2019-01-05", **goat),
            *many(1, "2018-12-24", **goat),
            *many(2, "2019-01-12", **at("fsa:2", "Walkabout", beat="B2")),
            *many(2, "2019-01-12", **at("csv:99", "Club X", beat="B2")),
            *many(4, "2019-01-12", **at("street:st-mary-street", "St Mary Street")),
            *many(5, "2019-01-12", **at("fsa:9", "Flat over shop", match_method="home")),
            *many(2, "2019-01-12", location_text="unresolved text"),
            *many(1, "2018-12-24", **at("fsa:7", "Last month only")),
            *many(1, "2019-01-12", **at("fsa:8", "Police only", source="police")),
        ]
    )
    ranking = rank_venues(t, month_selection("2019-01", sources=("ed",)), limit=3)
    assert [
        (r.place_id, r.place_name, r.count, r.previous_count, r.area) for r in ranking.rows
    ] == [
        ("fsa:1", "The Goat Major", 3, 1, "B1"),
        ("csv:99", "Club X", 2, 0, "B2"),
        ("fsa:2", "Walkabout", 2, 0, "B2"),
    ]
    assert ranking.total_at_venues == 7
    everything = rank_venues(t, JANUARY)
    assert [r.place_id for r in everything.rows] == ["fsa:1", "csv:99", "fsa:2", "fsa:8"]
    assert everything.total_at_venues == 8
    assert rank_venues(t, month_selection("2017-01")).rows == ()


def test_monthly_trend(beats):
    trend = monthly_trend(beats, JANUARY, months_back=4)
    assert trend.months == ("2018-10", "2018-11", "2018-12", "2019-01")
    assert trend.counts == (0, 1, 8, 15)
    assert dict(trend.by_source) == {
        "ed": (0, 1, 8, 11),
        "ambulance": (0, 0, 0, 1),
        "police": (0, 0, 0, 3),
    }
    # The trend ends with the selection's last month, whatever its length.
    quarter = monthly_trend(beats, quarter_selection("2018-12", areas=("B1",)), months_back=3)
    assert quarter.months == ("2018-12", "2019-01", "2019-02")
    assert quarter.counts == (1, 6, 3)
    ed_only = monthly_trend(beats, month_selection("2019-01", sources=("ed",)), months_back=2)
    assert list(ed_only.by_source) == ["ed"] and ed_only.counts == (8, 11)


def test_hour_weekday(open_store):
    def at(stamp: str, known: bool = True) -> dict:
        moment = datetime.fromisoformat(stamp)
        return {"occurred_at": moment, "time_known": known}

    t = open_store(
        [
            *many(2, "2019-01-05", **at("2019-01-05 23:30")),  # Saturday
            *many(1, "2019-01-06", **at("2019-01-06 01:15")),  # Sunday small hours
            *many(1, "2019-01-07", **at("2019-01-07 00:00")),  # Monday midnight
            *many(1, "2019-01-07", **at("2019-01-07 00:00", known=False)),  # date only
            *many(1, "2019-01-08", occurred_at=None, time_known=None),
            *many(3, "2019-01-09"),
            *many(4, "2019-02-02", **at("2019-02-02 23:00")),  # outside January
        ]
    )
    grid = hour_weekday(t, JANUARY)
    assert len(grid.counts) == 7 and all(len(day) == 24 for day in grid.counts)
    assert grid.counts[5][23] == 2
    assert grid.counts[6][1] == 1
    assert grid.counts[0][0] == 1
    assert sum(map(sum, grid.counts)) == 4
    assert (grid.time_unknown, grid.total) == (5, 9)


def test_profile_lists_every_code(open_store):
    t = open_store(
        [
            *many(2, "2019-01-05", weapon="knife_sharp", age_band="18-24", sex="male"),
            *many(1, "2019-01-05", weapon="bottle_glass", age_band="18-24"),
            *many(1, "2019-01-05", weapon="spoon"),  # not a code: counted apart
            *many(2, "2019-01-05", source="police"),  # weapon not recorded
        ]
    )
    weapons = profile(t, JANUARY, "weapon")
    assert weapons.codes == WEAPONS
    assert dict(zip(weapons.codes, weapons.counts, strict=True)) == {
        "body": 0,
        "knife_sharp": 2,
        "bottle_glass": 1,
        "blunt_object": 0,
        "firearm": 0,
        "other": 0,
        "unknown": 2,
    }
    assert (weapons.total, weapons.uncoded) == (6, 1)
    ages = profile(t, JANUARY, "age_band")
    assert ages.codes == AGE_BANDS and ages.counts[AGE_BANDS.index("18-24")] == 3
    assert ages.counts[AGE_BANDS.index("unknown")] == 3
    sources = profile(t, month_selection("2019-01", sources=("police", "ambulance")), "source")
    assert sources.codes == ("ed", "ambulance", "police") and sources.counts == (0, 0, 2)
    with pytest.raises(ValueError, match="expected one of"):
        profile(t, JANUARY, "location_text")


DAYS = [date(2018, 12, 20), date(2019, 1, 1), date(2019, 1, 31), date(2019, 2, 1)]
incidents = st.lists(
    st.tuples(
        st.sampled_from(DAYS),
        st.sampled_from(["ed", "ambulance", "police"]),
        st.sampled_from(["B1", "B2", "BX", None]),
        st.sampled_from(["knife_sharp", "body", None]),
    ),
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(records=incidents, sources=st.sampled_from([("ed",), ("ed", "police"), ("ambulance",)]))
def test_every_selected_incident_is_counted_once(records, sources):
    rows = [
        incident(day.isoformat(), source=source, beat=beat, weapon=weapon)
        for day, source, beat, weapon in records
    ]
    sel = month_selection("2019-01", sources=sources)
    expected = sum(
        1 for day, source, *_ in records if sel.start <= day < sel.end and source in sources
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.duckdb"
        write_incidents(path, rows)
        con = ibis.duckdb.connect(path)
        try:
            t = con.table("incidents")
            assert filter_incidents(t, sel).count().execute() == expected
            ranking = rank_areas(t, sel, AREAS)
            assert sum(r.count for r in ranking.rows) + ranking.unplaced == expected
            assert ranking.total == expected
            weapons = profile(t, sel, "weapon")
            assert sum(weapons.counts) + weapons.uncoded == expected == weapons.total
            assert hour_weekday(t, sel).time_unknown == expected
            assert monthly_trend(t, sel, months_back=1).counts == (expected,)
        finally:
            con.disconnect()


def test_results_are_frozen(beats):
    ranking = rank_areas(beats, JANUARY, AREAS)
    with pytest.raises(AttributeError):
        ranking.total = 0  # type: ignore[misc]
    trend = monthly_trend(beats, JANUARY, months_back=2)
    with pytest.raises(TypeError):
        trend.by_source["ed"] = (0, 0)  # type: ignore[index]
