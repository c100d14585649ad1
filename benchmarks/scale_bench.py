"""Scale: a month's beat ranking over 10 million incidents, on DuckDB and on Spark.

Builds a DuckDB store of 10 million incidents (ten years, 600 beats, every source) with
DuckDB SQL, then times the Ibis queries of a routine report for one month: the beat
ranking (target: under 0.5 s), the ED-against-police gap, the hour x weekday grid and
the two-year monthly trend. The baseline of each is the same counting in pandas on the
needed columns already loaded in memory (what an analyst's notebook would do; it builds
no result objects and no p-values, which ours include).
The same queries then run on local Spark (two cores) over the store exported to
Parquet; Spark's figure is given beside DuckDB's, not as a target (Spark exists for
data that do not fit one machine, and pays for its planning and job start-up).

Times are the median of five warm runs (one discarded warm-up) of the whole function,
result objects included.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from benchmarks import row
from cardiffmodel.analysis.counts import monthly_trend, rank_areas
from cardiffmodel.analysis.gap import M_PER_DEGREE_LAT, M_PER_DEGREE_LON, area_gap
from cardiffmodel.analysis.profiles import hour_weekday
from cardiffmodel.analysis.selection import month_selection
from cardiffmodel.schema import COLUMN_NAMES
from cardiffmodel.store.duckdb_store import Store
from cardiffmodel.store.spark import export_incidents, local_spark, spark_incidents

ROWS = 10_000_000
BEATS = 600
MONTH = month_selection("2022-06")
TARGET_S = 0.5
RUNS = 5
AREAS = {f"B{i:03d}": (f"Beat {i}", 2000.0 + 10 * i) for i in range(BEATS)}


def _draw(k: int, n: int) -> str:
    """SQL for a pseudo-random integer in [0, n) from hash(row, k): the same whatever the
    number of threads, unlike random()."""
    return f"(hash(i, {k}) % {n})::INTEGER"


def _pick(k: int, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"[{quoted}][1 + {_draw(k, len(values))}]"


# Rows are in date order, as monthly ingests leave them. The table has the store's columns
# and types but not its primary-key index, which guards ingest and would double the build.
GENERATE = f"""
CREATE TABLE incidents AS
SELECT
    printf('i%09d', i) AS incident_id,
    {_pick(1, ("ed",) * 4 + ("ambulance",) * 2 + ("police",) * 4)} AS source,
    'S' || {_draw(2, 5)} AS site,
    'bench' AS batch_id,
    day + to_minutes({_draw(3, 1440)}) AS occurred_at,
    day AS occurred_date,
    {_draw(4, 20)} > 0 AS time_known,
    NULL::TIMESTAMP AS arrived_at,
    NULL::VARCHAR AS location_text,
    {_pick(5, ("home", "street", "licensed_premises", "other"))} AS location_type,
    CASE WHEN {_draw(6, 10)} = 0 THEN 'fsa:' || {_draw(7, 2000)} END AS place_id,
    CASE WHEN {_draw(6, 10)} = 0 THEN 'Venue ' || {_draw(7, 2000)} END AS place_name,
    1.0::DOUBLE AS match_score,
    'coordinates' AS match_method,
    -3.3 + {_draw(8, 100000)} / 400000.0 AS lon,
    51.4 + {_draw(9, 100000)} / 600000.0 AS lat,
    CASE WHEN {_draw(10, 20)} > 0 THEN printf('B%03d', {_draw(11, BEATS)}) END AS beat,
    NULL::VARCHAR AS lsoa,
    NULL::VARCHAR AS ward,
    NULL::VARCHAR AS la,
    {_pick(12, ("body", "knife_sharp", "bottle_glass", "unknown"))} AS weapon,
    NULL::INTEGER AS assailants,
    'unknown' AS relationship,
    {_pick(13, ("18-24", "25-34", "35-44", "unknown"))} AS age_band,
    {_pick(14, ("male", "female"))} AS sex,
    'Violence with injury' AS crime_type,
    NULL::BOOLEAN AS admitted
FROM (SELECT i, DATE '2014-01-01' + (i * 3652 // {ROWS})::INTEGER AS day FROM range({ROWS}) t(i))
"""


def build_store(path: Path) -> float:
    """Write the 10-million-row store; returns the seconds it took."""
    started = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        con.execute(GENERATE)
        names = [row[0] for row in con.execute("DESCRIBE incidents").fetchall()]
    if tuple(names) != COLUMN_NAMES:
        raise RuntimeError(f"generated columns {names} differ from the schema's {COLUMN_NAMES}")
    return time.perf_counter() - started


def median_seconds(run: Callable[[], object]) -> float:
    run()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pandas_frame(store: Store) -> pd.DataFrame:
    columns = "source, occurred_date, occurred_at, time_known, beat, place_id, lon, lat"
    return store.con.sql(f"SELECT {columns} FROM incidents").df()


def pandas_ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """The beat ranking's counts in pandas: this month, last month, a year ago."""
    periods = {"count": MONTH, "previous": MONTH.previous(), "last_year": MONTH.last_year()}
    day = frame["occurred_date"]
    counts = {
        name: frame.loc[
            (day >= pd.Timestamp(s.start)) & (day < pd.Timestamp(s.end)), "beat"
        ].value_counts()
        for name, s in periods.items()
    }
    return pd.DataFrame(counts).fillna(0).sort_values("count", ascending=False)


def pandas_gap(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """ED and police per beat, and police within 100 m of the 20 busiest ED venues."""
    day = frame["occurred_date"]
    month = frame[(day >= pd.Timestamp(MONTH.start)) & (day < pd.Timestamp(MONTH.end))]
    month = month[month["source"].isin(["ed", "police"])]
    per_beat = pd.crosstab(month["beat"], month["source"])
    ed = month[(month["source"] == "ed") & month["place_id"].notna()]
    venues = ed.groupby("place_id").agg(n=("lon", "size"), lon=("lon", "min"), lat=("lat", "min"))
    venues = venues.sort_values("n", ascending=False).head(20)
    police = month[(month["source"] == "police") & month["lon"].notna()]
    dx = (police["lon"].to_numpy()[None, :] - venues[["lon"]].to_numpy()) * M_PER_DEGREE_LON
    dx *= np.cos(np.radians(venues[["lat"]].to_numpy()))
    dy = (police["lat"].to_numpy()[None, :] - venues[["lat"]].to_numpy()) * M_PER_DEGREE_LAT
    return per_beat, (np.hypot(dx, dy) <= 100).sum(axis=1).tolist()


def pandas_hour_weekday(frame: pd.DataFrame) -> pd.DataFrame:
    day = frame["occurred_date"]
    month = frame[(day >= pd.Timestamp(MONTH.start)) & (day < pd.Timestamp(MONTH.end))]
    known = month[month["time_known"].fillna(False)]
    return pd.crosstab(known["occurred_at"].dt.day_of_week, known["occurred_at"].dt.hour)


def pandas_trend(frame: pd.DataFrame) -> pd.DataFrame:
    day = frame["occurred_date"]
    start = pd.Timestamp(MONTH.end) - pd.DateOffset(months=24)
    window = frame[(day >= start) & (day < pd.Timestamp(MONTH.end))]
    return window.groupby([window["occurred_date"].dt.to_period("M"), "source"]).size()


QUERIES = {
    "beat ranking": (lambda t: rank_areas(t, MONTH, AREAS), pandas_ranking),
    "ED vs police gap": (lambda t: area_gap(t, MONTH, AREAS), pandas_gap),
    "hour x weekday": (lambda t: hour_weekday(t, MONTH), pandas_hour_weekday),
    "24-month trend": (lambda t: monthly_trend(t, MONTH), pandas_trend),
}


def duckdb_against_pandas(store: Store) -> tuple[list[dict], dict[str, float]]:
    """Each query's median time on DuckDB, against pandas on the columns in memory."""
    t, frame = store.incidents(), pandas_frame(store)
    rows, duck = [], {}
    for name, (query, baseline) in QUERIES.items():
        duck[name] = median_seconds(lambda q=query: q(t))
        base = median_seconds(lambda b=baseline: b(frame))
        rows.append(_row(f"scale: {name}, a month of 10M rows, DuckDB vs pandas", duck[name], base))
    return rows, duck


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        built = build_store(path)
        with Store(path, read_only=True) as store:
            rows, duck = duckdb_against_pandas(store)
            parquet = export_incidents(store, Path(folder) / "incidents.parquet")
        rows.append(
            _row(
                "scale: beat ranking, 10M rows, DuckDB vs the 0.5 s target",
                duck["beat ranking"],
                TARGET_S,
            )
        )
        session = local_spark()
        try:
            spark_t = spark_incidents(session, parquet)
            for name, (query, _) in QUERIES.items():
                spark_s = median_seconds(lambda q=query: q(spark_t))
                rows.append(
                    _row(f"scale: {name}, 10M rows, Spark local vs DuckDB", spark_s, duck[name])
                )
        finally:
            session.stop()
    rows.append(_row("scale: build the 10M-row store by DuckDB SQL vs a 60 s budget", built, 60.0))
    return rows


def _row(target: str, ours: float, baseline: float) -> dict:
    return row(target, ours, baseline, "s")


if __name__ == "__main__":
    for row in run():
        print(row)
