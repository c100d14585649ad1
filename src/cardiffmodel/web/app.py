"""The FastAPI application: wiring, error pages, the audit middleware and security headers.

``create_app(folder)`` builds the app for one project folder; ``serve`` runs it with
uvicorn (``cardiff serve``). Nothing is global: each app holds its own dashboard,
accounts, audit log and login limiter on ``app.state``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from cardiffmodel.project import Project
from cardiffmodel.web import api, pages
from cardiffmodel.web.access import HEALTH, AccessDenied
from cardiffmodel.web.accounts import Accounts
from cardiffmodel.web.audit import AuditLog
from cardiffmodel.web.auth import SESSION_COOKIE, CsrfFailed, LoginLimiter, NotSignedIn
from cardiffmodel.web.dashboard import Dashboard, UnknownArea
from cardiffmodel.web.database import Database
from cardiffmodel.web.deps import BadFilter
from cardiffmodel.web.middleware import AuditAndHeaders, BodyLimits
from cardiffmodel.web.records import Records
from cardiffmodel.web.uploads import Limits, Uploads

HERE = Path(__file__).parent
VENDOR = HERE / "static" / "vendor"


class MissingAssets(RuntimeError):
    """The browser libraries were not built; the message says how to build them."""


def check_assets() -> None:
    """Refuse to start without the map and chart libraries, rather than serve blank maps."""
    needed = [VENDOR / "leaflet" / "leaflet.js", VENDOR / "chart.js" / "chart.umd.min.js"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise MissingAssets(
            f"browser libraries missing ({', '.join(missing)}): run "
            "'npm ci --prefix web/frontend && npm run build --prefix web/frontend'"
        )


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(
    project_dir: Path,
    *,
    cache_size: int = 256,
    permutations: int = 9999,
    limiter: LoginLimiter | None = None,
    hasher: PasswordHasher | None = None,
    upload_limits: Limits | None = None,
) -> FastAPI:
    """The dashboard for one project folder (``cardiff.toml`` and its store)."""
    check_assets()
    project = Project.open(project_dir)
    database = Database.in_project(project.settings.root)
    dashboard = Dashboard(project, cache_size=cache_size, permutations=permutations)

    audit_log = AuditLog(Database.in_project(project.settings.root))
    records = Records(dashboard)
    uploads = Uploads(dashboard, records, upload_limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        uploads.close()
        audit_log.flush()
        dashboard.gate.close()
        database.close()

    app = FastAPI(
        title="cardiffmodel dashboard API",
        summary="Figures of the Cardiff Model partnership, published by role.",
        version="1",
        docs_url=None,  # Swagger UI loads from a CDN; /api/docs renders the schema locally
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.dashboard = dashboard
    app.state.records = records
    app.state.uploads = uploads
    app.state.accounts = accounts = Accounts(database, hasher)
    app.state.audit = audit_log
    app.state.limiter = limiter or LoginLimiter()
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    refuse = _add_error_handlers(app)

    def may_upload(request: Request) -> str | None:
        """Why this request may not upload (from its cookie alone), or None."""
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return "sign in first"
        if session.user.role not in HEALTH:
            return f"role {session.user.role!r} may not upload; health users may"
        return None

    # Innermost first: the body limits answer inside the audit and the security headers.
    app.add_middleware(
        BodyLimits,
        uploads=("/upload", "/api/upload"),
        upload_bytes=lambda: uploads.limits.bytes,
        may_upload=may_upload,
        refuse=refuse,
    )
    app.add_middleware(AuditAndHeaders, audit=audit_log)
    return app


def _add_error_handlers(app: FastAPI):
    """Install the error answers; returns the function that makes one (for middleware)."""

    def error(request: Request, status: int, message: str) -> Response:
        if status == 401 and not _wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=status)
        return pages.error_page(request, status, message)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, err: NotSignedIn) -> Response:
        request.state.audit_action = "denied"
        if _wants_json(request):
            return JSONResponse({"detail": str(err)}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    def handler(status: int):
        async def handle(request: Request, err: Exception) -> Response:
            return error(request, status, str(err))

        return handle

    for kind, status in (
        (AccessDenied, 403),
        (CsrfFailed, 403),
        (BadFilter, 400),
        (UnknownArea, 404),
        (FileNotFoundError, 404),
    ):
        app.add_exception_handler(kind, handler(status))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, err: RequestValidationError) -> Response:
        """A parameter of the wrong type or out of range is the asker's mistake: 400."""
        return error(request, 400, "; ".join(_problem(p) for p in err.errors()))

    return error


def _problem(found: dict) -> str:
    """One validation problem as a sentence naming the parameter and what was expected."""
    where = ".".join(str(part) for part in found.get("loc", ())[1:]) or "request"
    given = found.get("input")
    shown = f" {str(given)[:40]!r}" if isinstance(given, str | int | float) else ""
    return f"{where}{shown}: {found.get('msg', 'not valid').lower()}"


def serve(
    project_dir: Path, host: str = "127.0.0.1", port: int = 8000, cache_size: int = 256
) -> None:
    """Run the dashboard with uvicorn until interrupted.

    Before listening it computes the latest month's map (so the first visitor does not
    wait) and freezes the objects made so far out of the garbage collector's sight: a
    full collection over the analysis libraries' objects stalls every request for about
    400 ms, and those objects live as long as the server anyway.
    """
    import uvicorn

    app = create_app(project_dir, cache_size=cache_size)
    app.state.dashboard.warm()
    gc.collect()
    gc.freeze()
    # The audit log records every request; uvicorn's access log would only repeat it.
    uvicorn.run(app, host=host, port=port, proxy_headers=True, access_log=False)
