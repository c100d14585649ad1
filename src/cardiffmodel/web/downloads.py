"""Files users take away: reports written by ``cardiff report`` and CSV/GeoJSON exports.

A group's report is written for its audience: one for police, council or partnership
audiences is suppressed and anyone may have it; one for a health audience is not, so only
health users and the partnership analyst may. A file no group owns goes to the analyst.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from cardiffmodel.config import Settings
from cardiffmodel.disclosure import needs_suppression
from cardiffmodel.web.access import AccessDenied
from cardiffmodel.web.accounts import User

REPORT_SUFFIXES = (".html", ".pdf")
_PERIOD = re.compile(r"^\d{4}-\d{2}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.(html|pdf)$")


def _report_roles(settings: Settings, stem: str) -> tuple[str, ...]:
    group = next((g for g in settings.groups if g.slug == stem), None)
    if group is None:
        return ("analyst",)
    if needs_suppression(group.audience):
        return ("health", "police", "council", "analyst", "admin")
    return ("health", "analyst")


def list_reports(settings: Settings, user: User) -> list[dict]:
    """The reports in the project's reports folder this user may download, newest first."""
    folder = settings.reports_dir
    if not folder.is_dir():
        return []
    found = []
    for period in sorted((p for p in folder.iterdir() if _PERIOD.match(p.name)), reverse=True):
        for path in sorted(period.iterdir()):
            if not _NAME.match(path.name) or user.role not in _report_roles(settings, path.stem):
                continue
            group = next((g for g in settings.groups if g.slug == path.stem), None)
            found.append(
                {
                    "period": period.name,
                    "file": path.name,
                    "group": group.name if group else path.stem,
                    "audience": group.audience if group else "partnership analyst",
                    "format": path.suffix.lstrip(".").upper(),
                    "url": f"/reports/{period.name}/{path.name}",
                }
            )
    return found


def report_path(settings: Settings, user: User, period: str, name: str) -> Path:
    """The file of one report, once the user's role is allowed it."""
    path = settings.reports_dir / period / name
    if not (_PERIOD.match(period) and _NAME.match(name) and path.is_file()):
        raise FileNotFoundError(f"no report {period}/{name}")
    allowed = _report_roles(settings, path.stem)
    if user.role not in allowed:
        raise AccessDenied(f"report {period}/{name} is for the roles {', '.join(allowed)}")
    return path


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, made inert by a leading quote.

    Location texts and venue names come from free text typed at a hospital's front desk,
    so a cell like ``=HYPERLINK(...)`` must open as text. Numbers are left as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """Rows as CSV text, every text cell (and header) safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(c) for c in columns])
    writer.writerows([spreadsheet_safe(row.get(c)) for c in columns] for row in rows)
    return out.getvalue()


def _plain(cell: dict) -> int | str:
    return cell["shown"] if cell["value"] is None else cell["value"]


def beat_rows(beat_map: dict) -> list[dict]:
    """The map's areas as flat rows: shown counts as numbers, hidden ones as their marker."""
    return [
        {
            "code": a["code"],
            "name": a["name"],
            "count": _plain(a["count"]),
            "previous": _plain(a["previous"]),
            "last_year": _plain(a["last_year"]),
            "change": "" if a["change"] is None else a["change"],
            "change_flag": a["change_flag"],
            "rate_per_1000": a["rate_per_1000"],
        }
        for a in beat_map["areas"]
    ]


BEAT_COLUMNS = (
    "code",
    "name",
    "count",
    "previous",
    "last_year",
    "change",
    "change_flag",
    "rate_per_1000",
)


def beats_geojson(areas: dict, beat_map: dict) -> dict:
    rows = {r["code"]: r for r in beat_rows(beat_map)}
    return {
        "type": "FeatureCollection",
        "properties": {"period": beat_map["period"], "suppressed": beat_map["suppressed"]},
        "features": [
            {**feature, "properties": rows[feature["id"]]}
            for feature in areas["features"]
            if feature["id"] in rows
        ],
    }


def incidents_geojson(records: Sequence[dict]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r["incident_id"],
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
                if r["lon"] is not None
                else None,
                "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
            }
            for r in records
        ],
    }
