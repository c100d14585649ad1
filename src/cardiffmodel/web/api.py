"""The JSON API: everything the pages show, plus CSV and GeoJSON exports.

Every route names the roles it admits, and every count it returns has been through the
view's suppression; the pages call the same Dashboard methods, so what the API returns is
exactly what a page shows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from cardiffmodel.schema import LOCATION_TYPES, WEAPONS
from cardiffmodel.web.accounts import ROLES, Session
from cardiffmodel.web.deps import (
    AdminUser,
    Anyone,
    CsrfSession,
    FiltersDep,
    HealthUser,
    ViewDep,
    submit_upload,
)
from cardiffmodel.web.downloads import (
    BEAT_COLUMNS,
    beat_rows,
    beats_geojson,
    incidents_geojson,
    list_reports,
    to_csv,
)
from cardiffmodel.web.filters import PERIOD_MONTHS, Filters
from cardiffmodel.web.records import MAX_OFFSET, MAX_RECORDS, RECORD_COLUMNS
from cardiffmodel.web.uploads import UploadError

router = APIRouter(prefix="/api", tags=["api"])
GEOJSON = "application/geo+json"


def _dashboard(request: Request):
    return request.app.state.dashboard


def _records(request: Request):
    return request.app.state.records


def _attachment(body: str, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/me", summary="The signed-in user and what their role may see")
def me(session: Anyone) -> JSONResponse:
    user = session.user
    return JSONResponse(
        {
            "username": user.username,
            "role": user.role,
            "organisation": user.organisation,
            "sites": sorted(user.sites) if user.role == "health" else [],
            "csrf_token": session.csrf,
        }
    )


@router.get("/filters", summary="The values each filter offers")
def filter_values(request: Request, session: Anyone) -> JSONResponse:
    return JSONResponse(
        {
            "months": _dashboard(request).months(),
            "period_months": list(PERIOD_MONTHS),
            "sources": list(_dashboard(request).kinds_held()),  # only kinds the store holds
            "weapons": list(WEAPONS),
            "location_types": list(LOCATION_TYPES),
            "scopes": ["all", "own"] if session.user.role == "health" else ["all"],
            "roles": list(ROLES),
        }
    )


@router.get("/overview", summary="Headline numbers by source and the monthly trend")
def overview(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> JSONResponse:
    return JSONResponse(_dashboard(request).overview(f, v))


@router.get("/map/areas", summary="The map layer's polygons (GeoJSON)")
def map_areas(request: Request, _: Anyone) -> JSONResponse:
    return JSONResponse(_dashboard(request).areas_geojson(), media_type=GEOJSON)


@router.get("/map/beats", summary="Count, rate and change of every beat")
def map_beats(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> JSONResponse:
    return JSONResponse(_dashboard(request).beat_map(f, v))


@router.get("/map/venues", summary="The venues with most incidents, with map points")
def map_venues(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> JSONResponse:
    return JSONResponse(_dashboard(request).venues(f, v))


@router.get("/map/hotspots", summary="Getis-Ord Gi* hot and cold spots among the beats")
def map_hotspots(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> JSONResponse:
    return JSONResponse(_dashboard(request).hotspots(f, v))


@router.get("/beats/{code}", summary="One beat: figures, profile, venues, trend and gap")
def beat(
    code: str,
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> JSONResponse:
    return JSONResponse(_dashboard(request).beat(code, f, v))


@router.get("/quality", summary="Completeness of location, time and weapon by source")
def quality(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> JSONResponse:
    return JSONResponse(_dashboard(request).quality(f, v))


@router.get("/interventions", summary="The interventions register")
def interventions(request: Request, _: Anyone) -> JSONResponse:
    return JSONResponse({"interventions": _dashboard(request).interventions()})


@router.get("/what-works", summary="Stored evaluations of the interventions, with verdicts")
def what_works(request: Request, _: Anyone) -> JSONResponse:
    return JSONResponse({"results": _dashboard(request).what_works()})


@router.get("/reports", summary="Reports this user may download")
def reports(request: Request, session: Anyone) -> JSONResponse:
    return JSONResponse({"reports": list_reports(_dashboard(request).settings, session.user)})


@router.get("/incidents", summary="Your organisation's incidents (health users only)")
def incidents(
    request: Request,
    session: HealthUser,
    f: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JSONResponse:
    found = _records(request).incidents(f, session.user.sites, limit=limit, offset=offset)
    request.state.audit_detail = f"records={len(found['records'])}"
    return JSONResponse(found)


@router.get("/batches", summary="Your organisation's ingested batches (health users only)")
def batches(request: Request, session: HealthUser) -> JSONResponse:
    return JSONResponse(_records(request).batches(session.user.sites))


@router.get("/quarantine", summary="Your organisation's quarantined rows (health users only)")
def quarantine(
    request: Request,
    session: HealthUser,
    batch_id: str | None = None,
) -> JSONResponse:
    return JSONResponse(_records(request).quarantine(session.user.sites, batch_id))


@router.get("/review", summary="Your unresolved location texts (health users only)")
def review(request: Request, session: HealthUser) -> JSONResponse:
    return JSONResponse(_records(request).review_queue(session.user.sites))


@router.post(
    "/upload",
    summary="Queue a monthly extract for ingest (health users; CSRF header needed)",
    status_code=202,
)
async def upload(
    request: Request,
    session: CsrfSession,
    _: HealthUser,
    source: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> JSONResponse:
    try:
        job = await submit_upload(request, session, source, file)
    except UploadError as err:
        return JSONResponse({"detail": str(err)}, status_code=400)
    return JSONResponse(job, status_code=202)


@router.get("/uploads/{job_id}", summary="An upload's progress and outcome (health users)")
def upload_status(job_id: str, request: Request, session: HealthUser) -> JSONResponse:
    return JSONResponse(request.app.state.uploads.job(job_id, session.user).as_json())


@router.get("/export/beats.csv", summary="The beat map as CSV (published figures)")
def export_beats_csv(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    rows = beat_rows(_dashboard(request).beat_map(f, v))
    return _attachment(to_csv(rows, BEAT_COLUMNS), "text/csv", f"beats-{f.month}.csv")


@router.get("/export/beats.geojson", summary="The beat map as GeoJSON (published figures)")
def export_beats_geojson(
    request: Request,
    _: Anyone,
    f: FiltersDep,
    v: ViewDep,
) -> Response:
    board = _dashboard(request)
    body = beats_geojson(board.areas_geojson(), board.beat_map(f, v))
    return _attachment(JSONResponse(body).body.decode(), GEOJSON, f"beats-{f.month}.geojson")


def _own_records(request: Request, f: Filters, session: Session) -> list[dict]:
    found = _records(request).incidents(f, session.user.sites, limit=MAX_RECORDS)
    request.state.audit_detail = f"records={len(found['records'])}"
    return found["records"]


@router.get("/export/incidents.csv", summary="Your organisation's incidents as CSV (health)")
def export_incidents_csv(request: Request, f: FiltersDep, session: HealthUser) -> Response:
    rows = _own_records(request, f, session)
    return _attachment(to_csv(rows, RECORD_COLUMNS), "text/csv", f"incidents-{f.month}.csv")


@router.get("/export/incidents.geojson", summary="Your organisation's incidents as GeoJSON")
def export_incidents_geojson(request: Request, f: FiltersDep, session: HealthUser) -> Response:
    body = incidents_geojson(_own_records(request, f, session))
    return _attachment(JSONResponse(body).body.decode(), GEOJSON, f"incidents-{f.month}.geojson")


@router.get("/users", summary="Users and their organisations (administrators)")
def users(request: Request, _: AdminUser) -> JSONResponse:
    return JSONResponse(
        {
            "users": [
                {
                    "username": u.username,
                    "role": u.role,
                    "organisation": u.organisation,
                    "sites": sorted(u.sites),
                    "active": u.active,
                    "created_at": u.created_at,
                }
                for u in request.app.state.accounts.users()
            ]
        }
    )


@router.get("/audit", summary="The audit log, newest first (administrators)")
def audit(
    request: Request,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    username: str | None = None,
) -> JSONResponse:
    return JSONResponse({"entries": request.app.state.audit.entries(limit, username)})
