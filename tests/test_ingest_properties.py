"""Property-based: whatever a file holds, it ends as one clear whole-file rejection or as
rows that are each accepted or quarantined; nothing crashes, nothing goes missing."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardiffmodel.config import settings_from_dict
from cardiffmodel.ingest.pipeline import PreparedBatch, prepare_batch
from cardiffmodel.ingest.readers import FileRejected
from cardiffmodel.places.matcher import Matcher
from ingest_support import ED_SOURCE, HEADER, ed_row

SETTINGS = settings_from_dict(
    {"project": {"region_bbox": [-3.35, 51.38, -3.05, 51.57]}, "sources": [ED_SOURCE]}, Path(".")
)
RESOLVER = Matcher([])  # a real matcher with no places: every text stays unplaced
TODAY = date(2026, 1, 1)
PROPERTIES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Cell text: letters (some accented), digits, punctuation, the delimiter, quotes and
# line breaks. Exotic whitespace and control characters are left out: Python's csv module,
# the reference here, and pyarrow disagree on what they are.
TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,;\"'\n\r/-:.éŵ–@#")), max_size=12)


def _prepare(tmp_path: Path, data: bytes) -> PreparedBatch:
    path = tmp_path / "extract.csv"
    path.write_bytes(data)
    return prepare_batch(SETTINGS, "uhw", path, RESOLVER, None, today=TODAY)


def _records(data: bytes) -> int:
    """Records with any text after the header, as Python's csv module reads the file."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return sum(any(cell.strip() for cell in row) for row in rows[1:])


@PROPERTIES
@given(data=st.binary(max_size=400))
def test_any_bytes_are_rejected_clearly_or_fully_accounted_for(tmp_path, data):
    for prefix in (b"", ",".join(HEADER).encode() + b"\n"):
        try:
            batch = _prepare(tmp_path, prefix + data)
        except FileRejected as err:
            assert str(tmp_path / "extract.csv") in str(err)
            continue
        record = batch.record
        assert record.accepted + record.quarantined == record.rows_in
        assert batch.incidents.num_rows == record.accepted


@PROPERTIES
@given(rows=st.lists(st.lists(TEXT, min_size=0, max_size=10), min_size=1, max_size=15))
def test_well_formed_files_of_any_cells_lose_no_record(tmp_path, rows):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *rows])
    data = buffer.getvalue().encode("utf-8")
    try:
        batch = _prepare(tmp_path, data)
    except FileRejected as err:
        # Only a file with no records at all may be rejected here.
        assert "no records" in str(err) and _records(data) == 0
        return
    assert batch.record.rows_in == _records(data)
    assert batch.record.accepted + batch.record.quarantined == batch.record.rows_in
    numbers = batch.quarantine.column("row_number").to_pylist()
    assert len(set(numbers)) == len(numbers) and all(n >= 2 for n in numbers)


BAD_VALUES = {
    1: st.sampled_from(["31/02/2019 10:00", "05/01/2019 25:00", "yesterday", "2019-01-05"]),
    2: st.sampled_from(["31/02/2019", "05/13/2019", "5th Jan"]),
    3: st.sampled_from(["24:61", "noon", "2310x"]),
    5: st.sampled_from(["30/02/1990", "06/01/2030", "unknown"]),
    7: TEXT.filter(lambda t: t.strip().lower() not in {"bottle", "gl", "fist", "body", ""}),
}


@st.composite
def _attendances(draw):
    """Valid rows with, on some, one cell spoilt; returns rows and which are spoilt."""
    count = draw(st.integers(1, 12))
    rows, spoilt = [], set()
    for i in range(count):
        row = ed_row(f"A{i}", day=draw(st.integers(1, 28)), where=draw(TEXT))
        column = draw(st.sampled_from([None, *BAD_VALUES]))
        if column is not None:
            row[column] = draw(BAD_VALUES[column])
            spoilt.add(row[0])
        rows.append(row)
    return rows, spoilt


@PROPERTIES
@given(case=_attendances())
def test_every_spoilt_value_is_quarantined_and_every_good_row_accepted(tmp_path, case):
    rows, spoilt = case
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *rows])
    batch = _prepare(tmp_path, buffer.getvalue().encode("utf-8"))
    quarantined = set(batch.quarantine.column("record_id").to_pylist())
    assert quarantined == spoilt
    assert batch.record.accepted == len(rows) - len(spoilt)
    reasons = batch.quarantine.column("reason").to_pylist()
    assert all(": " in reason for reason in reasons)  # "column: what was expected"
