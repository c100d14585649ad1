"""Record-level views for health organisations: their own incidents, batches, quarantined
rows and unresolved locations (uploads are in uploads.py).

Every method takes the sites the organisation owns and never returns a row of another
site; the routes let only health users call them.
"""

from __future__ import annotations

from pathlib import PurePath

import ibis

from cardiffmodel.web.dashboard import Dashboard
from cardiffmodel.web.filters import Filters

RECORD_COLUMNS = (
    "incident_id",
    "source",
    "site",
    "occurred_date",
    "occurred_at",
    "time_known",
    "location_text",
    "location_type",
    "place_name",
    "match_method",
    "lon",
    "lat",
    "beat",
    "weapon",
    "age_band",
    "sex",
    "relationship",
    "assailants",
    "admitted",
)
# Locations a person should look at: nothing matched, or the match was left for review.
REVIEW_METHODS = ("unresolved", "review")
MAX_RECORDS = 100_000
# Far past any organisation's records, and far below what the database's integers hold.
MAX_OFFSET = 10**9


def _jsonable(row: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def _file_name(row: dict) -> dict:
    """The row with its file's name only: the folders are the server's business."""
    return {**row, "file": PurePath(row["file"]).name} if row.get("file") else row


class Records:
    """One organisation's record-level data, through the dashboard's store gate."""

    def __init__(self, dashboard: Dashboard):
        self.dashboard = dashboard
        self.settings = dashboard.settings

    def source_names(self, sites: frozenset[str]) -> list[str]:
        """The cardiff.toml sources whose site the organisation owns."""
        return [s.name for s in self.settings.sources if s.site in sites]

    def incidents(
        self, f: Filters, sites: frozenset[str], limit: int = 100, offset: int = 0
    ) -> dict:
        """The organisation's incidents in the period and filters, newest first."""
        sel = f.selection(self.dashboard.layer_name)
        with self.dashboard.gate.reading() as cursor:
            t = f.narrow(ibis.duckdb.from_connection(cursor).table("incidents"), sites)
            chosen = t.filter(
                t.occurred_date >= sel.start, t.occurred_date < sel.end, t.source.isin(sel.sources)
            )
            total = chosen.count().to_pyarrow().as_py()
            page = (
                chosen.select(*RECORD_COLUMNS)
                .order_by([ibis.desc("occurred_date"), "incident_id"])
                .limit(min(limit, MAX_RECORDS), offset=offset)
            )
            rows = page.to_pyarrow().to_pylist()
        return {
            "sites": sorted(sites),
            "total": total,
            "offset": offset,
            "records": [_jsonable(r) for r in rows],
        }

    def batches(self, sites: frozenset[str]) -> dict:
        names = self.source_names(sites)
        with self.dashboard.gate.reading() as cursor:
            rows = _dicts(
                cursor,
                "SELECT batch_id, source, file, rows_in, accepted, duplicates, quarantined, "
                "identifiers_removed, started_at, finished_at, status FROM batches "
                "WHERE list_contains(?, source) ORDER BY started_at DESC, batch_id",
                [names],
            )
        return {"sources": names, "batches": [_file_name(_jsonable(r)) for r in rows]}

    def quarantine(self, sites: frozenset[str], batch_id: str | None = None) -> dict:
        names = self.source_names(sites)
        sql = (
            "SELECT batch_id, source, file, row_number, column_name, value, reason, raw "
            "FROM quarantine WHERE list_contains(?, source) AND status = 'open'"
        )  # resolved, superseded and withdrawn rows need no more action
        params: list = [names]
        if batch_id is not None:
            sql += " AND batch_id = ?"
            params.append(batch_id)
        with self.dashboard.gate.reading() as cursor:
            rows = _dicts(cursor, sql + " ORDER BY file, row_number LIMIT 5000", params)
        return {"sources": names, "rows": [_file_name(r) for r in rows]}

    def review_queue(self, sites: frozenset[str], limit: int = 200) -> dict:
        """Location texts of the organisation's records that no place was matched to,
        most frequent first: adding an alias or a gazetteer entry places all of them."""
        with self.dashboard.gate.reading() as cursor:
            t = ibis.duckdb.from_connection(cursor).table("incidents")
            waiting = t.filter(
                t.site.isin(sorted(sites)),
                t.match_method.isin(REVIEW_METHODS),
                t.location_text.notnull(),
            )
            query = (
                waiting.group_by("location_text")
                .aggregate(
                    records=waiting.count(),
                    latest=waiting.occurred_date.max(),
                    method=waiting.match_method.max(),
                )
                .order_by([ibis.desc("records"), "location_text"])
                .limit(limit)
            )
            rows = query.to_pyarrow().to_pylist()
        return {"sites": sorted(sites), "texts": [_jsonable(r) for r in rows]}


def _dicts(cursor, sql: str, params: list) -> list[dict]:
    found = cursor.execute(sql, params)
    names = [d[0] for d in found.description]
    return [dict(zip(names, row, strict=True)) for row in found.fetchall()]
