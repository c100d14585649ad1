"""Readers: any delimiter, UTF-8 with or without a byte-order mark, cp1252, quoted
newlines, blank and ragged lines with the row numbers a spreadsheet shows, XLSX, and a
submission header before the columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from cardiffmodel.config import SourceConfig
from cardiffmodel.ingest.readers import FileRejected, read_extract

SOURCE = SourceConfig(name="s", kind="ed", site="X", delimiter="auto", encoding="auto")


def _read(tmp_path: Path, data: bytes, **settings) -> list[dict]:
    path = tmp_path / "extract.csv"
    path.write_bytes(data)
    source = SourceConfig(**{**SOURCE.__dict__, **settings})
    return read_extract(path, source).frame.to_dict("records")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_even_when_values_contain_commas(tmp_path, delimiter):
    d = delimiter
    text = f'Ref{d}Where{d}N\nA1{d}"Queen St, Cardiff"{d}1\nA2{d}Revs{d}2\n'
    rows = _read(tmp_path, text.encode())
    assert [r["Where"] for r in rows] == ["Queen St, Cardiff", "Revs"]
    assert [r["__row__"] for r in rows] == [2, 3]


def test_quoted_newlines_blank_lines_and_ragged_rows_keep_spreadsheet_row_numbers(tmp_path):
    text = (
        "\n"  # row 1: blank
        "Ref,Where,N\n"  # row 2: header
        'A1,"outside\nthe ""Owain Glyndwr""",1\n'  # row 3, over two lines
        "\n"  # row 4: blank
        "A2,Revs\n"  # row 5: a field short
        "A3,Revs,3,extra\n"  # row 6: a field too many
        ",,\n"  # row 7: empty cells only
        "A4,Walkabout,4\n"  # row 8
    )
    rows = _read(tmp_path, text.encode())
    assert [(r["Ref"], r["__row__"]) for r in rows] == [("A1", 3), ("A2", 5), ("A3", 6), ("A4", 8)]
    assert rows[0]["Where"] == 'outside\nthe "Owain Glyndwr"'
    assert [r["__shape__"] for r in rows] == [
        "",
        "expected 3 fields, found 2",
        "expected 3 fields, found 4",
        "",
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "auto"])
def test_utf8_with_or_without_a_byte_order_mark(tmp_path, encoding):
    data = "Ref,Where\nA1,Caffi Môr\n".encode(encoding if encoding != "auto" else "utf-8-sig")
    rows = _read(tmp_path, data, encoding=encoding)
    assert list(rows[0])[:2] == ["Ref", "Where"] and rows[0]["Where"] == "Caffi Môr"


@pytest.mark.parametrize("encoding", ["cp1252", "auto"])
def test_cp1252_files_are_read_as_such(tmp_path, encoding):
    data = "Ref;Where\nA1;Caffi Môr – ‘the caff’\n".encode("cp1252")
    rows = _read(tmp_path, data, encoding=encoding)
    assert rows[0]["Where"] == "Caffi Môr – ‘the caff’"


def test_a_ragged_cp1252_line_is_not_mistaken_for_a_broken_file(tmp_path):
    data = "Ref,Where,N\nA1,x,1\nA2,Caffi Môr\n".encode("cp1252")
    rows = _read(tmp_path, data, encoding="auto")
    assert rows[1]["Where"] == "Caffi Môr" and rows[1]["__shape__"].startswith("expected 3")
    with pytest.raises(FileRejected, match=r"not readable as utf-8 \(byte 29, line 3\)"):
        _read(tmp_path, data, encoding="utf-8")


def test_a_utf8_file_declared_cp1252_is_rejected_rather_than_garbled(tmp_path):
    with pytest.raises(FileRejected, match=r'the file is UTF-8.*set encoding = "utf-8"'):
        _read(tmp_path, "Ref,Where\nA1,Caffi Môr\n".encode(), encoding="cp1252")


def test_bytes_that_are_not_the_declared_encoding_are_located(tmp_path):
    with pytest.raises(FileRejected, match=r"not readable as utf-8 \(byte 20, line 2\)"):
        _read(tmp_path, "Ref,Where\nA1,Caffi Môr\n".encode("cp1252"), encoding="utf-8")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\n  \n", "the file is empty"),
        (b"Ref,Where\n", "a header but no records"),
        (b"Ref,Ref\nA1,x\n", "repeated column names"),
        (b"just one column\nno delimiter here\n", "cannot tell the delimiter"),
    ],
)
def test_whole_file_problems_reject_the_file_with_one_message(tmp_path, data, message):
    with pytest.raises(FileRejected, match=message):
        _read(tmp_path, data)


def test_xlsx_cells_are_read_as_text_with_dates_in_iso_form(tmp_path):
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.title = "MIU assaults"
    sheet.append(["Case ID", "Arrival", "Age"])
    sheet.append(["MIU/1", datetime(2019, 1, 5, 23, 40), 23])
    sheet.append([None, None, None])
    sheet.append(["MIU/2", "31/02/2019", 30.0])
    path = tmp_path / "cri.xlsx"
    book.save(path)
    source = SourceConfig(name="cri", kind="ed", site="X", format="xlsx", sheet="MIU assaults")
    rows = read_extract(path, source).frame.to_dict("records")
    assert [(r["Case ID"], r["Arrival"], r["Age"], r["__row__"]) for r in rows] == [
        ("MIU/1", "2019-01-05 23:40:00", "23", 2),
        ("MIU/2", "31/02/2019", "30", 4),
    ]
    with pytest.raises(FileRejected, match="no sheet 'Other'"):
        read_extract(
            path, SourceConfig(name="cri", kind="ed", site="X", format="xlsx", sheet="Other")
        )


def test_a_submission_header_is_read_and_row_numbers_count_it(tmp_path):
    path = tmp_path / "istv.csv"
    path.write_text(
        "REPORTING PERIOD START DATE,2019-01-01\n"
        "REPORTING PERIOD END DATE,2019-01-31\n"
        "\n"
        "A,B\n"
        "1,2\n",
        encoding="utf-8",
    )
    keys = ("REPORTING PERIOD START DATE", "REPORTING PERIOD END DATE")
    extract = read_extract(path, SOURCE, keys)
    assert extract.preamble == dict(zip(keys, ("2019-01-01", "2019-01-31"), strict=True))
    assert extract.frame.to_dict("records") == [{"A": "1", "B": "2", "__row__": 5, "__shape__": ""}]
    with pytest.raises(FileRejected, match=r"lacks \['SITE CODE \(OF TREATMENT\)'\]"):
        read_extract(path, SOURCE, (*keys, "SITE CODE (OF TREATMENT)"))
