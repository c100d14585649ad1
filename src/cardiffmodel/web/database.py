"""The web app's own small database: users, organisations, sessions and the audit log.

It is a SQLite file beside the incident store, not a table in it, because DuckDB lets one
process hold a file for writing: the dashboard keeps the incident store open read-only,
and SQLite still lets ``cardiff users add`` run, and every request be audited, while the
server is up.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from cardiffmodel.store.private import create_private, make_private

FILE_NAME = "web.sqlite"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS organisations (
        name TEXT PRIMARY KEY,
        sites TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        organisation TEXT NOT NULL REFERENCES organisations(name),
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username),
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        username TEXT,
        role TEXT,
        organisation TEXT,
        ip TEXT,
        action TEXT NOT NULL,
        method TEXT,
        path TEXT,
        query TEXT,
        status INTEGER,
        detail TEXT)""",
)


class Database:
    """One SQLite connection shared by the server's threads, one statement at a time.

    The connection opens on first use and again after ``close``, so an app whose server
    stops and starts again (as in tests) carries on.
    """

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        with self._lock:
            for statement in _SCHEMA:
                self._connection().execute(statement)

    @classmethod
    def in_project(cls, root: Path) -> Database:
        return cls(root / FILE_NAME)

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            # Made private before SQLite writes a byte; its -wal and -shm files then take
            # this file's permissions (SQLite copies them), and an older file is closed too.
            create_private(self.path)
            make_private(self.path)
            self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL survives a crash of the server but not of the machine's
            # power: the last commits before a power cut may be lost. FULL costs an fsync
            # (~3 ms) on every audited request, which 20 concurrent users turn into queues.
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self._con.execute("PRAGMA busy_timeout=5000")
        return self._con

    def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one writing statement; returns the number of rows it changed."""
        with self._lock:
            return self._connection().execute(sql, params).rowcount

    def transaction(self, statements: Sequence[tuple[str, Sequence]]) -> None:
        """Run writing statements all together or not at all."""
        with self._lock:
            con = self._connection()
            con.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    con.execute(sql, params)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def rows(self, sql: str, params: Sequence = ()) -> list[dict]:
        with self._lock:
            cursor = self._connection().execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
