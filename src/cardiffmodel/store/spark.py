"""The incidents table on Apache Spark, for data that outgrow one machine.

The analysis layer is written once in Ibis, so a table opened here runs the same queries
as the embedded DuckDB store (:meth:`cardiffmodel.store.duckdb_store.Store.incidents`).
The hand-over between the two is a Parquet file: DuckDB writes the incidents, Spark
reads them, and Parquet keeps every column's type (timestamps without a time zone, so
hours of the day are the same on both engines).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import ibis
from pyspark.sql import SparkSession

from cardiffmodel.store.duckdb_store import Store

# Local mode on a workstation: the loopback address avoids a hostname lookup; no web UI
# or progress bars; few shuffle partitions (the default 200 costs seconds on small data);
# UTC, so that Spark never shifts a timestamp.
LOCAL_CONFIG = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
}


def local_spark(
    cores: int = 2, config: Mapping[str, str] | None = None, app_name: str = "cardiffmodel"
) -> SparkSession:
    """A Spark session in local mode on ``cores`` cores; ``config`` overrides ``LOCAL_CONFIG``.

    Spark keeps one session per process: a second call returns the running session (with
    its original settings). Stop it with ``session.stop()``.
    """
    builder = SparkSession.builder.master(f"local[{cores}]").appName(app_name)
    for key, value in {**LOCAL_CONFIG, **(config or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def export_incidents(store: Store, path: Path) -> Path:
    """Write the store's incidents to one Parquet file at ``path`` (replacing it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store.con.table("incidents").write_parquet(str(path), overwrite=True)
    return path


def spark_incidents(session: SparkSession, path: Path | str) -> ibis.Table:
    """The incidents in Parquet at ``path`` (a file or a folder of parts) as an Ibis table."""
    backend = ibis.pyspark.connect(session)
    return backend.read_parquet(str(path), table_name="incidents")
