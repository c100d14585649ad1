"""Ingest one extract file as one batch: read, validate, strip identifiers, place, store.

The order matters for privacy: identifiers are removed from the free text before the text
is matched, stored or quarantined, so nothing past this module ever sees them.

Preparing a batch needs no store, so a long file is read, checked and placed while other
commands use the store; only the final write takes the store's lock, in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cardiffmodel.config import Settings, SourceConfig
from cardiffmodel.coverage import file_name_month, months_period, records_period
from cardiffmodel.ingest.presets import apply_preset, istv_period
from cardiffmodel.ingest.privacy import scrub_column, scrub_file_name
from cardiffmodel.ingest.readers import (
    QUARANTINE_ID,
    RESERVED_COLUMNS,
    ROW_NUMBER,
    EmptyExtract,
    FileRejected,
    check_regular_file,
    read_extract,
)
from cardiffmodel.ingest.validate import Validated, mapped_columns, validate
from cardiffmodel.schema import AREA_LAYERS, INCIDENT_SCHEMA
from cardiffmodel.store.duckdb_store import (
    QUARANTINE_SCHEMA,
    AlreadyIngested,
    BatchRecord,
    Store,
)

_BULK_HASH = 50_000  # rows from which DuckDB hashes record ids faster than hashlib


class Resolver(Protocol):
    """Turns free-text locations into places (places.matcher.Matcher); injected so that
    ingest does not depend on the places layer."""

    def match_many(self, texts: Sequence[str | None], sites=None) -> list: ...


class Placed(Protocol):
    """Where a batch's records are (places.territory.Placement)."""

    codes: dict[str, np.ndarray]
    inside: np.ndarray
    checked: int
    differ: int
    ignored: tuple[str, ...]


class Placer(Protocol):
    """The deployment's area and its layers (places.territory.Territory); injected so
    that ingest does not depend on the places layer. ``given`` maps a layer to the
    official area codes the records carry."""

    @property
    def region_bbox(self) -> tuple[float, float, float, float]: ...

    def holds(self, lon: np.ndarray, lat: np.ndarray, given: Mapping[str, np.ndarray]): ...

    def place(
        self, lon: np.ndarray, lat: np.ndarray, given: Mapping[str, np.ndarray]
    ) -> Placed: ...


WORLD = (-180.0, -90.0, 180.0, 90.0)
CRIME_TYPE = "crime type not analysed"
OUTSIDE = "outside the area"


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file; ``skipped`` says why nothing was stored, if so.

    ``rows_in`` counts the file's records; each ends ``filtered`` (``filtered_reasons``
    says why: a crime type not analysed, or located outside the deployment's area),
    ``unlocatable`` (a force-wide published file's row with no map point or area code:
    nobody can tell whether it is in the area), ``accepted`` or ``quarantined``. Accepted
    records are ``new``, ``duplicates`` of stored ones, or ``updated`` (a stored record
    whose content changed); ``outside_area`` of them were kept with no area (a hospital's
    patient hurt elsewhere, or a text that resolved outside the area). ``codes_checked``
    records carried an official area code and a point, and point-in-polygon would have
    put ``codes_differ`` of them elsewhere; ``codes_ignored`` names layers whose given
    codes are not the layer's code set. ``resolved`` counts earlier quarantined rows this
    file fixed; ``columns_not_read`` are the file's columns that no mapping names
    (identifiers stay there).
    """

    source: str
    file: str
    batch_id: str | None = None
    rows_in: int = 0
    filtered: int = 0
    filtered_reasons: dict[str, int] = field(default_factory=dict)
    unlocatable: int = 0
    accepted: int = 0
    new: int = 0
    duplicates: int = 0
    updated: int = 0
    quarantined: int = 0
    located: int = 0
    outside_area: int = 0
    codes_checked: int = 0
    codes_differ: int = 0
    codes_ignored: tuple[str, ...] = ()
    resolved: int = 0
    identifiers_removed: dict[str, int] = field(default_factory=dict)
    columns_not_read: tuple[str, ...] = ()
    skipped: str | None = None


@dataclass(frozen=True)
class PreparedBatch:
    """A file read, checked, cleaned and placed, ready to be written in one transaction."""

    record: BatchRecord
    incidents: pa.Table
    quarantine: pa.Table
    fixes: tuple[int, ...]
    located: int
    identifiers_removed: dict[str, int]
    columns_not_read: tuple[str, ...]
    filtered_reasons: dict[str, int] = field(default_factory=dict)
    codes_ignored: tuple[str, ...] = ()


def file_sha256(path: Path) -> str:
    check_regular_file(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def incident_ids(kind: str, site: str, record_ids: Sequence[str]) -> np.ndarray:
    """Stable ids: the same record from the same site always hashes to the same id (the
    first 24 hex digits of SHA-256 of "kind|site|record id"), as an array of str."""
    prefix = f"{kind}|{site}|"
    if len(record_ids) < _BULK_HASH:
        return np.array(
            [hashlib.sha256((prefix + rid).encode()).hexdigest()[:24] for rid in record_ids],
            dtype=object,
        )
    ids = pa.table({"rid": pa.array(np.asarray(record_ids, dtype=object), pa.string())})
    with duckdb.connect() as con:  # hashes on every core; starting it costs ~50 ms
        con.register("ids", ids)
        out = con.sql(
            "SELECT substr(sha256($prefix || rid), 1, 24) FROM ids", params={"prefix": prefix}
        ).to_arrow_table()
    return out.column(0).to_numpy()


def ingest_file(
    settings: Settings,
    store: Store,
    source_name: str,
    path: Path,
    resolver: Resolver,
    placer: Placer | None,
    today: date | None = None,
) -> IngestResult:
    """Ingest one file as one batch into an open store; a whole-file problem raises
    FileRejected and stores nothing."""
    sha = file_sha256(path)
    previous = store.batch_with_sha(source_name, sha)
    if previous:
        return IngestResult(source_name, str(path), skipped=f"already ingested as {previous}")
    prepared = prepare_batch(settings, source_name, path, resolver, placer, today, sha)
    return commit_batch(store, prepared)


def prepare_batch(
    settings: Settings,
    source_name: str,
    path: Path,
    resolver: Resolver,
    placer: Placer | None,
    today: date | None = None,
    sha256: str | None = None,
) -> PreparedBatch:
    """Read, validate, scrub and place one file, without touching the store.

    ``placer`` is the deployment's area (None: no areas, nothing is outside). Records
    that locate themselves (coordinates or an official area code) outside the area are
    another area's and are filtered, except a hospital's (``kind = "ed"``): its patients
    hurt elsewhere are still its attendances, kept with no area.
    """
    preset = apply_preset(settings.source(source_name))
    source = preset.source
    sha = sha256 or file_sha256(path)
    started = datetime.now()
    try:
        extract = read_extract(path, source, preset.preamble)
    except EmptyExtract as empty:
        return _empty_batch(source, path, sha, started, empty, bool(preset.preamble))
    period = istv_period(str(path), extract.preamble, source.site) if preset.preamble else None
    frame = extract.frame
    rows_in = len(frame)
    published_months = (
        months_period(frame[source.columns["occurred_date"]]) if preset.published else None
    )
    frame, other_crimes = _keep_crime_types(frame, source, path)
    reasons = {CRIME_TYPE: other_crimes}
    unlocatable = 0
    if preset.published:
        frame, unlocatable = _drop_unlocatable(frame, source)
    if placer is not None and source.kind != "ed":
        frame, reasons[OUTSIDE] = _keep_area(frame, source, placer)
    reasons = {reason: n for reason, n in reasons.items() if n}
    bbox = settings.region_bbox or (placer.region_bbox if placer else WORLD)
    checked = validate(frame, source, str(path), bbox, today or started.date(), period)
    batch_id = f"{source.name}:{started:%Y%m%dT%H%M%S%f}:{sha[:8]}"
    texts, removed = scrub_column(checked.fields["location_text"])
    removed = dict(sorted((Counter(removed) + Counter(checked.removed)).items()))
    incidents, placed = _incidents(checked.fields, texts, source, batch_id, resolver, placer)
    stored_name = scrub_file_name(str(path))  # the store never holds a name in a file name
    quarantine = _quarantine(frame, checked, batch_id, source, stored_name)
    covered = (
        source.covers or period or published_months or records_period(checked.fields["occurred_at"])
    )
    record = BatchRecord(
        batch_id=batch_id,
        source=source.name,
        file=stored_name,
        sha256=sha,
        rows_in=rows_in,
        accepted=incidents.num_rows,
        quarantined=quarantine.num_rows,
        filtered=sum(reasons.values()),
        filtered_reasons=_listed(reasons),
        unlocatable=unlocatable,
        outside_area=placed.outside,
        codes_checked=placed.checked,
        codes_differ=placed.differ,
        identifiers_removed=_listed(removed),
        started_at=started,
        finished_at=datetime.now(),
        period_start=covered[0] if covered else None,
        period_end=covered[1] if covered else None,
        kind=source.kind,
        month_only=_month_only(source),
    )
    mapped = set(mapped_columns(source))
    return PreparedBatch(
        record=record,
        incidents=incidents,
        quarantine=quarantine,
        fixes=_fixes(frame, checked.fields.index),
        located=int(pc.sum(pc.is_valid(incidents["lon"])).as_py() or 0),
        identifiers_removed=removed,
        columns_not_read=tuple(
            c for c in extract.columns if c not in mapped and c not in RESERVED_COLUMNS
        ),
        filtered_reasons=reasons,
        codes_ignored=placed.ignored,
    )


def _listed(counts: Mapping[str, int]) -> str:
    """Counts by kind as one text, the way the batches table keeps them."""
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


def _month_only(source: SourceConfig) -> bool:
    """Whether the source's dates are known to the month only: its assault date is read
    with a format that names no day (data.police.uk's "2019-01")."""
    if "occurred_at" in source.columns:
        return False
    fmt = source.formats.get("occurred_date")
    return bool(fmt) and "%d" not in fmt and "%j" not in fmt


def _empty_batch(
    source: SourceConfig, path: Path, sha: str, started: datetime, empty: EmptyExtract, istv: bool
) -> PreparedBatch:
    """An extract with no records is a period with no incidents only if it says which
    period: ``covers``, its submission header, or one month in its file name
    (``uhw_2019-06.csv``). Stored as a batch of nothing, it makes that period held."""
    period = (
        source.covers
        or (istv_period(str(path), empty.preamble, source.site) if istv else None)
        or file_name_month(path.name)
    )
    if period is None:
        raise FileRejected(
            f"{empty}, and does not say which period it covers: name it with its month "
            "(e.g. uhw_2019-06.csv) or set covers for the source in cardiff.toml"
        )
    record = BatchRecord(
        batch_id=f"{source.name}:{started:%Y%m%dT%H%M%S%f}:{sha[:8]}",
        source=source.name,
        file=scrub_file_name(str(path)),
        sha256=sha,
        rows_in=0,
        accepted=0,
        quarantined=0,
        identifiers_removed="",
        started_at=started,
        finished_at=datetime.now(),
        period_start=period[0],
        period_end=period[1],
        kind=source.kind,
    )
    return PreparedBatch(
        record=record,
        incidents=INCIDENT_SCHEMA.empty_table(),
        quarantine=QUARANTINE_SCHEMA.empty_table(),
        fixes=(),
        located=0,
        identifiers_removed={},
        columns_not_read=(),
    )


def commit_batch(store: Store, prepared: PreparedBatch) -> IngestResult:
    """Write a prepared batch; if another process stored the same file meanwhile, say so."""
    record = prepared.record
    try:
        outcome = store.write_batch(record, prepared.incidents, prepared.quarantine, prepared.fixes)
    except AlreadyIngested as err:
        return IngestResult(record.source, record.file, skipped=str(err))
    return IngestResult(
        source=record.source,
        file=record.file,
        batch_id=record.batch_id,
        rows_in=record.rows_in,
        filtered=record.filtered,
        filtered_reasons=prepared.filtered_reasons,
        unlocatable=record.unlocatable,
        accepted=record.accepted,
        new=outcome.new,
        duplicates=outcome.duplicates,
        updated=outcome.updated,
        quarantined=record.quarantined,
        located=prepared.located,
        outside_area=record.outside_area,
        codes_checked=record.codes_checked,
        codes_differ=record.codes_differ,
        codes_ignored=prepared.codes_ignored,
        resolved=outcome.resolved,
        identifiers_removed=prepared.identifiers_removed,
        columns_not_read=prepared.columns_not_read,
    )


def _keep_crime_types(
    frame: pd.DataFrame, source: SourceConfig, path: Path
) -> tuple[pd.DataFrame, int]:
    """Police extracts carry every crime; only the configured violent types are incidents."""
    if not source.crime_types:
        return frame, 0
    column = source.columns.get("crime_type")
    if not isinstance(column, str) or column not in frame.columns:
        raise FileRejected(f"{path}: crime_types is set but column {column!r} is not in the file")
    keep = frame[column].str.strip().isin(source.crime_types)
    return frame[keep], int((~keep).sum())


def _given_codes(frame: pd.DataFrame, source: SourceConfig) -> dict[str, np.ndarray]:
    """The official area codes a file's rows carry, by layer (police.uk's LSOA code)."""
    return {
        layer: frame[column].to_numpy(dtype=object)
        for layer in AREA_LAYERS
        if isinstance(column := source.columns.get(layer), str) and column in frame.columns
    }


def _raw_points(frame: pd.DataFrame, source: SourceConfig) -> tuple[pd.Series, pd.Series]:
    """Coordinates as numbers before validation (NaN where blank, absent or not a number)."""
    points = []
    for name in ("lon", "lat"):
        column = source.columns.get(name)
        if isinstance(column, str) and column in frame.columns:
            points.append(pd.to_numeric(frame[column], errors="coerce"))
        else:
            points.append(pd.Series(np.nan, index=frame.index))
    return points[0], points[1]


def _drop_unlocatable(frame: pd.DataFrame, source: SourceConfig) -> tuple[pd.DataFrame, int]:
    """A force-wide published file's rows with no map point and no area code ("No
    Location") cannot be told to be in the area or not: counted, never stored, and so
    never sent to the places review queue. A point that is not a number is an error in
    the row, left for validation to quarantine."""
    blank = pd.Series(True, index=frame.index)
    for name in ("lon", "lat", *AREA_LAYERS):
        column = source.columns.get(name)
        if isinstance(column, str) and column in frame.columns:
            blank &= frame[column].str.strip() == ""
    return frame[~blank], int(blank.sum())


def _keep_area(
    frame: pd.DataFrame, source: SourceConfig, placer: Placer
) -> tuple[pd.DataFrame, int]:
    """Rows that locate themselves outside the deployment's area (by official area code,
    else by point) are another area's: filtered, not errors. Rows with neither stay."""
    lon, lat = _raw_points(frame, source)
    given = _given_codes(frame, source)
    located = lon.notna() & lat.notna()
    for codes in given.values():
        located |= pd.Series(codes, index=frame.index).str.strip().fillna("") != ""
    inside = placer.holds(lon.to_numpy(), lat.to_numpy(), given)
    outside = located.to_numpy() & ~inside
    return frame[~outside], int(outside.sum())


@dataclass(frozen=True)
class _Placed:
    """What placing a batch found, for its batch record."""

    outside: int = 0  # accepted with no area: located outside the deployment's area
    checked: int = 0
    differ: int = 0
    ignored: tuple[str, ...] = ()


def _incidents(
    fields: pd.DataFrame,
    texts: pd.Series,
    source: SourceConfig,
    batch_id: str,
    resolver: Resolver,
    placer: Placer | None,
) -> tuple[pa.Table, _Placed]:
    """Canonical rows, built column by column; the resolver sees each distinct text once."""
    n = len(fields)
    lon = fields["lon"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    lat = fields["lat"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    has_point = ~(np.isnan(lon) | np.isnan(lat))
    place = _resolve(texts.where(~has_point, None), source, resolver)
    take = ~has_point & ~np.isnan(place["lon"])
    lon[take], lat[take] = place["lon"][take], place["lat"][take]
    location_type = fields["location_type"].astype(object).to_numpy()
    guessed = (location_type == "unknown") & ~has_point
    location_type = np.where(guessed, place["location_type"], location_type)
    occurred = pa.array(fields["occurred_at"].to_numpy(dtype="datetime64[us]"))
    columns = {
        "incident_id": incident_ids(source.kind, source.site, fields["source_record_id"]),
        "source": np.full(n, source.kind, dtype=object),
        "site": np.full(n, source.site, dtype=object),
        "batch_id": np.full(n, batch_id, dtype=object),
        "occurred_at": occurred,
        "occurred_date": pc.cast(occurred, pa.date32()),
        "time_known": fields["time_known"],
        "arrived_at": pa.array(fields["arrived_at"].to_numpy(dtype="datetime64[us]")),
        "location_text": texts,
        "location_type": location_type,
        "place_id": np.where(has_point, None, place["place_id"]),
        "place_name": np.where(has_point, None, place["place_name"]),
        "match_score": np.where(has_point, 1.0, place["score"]),
        "match_method": np.where(has_point, "coordinates", place["method"]),
        "lon": lon,
        "lat": lat,
    }
    for name in ("weapon", "relationship", "age_band", "sex", "crime_type", "admitted"):
        columns[name] = fields[name]
    columns["assailants"] = fields["assailants"]
    placed = _Placed()
    if placer is not None:
        given = {
            layer: fields[layer].to_numpy(dtype=object) for layer in AREA_LAYERS if layer in fields
        }
        placement = placer.place(lon, lat, given)
        columns.update({k: v for k, v in placement.codes.items() if k in AREA_LAYERS})
        located = ~(np.isnan(lon) | np.isnan(lat))
        for codes in given.values():
            located |= pd.notna(codes)
        placed = _Placed(
            outside=int((located & ~placement.inside).sum()),
            checked=placement.checked,
            differ=placement.differ,
            ignored=placement.ignored,
        )
    arrays = [_arrow(columns.get(f.name), f.type, n) for f in INCIDENT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=INCIDENT_SCHEMA), placed


def _arrow(values, kind: pa.DataType, n: int) -> pa.Array:
    """One column as Arrow: missing markers (None, NaN, NaT, pd.NA) become nulls, and
    categorical codes become their text."""
    if values is None:
        return pa.nulls(n, kind)
    if isinstance(values, pd.Series):
        values = pa.array(values, from_pandas=True)
    elif not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, type=kind, from_pandas=True)
    return values.cast(kind)


def _resolve(texts: pd.Series, source: SourceConfig, resolver: Resolver) -> dict[str, np.ndarray]:
    """Resolve each distinct text once and spread the answers back over the rows."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    distinct: list[str | None] = [*uniques, None]  # code -1 (no text) is the last entry
    matches = resolver.match_many(distinct, [source.site_location] * len(distinct))

    def spread(values: list, dtype=object) -> np.ndarray:
        return np.asarray(values, dtype=dtype)[codes]

    return {
        "place_id": spread([m.place_id for m in matches]),
        "place_name": spread([m.place_name for m in matches]),
        "score": spread([m.score for m in matches], float),
        "method": spread([m.method for m in matches]),
        "location_type": spread([m.location_type for m in matches]),
        "lon": spread([np.nan if m.lon is None else m.lon for m in matches], float),
        "lat": spread([np.nan if m.lat is None else m.lat for m in matches], float),
    }


def _resubmitted(frame: pd.DataFrame) -> pd.Series:
    """The quarantine id a corrected row carries (from ``cardiff quarantine --export``)."""
    if QUARANTINE_ID not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_numeric(frame[QUARANTINE_ID], errors="coerce").astype("Int64")


def _fixes(frame: pd.DataFrame, accepted: pd.Index) -> tuple[int, ...]:
    ids = _resubmitted(frame).loc[accepted].dropna()
    return tuple(int(i) for i in ids)


def _quarantine(
    frame: pd.DataFrame, checked: Validated, batch_id: str, source: SourceConfig, file: str
) -> pa.Table:
    bad = sorted(checked.problems)
    record_ids = checked.record_ids.loc[bad]
    known = (record_ids != "").to_numpy()
    incident = np.full(len(bad), None, dtype=object)
    incident[known] = incident_ids(source.kind, source.site, record_ids[known])
    problems = [checked.problems[index] for index in bad]
    return pa.table(
        {
            "batch_id": pa.array([batch_id] * len(bad), pa.string()),
            "source": pa.array([source.name] * len(bad), pa.string()),
            "file": pa.array([file] * len(bad), pa.string()),
            "row_number": pa.array(frame.loc[bad, ROW_NUMBER].to_numpy(), pa.int64()),
            "column_name": pa.array([p[0].column for p in problems], pa.string()),
            "value": pa.array([p[0].value for p in problems], pa.string()),
            "reason": pa.array(
                ["; ".join(f"{x.column}: {x.reason}" for x in p) for p in problems], pa.string()
            ),
            "raw": pa.array([checked.raw[index] for index in bad], pa.string()),
            "record_id": pa.array(
                record_ids.where(record_ids != ""), pa.string(), from_pandas=True
            ),
            "incident_id": pa.array(incident, pa.string()),
            "resubmits": pa.array(_resubmitted(frame).loc[bad], pa.int64(), from_pandas=True),
        },
        schema=QUARANTINE_SCHEMA,
    )
