"""The audit trail and the security headers, applied to every response.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which runs each
request in an extra task and copies its body: this one only watches the response start go
by, adding the headers and noting the status, and hands the audit event on at the end.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
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
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
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
            await self.app(scope, receive, send_with_headers)
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
