"""Helpers for tests that need a real incident store: hand-made canonical rows written to
a real DuckDB file and opened through Ibis, as the analysis layer sees them in production.
Public so that users' own checks can build stores the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from cardiffmodel.schema import COLUMN_NAMES, INCIDENT_SCHEMA
from cardiffmodel.store.duckdb_store import QUARANTINE_SCHEMA, BatchRecord, Store


def incident(day: date | str, **fields) -> dict:
    """One canonical row: an ED record on ``day`` with an unknown time, unless told otherwise."""
    row = dict.fromkeys(COLUMN_NAMES)
    row.update(
        source="ed",
        site="RYR",
        batch_id="batch-1",
        occurred_date=date.fromisoformat(day) if isinstance(day, str) else day,
        time_known=False,
    )
    row.update(fields)
    return row


def write_incidents(path: Path, rows: Iterable[dict]) -> None:
    """Write rows as the ``incidents`` table of a new DuckDB file; rows without an id get
    one from their position."""
    rows = [{**row, "incident_id": row.get("incident_id") or f"i{n}"} for n, row in enumerate(rows)]
    table = pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA)
    with duckdb.connect(str(path)) as con:
        con.register("new_rows", table)
        con.execute("CREATE TABLE incidents AS SELECT * FROM new_rows")


def open_incidents(path: Path) -> ibis.Table:
    """The ``incidents`` table of a DuckDB file as an Ibis expression."""
    return ibis.duckdb.connect(path).table("incidents")


def store_batch(
    path: Path, rows: Iterable[dict], source: str, kind: str, period: tuple[date, date]
) -> None:
    """Write rows through the real store as one ingested batch of ``source`` (a source of
    ``kind``) that covers ``period`` (first and last day, both included), so the store's
    coverage holds that period as an ingested file's would."""
    batch_id = f"{source}-{period[0]}"
    rows = [
        {**row, "batch_id": batch_id, "incident_id": row.get("incident_id") or f"{batch_id}-{n}"}
        for n, row in enumerate(rows)
    ]
    now = datetime.now()
    record = BatchRecord(
        batch_id, source, f"{batch_id}.csv", batch_id, len(rows), len(rows), 0, "", now, now,
        period_start=period[0], period_end=period[1], kind=kind,
    )  # fmt: skip
    with Store(path) as store:
        table = pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA)
        store.write_batch(record, table, QUARANTINE_SCHEMA.empty_table())
