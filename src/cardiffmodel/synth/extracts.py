"""Number the records, plant a few bad rows, and write one file per source per month.

About 0.5% of rows in every extract are deliberately wrong in the ways real extracts go
wrong (an impossible date such as 31/02, an assault after the patient arrived, a code the
source's table does not know, a blank record id); the truth table names each one so tests
can check ingest quarantines them.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from cardiffmodel.synth.layouts import Layout
from cardiffmodel.synth.records import Record, occurred_cells

ERROR_RATE = 0.005
ID_FORMATS = {
    "uhw": "A{yy}{seq:06d}",
    "llandough": "LL{yy}-{seq:05d}",
    "cri": "MIU/{yyyy}/{seq:04d}",
    "was": "INC{yy}{seq:07d}",
    "swp": "62-{yy}-{seq:06d}",
}


@dataclass(frozen=True)
class Placed:
    """A written record: where it is and which planted error (if any) it carries."""

    record: Record
    source_record_id: str | None
    file: Path
    row: int  # 1-based data row, the header not counted
    planted_error: str | None


def number(layout: Layout, records: list[Record]) -> list[tuple[Record, str]]:
    """Records in time order with ids that restart each year, as hospital systems do."""
    ordered = sorted(records, key=lambda r: (r.when, r.event_id))
    counters: dict[int, int] = defaultdict(int)
    numbered = []
    for record in ordered:
        counters[record.when.year] += 1
        record_id = ID_FORMATS[layout.name].format(
            yy=f"{record.when.year % 100:02d}",
            yyyy=record.when.year,
            seq=counters[record.when.year],
        )
        id_column = layout.column("source_record_id")
        numbered.append((replace(record, cells={**record.cells, id_column: record_id}), record_id))
    return numbered


def plant_errors(
    layout: Layout, numbered: list[tuple[Record, str]], rng: np.random.Generator
) -> list[tuple[Record, str | None, str | None]]:
    """Spoil about one row in two hundred; returns (record, id as written, error kind)."""
    kinds = ["bad_date", "unknown_code", "blank_id"]
    if layout.kind == "ed":
        kinds.append("assault_after_arrival")
    spoiled = []
    for record, record_id in numbered:
        if rng.random() >= ERROR_RATE:
            spoiled.append((record, record_id, None))
            continue
        kind = kinds[int(rng.integers(len(kinds)))]
        cells = dict(record.cells)
        if kind == "bad_date":
            field = "occurred_at" if "occurred_at" in layout.columns else "occurred_date"
            cells[layout.column(field)] = _impossible_date(layout, field, record.when)
        elif kind == "unknown_code":
            field, code = layout.unknown_code
            cells[layout.column(field)] = code
        elif kind == "blank_id":
            cells[layout.column("source_record_id")] = ""
            record_id = None
        else:
            later = record.when + timedelta(hours=int(rng.integers(20, 50)))
            cells.update(occurred_cells(layout, later, True))
        spoiled.append((replace(record, cells=cells), record_id, kind))
    return spoiled


def _impossible_date(layout: Layout, field: str, when: datetime) -> str:
    """The 31st (or 30th) of February in the source's own date format."""
    day = "31" if when.day % 2 else "30"
    if layout.format == "xlsx":
        return f"{day}/02/{when.year}"  # typed over a date cell, so it is text
    return when.strftime(layout.formats[field].replace("%d", day).replace("%m", "02"))


def months(start: date, end: date) -> list[date]:
    """First day of every month that overlaps [start, end)."""
    found, current = [], start.replace(day=1)
    while current < end:
        found.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return found


def write_source(
    layout: Layout,
    spoiled: list[tuple[Record, str | None, str | None]],
    out_dir: Path,
    period: tuple[date, date],
) -> tuple[tuple[Path, ...], list[Placed]]:
    """One file per month (empty months too, with just the header), oldest first."""
    by_month: dict[date, list] = defaultdict(list)
    for item in spoiled:
        by_month[item[0].when.date().replace(day=1)].append(item)
    folder = out_dir / layout.folder
    folder.mkdir(parents=True, exist_ok=True)
    files, placed = [], []
    for month in months(*period):
        path = folder / f"{layout.name}_{month:%Y-%m}{layout.suffix}"
        items = by_month.get(month, [])
        rows = [[item[0].cells.get(column) for column in layout.header] for item in items]
        if layout.format == "xlsx":
            _write_xlsx(path, layout, rows)
        else:
            _write_csv(path, layout, rows)
        files.append(path)
        placed.extend(
            Placed(record, record_id, path.relative_to(out_dir), i + 1, error)
            for i, (record, record_id, error) in enumerate(items)
        )
    return tuple(files), placed


def _write_csv(path: Path, layout: Layout, rows: list[list]) -> None:
    with open(path, "w", newline="", encoding=layout.encoding) as handle:
        writer = csv.writer(handle, delimiter=layout.delimiter)
        writer.writerow(layout.header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def _write_xlsx(path: Path, layout: Layout, rows: list[list]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(layout.sheet)
    sheet.append(list(layout.header))
    for row in rows:
        sheet.append(row)
    book.save(path)
