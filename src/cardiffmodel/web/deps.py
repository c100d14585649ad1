"""Request parameters shared by pages and API: who is asking, the filters and the view.

The ``Annotated`` aliases keep each route's signature short and make its access rule
readable at a glance (``session: HealthUser``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from cardiffmodel.schema import SOURCES
from cardiffmodel.web.access import ADMIN, EVERYONE, HEALTH, View, view_for
from cardiffmodel.web.accounts import Session
from cardiffmodel.web.auth import allow, csrf_checked, current_session
from cardiffmodel.web.filters import Filters

# ``filters`` may query the store (the months on offer), so it runs in the thread pool;
# the others only read the small web database and run on the event loop.


class BadFilter(ValueError):
    """A filter value the dashboard does not offer; the message names it."""


def filters(
    request: Request,
    month: Annotated[
        str | None,
        Query(description="Last month of the period, YYYY-MM; default the latest with data."),
    ] = None,
    months: Annotated[int, Query(description="Length of the period in months: 1, 3, 6 or 12.")] = 1,
    source: Annotated[
        list[str],
        Query(description="Sources counted (ed, ambulance, police); repeat; default all."),
    ] = [],  # noqa: B006 - FastAPI copies parameter defaults per request
    weapon: Annotated[str | None, Query(description="One assault method code.")] = None,
    location_type: Annotated[str | None, Query(description="One location type code.")] = None,
) -> Filters:
    chosen = month or request.app.state.dashboard.months()[0]
    unknown = [s for s in source if s and s not in SOURCES]
    if unknown:
        raise BadFilter(f"source {unknown}: expected some of {', '.join(SOURCES)}")
    chosen_sources = tuple(s for s in SOURCES if s in source)
    try:
        return Filters(
            month=chosen,
            months=months,
            sources=chosen_sources or SOURCES,
            weapon=weapon or None,
            location_type=location_type or None,
        )
    except ValueError as err:
        raise BadFilter(str(err)) from err


async def view(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    scope: Annotated[
        str,
        Query(
            description="'all' (every organisation's data) or, for health users, 'own' "
            "(their own sites only, unsuppressed)."
        ),
    ] = "all",
) -> View:
    threshold = request.app.state.dashboard.settings.suppress_below
    return view_for(session.user, scope, threshold)


FiltersDep = Annotated[Filters, Depends(filters)]
ViewDep = Annotated[View, Depends(view)]
Anyone = Annotated[Session, Depends(allow(*EVERYONE))]
HealthUser = Annotated[Session, Depends(allow(*HEALTH))]
AdminUser = Annotated[Session, Depends(allow(*ADMIN))]
CsrfSession = Annotated[Session, Depends(csrf_checked)]


async def submit_upload(request: Request, session: Session, source: str, file: UploadFile) -> dict:
    """Save and check an uploaded extract off the event loop and queue it for ingest;
    raises ``uploads.UploadError`` with the reason."""
    name = file.filename or "extract"
    uploads = request.app.state.uploads
    job = await run_in_threadpool(uploads.submit, session.user, source, name, file.file)
    request.state.audit_detail = f"file={job.file} job={job.job_id}"
    return job.as_json()
