"""Ingest one extract file as one batch: read, validate, strip identifiers, place, store.

The order matters for privacy: identifiers are removed from the free text before the text
is matched, stored or quarantined, so nothing past this module ever sees them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from cardiffmodel.config import Settings, SourceConfig
from cardiffmodel.ingest.privacy import count_removed, scrub
from cardiffmodel.ingest.readers import ROW_NUMBER, FileRejected, read_extract
from cardiffmodel.ingest.validate import validate
from cardiffmodel.schema import AREA_LAYERS, INCIDENT_SCHEMA
from cardiffmodel.store.duckdb_store import QUARANTINE_SCHEMA, BatchRecord, Store

# data.police.uk publishes month, map point and crime type only; this preset reads it as is.
POLICE_UK_COLUMNS = {
    "source_record_id": "Crime ID",
    "occurred_date": "Month",
    "lon": "Longitude",
    "lat": "Latitude",
    "location_text": "Location",
    "crime_type": "Crime type",
}
POLICE_UK_VIOLENCE = ("Violence and sexual offences",)


class Resolver(Protocol):
    """Turns free-text locations into places (places.matcher.Matcher); injected so that
    ingest does not depend on the places layer."""

    def match_many(self, texts: Sequence[str | None], sites=None) -> list: ...


class AreaAssigner(Protocol):
    """Assigns points to the areas of one layer (places.areas.AreaLayer)."""

    layer: str

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file; ``skipped`` says why nothing was stored, if so."""

    source: str
    file: str
    batch_id: str | None = None
    rows_in: int = 0
    filtered: int = 0
    accepted: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    located: int = 0
    identifiers_removed: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None


def police_uk_source(source: SourceConfig) -> SourceConfig:
    """The fixed mapping of data.police.uk street-level CSVs (month precision, no time)."""
    return replace(
        source,
        format="csv",
        columns=POLICE_UK_COLUMNS,
        formats={"occurred_date": "%Y-%m"},
        delimiter=",",
        encoding="utf-8",
        crime_types=source.crime_types or POLICE_UK_VIOLENCE,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def incident_ids(kind: str, site: str, record_ids: pd.Series) -> list[str]:
    """Stable ids: the same record from the same site always hashes to the same id."""
    return [hashlib.sha256(f"{kind}|{site}|{rid}".encode()).hexdigest()[:24] for rid in record_ids]


def ingest_file(
    settings: Settings,
    store: Store,
    source_name: str,
    path: Path,
    resolver: Resolver,
    layers: Sequence[AreaAssigner],
    today: date | None = None,
) -> IngestResult:
    """Ingest one file as one batch; a whole-file problem raises FileRejected."""
    source = settings.source(source_name)
    published = source.format == "police_uk"
    if published:
        source = police_uk_source(source)
    sha = file_sha256(path)
    previous = store.batch_with_sha(source.name, sha)
    if previous:
        return IngestResult(source.name, str(path), skipped=f"already ingested as {previous}")
    started = datetime.now()
    frame = read_extract(path, source)
    rows_in = len(frame)
    frame, filtered = _keep_crime_types(frame, source, path)
    if published:
        frame, elsewhere = _keep_region(frame, settings.region_bbox)
        filtered += elsewhere
    checked = validate(frame, source, str(path), settings.region_bbox, today or started.date())
    batch_id = f"{source.name}:{started:%Y%m%dT%H%M%S%f}:{sha[:8]}"

    fields = checked.fields
    cleaned = [scrub(t if isinstance(t, str) else None) for t in fields["location_text"]]
    texts = [c.text for c in cleaned]
    incidents = _incidents(fields, texts, source, batch_id, resolver, layers)
    quarantine = _quarantine(frame, checked, batch_id, source.name, str(path))
    removed = count_removed(cleaned)
    record = BatchRecord(
        batch_id=batch_id,
        source=source.name,
        file=str(path),
        sha256=sha,
        rows_in=rows_in,
        accepted=incidents.num_rows,
        duplicates=0,
        quarantined=quarantine.num_rows,
        identifiers_removed=", ".join(f"{k}: {v}" for k, v in removed.items()),
        started_at=started,
        finished_at=datetime.now(),
    )
    new = store.write_batch(record, incidents, quarantine)
    located = int(pa.compute.sum(pa.compute.is_valid(incidents["lon"])).as_py() or 0)
    return IngestResult(
        source=source.name,
        file=str(path),
        batch_id=batch_id,
        rows_in=rows_in,
        filtered=filtered,
        accepted=incidents.num_rows,
        new=new,
        duplicates=incidents.num_rows - new,
        quarantined=quarantine.num_rows,
        located=located,
        identifiers_removed=removed,
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


def _keep_region(
    frame: pd.DataFrame, bbox: tuple[float, float, float, float]
) -> tuple[pd.DataFrame, int]:
    """A force-wide data.police.uk file covers more than the region: crimes mapped
    elsewhere are another area's, not errors. Rows with no map point stay (unlocated)."""
    lon = pd.to_numeric(frame["Longitude"], errors="coerce")
    lat = pd.to_numeric(frame["Latitude"], errors="coerce")
    outside = (lon.notna() & lat.notna()) & ~(
        lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3])
    )
    return frame[~outside], int(outside.sum())


def _incidents(
    fields: pd.DataFrame,
    texts: list[str | None],
    source: SourceConfig,
    batch_id: str,
    resolver: Resolver,
    layers: Sequence[AreaAssigner],
) -> pa.Table:
    n = len(fields)
    lon = fields["lon"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    lat = fields["lat"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    has_point = ~(np.isnan(lon) | np.isnan(lat))
    matches = resolver.match_many(
        [None if p else t for p, t in zip(has_point, texts, strict=True)],
        [source.site_location] * n,
    )
    location_type = fields["location_type"].tolist()
    columns: dict[str, list] = {name: [None] * n for name in INCIDENT_SCHEMA.names}
    for i, match in enumerate(matches):
        if location_type[i] == "unknown":
            location_type[i] = match.location_type
        if has_point[i]:
            columns["match_method"][i] = "coordinates"
            columns["match_score"][i] = 1.0
            continue
        columns["place_id"][i] = match.place_id
        columns["place_name"][i] = match.place_name
        columns["match_score"][i] = match.score
        columns["match_method"][i] = match.method
        if match.lon is not None:
            lon[i], lat[i] = match.lon, match.lat
    occurred = fields["occurred_at"]
    columns.update(
        incident_id=incident_ids(source.kind, source.site, fields["source_record_id"]),
        source=[source.kind] * n,
        site=[source.site] * n,
        batch_id=[batch_id] * n,
        occurred_at=occurred.tolist(),
        occurred_date=occurred.dt.date.tolist(),
        time_known=fields["time_known"].astype(bool).tolist(),
        arrived_at=fields["arrived_at"].tolist() if fields["arrived_at"] is not None else None,
        location_text=texts,
        location_type=location_type,
        lon=[None if np.isnan(x) else float(x) for x in lon],
        lat=[None if np.isnan(y) else float(y) for y in lat],
        **{
            k: fields[k].tolist()
            for k in (
                "weapon",
                "assailants",
                "relationship",
                "age_band",
                "sex",
                "crime_type",
                "admitted",
            )
        },
    )
    if columns["arrived_at"] is None:
        columns["arrived_at"] = [None] * n
    for layer in layers:
        if layer.layer in AREA_LAYERS:
            columns[layer.layer] = layer.assign(lon, lat).tolist()
    return pa.table({k: _nulls(v) for k, v in columns.items()}, schema=INCIDENT_SCHEMA)


def _nulls(values: list) -> list:
    """pandas' missing markers (NaT, NaN) as None, which Arrow reads as null."""
    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in values]


def _quarantine(frame: pd.DataFrame, checked, batch_id: str, source: str, file: str) -> pa.Table:
    rows = []
    for index, problems in sorted(checked.problems.items()):
        first = problems[0]
        rows.append(
            {
                "batch_id": batch_id,
                "source": source,
                "file": file,
                "row_number": int(frame.at[index, ROW_NUMBER]),
                "column_name": first.column,
                "value": first.value,
                "reason": "; ".join(f"{p.column}: {p.reason}" for p in problems),
                "raw": checked.raw[index],
            }
        )
    return pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
