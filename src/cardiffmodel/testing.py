"""Helpers for tests that need a real incident store: hand-made canonical rows written to
a real DuckDB file and opened through Ibis, as the analysis layer sees them in production.
Public so that users' own checks can build stores the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from cardiffmodel.schema import COLUMN_NAMES, INCIDENT_SCHEMA


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
