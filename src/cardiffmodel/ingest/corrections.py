"""Quarantined rows back out for correction, in the layout their source sends.

``cardiff quarantine --source uhw --export fix.csv`` writes every open quarantined row of
one source with the source's own column names, delimiter and encoding, plus two columns
of its own: the quarantine id and the reason. Whoever corrects the file edits the cells
and runs ``cardiff ingest uhw fix.csv``; rows that now pass are accepted and their
quarantine rows marked resolved, rows still wrong are quarantined again (and the old copy
marked superseded). The export holds only what the quarantine holds: the mapped columns,
free text already scrubbed and dates of birth left out.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from cardiffmodel.config import Settings
from cardiffmodel.ingest.presets import ISTV_PERIOD_END, ISTV_PERIOD_START, ISTV_SITE, apply_preset
from cardiffmodel.ingest.readers import QUARANTINE_ID, QUARANTINE_REASON
from cardiffmodel.ingest.validate import mapped_columns
from cardiffmodel.store.duckdb_store import Store


class ExportError(ValueError):
    """The export cannot be written as asked; nothing was written."""


def export_quarantine(settings: Settings, store: Store, source_name: str, path: Path) -> int:
    """Write the open quarantined rows of one source to ``path``; returns how many."""
    preset = apply_preset(settings.source(source_name))
    source = preset.source
    xlsx = source.format == "xlsx"
    if xlsx != (path.suffix.lower() == ".xlsx"):
        wanted = ".xlsx" if xlsx else ".csv"
        raise ExportError(f"{path}: source {source_name!r} sends {wanted} files; name it *{wanted}")
    rows = store.quarantine(source_name)
    columns = mapped_columns(source)
    header = [*columns, QUARANTINE_ID, QUARANTINE_REASON]
    body = [
        [neutralise(json.loads(row["raw"] or "{}").get(c, "")) for c in columns]
        + [str(row["quarantine_id"]), neutralise(row["reason"])]
        for row in rows
    ]
    if xlsx:
        _write_xlsx(path, source.sheet or "Sheet1", header, body)
        return len(body)
    preamble = _istv_header(store, rows, source.site) if preset.preamble else []
    delimiter = "," if source.delimiter == "auto" else source.delimiter
    encoding = "utf-8" if source.encoding == "auto" else source.encoding
    try:
        with open(path, "w", newline="", encoding=encoding) as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerows([*preamble, header, *body])
    except UnicodeEncodeError as err:
        path.unlink(missing_ok=True)
        raise ExportError(
            f"{path}: a quarantined value cannot be written in {encoding}: {err}"
        ) from err
    return len(body)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
NEUTRALISER = "'"


def neutralise(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula: a value starting
    with = + - @ (or a tab or carriage return) gets a leading apostrophe, which ingest
    takes off again (plain numbers such as -3.18 are left alone)."""
    if value and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return NEUTRALISER + value
    return value


def _write_xlsx(path: Path, sheet: str, header: list[str], body: list[list[str]]) -> None:
    book = Workbook()
    book.active.title = sheet
    for row in [header, *body]:
        book.active.append(row)  # text cells: re-read exactly as quarantined
    book.save(path)


def _istv_header(store: Store, rows: list[dict], site: str) -> list[list[str]]:
    """A submission header covering the reporting periods the rows were sent in."""
    periods = [store.batch(b) for b in {row["batch_id"] for row in rows}]
    starts = [p["period_start"] for p in periods if p and p["period_start"]]
    ends = [p["period_end"] for p in periods if p and p["period_end"]]
    today = date.today()
    return [
        [ISTV_PERIOD_START, str(min(starts, default=today))],
        [ISTV_PERIOD_END, str(max(ends, default=today))],
        [ISTV_SITE, site],
        [],
    ]
