"""The incident store: one DuckDB file holding incidents, batches, quarantine and areas.

Each ingested file is one batch, written in a single transaction together with its
accepted incidents and its quarantined rows, so a process killed mid-way leaves either the
whole batch or nothing. Incident ids are stable hashes, so re-sending a record adds
nothing: ``batch_members`` records which batches delivered which record, with a hash of
its content. A re-sent record whose content changed replaces the stored one (the latest
extract is the corrected one) and the replaced version is kept in ``held_versions``, so
withdrawing a batch restores exactly what the remaining batches delivered.

DuckDB lets one process write a file at a time; a second process waits for the lock
(``wait`` seconds) rather than failing at once, and two ingests therefore run one after
the other, never interleaved.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from cardiffmodel.coverage import Coverage, records_period
from cardiffmodel.schema import COLUMN_NAMES, INCIDENT_COLUMNS
from cardiffmodel.store.private import make_private

SCHEMA_VERSION = 5
DEFAULT_WAIT = 600.0  # seconds a command waits for another process to finish with the store
LOG = logging.getLogger(__name__)

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
        ("record_id", pa.string()),
        ("incident_id", pa.string()),
        ("resubmits", pa.int64()),  # the quarantine row this row is a corrected copy of
    ]
)
QUARANTINE_STATES = ("open", "resolved", "superseded", "withdrawn")

_COLUMNS = ", ".join(COLUMN_NAMES)


# What a record says, apart from which batch brought it: equal hashes mean a true duplicate.
# DuckDB's hash() is four times faster than md5 over these columns; should a DuckDB upgrade
# change it, records re-sent after the upgrade count once as updated, and nothing is lost.
def _content(table: str = "") -> str:
    return "hash({})".format(", ".join(f"{table}{c}" for c in COLUMN_NAMES if c != "batch_id"))


def _incident_columns() -> str:
    return ", ".join(f"{c.name} {_ARROW_TO_DUCKDB[c.type]}" for c in INCIDENT_COLUMNS)


_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS incidents ({_incident_columns()})",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id VARCHAR PRIMARY KEY, source VARCHAR, file VARCHAR, sha256 VARCHAR,
        rows_in INTEGER, accepted INTEGER, duplicates INTEGER, quarantined INTEGER,
        identifiers_removed VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        status VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR, source VARCHAR, file VARCHAR, row_number BIGINT,
        column_name VARCHAR, value VARCHAR, reason VARCHAR, raw VARCHAR)""",
    # Version 2: what each batch delivered, replaced versions, quarantine follow-up.
    "INSERT OR IGNORE INTO meta VALUES ('writer', '')",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS new INTEGER",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS updated INTEGER",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS filtered INTEGER",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS period_start DATE",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS period_end DATE",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS withdrawn_at TIMESTAMP",
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS quarantine_id BIGINT",
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS record_id VARCHAR",
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS incident_id VARCHAR",
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'open'",
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS resolved_by VARCHAR",
    """CREATE TABLE IF NOT EXISTS batch_members (
        batch_id VARCHAR, incident_id VARCHAR, content UBIGINT)""",
    f"""CREATE TABLE IF NOT EXISTS held_versions (
        {_incident_columns()}, content UBIGINT)""",
    # Version 3: the kind of source each batch came from, for coverage.
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS kind VARCHAR",
    # Version 4: why rows were filtered, rows with no location, records kept outside the
    # area, and how often official area codes and point-in-polygon disagree. NULL in
    # batches written before: not counted then.
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS filtered_reasons VARCHAR",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS unlocatable INTEGER",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS outside_area INTEGER",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS codes_checked INTEGER",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS codes_differ INTEGER",
    # Version 5: dates known to the month only (data.police.uk), kept out of weekly methods.
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS month_only BOOLEAN DEFAULT false",
)


class StoreError(RuntimeError):
    """The store cannot do what was asked; the message says why and what to do."""


class StoreBusy(StoreError):
    """Another process held the store for longer than this one was willing to wait."""


class AlreadyIngested(StoreError):
    """The same file (same SHA-256) is already a live batch of the same source."""

    def __init__(self, batch_id: str):
        super().__init__(f"already ingested as {batch_id}")
        self.batch_id = batch_id


@dataclass(frozen=True)
class BatchRecord:
    """What one ingested file brought: counts in, accepted, quarantined, and when.

    The store counts new, duplicate and updated records itself when it writes the
    batch, so they are not inputs here. ``filtered`` counts rows that were
    another area's or not violence (``filtered_reasons`` gives each reason's count, as
    "reason: n, ..."), ``unlocatable`` rows of a published file with no location at all;
    ``outside_area`` accepted records kept with no area, and ``codes_checked`` /
    ``codes_differ`` how many records' official area codes could be compared with
    point-in-polygon and how many disagreed; ``period_start``/``period_end`` (both included) are
    the period the file covers (:mod:`cardiffmodel.ingest.periods`), and ``kind`` the
    kind of its source (ed, ambulance, police), which together make the store's
    :class:`~cardiffmodel.coverage.Coverage`.
    """

    batch_id: str
    source: str
    file: str
    sha256: str
    rows_in: int
    accepted: int
    quarantined: int
    identifiers_removed: str
    started_at: datetime
    finished_at: datetime
    status: str = "ingested"
    filtered: int = 0
    period_start: date | None = None
    period_end: date | None = None
    kind: str = ""
    filtered_reasons: str = ""
    unlocatable: int = 0
    outside_area: int = 0
    codes_checked: int = 0
    codes_differ: int = 0
    month_only: bool = False


@dataclass(frozen=True)
class WriteOutcome:
    """How a batch's accepted records related to what was stored, and the quarantine
    rows it settled (fixed by this batch, or quarantined again in it)."""

    new: int
    duplicates: int
    updated: int
    resolved: int
    superseded: int


@dataclass(frozen=True)
class WithdrawOutcome:
    """What withdrawing a batch did to the incidents it had delivered."""

    batch_id: str
    removed: int  # no other live batch had them
    kept: int  # another live batch delivered the same content
    restored: int  # another live batch's different version is current again
    reopened: int  # quarantine rows this batch had resolved are open again


class Store:
    """A DuckDB file opened for reading and writing; use as a context manager."""

    def __init__(self, path: Path, read_only: bool = False, wait: float = DEFAULT_WAIT):
        self.path = path
        if read_only and not path.exists():
            raise StoreError(f"{path}: no store yet; ingest some data first (cardiff ingest)")
        self.wait = wait
        self.read_only = read_only
        self.con = _connect(path, read_only, wait)
        if not read_only:
            make_private(path)
            self._migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        if not self.read_only:
            make_private(self.path)

    def _migrate(self) -> None:
        version = self._version()
        if version == SCHEMA_VERSION:
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            for statement in _DDL:
                self.con.execute(statement)
            if version == 1:
                self._backfill_v1()
            if version in (1, 2):
                self._backfill_v2()
            if version is not None and version < 5:
                self._backfill_v4()
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _version(self) -> int | None:
        try:
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        except duckdb.CatalogException:
            return None
        return int(row[0][0]) if row else None

    def _backfill_v1(self) -> None:
        """Stores written before version 2 get their members and quarantine ids."""
        self.con.execute(
            f"INSERT INTO batch_members SELECT batch_id, incident_id, {_content()} FROM incidents"
        )
        self.con.execute(
            "UPDATE quarantine SET quarantine_id = q.n FROM (SELECT rowid AS r, "
            "row_number() OVER (ORDER BY rowid) AS n FROM quarantine) q "
            "WHERE quarantine.rowid = q.r"
        )
        self.con.execute("UPDATE quarantine SET status = 'open' WHERE status IS NULL")
        self.con.execute("UPDATE batches SET new = accepted - duplicates WHERE new IS NULL")

    def _backfill_v4(self) -> None:
        """Stores written before version 5: a police batch of twenty or more records, every
        one on the first of a month, came from a source that gives months only
        (data.police.uk); hospitals and ambulances always record the day."""
        self.con.execute(
            """UPDATE batches SET month_only = true FROM (
                SELECT m.batch_id FROM batch_members m JOIN incidents i USING (incident_id)
                GROUP BY m.batch_id
                HAVING count(*) >= 20 AND bool_and(day(i.occurred_date) = 1)) k
            WHERE batches.batch_id = k.batch_id AND batches.kind = 'police'"""
        )

    def _backfill_v2(self) -> None:
        """Stores written before version 3 get each batch's kind from the records it
        delivered, and, where no header declared one, the months those records fall in
        as its period (:func:`cardiffmodel.ingest.periods.records_period`)."""
        self.con.execute(
            """UPDATE batches SET kind = k.source FROM (
                SELECT m.batch_id, any_value(i.source) AS source FROM batch_members m
                JOIN incidents i USING (incident_id) GROUP BY m.batch_id) k
            WHERE batches.batch_id = k.batch_id AND batches.kind IS NULL"""
        )
        unset = self.con.execute(
            "SELECT batch_id FROM batches WHERE period_start IS NULL AND status = 'ingested'"
        ).fetchall()
        for (batch_id,) in unset:
            days = self.con.execute(
                """SELECT i.occurred_date FROM batch_members m JOIN incidents i
                USING (incident_id) WHERE m.batch_id = ?""",
                [batch_id],
            ).df()["occurred_date"]
            period = records_period(days)
            if period:
                self.con.execute(
                    "UPDATE batches SET period_start = ?, period_end = ? WHERE batch_id = ?",
                    [*period, batch_id],
                )

    # ---- batches ---------------------------------------------------------------------

    def _begin_writing(self, what: str) -> None:
        """Begin a transaction that no other writer runs alongside.

        Other processes are kept out by DuckDB's file lock; other connections of this
        process by updating one row of ``meta`` first, which DuckDB lets only one open
        transaction do. That is what keeps incident ids unique (the table has no key
        index, which would double the cost of writing a million rows).
        """
        deadline = time.monotonic() + self.wait
        while True:
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.execute("UPDATE meta SET value = ? WHERE key = 'writer'", [what])
                return
            except duckdb.TransactionException:
                self.con.execute("ROLLBACK")
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"{self.path}: another write has held the store for {self.wait:.0f} s"
                    ) from None
                time.sleep(0.05)

    def batch_with_sha(self, source: str, sha256: str) -> str | None:
        """The live batch that already brought this exact file, if any."""
        row = self.con.execute(
            "SELECT batch_id FROM batches WHERE source = ? AND sha256 = ? AND status = 'ingested'",
            [source, sha256],
        ).fetchall()
        return row[0][0] if row else None

    def write_batch(
        self,
        batch: BatchRecord,
        incidents: pa.Table,
        quarantine: pa.Table,
        fixes: Sequence[int] = (),
    ) -> WriteOutcome:
        """Write a batch with its incidents and quarantined rows in one transaction.

        ``fixes`` are quarantine ids whose corrected rows this batch accepted. Raises
        AlreadyIngested (and writes nothing) when another process stored the same file
        first.
        """
        con = self.con
        self._begin_writing(batch.batch_id)
        try:
            previous = self.batch_with_sha(batch.source, batch.sha256)
            if previous:
                raise AlreadyIngested(previous)
            counts = self._merge_incidents(batch.batch_id, incidents)
            settled = self._add_quarantine(batch.batch_id, quarantine, fixes)
            self._insert_batch(batch, counts)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            for name in ("arrived", "arrived_quarantine"):
                con.unregister(name)
            con.execute("DROP TABLE IF EXISTS compared")
        return WriteOutcome(*counts, *settled)

    def _merge_incidents(self, batch_id: str, incidents: pa.Table) -> tuple[int, int, int]:
        """New records are added, identical ones counted, changed ones replace the stored
        version (which is held for a later withdrawal)."""
        con = self.con
        con.register("arrived", incidents)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE compared AS
            SELECT a.incident_id, {_content("a.")} AS content, i.batch_id AS current_batch,
                   m.content AS current_content
            FROM arrived a LEFT JOIN incidents i USING (incident_id)
            LEFT JOIN batch_members m
              ON m.batch_id = i.batch_id AND m.incident_id = i.incident_id"""
        )
        new, duplicates, updated, repeated = con.execute(
            """SELECT count(*) FILTER (current_batch IS NULL),
                      count(*) FILTER (current_content = content),
                      count(*) FILTER (current_batch IS NOT NULL
                                       AND current_content IS DISTINCT FROM content),
                      count(*) - count(DISTINCT incident_id)
               FROM compared"""
        ).fetchall()[0]
        if repeated:
            raise StoreError(f"batch {batch_id} repeats {repeated} incident ids; nothing stored")
        changing = """SELECT incident_id FROM compared WHERE current_batch IS NOT NULL
                      AND current_content IS DISTINCT FROM content"""
        if updated:
            con.execute(
                f"""INSERT INTO held_versions
                SELECT i.*, c.current_content FROM incidents i JOIN compared c USING (incident_id)
                WHERE i.incident_id IN ({changing})
                  AND NOT EXISTS (SELECT 1 FROM held_versions h WHERE h.incident_id = i.incident_id
                                  AND h.content = c.current_content)"""
            )
            con.execute(f"DELETE FROM incidents WHERE incident_id IN ({changing})")
        insert = f"INSERT INTO incidents ({_COLUMNS}) SELECT {_COLUMNS} FROM arrived"
        if duplicates == 0:  # the usual monthly extract: every row goes in as it is
            con.execute(insert)
        elif new or updated:
            con.execute(
                f"""{insert} WHERE incident_id IN (SELECT incident_id FROM compared
                WHERE current_batch IS NULL OR current_content IS DISTINCT FROM content)"""
            )
        con.execute(
            "INSERT INTO batch_members SELECT ?, incident_id, content FROM compared", [batch_id]
        )
        return int(new), int(duplicates), int(updated)

    def _add_quarantine(
        self, batch_id: str, quarantine: pa.Table, fixes: Sequence[int]
    ) -> tuple[int, int]:
        """Store the batch's quarantined rows and settle earlier ones: fixed (the record
        is now accepted) or superseded (the same row was quarantined again)."""
        con = self.con
        con.register("arrived_quarantine", quarantine)
        # The record id is kept only as a keyed hash: an NHS number used as an attendance
        # number cannot be read back, nor found by hashing every possible one.
        con.execute(
            """INSERT INTO quarantine (quarantine_id, batch_id, source, file, row_number,
                   column_name, value, reason, raw, record_id, incident_id, status)
            SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine)
                   + row_number() OVER (ORDER BY row_number),
                   batch_id, source, file, row_number, column_name, value, reason, raw,
                   CASE WHEN record_id IS NOT NULL
                        THEN 'k:' || substr(sha256(? || record_id), 1, 24) END,
                   incident_id, 'open'
            FROM arrived_quarantine""",
            [self._record_key()],
        )
        fixed = list(fixes) or [-1]
        resolved = con.execute(
            f"""UPDATE quarantine SET status = 'resolved', resolved_by = ?
            WHERE status = 'open' AND batch_id <> ?
              AND (quarantine_id IN ({", ".join("?" * len(fixed))})
                   OR incident_id IN (SELECT incident_id FROM compared))""",
            [batch_id, batch_id, *fixed],
        ).fetchall()[0][0]
        superseded = con.execute(
            """UPDATE quarantine SET status = 'superseded', resolved_by = ?
            WHERE status = 'open' AND batch_id <> ?
              AND (quarantine_id IN (SELECT resubmits FROM arrived_quarantine)
                   OR incident_id IN (SELECT incident_id FROM arrived_quarantine))""",
            [batch_id, batch_id],
        ).fetchall()[0][0]
        return int(resolved), int(superseded)

    def _record_key(self) -> str:
        """The store's secret for hashing quarantined record ids, made on first use."""
        self.con.execute(
            """INSERT OR IGNORE INTO meta SELECT 'record_key',
                   replace(gen_random_uuid()::VARCHAR || gen_random_uuid()::VARCHAR, '-', '')"""
        )
        return self.con.execute("SELECT value FROM meta WHERE key = 'record_key'").fetchall()[0][0]

    def record_hash(self, record_id: str) -> str:
        """The keyed hash a quarantined row holds for ``record_id`` (to find its rows)."""
        key = self.con.execute("SELECT value FROM meta WHERE key = 'record_key'").fetchall()
        if not key:
            return ""
        return "k:" + hashlib.sha256((key[0][0] + record_id).encode()).hexdigest()[:24]

    def _insert_batch(self, batch: BatchRecord, counts: tuple[int, int, int]) -> None:
        new, duplicates, updated = counts
        values = {
            "batch_id": batch.batch_id,
            "source": batch.source,
            "file": batch.file,
            "sha256": batch.sha256,
            "rows_in": batch.rows_in,
            "accepted": batch.accepted,
            "new": new,
            "duplicates": duplicates,
            "updated": updated,
            "quarantined": batch.quarantined,
            "filtered": batch.filtered,
            "identifiers_removed": batch.identifiers_removed,
            "started_at": batch.started_at,
            "finished_at": batch.finished_at,
            "period_start": batch.period_start,
            "period_end": batch.period_end,
            "status": batch.status,
            "kind": batch.kind or None,
            "month_only": batch.month_only,
            "filtered_reasons": batch.filtered_reasons,
            "unlocatable": batch.unlocatable,
            "outside_area": batch.outside_area,
            "codes_checked": batch.codes_checked,
            "codes_differ": batch.codes_differ,
        }
        self.con.execute(
            f"INSERT INTO batches ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )

    def withdraw(self, batch_id: str) -> WithdrawOutcome:
        """Take a batch back: its records leave the store unless another live batch
        delivered them (then that batch's version is current), its quarantine rows are
        closed, and its file may be ingested again. The batch row stays, marked."""
        con = self.con
        self._begin_writing(f"withdraw {batch_id}")
        try:
            status = con.execute(
                "SELECT status FROM batches WHERE batch_id = ?", [batch_id]
            ).fetchall()
            if not status:
                raise StoreError(f"no batch {batch_id!r}; see cardiff batches")
            if status[0][0] != "ingested":
                raise StoreError(f"batch {batch_id!r} is already {status[0][0]}")
            outcome = self._withdraw(batch_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self._erase_freed()
        return outcome

    def _erase_freed(self) -> None:
        """Make what was deleted unreadable in the file's bytes, not just unreachable.

        DuckDB marks deleted rows and leaves their values in the row group, and a freed
        block keeps its bytes until reused. So every table that held withdrawn data is
        rewritten (its old row groups freed), and the free blocks are then overwritten
        with filler that is dropped again. Committed before this runs: a process killed
        here leaves a correct store whose bytes are erased by the next withdrawal.
        """
        con = self.con
        self._begin_writing("erase")
        try:
            for table in ("incidents", "quarantine", "batch_members", "held_versions"):
                con.execute(f"CREATE OR REPLACE TEMP TABLE _kept AS SELECT * FROM {table}")
                con.execute(f"DELETE FROM {table}")
                con.execute(f"INSERT INTO {table} SELECT * FROM _kept")
                con.execute("DROP TABLE _kept")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
        free, size = con.execute(
            "SELECT free_blocks, block_size FROM pragma_database_size()"
        ).fetchall()[0]
        if free:
            rows = (free + 1) * size // 64
            con.execute(
                "CREATE TABLE _erase AS SELECT md5(random()::VARCHAR) || "
                f"md5(random()::VARCHAR) AS filler FROM range({int(rows)})"
            )
            con.execute("CHECKPOINT")
            con.execute("DROP TABLE _erase")
            con.execute("CHECKPOINT")

    def _withdraw(self, batch_id: str) -> WithdrawOutcome:
        con = self.con
        con.execute(
            """CREATE OR REPLACE TEMP TABLE affected AS
            SELECT i.incident_id, m.content FROM incidents i JOIN batch_members m
              ON m.batch_id = i.batch_id AND m.incident_id = i.incident_id
            WHERE i.batch_id = ?""",
            [batch_id],
        )
        con.execute(
            """CREATE OR REPLACE TEMP TABLE replacement AS
            SELECT incident_id, batch_id, content FROM (
                SELECT m.incident_id, m.batch_id, m.content, row_number() OVER (
                    PARTITION BY m.incident_id ORDER BY b.started_at DESC, b.batch_id DESC) AS k
                FROM batch_members m JOIN batches b USING (batch_id)
                WHERE m.incident_id IN (SELECT incident_id FROM affected)
                  AND m.batch_id <> ? AND b.status = 'ingested')
            WHERE k = 1""",
            [batch_id],
        )
        removed = con.execute(
            """DELETE FROM incidents WHERE batch_id = ?
               AND incident_id NOT IN (SELECT incident_id FROM replacement)""",
            [batch_id],
        ).fetchall()[0][0]
        kept = con.execute(
            """UPDATE incidents SET batch_id = r.batch_id
            FROM replacement r JOIN affected a USING (incident_id)
            WHERE incidents.incident_id = r.incident_id AND r.content = a.content""",
        ).fetchall()[0][0]
        restored = self._restore_held(batch_id)
        # Rows this batch settled are open again, unless their own batch was withdrawn
        # meanwhile: those stay closed (withdrawn).
        reopened = con.execute(
            """UPDATE quarantine SET status = 'open', resolved_by = NULL WHERE resolved_by = ?
               AND batch_id IN (SELECT batch_id FROM batches WHERE status = 'ingested')""",
            [batch_id],
        ).fetchall()[0][0]
        con.execute(
            """UPDATE quarantine SET status = 'withdrawn', resolved_by = NULL
               WHERE resolved_by = ?""",
            [batch_id],
        )
        # A withdrawn batch's quarantined cells go with it; the rows stay as a record.
        con.execute(
            "UPDATE quarantine SET status = 'withdrawn' WHERE batch_id = ? AND status = 'open'",
            [batch_id],
        )
        con.execute("UPDATE quarantine SET value = NULL, raw = NULL WHERE batch_id = ?", [batch_id])
        con.execute(
            """CREATE OR REPLACE TEMP TABLE delivered AS
            SELECT DISTINCT incident_id FROM batch_members WHERE batch_id = ?""",
            [batch_id],
        )
        con.execute("DELETE FROM batch_members WHERE batch_id = ?", [batch_id])
        self._drop_unneeded_versions()
        con.execute(
            "UPDATE batches SET status = 'withdrawn', withdrawn_at = ? WHERE batch_id = ?",
            [datetime.now(), batch_id],
        )
        return WithdrawOutcome(batch_id, int(removed), int(kept), restored, int(reopened))

    def _restore_held(self, batch_id: str) -> int:
        """Records whose latest remaining delivery differs from the withdrawn one get that
        delivery's version back from ``held_versions``."""
        con = self.con
        con.execute(
            """CREATE OR REPLACE TEMP TABLE restoring AS
            SELECT r.incident_id, r.batch_id, r.content FROM replacement r
            JOIN affected a USING (incident_id) WHERE r.content <> a.content"""
        )
        wanted = con.execute("SELECT count(*) FROM restoring").fetchall()[0][0]
        if not wanted:
            return 0
        names = [c for c in COLUMN_NAMES if c != "batch_id"]
        con.execute(
            "DELETE FROM incidents WHERE incident_id IN (SELECT incident_id FROM restoring)"
        )
        restored = con.execute(
            f"""INSERT INTO incidents ({", ".join(names)}, batch_id)
            SELECT {", ".join(f"h.{c}" for c in names)}, r.batch_id
            FROM restoring r JOIN held_versions h
              ON h.incident_id = r.incident_id AND h.content = r.content"""
        ).fetchall()[0][0]
        if restored != wanted:
            raise StoreError(
                f"withdrawing {batch_id}: {wanted - restored} earlier versions are missing from "
                "held_versions; nothing was changed"
            )
        return int(restored)

    def _drop_unneeded_versions(self) -> None:
        """Held versions that no live batch delivers, or that are current again, go."""
        self.con.execute(
            """DELETE FROM held_versions h
            WHERE h.incident_id IN (SELECT incident_id FROM delivered)
              AND (NOT EXISTS (SELECT 1 FROM batch_members m JOIN batches b USING (batch_id)
                               WHERE b.status = 'ingested' AND m.incident_id = h.incident_id
                                 AND m.content = h.content)
                   OR EXISTS (SELECT 1 FROM incidents i JOIN batch_members m
                                ON m.batch_id = i.batch_id AND m.incident_id = i.incident_id
                              WHERE i.incident_id = h.incident_id AND m.content = h.content))"""
        )

    # ---- reading ---------------------------------------------------------------------

    def batches(self) -> list[dict]:
        return self._dicts("SELECT * FROM batches ORDER BY started_at, batch_id")

    def batch(self, batch_id: str) -> dict | None:
        rows = self._dicts("SELECT * FROM batches WHERE batch_id = ?", [batch_id])
        return rows[0] if rows else None

    def quarantine(
        self, source: str | None = None, states: Sequence[str] = ("open",)
    ) -> list[dict]:
        """Quarantined rows in the given states (open ones by default), by file and row."""
        sql = "SELECT * FROM quarantine WHERE status IN ({})".format(", ".join("?" * len(states)))
        params: list[str] = list(states)
        if source:
            sql += " AND source = ?"
            params.append(source)
        return self._dicts(sql + " ORDER BY file, row_number, quarantine_id", params)

    def _dicts(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def incident_count(self) -> int:
        return self._count("incidents")

    def incidents(self) -> ibis.Table:
        """The incidents table as an Ibis expression, for the analysis layer."""
        return ibis.duckdb.from_connection(self.con).table("incidents")

    def coverage(self) -> Coverage:
        """The periods each source's live batches cover (withdrawn batches cover nothing)."""
        return read_coverage(self.con)

    def batches_table(self) -> ibis.Table:
        """The batches table as an Ibis expression (receipt times, for timeliness)."""
        return ibis.duckdb.from_connection(self.con).table("batches")


def read_coverage(con: duckdb.DuckDBPyConnection) -> Coverage:
    """:meth:`Store.coverage` on any connection or cursor to a store (the dashboard reads
    through its own shared read-only connection)."""
    rows = con.execute(
        """SELECT source, kind, period_start, period_end, month_only FROM batches
        WHERE status = 'ingested' AND kind IS NOT NULL"""
    ).fetchall()
    return Coverage.from_batches(rows)


def _connect(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting while another process holds it (DuckDB allows one writer)."""
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise
            holder = re.search(r"PID (\d+)", str(err))
            who = f"process {holder.group(1)}" if holder else "another process"
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"{path} is in use by {who} (another cardiff command?); waited {wait:.0f} s. "
                    "Run this again when it has finished."
                ) from err
            if pause == 0.05:
                LOG.warning("%s is in use by %s; waiting up to %.0f s", path, who, wait)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
