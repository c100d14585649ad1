"""The incident store: one DuckDB file holding incidents, batches, quarantine and areas.

Each ingested file is one batch, written in a single transaction together with its
accepted incidents and its quarantined rows, so a process killed mid-way leaves either the
whole batch or nothing. Incident ids are stable hashes, so re-ingesting a record adds
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from cardiffmodel.schema import INCIDENT_COLUMNS

SCHEMA_VERSION = 1

_ARROW_TO_DUCKDB = {
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
    pa.float64(): "DOUBLE",
    pa.int32(): "INTEGER",
}

QUARANTINE_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("source", pa.string()),
        ("file", pa.string()),
        ("row_number", pa.int64()),
        ("column_name", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


def _incidents_ddl() -> str:
    columns = [f"{c.name} {_ARROW_TO_DUCKDB[c.type]}" for c in INCIDENT_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS incidents ({', '.join(columns)}, PRIMARY KEY (incident_id))"


_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    _incidents_ddl(),
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id VARCHAR PRIMARY KEY, source VARCHAR, file VARCHAR, sha256 VARCHAR,
        rows_in INTEGER, accepted INTEGER, duplicates INTEGER, quarantined INTEGER,
        identifiers_removed VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        status VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR, source VARCHAR, file VARCHAR, row_number BIGINT,
        column_name VARCHAR, value VARCHAR, reason VARCHAR, raw VARCHAR)""",
)


@dataclass(frozen=True)
class BatchRecord:
    """What one ingested file brought: counts in, accepted, duplicate and quarantined."""

    batch_id: str
    source: str
    file: str
    sha256: str
    rows_in: int
    accepted: int
    duplicates: int
    quarantined: int
    identifiers_removed: str
    started_at: datetime
    finished_at: datetime
    status: str = "ingested"


class Store:
    """A DuckDB file opened for reading and writing; use as a context manager."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = path
        self.con = duckdb.connect(str(path), read_only=read_only)
        if not read_only:
            self._migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _migrate(self) -> None:
        for statement in _DDL:
            self.con.execute(statement)
        self.con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    def batch_with_sha(self, source: str, sha256: str) -> str | None:
        """The live batch that already brought this exact file, if any."""
        row = self.con.execute(
            "SELECT batch_id FROM batches WHERE source = ? AND sha256 = ? AND status = 'ingested'",
            [source, sha256],
        ).fetchall()
        return row[0][0] if row else None

    def write_batch(self, batch: BatchRecord, incidents: pa.Table, quarantine: pa.Table) -> int:
        """Write a batch with its incidents and quarantined rows in one transaction.

        Returns how many incidents were new; the rest were already in the store.
        """
        self.con.execute("BEGIN TRANSACTION")
        try:
            before = self._count("incidents")
            self.con.register("new_incidents", incidents)
            self.con.execute("INSERT OR IGNORE INTO incidents SELECT * FROM new_incidents")
            self.con.unregister("new_incidents")
            added = self._count("incidents") - before
            self.con.register("new_quarantine", quarantine)
            self.con.execute("INSERT INTO quarantine SELECT * FROM new_quarantine")
            self.con.unregister("new_quarantine")
            values = [
                batch.batch_id,
                batch.source,
                batch.file,
                batch.sha256,
                batch.rows_in,
                added,
                batch.accepted - added,
                batch.quarantined,
                batch.identifiers_removed,
                batch.started_at,
                batch.finished_at,
                batch.status,
            ]
            self.con.execute(f"INSERT INTO batches VALUES ({', '.join('?' * len(values))})", values)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return added

    def _count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def batches(self) -> list[dict]:
        return self._dicts("SELECT * FROM batches ORDER BY started_at, batch_id")

    def quarantine(self, source: str | None = None) -> list[dict]:
        sql = "SELECT * FROM quarantine"
        params: list[str] = []
        if source:
            sql += " WHERE source = ?"
            params.append(source)
        return self._dicts(sql + " ORDER BY file, row_number", params)

    def _dicts(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def incident_count(self) -> int:
        return self._count("incidents")

    def incidents(self) -> ibis.Table:
        """The incidents table as an Ibis expression, for the analysis layer."""
        return ibis.duckdb.from_connection(self.con).table("incidents")
