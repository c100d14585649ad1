"""Readers: each turns one extract file into a table of text cells, one row per record.

Everything is read as text so that validation, not the reader, decides what a value means
and can quote it back in an error. Row numbers are the spreadsheet-style row numbers an
analyst sees when opening the file (the column header is row 1, or the row after a
submission header); a record whose quoted text spans several lines is one row, as in a
spreadsheet. CSV files are parsed by pyarrow (single-threaded, so every rejected line keeps
its row number), which reads a million-row extract in about a second.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cardiffmodel.config import SourceConfig

ROW_NUMBER = "__row__"
SHAPE = "__shape__"
# Columns `cardiff quarantine --export` adds so that a corrected file says which
# quarantined rows it fixes; never mapped, never stored.
QUARANTINE_ID = "cardiff_quarantine_id"
QUARANTINE_REASON = "cardiff_quarantine_reason"
RESERVED_COLUMNS = (QUARANTINE_ID, QUARANTINE_REASON)

DELIMITERS = (",", ";", "\t", "|")
UTF8 = ("utf-8", "utf-8-sig", "utf8")
_SNIFF_BYTES = 1 << 16
MAX_HEADER_BYTES = _SNIFF_BYTES  # a column header longer than this is not an extract's
MAX_FIELD_BYTES = 1 << 20  # pyarrow parses in blocks of this size; no cell may be longer
_MERGED = (
    "a quote opened in this row is closed rows later, merging records: the row is not read "
    "(check the quoting in the extract)"
)


class FileRejected(ValueError):
    """The whole file cannot be ingested (unreadable, empty, wrong columns); nothing from it
    is stored."""


class EmptyExtract(FileRejected):
    """A header and no records: a month with no assault attendances, if the file says which
    month it is (ingest then stores it as a batch covering that period), else rejected."""

    def __init__(self, path: Path, preamble: dict[str, str]):
        super().__init__(f"{path}: the file has a header but no records")
        self.preamble = preamble


@dataclass(frozen=True)
class Extract:
    """One file read as text.

    ``frame`` holds the file's columns as text (blank cells are empty strings), the row
    number of each record in ``ROW_NUMBER`` and, in ``SHAPE``, what is wrong with a row
    that had the wrong number of fields ("" for the others). ``preamble`` holds the
    key/value lines before the column header (an ISTV submission header), keyed as the
    caller named them.
    """

    path: Path
    frame: pd.DataFrame
    columns: tuple[str, ...]
    preamble: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None


def read_extract(path: Path, source: SourceConfig, preamble: Sequence[str] = ()) -> Extract:
    """Read a CSV or XLSX extract as text cells with row numbers.

    ``preamble`` names the keys of a submission header that precedes the column header
    (key in the first cell, value in the second); all of them must be present.
    """
    check_regular_file(path)
    if source.format == "xlsx":
        rows = _xlsx_rows(path, source.sheet)
        found, skipped = _preamble(path, rows, preamble)
        extract = _from_rows(path, rows[skipped:], skipped, found)
    else:
        extract = _read_text(path, source, preamble)
    if extract.frame.empty:
        raise EmptyExtract(path, extract.preamble)
    if QUARANTINE_ID in extract.columns:  # a corrections file: cells were neutralised
        for column in extract.columns:
            extract.frame[column] = extract.frame[column].str.replace(
                r"^'(?=[=+\-@\t\r])", "", regex=True
            )
    return extract


def check_regular_file(path: Path) -> None:
    """A clear rejection for what is not an ordinary file (reading a pipe would wait for
    ever, a directory has no rows)."""
    if not path.exists():
        raise FileRejected(f"{path}: file not found")
    if path.is_dir():
        raise FileRejected(f"{path}: is a folder, not a file: name the extract file itself")
    if not path.is_file():
        raise FileRejected(
            f"{path}: not an ordinary file (a pipe, socket or device): save the extract to "
            "a file first"
        )


# ---- encodings -----------------------------------------------------------------------


class _NotUtf8(Exception):
    """pyarrow found bytes that are not UTF-8."""


def _read_text(path: Path, source: SourceConfig, preamble: Sequence[str]) -> Extract:
    """Read a delimited file in its declared encoding, or a clear rejection.

    UTF-8 may carry a byte-order mark; ``auto`` reads UTF-8 and falls back to Windows
    cp1252, the two encodings hospital and police systems export in.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise FileRejected(f"{path}: the file is empty")
    name = source.encoding.lower()
    if name not in UTF8 and name != "auto":
        if not raw.isascii() and _is_utf8(raw):
            raise FileRejected(
                f"{path}: encoding is set to {source.encoding} but the file is UTF-8 (its "
                'accented letters would be garbled): set encoding = "utf-8" for this source'
            )
        return _read_csv(path, _transcode(path, raw, name), source.delimiter, preamble)
    body = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        # pyarrow checks UTF-8 as it parses, but hands a rejected line to the ragged-row
        # handler before checking it: a file with other than ASCII is checked first.
        if not body.isascii():
            _check_utf8(body)
        return _read_csv(path, body, source.delimiter, preamble)
    except _NotUtf8:
        if name == "auto":
            return _read_csv(path, _transcode(path, raw, "cp1252"), source.delimiter, preamble)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise FileRejected(
                f"{path}: not readable as {source.encoding} ({_where(raw, err.start)}): check "
                "the source's encoding in cardiff.toml; files saved by Excel on Windows are "
                "usually cp1252"
            ) from err
        raise


def _check_utf8(body: bytes) -> None:
    """Raise _NotUtf8 unless the bytes are UTF-8 (Arrow's validation is SIMD-fast)."""
    try:
        pa.array([body], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid as err:
        raise _NotUtf8 from err


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _transcode(path: Path, raw: bytes, encoding: str) -> bytes:
    try:
        return raw.decode(encoding).encode("utf-8")
    except LookupError as err:
        raise FileRejected(f"{path}: unknown encoding {encoding!r} in cardiff.toml") from err
    except UnicodeDecodeError as err:
        raise FileRejected(
            f"{path}: not readable as {encoding} ({_where(raw, err.start)}): check the "
            "source's encoding in cardiff.toml"
        ) from err


def _where(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    return f"byte {offset}, line {line}"


# ---- CSV -----------------------------------------------------------------------------


def _read_csv(path: Path, text: bytes, delimiter: str, preamble: Sequence[str]) -> Extract:
    head = text[:_SNIFF_BYTES].decode("utf-8", errors="replace")
    if delimiter == "auto":
        delimiter = sniff_delimiter(path, head, len(preamble))
    lines = list(io.StringIO(head, newline=""))
    found, skipped = _preamble(
        path, [next(csv.reader([line], delimiter=delimiter), []) for line in lines], preamble
    )
    offset = sum(len(line.encode("utf-8")) for line in lines[:skipped])
    frame = _parse_csv(path, text[offset:], delimiter)
    frame[ROW_NUMBER] += skipped
    columns = tuple(c for c in frame.columns if c not in (ROW_NUMBER, SHAPE))
    return Extract(path, frame, columns, found, delimiter)


def sniff_delimiter(path: Path, head: str, skip: int = 0) -> str:
    """The delimiter that splits the header into most columns and the first records into
    as many: a comma inside a quoted value does not fool it."""
    lines = head.splitlines()[skip : skip + 51]
    best, best_score = None, (0.0, 0)
    for candidate in DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=candidate) if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = candidate, score
    if best is None:
        raise FileRejected(
            f"{path}: cannot tell the delimiter (tried {', '.join(map(repr, DELIMITERS))}): "
            "set delimiter in cardiff.toml"
        )
    return best


def _parse_csv(path: Path, text: bytes, delimiter: str) -> pd.DataFrame:
    """Parse with pyarrow; rows with the wrong number of fields are kept (to be quarantined)
    with their row numbers, never dropped."""
    body = text.lstrip(b"\r\n")
    lead = text[: len(text) - len(body)]
    lead_rows = lead.count(b"\n") or lead.count(b"\r")
    if not body.strip():
        raise FileRejected(f"{path}: the file is empty")
    header_end = body.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if header_end == -1 and len(body) > MAX_HEADER_BYTES:
        raise FileRejected(
            f"{path}: the column header (row {lead_rows + 1}) is longer than "
            f"{MAX_HEADER_BYTES:,} bytes: this is not a delimited extract, or its line "
            "endings are not recognised"
        )
    first = next(
        csv.reader(
            io.StringIO(body[:_SNIFF_BYTES].decode("utf-8", "replace"), newline=""),
            delimiter=delimiter,
        )
    )
    names = [f"c{i}" for i in range(len(first))]
    try:
        table, ragged = _arrow_csv(body, names, delimiter, threads=True)
        if ragged:  # pyarrow numbers the rows it sets aside only when reading on one thread
            table, ragged = _arrow_csv(body, names, delimiter, threads=False)
    except pa.ArrowInvalid as err:
        if "UTF8" in str(err) or "UTF-8" in str(err):
            raise _NotUtf8 from err
        if "straddl" in str(err):
            raise FileRejected(f"{path}: {_huge_field(body, delimiter, lead_rows)}") from err
        raise FileRejected(f"{path}: not a valid delimited file: {err}") from err
    header = [str(h).strip() for h in table.slice(0, 1).to_pylist()[0].values()]
    _check_header(path, header)
    frame = table.slice(1).to_pandas()
    frame.columns = header
    numbers = _row_numbers(len(table), [n for n, _ in ragged]) + lead_rows
    frame[ROW_NUMBER] = numbers[1:]
    frame[SHAPE] = np.where(_merged_rows(table.slice(1), delimiter), _MERGED, "")
    if ragged:
        aside = _ragged_rows(header, [(n + lead_rows, t) for n, t in ragged], delimiter)
        frame = pd.concat([frame, aside], ignore_index=True)
        frame = frame.sort_values(ROW_NUMBER, kind="stable", ignore_index=True)
    return _drop_blank(frame)


def _huge_field(body: bytes, delimiter: str, lead_rows: int) -> str:
    """Where the first cell over MAX_FIELD_BYTES is, for the rejection message."""
    csv.field_size_limit(len(body) + 1)
    text = io.StringIO(body.decode("utf-8", "replace"), newline="")
    reader = csv.reader(text, delimiter=delimiter)
    header: list[str] = []
    for number, row in enumerate(reader, start=1 + lead_rows):
        header = header or row
        for column, cell in enumerate(row):
            if len(cell.encode("utf-8")) > MAX_FIELD_BYTES:
                name = header[column] if column < len(header) else f"field {column + 1}"
                return (
                    f"row {number} column {name}: a value of {len(cell):,} characters; at "
                    f"most {MAX_FIELD_BYTES:,} bytes (a stray quote can run a value on "
                    "to the end of the file)"
                )
    return f"a value longer than {MAX_FIELD_BYTES:,} bytes"


def _merged_rows(table: pa.Table, delimiter: str) -> np.ndarray:
    """Rows where a cell holds a line break followed by a whole record (as many fields as
    the header): a stray quote that swallowed the records after it. A note written over
    two lines never has a line of that many delimiters."""
    d = re.escape(delimiter)
    pattern = rf"\n(?:[^\n]*{d}){{{min(max(table.num_columns - 1, 2), 100)}}}"
    flag = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        if pc.any(pc.match_substring(column, "\n")).as_py():
            found = pc.fill_null(pc.match_substring_regex(column, pattern), False)
            flag |= found.to_numpy(zero_copy_only=False)
    return flag


def _arrow_csv(
    body: bytes, names: list[str], delimiter: str, threads: bool
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Every cell as text; rows with the wrong number of fields set aside with their
    number and text."""
    ragged: list[tuple[int, str]] = []

    def keep_aside(row) -> str:
        ragged.append((row.number, row.text))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(use_threads=threads, column_names=names),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=keep_aside,
        ),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            column_types=dict.fromkeys(names, pa.string()),
        ),
    )
    return table, ragged


def _row_numbers(kept: int, skipped: list[int]) -> np.ndarray:
    """Row numbers of the rows pyarrow kept, given the numbers of those it set aside."""
    total = kept + len(skipped)
    every = np.arange(1, total + 1, dtype=np.int64)
    return np.setdiff1d(every, np.asarray(skipped, dtype=np.int64), assume_unique=True)


def _ragged_rows(header: list[str], ragged: list[tuple[int, str]], delimiter: str) -> pd.DataFrame:
    width = len(header)
    records = []
    for number, line in ragged:
        cells = next(csv.reader([line], delimiter=delimiter), [])
        if not any(c.strip() for c in cells):
            cells = []  # a blank line: dropped with the other blank rows
            problem = ""
        else:
            problem = f"expected {width} fields, found {len(cells)}"
        records.append([*(cells + [""] * width)[:width], number, problem])
    frame = pd.DataFrame(records, columns=[*header, ROW_NUMBER, SHAPE])
    frame[ROW_NUMBER] = frame[ROW_NUMBER].astype("int64")
    return frame


def _drop_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no text at all are layout (blank lines, trailing separators), not records."""
    cells = [c for c in frame.columns if c not in (ROW_NUMBER, SHAPE)]
    # A row with a problem of shape has text somewhere (past the last column, say).
    empty = np.ones(len(frame), dtype=bool)
    if SHAPE in frame.columns:
        empty &= (frame[SHAPE] == "").to_numpy()
    for column in cells:
        empty &= (frame[column].str.strip() == "").to_numpy()
        if not empty.any():
            return frame
    return frame[~empty].reset_index(drop=True)


def _check_header(path: Path, header: list[str]) -> None:
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise FileRejected(f"{path}: repeated column names in the header: {repeated}")


# ---- submission header ---------------------------------------------------------------


def _preamble(
    path: Path, rows: Sequence[Sequence[str]], keys: Sequence[str]
) -> tuple[dict[str, str], int]:
    """Key/value rows before the column header, and how many rows they (and blank rows
    among them) take."""
    if not keys:
        return {}, 0
    wanted = {k.strip().upper(): k for k in keys}
    found: dict[str, str] = {}
    used = 0
    for row in rows:
        cells = [c.strip() for c in row]
        if not any(cells):
            used += 1
            continue
        key = wanted.get(cells[0].upper())
        if key is None:
            break
        found[key] = cells[1] if len(cells) > 1 else ""
        used += 1
    missing = [k for k in keys if not found.get(k)]
    if missing:
        raise FileRejected(
            f"{path}: the submission header (key, value rows before the column header) "
            f"lacks {missing}; expected rows {list(keys)}"
        )
    return found, used


# ---- XLSX ----------------------------------------------------------------------------


def _xlsx_rows(path: Path, sheet: str | None) -> list[list[str]]:
    """The sheet's cells as text. A formula cell is read as the value Excel saved with
    it; one with no saved value (a workbook written by a program and never recalculated)
    becomes FORMULA_WITHOUT_VALUE, which the row's check turns into a clear problem."""
    values = _xlsx_sheet(path, sheet, data_only=True)
    formulas = _xlsx_sheet(path, sheet, data_only=False)
    rows = []
    for value_row, formula_row in zip(values, formulas, strict=False):
        row = []
        for i, value in enumerate(value_row):
            formula = formula_row[i] if i < len(formula_row) else None
            if value is None and isinstance(formula, str) and formula.startswith("="):
                row.append(FORMULA_WITHOUT_VALUE)
            else:
                row.append(_cell_text(value))
        rows.append(row)
    if not rows:
        raise FileRejected(f"{path}: the workbook's sheet is empty")
    return rows


FORMULA_WITHOUT_VALUE = "\x00formula"


def _xlsx_sheet(path: Path, sheet: str | None, data_only: bool) -> list[tuple]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as err:  # openpyxl raises several types for a file that is not XLSX
        raise FileRejected(f"{path}: not a readable XLSX workbook: {err}") from err
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FileRejected(f"{path}: no sheet {sheet!r}; sheets are {book.sheetnames}")
        return list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
    finally:
        book.close()


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


def _from_rows(path: Path, rows: list[list[str]], skipped: int, preamble: dict) -> Extract:
    if not rows:
        raise FileRejected(f"{path}: no column header after the submission header")
    header = [h.strip() for h in rows[0]]
    while header and not header[-1]:
        header.pop()  # trailing empty header cells are spreadsheet formatting
    _check_header(path, header)
    width = len(header)
    records = []
    for number, row in enumerate(rows[1:], start=skipped + 2):
        extra = [c for c in row[width:] if c.strip()]
        problem = f"expected {width} fields, found {width + len(extra)}" if extra else ""
        blank = [header[i] for i, c in enumerate(row[:width]) if c == FORMULA_WITHOUT_VALUE]
        if blank:
            problem = (
                f"column {blank[0]} is a formula with no saved value (the workbook was not "
                "recalculated: open it in Excel and save it)"
            )
            row = ["" if c == FORMULA_WITHOUT_VALUE else c for c in row]
        records.append([*(list(row) + [""] * width)[:width], number, problem])
    frame = pd.DataFrame(records, columns=[*header, ROW_NUMBER, SHAPE])
    for column in header:
        frame[column] = frame[column].astype(str)
    frame[ROW_NUMBER] = frame[ROW_NUMBER].astype("int64")
    return Extract(path, _drop_blank(frame), tuple(header), preamble)
