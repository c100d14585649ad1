"""The audit trail a data-sharing agreement asks for: who looked at or took what, and when.

Every request for a page, an API answer, an export, a report or an upload is written
here by the app's middleware (so no route can forget), together with sign-ins, failed
sign-ins and sign-outs. Rows are only ever added.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from cardiffmodel.web.accounts import User
from cardiffmodel.web.database import Database

ACTIONS = ("view", "export", "download", "upload", "login", "login_failed", "logout", "denied")


@dataclass(frozen=True)
class AuditEvent:
    """One audited action."""

    action: str
    user: User | None
    ip: str
    method: str = ""
    path: str = ""
    query: str = ""
    status: int = 0
    detail: str = ""


_INSERT = (
    "INSERT INTO audit (at, username, role, organisation, ip, action, method, path, "
    "query, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class AuditLog:
    """Appends audit events to the web database and reads them back for administrators.

    Give it a Database of its own: the writer thread then never holds the connection that
    sign-in and session checks use.
    """

    def __init__(self, db: Database):
        self.db = db
        self._queue: queue.Queue[list] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name="audit-writer", daemon=True)
        self._writer.start()

    def record(self, event: AuditEvent) -> None:
        """Hand the event to the writer; it is in the database within milliseconds."""
        if event.action not in ACTIONS:
            raise ValueError(f"audit action {event.action!r}: expected one of {ACTIONS}")
        user = event.user
        self._queue.put(
            [
                datetime.now(UTC).isoformat(timespec="milliseconds"),
                user.username if user else None,
                user.role if user else None,
                user.organisation if user else None,
                event.ip,
                event.action,
                event.method,
                event.path,
                event.query,
                event.status,
                event.detail,
            ]
        )

    def _write(self) -> None:
        while True:
            rows = [self._queue.get()]
            while not self._queue.empty():
                rows.append(self._queue.get_nowait())
            try:
                self.db.transaction([(_INSERT, row) for row in rows])
            except Exception:  # keep writing later events; this failure is logged
                logging.getLogger(__name__).exception("audit events lost: %s", rows)
            finally:
                for _ in rows:
                    self._queue.task_done()

    def flush(self) -> None:
        """Wait until every event recorded so far is in the database."""
        self._queue.join()

    def entries(self, limit: int = 200, username: str | None = None) -> list[dict]:
        """The latest events, newest first."""
        self.flush()
        where, params = ("WHERE username = ?", [username]) if username else ("", [])
        return self.db.rows(
            f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
