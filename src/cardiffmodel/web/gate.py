"""Shared, safe access to the incident store for a multi-threaded server.

DuckDB lets one process hold its file open for writing, and a connection in one mode
excludes the other. So the server keeps one read-only connection, hands every request
its own cursor (DuckDB connections are not shared between threads), and for an upload
waits for the readers, closes it, lets the ingest pipeline write, and opens it again.
Answers are cached per store version, so an upload makes every cached answer stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from cardiffmodel.store.duckdb_store import Store


class StoreGate:
    """Many readers or one writer over the DuckDB store; readers share one connection."""

    def __init__(self, path: Path):
        self.path = path
        if not path.exists():
            Store(path).close()  # an empty store with its tables, so reading works
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self.version = 0

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the read-only connection, for one request's queries."""
        with self._cond:
            while self._writing:
                self._cond.wait()
            if self._con is None:
                self._con = duckdb.connect(str(self.path), read_only=True)
            cursor = self._con.cursor()
            self._readers += 1
        try:
            yield cursor
        finally:
            cursor.close()
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive use of the file (readers wait); the version moves on afterwards."""
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._writing = True
            while self._readers:
                self._cond.wait()
            if self._con is not None:
                self._con.close()
                self._con = None
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self.version += 1
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            if self._con is not None:
                self._con.close()
                self._con = None


class ResultCache:
    """A bounded least-recently-used cache that computes each missing key once.

    When twenty requests ask for the same uncached answer together, one computes it and
    the others wait for that result instead of running the same query twenty times.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Future] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if self.size == 0:
            return compute()
        with self._lock:
            future = self._entries.get(key)
            owner = future is None
            if owner:
                future = self._entries[key] = Future()
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
        if owner:
            try:
                future.set_result(compute())
            except BaseException as err:
                with self._lock:
                    self._entries.pop(key, None)
                future.set_exception(err)
        return future.result()
