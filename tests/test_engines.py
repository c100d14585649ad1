"""The same Ibis queries give the same answers on DuckDB and on Apache Spark (local mode).

One seeded set of incidents is written to a real DuckDB store, exported to Parquet and
read by Spark; every query behind the routine report and the gap runs on both. Spark
starts once for the module (several seconds); deselect with ``-m "not spark"``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cardiffmodel.analysis.counts import monthly_trend, rank_areas, rank_venues
from cardiffmodel.analysis.gap import area_gap
from cardiffmodel.analysis.profiles import PROFILE_FIELDS, hour_weekday, profile
from cardiffmodel.analysis.rises import weekly_counts
from cardiffmodel.analysis.selection import Selection, month_selection, quarter_selection
from cardiffmodel.schema import (
    AGE_BANDS,
    COLUMN_NAMES,
    INCIDENT_SCHEMA,
    LOCATION_TYPES,
    RELATIONSHIPS,
    SEXES,
    SOURCES,
    WEAPONS,
)
from cardiffmodel.store.duckdb_store import QUARANTINE_SCHEMA, BatchRecord, Store
from cardiffmodel.store.spark import export_incidents, local_spark, spark_incidents

AREAS = {f"B{i}": (f"Beat {i}", 1000.0 * i) for i in range(1, 7)}
VENUES = [(f"fsa:{i}", f"Venue {i}", -3.18 + 0.002 * i, 51.48) for i in range(5)]
STREET = {-1: ("street:x", "X Street"), -2: (None, None), -3: (None, None)}
FIRST_DAY = date(2018, 1, 1)
DAYS = 425  # to the end of February 2019: a month with its previous month and last year


def seeded_incidents(n: int = 3000, seed: int = 7) -> pa.Table:
    """Incidents of every source with missing values of every kind, at seeded random."""
    rng = np.random.default_rng(seed)

    def pick(values, size=n, p=None):
        return [values[i] for i in rng.choice(len(values), size=size, p=p)]

    day = [FIRST_DAY + timedelta(days=int(d)) for d in rng.integers(0, DAYS, n)]
    minute = rng.integers(0, 1440, n)
    venue = rng.integers(-3, len(VENUES), n)  # negative: a street or no place
    beats = [*AREAS, "BX", None]
    columns = {
        "incident_id": [f"i{k:05d}" for k in range(n)],
        "source": pick(SOURCES, p=[0.4, 0.2, 0.4]),
        "site": pick(["RYR", "62", "RT4"]),
        "batch_id": ["b1"] * n,
        "occurred_at": [
            datetime(d.year, d.month, d.day) + timedelta(minutes=int(m))
            for d, m in zip(day, minute, strict=True)
        ],
        "occurred_date": day,
        "time_known": pick([True, False, None], p=[0.85, 0.1, 0.05]),
        "place_id": [VENUES[v][0] if v >= 0 else STREET[v][0] for v in venue],
        "place_name": [VENUES[v][1] if v >= 0 else STREET[v][1] for v in venue],
        "match_method": pick(["exact", "fuzzy", "home", "coordinates", None]),
        "lon": [VENUES[v][2] if v >= 0 else float(rng.uniform(-3.25, -3.1)) for v in venue],
        "lat": [VENUES[v][3] + float(rng.normal(0, 0.0008)) if v >= 0 else 51.5 for v in venue],
        "beat": pick(beats, p=[0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.05, 0.05]),
        "weapon": pick([*WEAPONS, None]),
        "location_type": pick([*LOCATION_TYPES, "pier"]),  # one code outside the list
        "relationship": pick([*RELATIONSHIPS, None]),
        "age_band": pick([*AGE_BANDS, None]),
        "sex": pick(SEXES),
        "crime_type": pick(["Violence with injury", "Robbery", None]),
    }
    rows = {name: columns.get(name, [None] * n) for name in COLUMN_NAMES}
    return pa.Table.from_pydict(rows, schema=INCIDENT_SCHEMA)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The same incidents as a DuckDB store's table and as Spark's."""
    folder = tmp_path_factory.mktemp("engines")
    incidents = seeded_incidents()
    now = datetime(2019, 3, 1)
    batch = BatchRecord(
        "b1", "ed", "seeded", "0" * 64, incidents.num_rows, incidents.num_rows, 0, "", now, now
    )
    store = Store(folder / "cardiff.duckdb")
    store.write_batch(batch, incidents, QUARANTINE_SCHEMA.empty_table())
    parquet = export_incidents(store, folder / "parquet" / "incidents.parquet")
    yield store, parquet
    store.close()


# Tiny data: compiling whole-stage code and adaptive planning cost more than they save.
SMALL_DATA = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
}


@pytest.fixture(scope="module")
def spark_table(stores):
    session = local_spark(config=SMALL_DATA)
    yield spark_incidents(session, stores[1])
    session.stop()


def test_export_writes_every_incident_unchanged(stores):
    store, parquet = stores
    exported = duckdb.read_parquet(str(parquet)).order("incident_id").arrow().read_all()
    stored = store.con.sql("SELECT * FROM incidents ORDER BY incident_id").arrow().read_all()
    assert exported.num_rows == 3000
    assert exported.equals(stored)


FEBRUARY = month_selection("2019-02")
GROUP = month_selection("2019-02", layer="beat", areas=("B2", "B5"), sources=("ed", "police"))
QUARTER = quarter_selection("2018-10")
QUERIES = {
    "rank_areas": lambda t: rank_areas(t, FEBRUARY, AREAS),
    "rank_areas_group": lambda t: rank_areas(t, GROUP, AREAS),
    "rank_venues": lambda t: rank_venues(t, QUARTER, limit=3),
    "monthly_trend": lambda t: monthly_trend(t, FEBRUARY, months_back=14),
    "hour_weekday": lambda t: hour_weekday(t, QUARTER),
    "profiles": lambda t: [profile(t, QUARTER, field) for field in PROFILE_FIELDS],
    "weekly_counts": lambda t: weekly_counts(t, Selection(date(2018, 6, 1), date(2019, 1, 1))),
    "area_gap": lambda t: area_gap(
        t, QUARTER, AREAS, police_crime_types=("Violence with injury",), venue_limit=4
    ),
}


@pytest.mark.spark
@pytest.mark.parametrize("name", QUERIES)
def test_duckdb_and_spark_agree(stores, spark_table, name):
    store = stores[0]
    query = QUERIES[name]
    on_duckdb = query(store.incidents())
    assert on_duckdb == query(spark_table)
    fewer = store.incidents().filter(store.incidents().incident_id < "i02000")
    assert on_duckdb != query(fewer)  # the answer depends on the data
