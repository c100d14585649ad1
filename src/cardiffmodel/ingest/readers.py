"""Readers: each turns one extract file into a table of text cells, one row per record.

Everything is read as text so that validation, not the reader, decides what a value means
and can quote it back in an error. Row numbers are the spreadsheet-style line numbers an
analyst sees when opening the file (the header is row 1).
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pandas as pd

from cardiffmodel.config import SourceConfig

ROW_NUMBER = "__row__"


class FileRejected(ValueError):
    """The whole file cannot be ingested (unreadable, empty, wrong columns); nothing from it
    is stored."""


def read_extract(path: Path, source: SourceConfig) -> pd.DataFrame:
    """Read a CSV or XLSX extract as text cells with a row-number column."""
    if not path.exists():
        raise FileRejected(f"{path}: file not found")
    if source.format == "xlsx":
        frame = _read_xlsx(path, source.sheet)
    else:
        frame = _read_csv(path, source.delimiter, source.encoding)
    if frame.empty:
        raise FileRejected(f"{path}: the file has a header but no records")
    return frame


def _read_csv(path: Path, delimiter: str, encoding: str) -> pd.DataFrame:
    # utf-8-sig reads files with and without a byte-order mark alike.
    encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        with open(path, newline="", encoding=encoding) as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
    except UnicodeDecodeError as err:
        raise FileRejected(
            f"{path}: not readable as {encoding} (byte {err.start}): check the source's encoding"
        ) from err
    except csv.Error as err:
        raise FileRejected(f"{path}: not a valid delimited file: {err}") from err
    if not rows:
        raise FileRejected(f"{path}: the file is empty")
    return _frame(path, rows[0], rows[1:])


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises several types for a file that is not XLSX
        raise FileRejected(f"{path}: not a readable XLSX workbook: {err}") from err
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FileRejected(f"{path}: no sheet {sheet!r}; sheets are {book.sheetnames}")
        rows = [
            [_cell_text(v) for v in row]
            for row in (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
        ]
    finally:
        book.close()
    if not rows:
        raise FileRejected(f"{path}: the workbook's sheet is empty")
    return _frame(path, rows[0], rows[1:])


def _cell_text(value: object) -> str:
    """Spreadsheet cells as text; real date cells become ISO text whatever their display."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame(path: Path, header: list[str], body: list[list[str]]) -> pd.DataFrame:
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise FileRejected(f"{path}: repeated column names in the header: {header}")
    width = len(header)
    records = []
    for number, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are layout, not records
        if len(row) != width:
            # A ragged row is kept and quarantined later, not dropped here.
            problem = f"expected {width} fields, found {len(row)}"
            records.append([*(row + [""] * width)[:width], number, problem])
        else:
            records.append([*row, number, ""])
    frame = pd.DataFrame(records, columns=[*header, ROW_NUMBER, "__shape__"], dtype=object)
    frame[ROW_NUMBER] = frame[ROW_NUMBER].astype("int64")
    return frame
