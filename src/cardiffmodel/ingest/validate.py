"""Map a source's columns onto canonical fields and validate every value.

A row with any invalid value is quarantined with every reason found, never dropped; a file
whose mapped columns are missing is rejected whole. Validation is column-at-a-time (pandas)
and parses each distinct date text once, because extracts run to a million rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cardiffmodel.config import SourceConfig
from cardiffmodel.ingest.privacy import Cleaned, nhs_number_share, scrub
from cardiffmodel.ingest.readers import SHAPE, FileRejected
from cardiffmodel.schema import AGE_BANDS, AREA_LAYERS, CODE_LISTS

EARLIEST = pd.Timestamp("1990-01-01")
# The ISTV standard allows 255 characters of location; longer texts are pasted notes.
MAX_LOCATION_CHARS = 1_000
MAX_WORD_CHARS = 60  # longer than any place name's word (places.index.MAX_TOKEN_CHARS)
SHOWN_CHARS = 200  # of a too-long value, what a problem quotes (after scrubbing)
OLDEST = 120
CODED_FIELDS = ("weapon", "location_type", "relationship", "sex", "age_band")
DATE_FIELDS = ("occurred_at", "occurred_date", "occurred_time", "arrived_at", "date_of_birth")
# Values of these fields are identifiers: never quoted in a problem, never kept in quarantine.
PRIVATE_FIELDS = ("date_of_birth",)
WITHHELD = "[withheld]"
_ISO = "ISO8601"
UK_TIME = "Europe/London"
_AGE_EDGES = np.array([0, 11, 18, 25, 35, 45, 55, 65])
# A date, a time or both, shaped so that no phone or NHS number fits.
_PLAIN_DATE = re.compile(
    r"(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4})?[ T]?(?:\d{1,2}:?\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


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
    text of each rejected row (scrubbed; dates of birth left out), for the quarantine
    table; ``record_ids`` is the record id of every input row (derived from the row's
    content when the source has no id column); ``removed`` counts the identifiers, by
    kind, taken out of the rejected rows' cells and the dates of birth of every row.
    """

    fields: pd.DataFrame
    problems: dict[int, list[Problem]]
    raw: dict[int, str]
    record_ids: pd.Series
    removed: dict[str, int]


def validate(
    frame: pd.DataFrame,
    source: SourceConfig,
    file: str,
    bbox: tuple[float, float, float, float],
    today: date,
    period: tuple[date, date] | None = None,
) -> Validated:
    """Parse and check every mapped field of an extract.

    ``period`` is the reporting period a submission header declares: arrivals outside it
    are quarantined.
    """
    _check_columns(frame, source, file)
    problems: dict[int, list[Problem]] = defaultdict(list)
    check = _Checker(frame, source, problems)
    out = pd.DataFrame(index=frame.index)

    broken = frame.index[frame[SHAPE] != ""]

    record_id = _record_ids(check, file)
    out["source_record_id"] = record_id

    occurred_at, time_known = check.occurrence()
    field = _occurred_field(source)
    check.fail(
        occurred_at.isna() & ~check.bad("occurred_at", "occurred_date"),
        field,
        "the assault date is required",
    )
    too_late = occurred_at.dt.normalize() > pd.Timestamp(today)
    check.fail(too_late, field, f"an assault date after today ({today})")
    check.fail(occurred_at < EARLIEST, field, "an assault date before 1990")
    out["occurred_at"] = occurred_at
    out["time_known"] = time_known

    arrived_at = check.datetime("arrived_at") if "arrived_at" in source.columns else None
    if arrived_at is not None:
        after = (occurred_at > arrived_at) & time_known
        after |= occurred_at.dt.normalize() > arrived_at.dt.normalize()
        check.fail(after, "arrived_at", "the assault is recorded as after arrival at the ED")
        if period is not None:
            day = arrived_at.dt.normalize()
            outside = (day < pd.Timestamp(period[0])) | (day > pd.Timestamp(period[1]))
            check.fail(
                outside,
                "arrived_at",
                f"an arrival outside the reporting period {period[0]} to {period[1]} "
                "in the submission header",
            )
    if arrived_at is not None:
        check.fail(
            arrived_at.dt.normalize() > pd.Timestamp(today),
            "arrived_at",
            f"an arrival after today ({today})",
        )
    out["arrived_at"] = arrived_at

    for name in CODED_FIELDS:
        out[name] = check.code(name)
    out["age_band"] = check.age(occurred_at, out["age_band"])
    out["admitted"] = check.admitted()
    out["assailants"] = check.count("assailants")
    out["crime_type"] = _blank_to_none(check.text("crime_type"))
    out["lon"], out["lat"] = check.coordinates(bbox)
    location = check.text("location_text")
    check.fail(
        location.str.len() > MAX_LOCATION_CHARS,
        "location_text",
        f"a location text longer than {MAX_LOCATION_CHARS:,} characters",
    )
    longest_word = location.str.split().map(lambda ws: max(map(len, ws), default=0))
    check.fail(
        longest_word > MAX_WORD_CHARS,
        "location_text",
        f"a location text with a word longer than {MAX_WORD_CHARS} characters",
    )
    out["location_text"] = _blank_to_none(location)
    for layer in AREA_LAYERS:  # official area codes: placement checks them against the layer
        if layer in source.columns:
            out[layer] = _blank_to_none(check.text(layer))

    # A row whose structure broke (wrong number of fields, a stray quote) is not read at
    # all: its cells may hold other columns' values. Only the reason is kept.
    for index in broken:
        problems[index] = [Problem("(row)", "", str(frame.at[index, SHAPE]))]
    bad = sorted(problems)
    raw, removed = _raw_rows(frame, source, [i for i in bad if i not in set(broken)])
    raw.update(dict.fromkeys(broken, ""))
    record_id = record_id.where(~record_id.index.isin(broken), "")
    if "date_of_birth" in source.columns:  # banded or dropped, never kept
        born = int((check.text("date_of_birth") != "").sum())
        removed = {**removed, "date_of_birth": removed.get("date_of_birth", 0) + born}
    return Validated(out.drop(index=bad), dict(problems), raw, record_id, removed)


def _record_ids(check: _Checker, file: str) -> pd.Series:
    """The record id of each row, checked; derived from the row's content when the source
    has no id column (ISTV extracts carry none)."""
    if "source_record_id" not in check.source.columns:
        return _content_ids(check)
    record_id = check.text("source_record_id")
    valid, share = nhs_number_share(record_id)
    if valid >= 3 and share >= 0.5:
        raise FileRejected(
            f"{file}: column {check.column_name('source_record_id')} holds NHS numbers "
            f"({valid} valid ones): record ids must be the system's attendance or incident "
            "reference, not a patient identifier"
        )
    check.fail(record_id == "", "source_record_id", "a record id is required")
    repeated = record_id.duplicated(keep="first") & (record_id != "")
    check.fail(repeated, "source_record_id", "the same record id appears earlier in this file")
    return record_id


def _content_ids(check: _Checker) -> pd.Series:
    """A hash of the mapped cells plus the row's occurrence among identical rows: the same
    extract re-sent gives the same ids, and two identical attendances stay two."""
    columns = sorted(mapped_columns(check.source))
    content = check.frame[columns[0]].str.strip()
    for column in columns[1:]:
        content = content + "\x1f" + check.frame[column].str.strip()
    codes, uniques = pd.factorize(content)
    digests = np.array([hashlib.sha256(u.encode()).hexdigest()[:20] for u in uniques])
    occurrence = pd.Series(codes, index=content.index).groupby(codes).cumcount() + 1
    return pd.Series(digests[codes], index=content.index) + "#" + occurrence.astype(str)


def _blank_to_none(text: pd.Series) -> pd.Series:
    return text.where(text != "")


def _occurred_field(source: SourceConfig) -> str:
    return "occurred_at" if "occurred_at" in source.columns else "occurred_date"


def _check_columns(frame: pd.DataFrame, source: SourceConfig, file: str) -> None:
    missing = [c for c in mapped_columns(source) if c not in frame.columns]
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


def mapped_columns(source: SourceConfig) -> list[str]:
    """The file columns a source's mapping reads, each once, in mapping order."""
    return list(dict.fromkeys(c for spec in source.columns.values() for c in _as_list(spec)))


def _raw_rows(
    frame: pd.DataFrame, source: SourceConfig, rows: list[int]
) -> tuple[dict[int, str], dict[str, int]]:
    """The mapped cells of rejected rows, as JSON, and the identifiers removed from them.
    The quarantine is inside the store, beyond the privacy boundary: every value is
    scrubbed, dates of birth are left out."""
    kept: dict[tuple[str, str], Cleaned] = {}  # rejected rows repeat codes and dates
    removed: Counter[str] = Counter()
    cells = {}
    positions = frame.index.get_indexer(rows)
    for name, spec in source.columns.items():
        for column in _as_list(spec):
            cleaned = []
            for value in frame[column].iloc[positions].tolist():
                item = kept.get((name, value)) or kept.setdefault((name, value), _kept(name, value))
                removed.update(item.removed)
                cleaned.append(item.text or "")
            cells[column] = cleaned
    raw = {
        index: json.dumps({c: values[i] for c, values in cells.items()}, ensure_ascii=False)
        for i, index in enumerate(rows)
    }
    return raw, dict(removed)


def _shown(field: str, value: str) -> str:
    """A value as a problem may quote it: scrubbed, and cut if very long."""
    if field in PRIVATE_FIELDS:
        return WITHHELD if value.strip() else ""
    shown = _kept(field, value).text or ""
    return shown if len(shown) <= SHOWN_CHARS else shown[:SHOWN_CHARS] + "…"


def _kept(field: str, value: str) -> Cleaned:
    """A cell as the quarantine may keep it (and export it for correction): scrubbed, and
    blank for a date of birth, which a corrected row then goes without."""
    if field in PRIVATE_FIELDS:
        return Cleaned("", ())  # counted once for the whole column, in validate
    if field in DATE_FIELDS and _PLAIN_DATE.fullmatch(value):
        return Cleaned(value, ())  # a date the row needs, and nothing else
    cleaned = scrub(value)  # every other cell as free text: "dob 01/02/1985" goes
    if cleaned.text and len(cleaned.text) > MAX_LOCATION_CHARS:
        return Cleaned(cleaned.text[:MAX_LOCATION_CHARS], cleaned.removed)
    return cleaned


class _Checker:
    """Column parsers that record a Problem for every value they cannot accept."""

    def __init__(self, frame: pd.DataFrame, source: SourceConfig, problems: dict):
        self.frame = frame
        self.source = source
        self.problems = problems
        self.failed: dict[str, pd.Series] = {}
        self._texts: dict[str, pd.Series] = {}

    def column_name(self, field: str) -> str:
        return " + ".join(_as_list(self.source.columns[field]))

    def text(self, field: str) -> pd.Series:
        """The stripped text of a mapped field; empty strings where it is not mapped."""
        if field not in self._texts:
            if field not in self.source.columns:
                return pd.Series("", index=self.frame.index, dtype="str")
            columns = _as_list(self.source.columns[field])
            joined = self.frame[columns[0]].astype("str").str.strip()
            for column in columns[1:]:
                joined = joined + " " + self.frame[column].astype("str").str.strip()
            self._texts[field] = joined.str.strip() if len(columns) > 1 else joined
        return self._texts[field]

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
            value = "" if shown is None else _shown(field, str(shown.at[index]))
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
            if fmt == _ISO:  # ISO text may or may not carry a time
                has_time = self.text("occurred_at").str.contains(r"[T ]\d{1,2}:\d{2}", regex=True)
            else:
                has_time = pd.Series(any(c in fmt for c in ("%H", "%I")), index=parsed.index)
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
        """Translate a coded field to its code list (a categorical); blank means unknown."""
        allowed = list(CODE_LISTS.get(field) or AGE_BANDS)
        if field not in self.source.columns:
            return _categorical(np.full(len(self.frame), allowed.index("unknown")), allowed, self)
        raw = self.text(field)
        table = {**{c: c for c in allowed}, **self.source.codes.get(field, {})}
        codes, uniques = pd.factorize(raw)
        mapped = ["unknown" if u == "" else table.get(u.lower()) for u in uniques]
        wrong = sorted({m for m in mapped if m is not None and m not in allowed})
        if wrong:
            raise FileRejected(
                f"cardiff.toml [sources.codes.{field}] of source {self.source.name!r} maps to "
                f"{wrong}, which are not codes of {field}: expected {allowed}"
            )
        invalid = np.array([m is None for m in mapped], dtype=bool)
        self.fail(
            pd.Series(invalid[codes], index=raw.index),
            field,
            f"unknown code for {field}: expected one of "
            f"{sorted(set(self.source.codes.get(field, {})) or set(allowed))}",
        )
        position = np.array([allowed.index(m or "unknown") for m in mapped], dtype=np.int64)
        return _categorical(position[codes], allowed, self)

    def age(self, occurred_at: pd.Series, coded: pd.Series) -> pd.Series:
        """The age band: from the date of birth at the assault date, else from the age in
        years, else the coded band. The date of birth itself goes no further."""
        years = pd.Series(np.nan, index=self.frame.index)
        if "date_of_birth" in self.source.columns:
            born = self.datetime("date_of_birth")
            before = (occurred_at.dt.month < born.dt.month) | (
                (occurred_at.dt.month == born.dt.month) & (occurred_at.dt.day < born.dt.day)
            )
            years = (occurred_at.dt.year - born.dt.year - before.astype(int)).astype(float)
            self.fail(born > occurred_at, "date_of_birth", "a date of birth after the assault")
            self.fail(years > OLDEST, "date_of_birth", f"an age over {OLDEST} at the assault")
        if "age" in self.source.columns:
            raw = self.text("age")
            stated = _numbers(raw)
            self.fail(stated.isna() & (raw != ""), "age", "not a number of years")
            self.fail((stated < 0) | (stated > OLDEST), "age", f"an age outside 0-{OLDEST} years")
            years = years.fillna(stated)
        known = years.between(0, OLDEST).to_numpy()
        band = np.searchsorted(_AGE_EDGES, years.fillna(-1).to_numpy(), side="right") - 1
        position = np.where(known, np.clip(band, 0, len(_AGE_EDGES) - 1), coded.cat.codes)
        return _categorical(position, list(AGE_BANDS), self)

    def admitted(self) -> pd.Series:
        if "admitted" not in self.source.columns:
            return pd.Series(pd.NA, index=self.frame.index, dtype="boolean")
        raw = self.text("admitted")
        table = {
            "true": True,
            "false": False,
            **{
                k: {"true": True, "false": False}.get(str(v).lower())
                for k, v in self.source.codes.get("admitted", {}).items()
            },
        }
        codes, uniques = pd.factorize(raw)
        mapped = pd.array([table.get(u.lower()) for u in uniques] + [None], dtype="boolean")
        result = pd.Series(mapped[codes], index=raw.index, dtype="boolean")
        self.fail(
            result.isna() & (raw != ""),
            "admitted",
            f"unknown code for admitted: expected one of {sorted(table)}",
        )
        return result

    def count(self, field: str) -> pd.Series:
        raw = self.text(field)
        number = _numbers(raw)
        invalid = number.isna() | (number < 0) | (number % 1 != 0) | (number > 10_000)
        self.fail(invalid & (raw != ""), field, "not a whole number from 0 to 10,000")
        return number.where(~invalid).astype("Int32")

    def coordinates(self, bbox: tuple[float, float, float, float]) -> tuple[pd.Series, pd.Series]:
        lon_raw, lat_raw = self.text("lon"), self.text("lat")
        lon, lat = _numbers(lon_raw), _numbers(lat_raw)
        self.fail(lon.isna() & (lon_raw != ""), "lon", "not a number (longitude)")
        self.fail(lat.isna() & (lat_raw != ""), "lat", "not a number (latitude)")
        outside = ~(lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3]))
        both = lon.notna() & lat.notna()
        self.fail(lon.notna() & (lat_raw == ""), "lat", "a longitude without a latitude")
        self.fail(lat.notna() & (lon_raw == ""), "lon", "a latitude without a longitude")
        self.fail(
            outside & both,
            "lon",
            f"coordinates outside the region {bbox} ([project] region_bbox in cardiff.toml)",
            values=lon_raw + ", " + lat_raw,
        )
        return lon, lat


def _categorical(position: np.ndarray, categories: list[str], check: _Checker) -> pd.Series:
    return pd.Series(
        pd.Categorical.from_codes(position, categories=categories), index=check.frame.index
    )


def _numbers(raw: pd.Series) -> pd.Series:
    """Text to floats (NaN where not a number), each distinct text once; finite only."""
    codes, uniques = pd.factorize(raw)
    parsed = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").astype(float)
    parsed = parsed.where(np.isfinite(parsed))
    return pd.Series(parsed.to_numpy()[codes], index=raw.index)


def _parse_datetime(raw: pd.Series, fmt: str) -> pd.Series:
    """Parse text to local timestamps, each distinct text once; anything unparseable
    becomes NaT (reported by the caller).

    An explicit format is parsed by pyarrow and kept only where formatting the result
    gives the text back: pyarrow rolls 31/02 over to 03/03, which that check catches.
    Other texts (and ISO 8601, where a time with a UTC offset becomes UK time) go
    through pandas.
    """
    text = pa.array(raw.where(raw != ""), pa.string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text)
    distinct = encoded.dictionary
    parsed = pa.nulls(len(distinct), pa.timestamp("us"))
    slow = np.ones(len(distinct), dtype=bool)
    if fmt != _ISO and "%f" not in fmt and len(distinct):
        fast = pc.strptime(distinct, format=fmt, unit="s", error_is_null=True)
        exact = pc.fill_null(pc.equal(pc.strftime(fast, format=fmt), distinct), False)
        parsed = fast.cast(pa.timestamp("us"))
        slow = ~exact.to_numpy(zero_copy_only=False)
    values = parsed.to_numpy(zero_copy_only=False).astype("datetime64[us]")
    if slow.any():
        text = pd.Series(distinct.filter(pa.array(slow)).to_pylist(), dtype=object)
        values[slow] = _pandas_datetimes(text, fmt)
    taken = pa.array(values).take(encoded.indices)
    return pd.Series(taken.to_numpy(zero_copy_only=False), index=raw.index)


def _pandas_datetimes(text: pd.Series, fmt: str) -> np.ndarray:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    naive = parsed.dt.tz_localize(None)
    if fmt == _ISO:
        offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
        naive = naive.where(~offset, parsed.dt.tz_convert(UK_TIME).dt.tz_localize(None))
    return naive.to_numpy(dtype="datetime64[us]")
