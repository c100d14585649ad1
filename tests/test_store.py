"""The DuckDB store: batches are atomic, re-sent records add nothing, changed records
replace the stored version, and withdrawing a batch restores what the others delivered."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from cardiffmodel.schema import INCIDENT_SCHEMA
from cardiffmodel.store.duckdb_store import (
    QUARANTINE_SCHEMA,
    AlreadyIngested,
    BatchRecord,
    Store,
    StoreBusy,
    StoreError,
)

EMPTY = QUARANTINE_SCHEMA.empty_table()


def _incidents(rows: dict[str, str], batch: str) -> pa.Table:
    """Incidents by id, each with a weapon standing in for its content."""
    return pa.Table.from_pylist(
        [
            dict.fromkeys(INCIDENT_SCHEMA.names)
            | {"incident_id": i, "source": "ed", "batch_id": batch, "weapon": weapon}
            for i, weapon in rows.items()
        ],
        schema=INCIDENT_SCHEMA,
    )


def _batch(batch_id: str, sha: str, accepted: int, minute: int = 0) -> BatchRecord:
    when = datetime(2019, 2, 1, 9, 0) + timedelta(minutes=minute)
    return BatchRecord(batch_id, "uhw", "f.csv", sha, accepted, accepted, 0, "", when, when)


def _write(store: Store, batch_id: str, rows: dict[str, str], minute: int):
    return store.write_batch(
        _batch(batch_id, f"sha-{batch_id}", len(rows), minute), _incidents(rows, batch_id), EMPTY
    )


def _current(store: Store) -> dict[str, tuple[str, str]]:
    rows = store.con.execute("SELECT incident_id, weapon, batch_id FROM incidents").fetchall()
    return {i: (weapon, batch) for i, weapon, batch in rows}


def test_resent_records_are_duplicates_and_changed_ones_replace_the_stored_version(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        first = _write(store, "b1", {"a": "body", "b": "body", "c": "body"}, 0)
        assert (first.new, first.duplicates, first.updated) == (3, 0, 0)
        second = _write(store, "b2", {"b": "body", "c": "knife_sharp", "d": "body"}, 1)
        assert (second.new, second.duplicates, second.updated) == (1, 1, 1)
        assert store.incident_count() == 4
        assert _current(store)["c"] == ("knife_sharp", "b2")
        assert _current(store)["b"] == ("body", "b1")
        batches = {b["batch_id"]: b for b in store.batches()}
        assert (batches["b2"]["new"], batches["b2"]["duplicates"], batches["b2"]["updated"]) == (
            1,
            1,
            1,
        )
        assert store.batch_with_sha("uhw", "sha-b1") == "b1"


def test_withdrawing_a_batch_restores_exactly_what_the_other_batches_delivered(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        _write(store, "b1", {"a": "body", "b": "body", "c": "body"}, 0)
        _write(store, "b2", {"b": "body", "c": "knife_sharp", "d": "body"}, 1)
        outcome = store.withdraw("b2")
        # d came only with b2; c goes back to b1's version; b stays (b1 delivered it too).
        assert (outcome.removed, outcome.restored) == (1, 1)
        assert _current(store) == {
            "a": ("body", "b1"),
            "b": ("body", "b1"),
            "c": ("body", "b1"),
        }
        assert store.batch("b2")["status"] == "withdrawn"
        assert store.batch_with_sha("uhw", "sha-b2") is None  # the file may come again
        with pytest.raises(StoreError, match="already withdrawn"):
            store.withdraw("b2")
        # Withdrawing the first batch too leaves nothing; b2's rows are gone with it.
        store.withdraw("b1")
        assert store.incident_count() == 0
        held = store.con.execute("SELECT count(*) FROM held_versions").fetchall()[0][0]
        assert held == 0


def test_withdrawing_the_first_of_two_identical_deliveries_keeps_the_record(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        _write(store, "b1", {"a": "body", "b": "body"}, 0)
        _write(store, "b2", {"b": "body", "c": "body"}, 1)
        outcome = store.withdraw("b1")
        assert (outcome.removed, outcome.kept, outcome.restored) == (1, 1, 0)
        assert _current(store) == {"b": ("body", "b2"), "c": ("body", "b2")}


def test_an_older_version_comes_back_when_the_correcting_batch_is_withdrawn(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        _write(store, "b1", {"a": "body"}, 0)
        _write(store, "b2", {"a": "firearm"}, 1)
        _write(store, "b3", {"a": "knife_sharp"}, 2)
        store.withdraw("b3")
        assert _current(store) == {"a": ("firearm", "b2")}
        store.withdraw("b2")
        assert _current(store) == {"a": ("body", "b1")}


def test_a_failed_batch_leaves_nothing_behind(tmp_path):
    path = tmp_path / "s.duckdb"
    broken_quarantine = pa.table({"batch_id": ["b1"]})  # wrong shape: the insert fails
    with Store(path) as store:
        with pytest.raises(duckdb.Error):
            store.write_batch(
                _batch("b1", "x", 2),
                _incidents({"a": "body", "b": "body"}, "b1"),
                broken_quarantine,
            )
        assert store.incident_count() == 0
        assert store.batches() == []
        assert store.con.execute("SELECT count(*) FROM batch_members").fetchall()[0][0] == 0
    with Store(path, read_only=True) as store:
        assert store.incident_count() == 0


def test_the_same_file_written_twice_is_refused_inside_the_transaction(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        _write(store, "b1", {"a": "body"}, 0)
        with pytest.raises(AlreadyIngested, match="already ingested as b1"):
            store.write_batch(_batch("b9", "sha-b1", 1, 5), _incidents({"z": "body"}, "b9"), EMPTY)
        assert store.incident_count() == 1


def _quarantine_row(batch: str, row: int, incident: str | None, resubmits: int | None = None):
    return {
        "batch_id": batch,
        "source": "uhw",
        "file": "f.csv",
        "row_number": row,
        "column_name": "Weapon",
        "value": "Spoon",
        "reason": "Weapon: unknown code",
        "raw": "{}",
        "record_id": incident,
        "incident_id": incident,
        "resubmits": resubmits,
    }


def test_quarantined_rows_are_resolved_by_a_later_acceptance_and_reopened_on_withdrawal(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        bad = pa.Table.from_pylist(
            [_quarantine_row("b1", 2, "x"), _quarantine_row("b1", 3, None)],
            schema=QUARANTINE_SCHEMA,
        )
        store.write_batch(_batch("b1", "s1", 1), _incidents({"a": "body"}, "b1"), bad)
        open_ids = {q["row_number"]: q["quarantine_id"] for q in store.quarantine()}
        assert sorted(open_ids) == [2, 3]
        # b2 accepts record x (by id) and, by its quarantine id, the row that had no id.
        outcome = store.write_batch(
            _batch("b2", "s2", 2, 1),
            _incidents({"x": "body", "y": "body"}, "b2"),
            EMPTY,
            fixes=[open_ids[3]],
        )
        assert outcome.resolved == 2 and store.quarantine() == []
        assert {q["status"] for q in store.quarantine(states=("resolved",))} == {"resolved"}
        assert store.withdraw("b2").reopened == 2
        assert len(store.quarantine()) == 2
        store.withdraw("b1")
        assert store.quarantine() == []
        assert len(store.quarantine(states=("withdrawn",))) == 2


def test_a_row_quarantined_again_supersedes_its_earlier_copy(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        first = pa.Table.from_pylist([_quarantine_row("b1", 2, "x")], schema=QUARANTINE_SCHEMA)
        store.write_batch(_batch("b1", "s1", 0), _incidents({}, "b1"), first)
        again = pa.Table.from_pylist([_quarantine_row("b2", 7, "x")], schema=QUARANTINE_SCHEMA)
        outcome = store.write_batch(_batch("b2", "s2", 0, 1), _incidents({}, "b2"), again)
        assert outcome.superseded == 1
        assert [q["row_number"] for q in store.quarantine()] == [7]


def test_incidents_are_readable_through_ibis(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        _write(store, "b1", {"a": "body", "b": "body"}, 0)
        table = store.incidents()
        assert table.count().execute() == 2
        assert set(table.columns) == set(INCIDENT_SCHEMA.names)
        assert store.batches_table().count().execute() == 1


def test_a_version_1_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        con.register("empty", INCIDENT_SCHEMA.empty_table())
        con.execute("CREATE TABLE incidents AS SELECT * FROM empty")
        con.execute(
            """CREATE TABLE batches (batch_id VARCHAR PRIMARY KEY, source VARCHAR,
            file VARCHAR, sha256 VARCHAR, rows_in INTEGER, accepted INTEGER,
            duplicates INTEGER, quarantined INTEGER, identifiers_removed VARCHAR,
            started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR)"""
        )
        con.execute(
            """CREATE TABLE quarantine (batch_id VARCHAR, source VARCHAR, file VARCHAR,
            row_number BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR,
            raw VARCHAR)"""
        )
        con.execute(
            "INSERT INTO incidents (incident_id, source, batch_id, weapon) "
            "VALUES ('a', 'ed', 'b0', 'body')"
        )
        con.execute(
            "INSERT INTO batches VALUES ('b0','uhw','f','s0',1,1,0,1,'',"
            "'2019-01-01','2019-01-01','ingested')"
        )
        con.execute("INSERT INTO quarantine VALUES ('b0','uhw','f',3,'W','x','bad','{}')")
    with Store(path) as store:
        assert [q["quarantine_id"] for q in store.quarantine()] == [1]
        second = _write(store, "b1", {"a": "body"}, 0)
        assert second.duplicates == 1
        assert store.withdraw("b0").kept == 1


def test_a_second_process_waits_for_the_lock_then_gives_up_clearly(tmp_path):
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StoreBusy, match=rf"in use by process {holder.pid}.*waited 1 s"):
            Store(path, wait=1.0)
        assert time.monotonic() - started >= 1.0
    finally:
        holder.kill()
        holder.wait()
    with Store(path, wait=5.0) as store:  # free again once the holder has gone
        assert store.incident_count() == 0


def test_two_connections_of_one_process_write_one_after_the_other(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as first, Store(path, wait=0.3) as second:
        first._begin_writing("a long ingest")  # holds the writer row until it ends
        with pytest.raises(StoreBusy, match="another write has held the store"):
            _write(second, "b2", {"a": "body"}, 1)
        first.con.execute("ROLLBACK")
        assert _write(second, "b2", {"a": "body"}, 1).new == 1
        assert second.incident_count() == 1
