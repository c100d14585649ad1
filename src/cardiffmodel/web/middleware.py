"""The audit trail and the security headers, applied to every response.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which runs each
request in an extra task and copies its body: this one only watches the response start go
by, adding the headers and noting the status, and hands the audit event on at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cardiffmodel.web.audit import AuditEvent, AuditLog
from cardiffmodel.web.auth import client_address

# Pages load scripts and styles from this server only; map and chart data come from the API.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Paths written to the audit log by their own routes (sign-in, sign-out) or not at all.
NOT_AUDITED = ("/static/", "/login", "/logout", "/favicon.ico")


def audit_action(method: str, path: str, status: int) -> str:
    if status in (401, 403, 429):
        return "denied"
    if path.startswith("/api/export/"):
        return "export"
    if path.startswith("/reports/"):
        return "download"
    if method == "POST" and path in ("/upload", "/api/upload"):
        return "upload"
    return "view"


class AuditAndHeaders:
    """Adds the security headers to every response and audits every request it should."""

    def __init__(self, app: ASGIApp, audit: AuditLog):
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Made here, so that routes writing request.state (user, audit detail) write into
        # this very dictionary, whatever copies of the scope are made further in.
        state = scope.setdefault("state", {})
        path = scope["path"]
        status = 500  # until the app starts an answer
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                if not path.startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                # Starlette's own error answer is sent outside this middleware, without the
                # headers: answer here, and let the error go on to be logged.
                if not started:
                    failed = PlainTextResponse("Internal server error", status_code=500)
                    await failed(scope, receive, send_with_headers)
                raise
        finally:
            if not path.startswith(NOT_AUDITED):
                request = Request(scope)
                self.audit.record(
                    AuditEvent(
                        action=state.get("audit_action")
                        or audit_action(request.method, path, status),
                        user=state.get("user"),
                        ip=client_address(request),
                        method=request.method,
                        path=path,
                        query=request.url.query,
                        status=status,
                        detail=state.get("audit_detail", ""),
                    )
                )


class BodyTooLarge(Exception):
    """A request body went past its limit while the app was reading it."""


class BodyLimits:
    """Checks who is sending and how much before the app reads a byte of a request body.

    FastAPI parses a form (spooling uploaded files to disk) before it runs a route's
    dependencies, so a check of the session in a dependency comes after an anonymous
    200 MB upload has been written out. This middleware answers first: an upload from
    someone not signed in as a health user is refused on its headers alone; a body
    declared (``Content-Length``) larger than its route allows is refused at once; and a
    body sent in chunks is counted as the app reads it and refused once past the limit.
    Everything but an upload may carry ``small`` bytes (a sign-in form is well under 1 kB).
    """

    def __init__(
        self,
        app: ASGIApp,
        uploads: tuple[str, ...],
        upload_bytes: Callable[[], int],
        may_upload: Callable[[Request], str | None],
        refuse: Callable[[Request, int, str], Response],
        small: int = 64 * 1024,
    ):
        self.app = app
        self.uploads = uploads
        self.upload_bytes = upload_bytes
        self.may_upload = may_upload
        self.refuse = refuse
        self.small = small

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        limit = self.small
        if scope["path"] in self.uploads:
            problem = self.may_upload(request)
            if problem is not None:
                status, message = (
                    (401, problem) if problem.startswith("sign in") else (403, problem)
                )
                await self.refuse(request, status, message)(scope, receive, send)
                return
            # The form's other fields and the multipart boundaries come on top of the file.
            limit = self.upload_bytes() + 64 * 1024
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self.refuse(request, 413, _too_large(limit))(scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's own answer to the broken body; ours goes instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counted_receive, guarded_send)
        if exceeded and not started:
            await self.refuse(request, 413, _too_large(limit))(scope, receive, send)


def _too_large(limit: int) -> str:
    if limit >= 2**20:
        return f"the request is larger than {limit // 2**20} MB allowed"
    return f"the request is larger than {limit // 1024} kB allowed"
