"""Users, their organisations and their sessions.

A user belongs to one organisation and has one role. A health organisation owns a set of
sites (the ``site`` of ``[[sources]]`` entries in cardiff.toml): its users see the
record-level incidents of those sites and nothing record-level of anyone else's.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106). Sessions are random
tokens kept server-side (only their SHA-256 is stored), so logging out or disabling a user
ends them at once; each session carries its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cardiffmodel.web.database import Database
from cardiffmodel.web.passwords import WeakPassword, check_password

ROLES = ("health", "police", "council", "analyst", "admin")
ROLE_LABELS = {
    "health": "Health (own organisation's records)",
    "police": "Police (suppressed aggregates)",
    "council": "Council (suppressed aggregates)",
    "analyst": "Partnership analyst",
    "admin": "Administrator",
}
SESSION_HOURS = 8


class AccountError(ValueError):
    """A user or organisation request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class User:
    """A signed-in person: who, in what role, for which organisation and its sites."""

    username: str
    role: str
    organisation: str
    sites: frozenset[str]
    active: bool
    created_at: str


@dataclass(frozen=True)
class Session:
    """A live session: its user and the CSRF token its forms must carry."""

    user: User
    csrf: str


def _now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users, organisations and sessions in the web database."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None):
        self.db = db
        self.hasher = hasher or PasswordHasher()
        # Verified against when the user is unknown, so a wrong name costs as long as a
        # wrong password and response times do not reveal who has an account.
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        organisation: str,
        sites: Iterable[str] = (),
        known_sites: Iterable[str] | None = None,
    ) -> User:
        """Create a user, and its organisation if new (with ``sites``, for health).

        ``known_sites`` (the sites of cardiff.toml's sources), when given, must hold every
        site named, so a typing mistake cannot leave a health user seeing nothing.
        """
        username = username.strip()
        if not username or any(c.isspace() for c in username):
            raise AccountError(f"username {username!r}: expected one word with no spaces")
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        try:
            check_password(password, username)
        except WeakPassword as err:
            raise AccountError(str(err)) from err
        if self.user(username) is not None:
            raise AccountError(f"user {username!r} already exists")
        sites = tuple(sorted({s.strip() for s in sites if s.strip()}))
        existing = self.organisation_sites(organisation)
        if known_sites is not None:
            unknown = sorted(set(sites) - set(known_sites))
            if unknown:
                known = ", ".join(sorted(known_sites)) or "none"
                raise AccountError(f"sites {unknown} are not in cardiff.toml (sites: {known})")
        if existing is not None and sites and set(sites) != existing:
            raise AccountError(
                f"organisation {organisation!r} already owns sites {sorted(existing)}; "
                f"leave --site out to join it"
            )
        owned = existing if existing is not None else frozenset(sites)
        if role == "health" and not owned:
            raise AccountError(
                f"organisation {organisation!r} owns no sites: a health user needs --site"
            )
        statements = []
        if existing is None:
            statements.append(
                ("INSERT INTO organisations VALUES (?, ?)", [organisation, ",".join(sites)])
            )
        statements.append(
            (
                "INSERT INTO users VALUES (?, ?, ?, ?, 1, ?)",
                [username, role, organisation, self.hasher.hash(password), _now().isoformat()],
            )
        )
        self.db.transaction(statements)
        user = self.user(username)
        assert user is not None
        return user

    def organisation_sites(self, name: str) -> frozenset[str] | None:
        """The sites an organisation owns, or None when there is no such organisation."""
        rows = self.db.rows("SELECT sites FROM organisations WHERE name = ?", [name])
        if not rows:
            return None
        return frozenset(s for s in rows[0]["sites"].split(",") if s)

    def user(self, username: str) -> User | None:
        rows = self._users("WHERE u.username = ?", [username])
        return rows[0] if rows else None

    def users(self) -> list[User]:
        return self._users("ORDER BY u.organisation, u.username", [])

    def _users(self, where: str, params: list) -> list[User]:
        rows = self.db.rows(
            "SELECT u.username, u.role, u.organisation, o.sites, u.active, u.created_at "
            f"FROM users u JOIN organisations o ON o.name = u.organisation {where}",
            params,
        )
        return [
            User(
                username=r["username"],
                role=r["role"],
                organisation=r["organisation"],
                sites=frozenset(s for s in r["sites"].split(",") if s),
                active=bool(r["active"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def disable(self, username: str) -> None:
        """Stop a user signing in and end their sessions now."""
        if self.user(username) is None:
            raise AccountError(f"no user {username!r}")
        self.db.transaction(
            [
                ("UPDATE users SET active = 0 WHERE username = ?", [username]),
                ("DELETE FROM sessions WHERE username = ?", [username]),
            ]
        )

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this password, or None (taking as long either way)."""
        rows = self.db.rows(
            "SELECT password_hash, active FROM users WHERE username = ?", [username]
        )
        stored = rows[0]["password_hash"] if rows else self._decoy
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not rows or not rows[0]["active"]:
            return None
        if self.hasher.check_needs_rehash(stored):
            self.db.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?",
                [self.hasher.hash(password), username],
            )
        return self.user(username)

    def start_session(self, username: str) -> str:
        """A new session token for the cookie (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = _now()
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
            [
                _token_hash(token),
                username,
                secrets.token_urlsafe(32),
                now.isoformat(),
                (now + timedelta(hours=SESSION_HOURS)).isoformat(),
            ],
        )
        return token

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, or None if unknown, expired or disabled."""
        if not token:
            return None
        rows = self.db.rows(
            "SELECT username, csrf, expires_at FROM sessions WHERE token_hash = ?",
            [_token_hash(token)],
        )
        if not rows or datetime.fromisoformat(rows[0]["expires_at"]) <= _now():
            return None
        user = self.user(rows[0]["username"])
        if user is None or not user.active:
            return None
        return Session(user=user, csrf=rows[0]["csrf"])

    def end_session(self, token: str | None) -> None:
        if token:
            self.db.execute("DELETE FROM sessions WHERE token_hash = ?", [_token_hash(token)])
