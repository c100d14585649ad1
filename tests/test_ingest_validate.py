"""Reading and validating extracts: every bad value is quarantined with a specific reason,
and a whole-file problem rejects the file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cardiffmodel.config import settings_from_dict
from cardiffmodel.ingest.readers import FileRejected, read_extract
from cardiffmodel.ingest.validate import validate

HEADER = (
    "AttendanceNo,ArrivalDate,ArrivalTime,IncidentDate,IncidentTime,PatientName,Gender,Age,"
    "IncidentLocation,AssaultMethod,Lon,Lat"
)
SOURCE = {
    "name": "uhw",
    "kind": "ed",
    "site": "7A4BV",
    "columns": {
        "source_record_id": "AttendanceNo",
        "arrived_at": ["ArrivalDate", "ArrivalTime"],
        "occurred_date": "IncidentDate",
        "occurred_time": "IncidentTime",
        "sex": "Gender",
        "age": "Age",
        "location_text": "IncidentLocation",
        "weapon": "AssaultMethod",
        "lon": "Lon",
        "lat": "Lat",
    },
    "formats": {"arrived_at": "%d/%m/%Y %H:%M", "occurred_date": "%d/%m/%Y"},
    "codes": {
        "sex": {"M": "male", "F": "female"},
        "weapon": {"Bottle": "bottle_glass", "Fist": "body", "KN": "knife_sharp"},
    },
}
BBOX = (-3.35, 51.38, -3.05, 51.57)


def _check(tmp_path: Path, body: str, encoding: str = "utf-8"):
    path = tmp_path / "extract.csv"
    path.write_bytes((HEADER + "\n" + body).encode(encoding))
    settings = settings_from_dict({"sources": [SOURCE]}, tmp_path)
    source = settings.source("uhw")
    frame = read_extract(path, source).frame
    return frame, validate(frame, source, str(path), BBOX, date(2026, 1, 1))


def test_good_rows_are_parsed_to_canonical_fields(tmp_path):
    _, result = _check(
        tmp_path,
        "A1,05/01/2019,23:40,05/01/2019,23:10,John X,M,23,o/s Walkabout,Bottle,,\n"
        "A2,06/01/2019,01:00,06/01/2019,,Jane Y,f,31,pts home,fist,-3.17,51.48\n",
    )
    assert result.problems == {}
    rows = result.fields.to_dict("records")
    assert str(rows[0]["occurred_at"]) == "2019-01-05 23:10:00"
    assert rows[0]["time_known"] and not rows[1]["time_known"]
    assert [r["weapon"] for r in rows] == ["bottle_glass", "body"]
    assert [r["sex"] for r in rows] == ["male", "female"]
    assert [r["age_band"] for r in rows] == ["18-24", "25-34"]
    assert rows[1]["lon"] == -3.17
    assert "PatientName" not in result.fields.columns


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (
            "A3,31/02/2019,01:00,06/01/2019,02:00,X,F,31,Queen St,Fist,,",
            "ArrivalDate + ArrivalTime",
            "not a valid date/time",
        ),
        (
            "A4,06/01/2019,01:00,07/01/2019,02:00,X,F,31,Queen St,Fist,,",
            "ArrivalDate + ArrivalTime",
            "after arrival",
        ),
        (
            "A5,06/01/2019,01:00,06/01/2019,00:10,X,F,31,Queen St,Spoon,,",
            "AssaultMethod",
            "unknown code for weapon",
        ),
        ("A6,06/01/2019,01:00,06/01/2019,00:10,X,F,abc,Queen St,Fist,,", "Age", "not a number"),
        ("A7,06/01/2019,01:00,06/01/2019,00:10,X,F,130,Queen St,Fist,,", "Age", "outside 0-120"),
        (
            ",06/01/2019,01:00,06/01/2019,00:10,X,F,30,Queen St,Fist,,",
            "AttendanceNo",
            "record id is required",
        ),
        (
            "A8,06/01/2019,01:00,06/01/2019,25:10,X,F,30,Queen St,Fist,,",
            "IncidentTime",
            "not a valid time",
        ),
        ("A9,06/01/2019,01:00,,,X,F,30,Queen St,Fist,,", "IncidentDate", "date is required"),
        (
            "A10,06/01/2019,01:00,06/01/2019,00:10,X,F,30,Queen St,Fist,-0.12,51.5",
            "Lon",
            "outside the region",
        ),
        (
            "A11,06/01/2030,01:00,06/01/2030,00:10,X,F,30,Queen St,Fist,,",
            "IncidentDate",
            "after today",
        ),
    ],
)
def test_bad_values_are_quarantined_with_file_row_column_and_reason(tmp_path, row, column, reason):
    good = "A0,05/01/2019,23:40,05/01/2019,23:10,J,M,23,x,Bottle,,\n"
    frame, result = _check(tmp_path, good + row)
    assert list(result.fields["source_record_id"]) == ["A0"]
    ((index, problems),) = result.problems.items()
    assert frame.at[index, "__row__"] == 3  # header is row 1, the good row is row 2
    assert any(p.column == column and reason in p.reason for p in problems), problems
    assert json.loads(result.raw[index])["AttendanceNo"] == row.split(",")[0]
    assert "PatientName" not in json.loads(result.raw[index])


def test_repeated_record_id_in_one_file_is_quarantined(tmp_path):
    _, result = _check(
        tmp_path,
        "A1,05/01/2019,23:40,05/01/2019,23:10,J,M,23,x,Bottle,,\n"
        "A1,05/01/2019,23:40,05/01/2019,23:10,J,M,23,x,Bottle,,\n",
    )
    assert len(result.fields) == 1
    assert "appears earlier" in result.problems[1][0].reason


def test_ragged_row_is_quarantined_not_dropped(tmp_path):
    _, result = _check(tmp_path, "A1,05/01/2019,23:40,05/01/2019\n")
    assert "expected 12 fields, found 4" in result.problems[0][0].reason


def test_quarantined_free_text_is_scrubbed(tmp_path):
    _, result = _check(
        tmp_path,
        "A1,05/01/2019,23:40,05/01/2019,23:10,J,M,23,pts home CF24 3AA 07700 900461,Spoon,,\n",
    )
    raw = json.loads(result.raw[0])
    assert "900461" not in raw["IncidentLocation"] and "3AA" not in raw["IncidentLocation"]


def test_missing_columns_reject_the_whole_file(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("Ref,When\n1,2019-01-01\n", encoding="utf-8")
    settings = settings_from_dict({"sources": [SOURCE]}, tmp_path)
    source = settings.source("uhw")
    with pytest.raises(FileRejected, match=r"wrong.csv: column\(s\) \['AttendanceNo'"):
        validate(read_extract(path, source).frame, source, str(path), BBOX, date(2026, 1, 1))


def test_empty_and_header_only_files_are_rejected(tmp_path):
    source = settings_from_dict({"sources": [SOURCE]}, tmp_path).source("uhw")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(FileRejected, match="empty"):
        read_extract(empty, source)
    header = tmp_path / "header.csv"
    header.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(FileRejected, match="no records"):
        read_extract(header, source)


def test_wrong_encoding_is_rejected_with_the_byte_offset(tmp_path):
    with pytest.raises(FileRejected, match=r"not readable as utf-8 \(byte \d+, line 2\)"):
        _check(
            tmp_path,
            "A1,05/01/2019,23:40,05/01/2019,23:10,Siân,F,23,Caffi Môr,Fist,,\n",
            encoding="cp1252",
        )
