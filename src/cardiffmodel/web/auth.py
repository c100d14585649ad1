"""Signing in and the per-request checks: session cookie, role, CSRF token, rate limit.

The session cookie is ``Secure``, ``HttpOnly`` and ``SameSite=Lax``: a browser sends it
only over HTTPS (or to localhost, which browsers treat as secure), never to scripts, and
not with cross-site form posts. Every form post and API write must also carry the
session's CSRF token, in the form field ``csrf_token`` or the ``X-CSRF-Token`` header.
The sign-in form, which has no session yet, is protected by a double-submit token.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Header, Request

from cardiffmodel.web.access import check_role
from cardiffmodel.web.accounts import Session

SESSION_COOKIE = "cardiff_session"
LOGIN_COOKIE = "cardiff_login"


class NotSignedIn(PermissionError):
    """No live session: pages send the browser to the sign-in form, the API answers 401."""


class CsrfFailed(PermissionError):
    """A write without the session's CSRF token."""


@dataclass(frozen=True)
class LimitRule:
    """At most ``failures`` failed sign-ins per key within ``seconds``."""

    failures: int
    seconds: float


class LoginLimiter:
    """Sign-in attempts counted in memory per (address, username) and per address.

    An attempt is counted when it starts, before its password is checked, under one
    lock: twenty attempts sent at once are counted one after another, and those past the
    limit are refused without being checked. An attempt that succeeds takes its count
    back and clears its user's failures, so people who sign in correctly from one office
    address never use up its allowance.

    In memory, so the counts are per server process and start again when it restarts;
    that slows password guessing from one place, which is its job. Several processes
    behind a balancer each count their own (documented in docs/web.md).
    """

    def __init__(
        self,
        per_user: LimitRule = LimitRule(5, 15 * 60),
        per_address: LimitRule = LimitRule(20, 15 * 60),
        clock: Callable[[], float] = time.monotonic,
    ):
        self.per_user = per_user
        self.per_address = per_address
        self.clock = clock
        self._lock = threading.Lock()
        self._attempts: dict[tuple, deque[float]] = defaultdict(deque)

    def _keys(self, address: str, username: str) -> list[tuple[tuple, LimitRule]]:
        return [
            (("user", address, username.lower()), self.per_user),
            (("address", address), self.per_address),
        ]

    def _wait(self, now: float, address: str, username: str) -> float:
        wait = 0.0
        for key, rule in self._keys(address, username):
            times = self._attempts[key]
            while times and times[0] <= now - rule.seconds:
                times.popleft()
            if len(times) >= rule.failures:
                wait = max(wait, times[0] + rule.seconds - now)
        return wait

    def begin(self, address: str, username: str) -> int:
        """Count an attempt as failed before it is checked; 0 lets it go on, otherwise the
        seconds until another is allowed (this one is refused and not counted)."""
        now = self.clock()
        with self._lock:
            wait = self._wait(now, address, username)
            if wait <= 0:
                for key, _ in self._keys(address, username):
                    self._attempts[key].append(now)
        return int(wait) + 1 if wait > 0 else 0

    def retry_after(self, address: str, username: str) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        with self._lock:
            wait = self._wait(self.clock(), address, username)
        return int(wait) + 1 if wait > 0 else 0

    def succeeded(self, address: str, username: str) -> None:
        """Take back a successful attempt's count and forget its user's failures."""
        with self._lock:
            self._attempts.pop(("user", address, username.lower()), None)
            times = self._attempts.get(("address", address))
            if times:
                times.pop()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_session(request: Request) -> Session:
    """The request's live session (also kept on ``request.state`` for the audit log)."""
    session = request.app.state.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NotSignedIn("sign in first")
    request.state.user = session.user
    return session


def allow(*roles: str) -> Callable[..., Session]:
    """A dependency admitting only users with one of ``roles``."""

    async def dependency(session: Annotated[Session, Depends(current_session)]) -> Session:
        check_role(session.user, roles)
        return session

    return dependency


async def csrf_checked(
    session: Annotated[Session, Depends(current_session)],
    csrf_token: Annotated[str | None, Form()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Session:
    """The session, once the request has shown its CSRF token."""
    given = csrf_token or x_csrf_token or ""
    if not secrets.compare_digest(given.encode(), session.csrf.encode()):
        raise CsrfFailed("missing or wrong CSRF token: reload the page and try again")
    return session


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def login_token_ok(cookie: str | None, form: str | None) -> bool:
    return bool(cookie and form) and secrets.compare_digest(cookie.encode(), form.encode())
