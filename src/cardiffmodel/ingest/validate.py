"""Map a source's columns onto canonical fields and validate every value.

A row with any invalid value is quarantined with every reason found, never dropped; a file
whose mapped columns are missing is rejected whole. Validation is column-at-a-time (pandas)
because extracts run to hundreds of thousands of rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cardiffmodel.config import SourceConfig
from cardiffmodel.ingest.privacy import scrub
from cardiffmodel.ingest.readers import FileRejected
from cardiffmodel.schema import AGE_BANDS, CODE_LISTS, age_band

EARLIEST = pd.Timestamp("1990-01-01")
CODED_FIELDS = ("weapon", "location_type", "relationship", "sex", "age_band")
_ISO = "ISO8601"


@dataclass(frozen=True)
class Problem:
    """Why one row was quarantined: the column, the value and what was expected."""

    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class Validated:
    """Parsed canonical fields of the accepted rows, and the problems of the others.

    ``fields`` has one row per accepted record, indexed like the input; ``problems`` maps
    the input index of each rejected row to its problems; ``raw`` is the mapped source
    text of each rejected row (free text already scrubbed), for the quarantine table.
    """

    fields: pd.DataFrame
    problems: dict[int, list[Problem]]
    raw: dict[int, str]


def validate(
    frame: pd.DataFrame,
    source: SourceConfig,
    file: str,
    bbox: tuple[float, float, float, float],
    today: date,
) -> Validated:
    """Parse and check every mapped field of an extract."""
    _check_columns(frame, source, file)
    problems: dict[int, list[Problem]] = defaultdict(list)
    check = _Checker(frame, source, problems)
    out = pd.DataFrame(index=frame.index)

    for index in frame.index[frame["__shape__"] != ""]:
        problems[index].append(Problem("(row)", "", str(frame.at[index, "__shape__"])))

    record_id = check.text("source_record_id")
    check.fail(record_id == "", "source_record_id", "a record id is required")
    repeated = record_id.duplicated(keep="first") & (record_id != "")
    check.fail(repeated, "source_record_id", "the same record id appears earlier in this file")
    out["source_record_id"] = record_id

    occurred_at, time_known = check.occurrence()
    check.fail(
        occurred_at.isna() & ~check.bad("occurred_at", "occurred_date"),
        _occurred_field(source),
        "the assault date is required",
    )
    too_late = occurred_at.dt.normalize() > pd.Timestamp(today)
    check.fail(too_late, _occurred_field(source), f"an assault date after today ({today})")
    check.fail(occurred_at < EARLIEST, _occurred_field(source), "an assault date before 1990")
    out["occurred_at"] = occurred_at
    out["time_known"] = time_known

    arrived_at = check.datetime("arrived_at") if "arrived_at" in source.columns else None
    if arrived_at is not None:
        after = (occurred_at > arrived_at) & time_known
        after |= occurred_at.dt.normalize() > arrived_at.dt.normalize()
        check.fail(after, "arrived_at", "the assault is recorded as after arrival at the ED")
    out["arrived_at"] = arrived_at

    for field in CODED_FIELDS:
        out[field] = check.code(field)
    if "age" in source.columns:
        out["age_band"] = check.age()
    out["admitted"] = check.admitted()
    out["assailants"] = check.count("assailants")
    out["crime_type"] = _blank_to_none(check.text("crime_type"))
    out["lon"], out["lat"] = check.coordinates(bbox)
    out["location_text"] = _blank_to_none(check.text("location_text"))

    bad = sorted(problems)
    raw = {i: _raw_row(frame, source, i) for i in bad}
    return Validated(out.drop(index=bad), dict(problems), raw)


def _blank_to_none(text: pd.Series) -> pd.Series:
    return text.astype(object).where(text != "", None)


def _occurred_field(source: SourceConfig) -> str:
    return "occurred_at" if "occurred_at" in source.columns else "occurred_date"


def _check_columns(frame: pd.DataFrame, source: SourceConfig, file: str) -> None:
    wanted = [c for spec in source.columns.values() for c in _as_list(spec)]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        present = [c for c in frame.columns if not c.startswith("__")]
        raise FileRejected(
            f"{file}: column(s) {missing} named in cardiff.toml for source {source.name!r} "
            f"are not in the file; its columns are {present}"
        )
    if "occurred_at" not in source.columns and "occurred_date" not in source.columns:
        raise FileRejected(f"{file}: source {source.name!r} maps no assault date column")


def _as_list(spec: str | list[str]) -> list[str]:
    return [spec] if isinstance(spec, str) else list(spec)


def _raw_row(frame: pd.DataFrame, source: SourceConfig, index: int) -> str:
    """The mapped cells of a rejected row, as JSON; free text is scrubbed first because the
    quarantine is inside the store, beyond the privacy boundary."""
    raw = {}
    for field, spec in source.columns.items():
        for column in _as_list(spec):
            value = str(frame.at[index, column])
            raw[column] = scrub(value).text if field == "location_text" else value
    return json.dumps(raw, ensure_ascii=False)


class _Checker:
    """Column parsers that record a Problem for every value they cannot accept."""

    def __init__(self, frame: pd.DataFrame, source: SourceConfig, problems: dict):
        self.frame = frame
        self.source = source
        self.problems = problems
        self.failed: dict[str, pd.Series] = {}

    def column_name(self, field: str) -> str:
        return " + ".join(_as_list(self.source.columns[field]))

    def text(self, field: str) -> pd.Series:
        """The stripped text of a mapped field; empty strings where it is not mapped."""
        if field not in self.source.columns:
            return pd.Series("", index=self.frame.index, dtype=object)
        columns = _as_list(self.source.columns[field])
        joined = self.frame[columns[0]].astype(str).str.strip()
        for column in columns[1:]:
            joined = joined + " " + self.frame[column].astype(str).str.strip()
        return joined.str.strip()

    def fail(self, mask: pd.Series, field: str, reason: str, values: pd.Series | None = None):
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        self.failed[field] = self.failed.get(field, mask & False) | mask
        column = self.column_name(field) if field in self.source.columns else field
        shown = (
            values
            if values is not None
            else (self.text(field) if field in self.source.columns else None)
        )
        for index in mask.index[mask]:
            value = "" if shown is None else str(shown.at[index])
            self.problems[index].append(Problem(column, value, reason))

    def bad(self, *fields: str) -> pd.Series:
        result = pd.Series(False, index=self.frame.index)
        for field in fields:
            if field in self.failed:
                result |= self.failed[field]
        return result

    def datetime(self, field: str, default_format: str = _ISO) -> pd.Series:
        raw = self.text(field)
        fmt = self.source.formats.get(field, default_format)
        parsed = _parse_datetime(raw, fmt)
        expected = "an ISO 8601 date" if fmt == _ISO else f"a date/time like {fmt!r}"
        self.fail(parsed.isna() & (raw != ""), field, f"not a valid date/time: expected {expected}")
        return parsed

    def occurrence(self) -> tuple[pd.Series, pd.Series]:
        """When the assault happened, and whether its time of day was recorded."""
        if "occurred_at" in self.source.columns:
            parsed = self.datetime("occurred_at")
            fmt = self.source.formats.get("occurred_at", _ISO)
            has_time = any(code in fmt for code in ("%H", "%I")) or fmt == _ISO
            return parsed, parsed.notna() & has_time
        day = self.datetime("occurred_date")
        if "occurred_time" not in self.source.columns:
            return day, pd.Series(False, index=self.frame.index)
        raw_time = self.text("occurred_time")
        fmt = self.source.formats.get("occurred_time", "%H:%M")
        clock = _parse_datetime("2000-01-01 " + raw_time, "%Y-%m-%d " + fmt)
        self.fail(
            clock.isna() & (raw_time != ""),
            "occurred_time",
            f"not a valid time: expected a time like {fmt!r}",
        )
        offset = (clock - pd.Timestamp("2000-01-01")).fillna(pd.Timedelta(0))
        return day + offset, clock.notna() & day.notna()

    def code(self, field: str) -> pd.Series:
        """Translate a coded field to its code list; blank means unknown."""
        unknown = pd.Series("unknown", index=self.frame.index, dtype=object)
        if field not in self.source.columns:
            return unknown
        raw = self.text(field)
        allowed = CODE_LISTS.get(field) or AGE_BANDS
        table = {**{c: c for c in allowed}, **self.source.codes.get(field, {})}
        mapped = raw.str.lower().map(table)
        invalid = mapped.isna() & (raw != "")
        self.fail(
            invalid,
            field,
            f"unknown code for {field}: expected one of "
            f"{sorted(set(self.source.codes.get(field, {})) or set(allowed))}",
        )
        return mapped.where(mapped.notna(), unknown)

    def age(self) -> pd.Series:
        raw = self.text("age")
        years = pd.to_numeric(raw, errors="coerce")
        self.fail(years.isna() & (raw != ""), "age", "not a number of years")
        self.fail((years < 0) | (years > 120), "age", "an age outside 0-120 years")
        banded = years.map(lambda y: age_band(None if pd.isna(y) else int(y)))
        return banded.where(banded != "unknown", self.code("age_band"))

    def admitted(self) -> pd.Series:
        if "admitted" not in self.source.columns:
            return pd.Series(None, index=self.frame.index, dtype=object)
        raw = self.text("admitted")
        table = {
            "true": True,
            "false": False,
            **{
                k: {"true": True, "false": False}.get(str(v).lower())
                for k, v in self.source.codes.get("admitted", {}).items()
            },
        }
        mapped = raw.str.lower().map(table)
        self.fail(
            mapped.isna() & (raw != ""),
            "admitted",
            f"unknown code for admitted: expected one of {sorted(table)}",
        )
        return mapped.astype(object).where(mapped.notna(), None)

    def count(self, field: str) -> pd.Series:
        raw = self.text(field)
        number = pd.to_numeric(raw, errors="coerce")
        invalid = number.isna() | (number < 0) | (number % 1 != 0)
        self.fail(invalid & (raw != ""), field, "not a whole number of 0 or more")
        return number.astype("Int32").astype(object).where(number.notna(), None)

    def coordinates(self, bbox: tuple[float, float, float, float]) -> tuple[pd.Series, pd.Series]:
        lon_raw, lat_raw = self.text("lon"), self.text("lat")
        lon = pd.to_numeric(lon_raw, errors="coerce")
        lat = pd.to_numeric(lat_raw, errors="coerce")
        self.fail(lon.isna() & (lon_raw != ""), "lon", "not a number (longitude)")
        self.fail(lat.isna() & (lat_raw != ""), "lat", "not a number (latitude)")
        outside = ~(lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3]))
        both = lon.notna() & lat.notna()
        self.fail(
            outside & both,
            "lon",
            f"coordinates outside the region {bbox} ([project] region_bbox in cardiff.toml)",
            values=lon_raw + ", " + lat_raw,
        )
        return lon.astype(float), lat.astype(float)


def _parse_datetime(raw: pd.Series, fmt: str) -> pd.Series:
    """Parse text to timestamps; anything unparseable becomes NaT (reported by the caller)."""
    blank = raw == ""
    parsed = pd.to_datetime(raw.where(~blank, None), format=fmt, errors="coerce")
    return parsed.astype("datetime64[us]")
