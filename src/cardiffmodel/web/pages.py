"""The HTML pages: server-rendered from the same Dashboard answers the API returns.

Maps and charts are drawn in the browser by Leaflet and Chart.js (served from this
server), from the API or from JSON embedded in the page; everything else is plain HTML.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cardiffmodel.reports.builder import label
from cardiffmodel.schema import LOCATION_TYPES, WEAPONS
from cardiffmodel.web.access import View
from cardiffmodel.web.accounts import ROLE_LABELS, Session
from cardiffmodel.web.audit import AuditEvent
from cardiffmodel.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    client_address,
    login_token_ok,
    new_login_token,
)
from cardiffmodel.web.deps import (
    AdminUser,
    Anyone,
    CsrfSession,
    FiltersDep,
    HealthUser,
    ViewDep,
    submit_upload,
)
from cardiffmodel.web.downloads import list_reports, report_path
from cardiffmodel.web.filters import PERIOD_MONTHS, Filters
from cardiffmodel.web.records import MAX_OFFSET
from cardiffmodel.web.uploads import UploadError

router = APIRouter(include_in_schema=False)


def when(stamp: str | None) -> str:
    """An ISO timestamp as people read it: date and minutes."""
    return (stamp or "").replace("T", " ")[:16]


def _render(request: Request, name: str, status: int = 200, **context) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, name, {"label": label, "when": when, **context}, status_code=status
    )


def error_page(request: Request, status: int, message: str) -> Response:
    session = request.app.state.accounts.session(request.cookies.get(SESSION_COOKIE))
    context = {"user": None, "code": status, "message": message}
    if session is not None:
        context |= {
            "user": session.user,
            "csrf": session.csrf,
            "role_label": ROLE_LABELS[session.user.role],
        }
    return _render(request, "error.html", status, **context)


def _page(request: Request, session: Session, f: Filters | None, v: View | None, **context):
    """The context every page shares: user, CSRF token, filters and their options."""
    query = dict(f.query()) if f else {}
    if v is not None and v.sites is not None:
        query["scope"] = "own"
    return {
        "user": session.user,
        "role_label": ROLE_LABELS[session.user.role],
        "csrf": session.csrf,
        "f": f,
        "scope": query.get("scope", "all"),
        "suppressed": v.suppressed if v else True,
        "query": urlencode(query, doseq=True),
        "options": {
            "months": request.app.state.dashboard.months(),
            "period_months": PERIOD_MONTHS,
            "sources": request.app.state.dashboard.kinds_held(v),
            "weapons": WEAPONS,
            "location_types": LOCATION_TYPES,
        },
        **context,
    }


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so the sign-in form cannot send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# ---- signing in and out -----------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    token = new_login_token()
    response = _render(request, "login.html", user=None, token=token, next=_safe_next(next))
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=900, secure=True, httponly=True, samesite="strict"
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    state = request.app.state
    address = client_address(request)

    def refuse(status: int, message: str, action: str, headers: dict | None = None) -> Response:
        state.audit.record(
            AuditEvent(action, None, address, "POST", "/login", "", status, username)
        )
        token = new_login_token()
        response = _render(
            request,
            "login.html",
            status,
            user=None,
            token=token,
            next=_safe_next(next),
            error=message,
        )
        response.set_cookie(
            LOGIN_COOKIE, token, max_age=900, secure=True, httponly=True, samesite="strict"
        )
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    if not login_token_ok(request.cookies.get(LOGIN_COOKIE), login_token):
        return refuse(403, "The sign-in form expired: please try again.", "login_failed")
    wait = state.limiter.begin(address, username)  # counted before the password is checked
    if wait:
        return refuse(
            429,
            f"Too many failed sign-ins: try again in {wait // 60 + 1} minutes.",
            "login_failed",
            {"Retry-After": str(wait)},
        )
    user = await run_in_threadpool(state.accounts.authenticate, username, password)
    if user is None:
        return refuse(
            401, "Wrong username or password, or the account is disabled.", "login_failed"
        )
    state.limiter.succeeded(address, username)
    token = state.accounts.start_session(user.username)
    state.audit.record(AuditEvent("login", user, address, "POST", "/login", "", 303))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=8 * 3600, secure=True, httponly=True, samesite="lax"
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, session: CsrfSession) -> Response:
    request.app.state.accounts.end_session(request.cookies.get(SESSION_COOKIE))
    request.app.state.audit.record(
        AuditEvent("logout", session.user, client_address(request), "POST", "/logout", "", 303)
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, secure=True, httponly=True, samesite="lax")
    return response


# ---- pages every role sees ------------------------------------------------------------------


@router.get("/")
def overview_page(
    request: Request,
    session: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    board = request.app.state.dashboard
    found = board.overview(f, v)
    ranking = board.beat_map(f, v)
    top = [a for a in ranking["areas"] if a["count"]["value"] != 0][:10]
    return _render(
        request,
        "overview.html",
        **_page(request, session, f, v, data=found, top=top, layer=board.layer_name),
    )


@router.get("/map")
def map_page(
    request: Request,
    session: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    board = request.app.state.dashboard
    ranking = board.beat_map(f, v)
    return _render(
        request,
        "map.html",
        **_page(request, session, f, v, ranking=ranking, layer=board.layer_name),
    )


def _shades(cells: list[list[dict]]) -> list[list[tuple[str, int]]]:
    """Each shown cell's text with a shade 0-5; hidden cells stay unshaded, since a shade
    computed from a hidden count would reveal it."""
    top = max((c["value"] or 0 for row in cells for c in row), default=0) or 1
    return [[(c["shown"], round(5 * (c["value"] or 0) / top)) for c in row] for row in cells]


@router.get("/beats/{code}")
def beat_page(
    code: str,
    request: Request,
    session: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    found = request.app.state.dashboard.beat(code, f, v)
    grid = _shades(found["hour_weekday"]["cells"]) if found["hour_weekday"] else []
    return _render(request, "beat.html", **_page(request, session, f, v, beat=found, grid=grid))


@router.get("/quality")
def quality_page(
    request: Request,
    session: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    found = request.app.state.dashboard.quality(f, v)
    return _render(request, "quality.html", **_page(request, session, f, v, quality=found))


@router.get("/what-works")
def what_works_page(request: Request, session: Anyone) -> Response:
    board = request.app.state.dashboard
    found = {"interventions": board.interventions(), "results": board.what_works()}
    return _render(request, "what_works.html", **_page(request, session, None, None, **found))


@router.get("/reports")
def reports_page(
    request: Request,
    session: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    found = list_reports(request.app.state.dashboard.settings, session.user)
    return _render(request, "reports.html", **_page(request, session, f, v, reports=found))


@router.get("/reports/{period}/{name}")
def report_download(period: str, name: str, request: Request, session: Anyone) -> Response:
    path = report_path(request.app.state.dashboard.settings, session.user, period, name)
    media = "application/pdf" if path.suffix == ".pdf" else "text/html"
    return FileResponse(path, media_type=media, filename=f"{period}-{name}")


@router.get("/api/docs")
def api_docs(request: Request, session: Anyone) -> Response:
    schema = request.app.openapi()
    routes = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "parameters": [p["name"] for p in op.get("parameters", [])],
        }
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    ]
    return _render(request, "api_docs.html", **_page(request, session, None, None, routes=routes))


# ---- health organisations' own records -----------------------------------------------------


@router.get("/records")
def records_page(
    request: Request,
    session: HealthUser,
    f: FiltersDep,
    page: Annotated[int, Query(ge=1, le=MAX_OFFSET // 100)] = 1,
) -> Response:
    size = 100
    found = request.app.state.records.incidents(
        f, session.user.sites, limit=size, offset=(page - 1) * size
    )
    request.state.audit_detail = f"records={len(found['records'])}"
    v = View(suppressed=False, sites=session.user.sites)
    return _render(
        request,
        "records.html",
        **_page(request, session, f, v, records=found, page=page, size=size),
    )


@router.get("/batches")
def batches_page(request: Request, session: HealthUser) -> Response:
    records = request.app.state.records
    return _render(
        request,
        "batches.html",
        **_page(
            request,
            session,
            None,
            None,
            batches=records.batches(session.user.sites),
            quarantine=records.quarantine(session.user.sites),
        ),
    )


@router.get("/review")
def review_page(request: Request, session: HealthUser) -> Response:
    found = request.app.state.records.review_queue(session.user.sites)
    return _render(request, "review.html", **_page(request, session, None, None, review=found))


@router.get("/upload")
def upload_form(request: Request, session: HealthUser) -> Response:
    sources = request.app.state.records.source_names(session.user.sites)
    return _render(request, "upload.html", **_page(request, session, None, None, sources=sources))


@router.post("/upload")
async def upload_page(
    request: Request,
    session: CsrfSession,
    _: HealthUser,
    source: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        job = await submit_upload(request, session, source, file)
    except UploadError as err:
        records = request.app.state.records
        context = _page(
            request,
            session,
            None,
            None,
            sources=records.source_names(session.user.sites),
            problem=str(err),
            chosen=source,
        )
        return _render(request, "upload.html", 400, **context)
    return RedirectResponse(job["page_url"], status_code=303)


@router.get("/upload/{job_id}")
def upload_job_page(job_id: str, request: Request, session: HealthUser) -> Response:
    job = request.app.state.uploads.job(job_id, session.user)
    records = request.app.state.records
    context = _page(
        request,
        session,
        None,
        None,
        sources=records.source_names(session.user.sites),
        job=job,
        chosen=job.source,
    )
    return _render(request, "upload.html", **context)


# ---- administrators --------------------------------------------------------------------------


@router.get("/admin")
def admin_page(request: Request, session: AdminUser) -> Response:
    state = request.app.state
    return _render(
        request,
        "admin.html",
        **_page(
            request,
            session,
            None,
            None,
            users=state.accounts.users(),
            audit=state.audit.entries(300),
        ),
    )
