"""The DuckDB store: batches are atomic and incident ids make re-ingest idempotent."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from cardiffmodel.schema import INCIDENT_SCHEMA
from cardiffmodel.store.duckdb_store import QUARANTINE_SCHEMA, BatchRecord, Store


def _incidents(ids: list[str], batch: str) -> pa.Table:
    rows = [
        {name: None for name in INCIDENT_SCHEMA.names}
        | {"incident_id": i, "source": "ed", "batch_id": batch, "weapon": "body"}
        for i in ids
    ]
    return pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA)


def _batch(batch_id: str, sha: str, accepted: int) -> BatchRecord:
    now = datetime(2019, 2, 1, 9, 0)
    return BatchRecord(batch_id, "uhw", "f.csv", sha, accepted, accepted, 0, 0, "", now, now)


def test_rewriting_the_same_incidents_adds_nothing(tmp_path):
    empty = QUARANTINE_SCHEMA.empty_table()
    with Store(tmp_path / "s.duckdb") as store:
        first = _incidents(["a", "b", "c"], "b1")
        overlapping = _incidents(["b", "c", "d"], "b2")
        assert store.write_batch(_batch("b1", "x", 3), first, empty) == 3
        assert store.write_batch(_batch("b2", "y", 3), overlapping, empty) == 1
        assert store.incident_count() == 4
        batches = {b["batch_id"]: b for b in store.batches()}
        assert batches["b2"]["accepted"] == 1 and batches["b2"]["duplicates"] == 2
        assert store.batch_with_sha("uhw", "x") == "b1"


def test_a_failed_batch_leaves_nothing_behind(tmp_path):
    path = tmp_path / "s.duckdb"
    broken_quarantine = pa.table({"batch_id": ["b1"]})  # wrong shape: the insert fails
    with Store(path) as store:
        with pytest.raises(duckdb.Error):
            store.write_batch(_batch("b1", "x", 2), _incidents(["a", "b"], "b1"), broken_quarantine)
        assert store.incident_count() == 0
        assert store.batches() == []
    with Store(path, read_only=True) as store:
        assert store.incident_count() == 0


def test_incidents_are_readable_through_ibis(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.write_batch(
            _batch("b1", "x", 2), _incidents(["a", "b"], "b1"), QUARANTINE_SCHEMA.empty_table()
        )
        table = store.incidents()
        assert table.count().execute() == 2
        assert set(table.columns) == set(INCIDENT_SCHEMA.names)
