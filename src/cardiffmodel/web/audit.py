"""The audit trail a data-sharing agreement asks for: who looked at or took what, and when.

Every request for a page, an API answer, an export, a report or an upload is written
here by the app's middleware (so no route can forget), together with sign-ins, failed
sign-ins and sign-outs. Rows are only ever added.
"""

from __future__ import annotations

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


class AuditLog:
    """Appends audit events to the web database and reads them back for administrators."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, event: AuditEvent) -> None:
        if event.action not in ACTIONS:
            raise ValueError(f"audit action {event.action!r}: expected one of {ACTIONS}")
        user = event.user
        self.db.execute(
            "INSERT INTO audit (at, username, role, organisation, ip, action, method, path, "
            "query, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ],
        )

    def entries(self, limit: int = 200, username: str | None = None) -> list[dict]:
        """The latest events, newest first."""
        where, params = ("WHERE username = ?", [username]) if username else ("", [])
        return self.db.rows(
            f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
