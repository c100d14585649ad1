"""Generate the synthetic city: true events, five messy extracts and the ground truth."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cardiffmodel.synth.events import Period, simulate_events
from cardiffmodel.synth.extracts import Placed, number, plant_errors, write_source
from cardiffmodel.synth.layouts import LAYOUTS, Layout
from cardiffmodel.synth.records import (
    Streets,
    ambulance_records,
    ed_records,
    police_records,
)
from cardiffmodel.synth.sites import build_sites
from cardiffmodel.synth.world import Geography, load_geography

TRUTH_NAME = "truth.parquet"
# Independent random streams per stage, so changing one stage leaves the others alone.
STREAMS = {
    "sites": 1,
    "events": 2,
    "uhw": 3,
    "llandough": 4,
    "cri": 5,
    "was": 6,
    "swp": 7,
    "errors": 8,
}
EVENT_COLUMNS = (
    "occurred_at",
    "setting",
    "location_type",
    "weapon",
    "injury",
    "sex",
    "age",
    "relationship",
    "assailants",
    "admitted",
    "in_ed",
    "in_ambulance",
    "in_police",
)

# The ground truth, one row per written record.
TRUTH_SCHEMA = pa.schema(
    [
        ("source", pa.string()),  # source name: uhw, llandough, cri, was, swp
        ("kind", pa.string()),  # ed, ambulance, police
        ("site", pa.string()),
        ("file", pa.string()),  # relative to the city folder, '/'-separated
        ("row", pa.int32()),  # 1-based data row in that file, the header not counted
        ("source_record_id", pa.string()),  # as written; null where the id was blanked
        ("event_id", pa.string()),  # the true assault; records of one assault share it
        ("text_place_id", pa.string()),  # gazetteer place the free text (or police point) names
        ("text_names_place", pa.bool_()),
        ("noise", pa.list_(pa.string())),  # e.g. typo, abbreviation, blank, time_blank, jitter
        ("identifiers", pa.list_(pa.string())),  # planted in free text or address: name, phone...
        ("planted_error", pa.string()),  # bad_date, unknown_code, blank_id, assault_after_arrival
        ("place_id", pa.string()),  # true gazetteer place; null at home
        ("lon", pa.float64()),  # true point
        ("lat", pa.float64()),
        ("beat", pa.string()),  # true beat (ward code); null outside Cardiff
        ("occurred_at", pa.timestamp("us")),  # true time of the assault
        ("setting", pa.string()),  # licensed, nte_street, street, venue_other, school_work, ...
        ("location_type", pa.string()),
        ("weapon", pa.string()),
        ("injury", pa.string()),  # none, minor, serious
        ("sex", pa.string()),
        ("age", pa.int32()),
        ("relationship", pa.string()),
        ("assailants", pa.int32()),
        ("admitted", pa.bool_()),
        ("in_ed", pa.bool_()),  # which services recorded the assault at all
        ("in_ambulance", pa.bool_()),
        ("in_police", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class CityManifest:
    """What ``generate_city`` wrote and what it planted."""

    out_dir: Path
    files: dict[str, tuple[Path, ...]]  # source name -> its extract files, oldest first
    truth_path: Path  # parquet with the ground truth, one row per record
    sources: tuple[dict, ...]  # [[sources]] entries for cardiff.toml
    start: date
    end: date  # exclusive
    hotspot_beats: tuple[str, ...]
    rising_beat: str
    rise_start: date


def generate_city(
    out_dir: Path,
    *,
    data_dir: Path,
    seed: int = 1,
    start: date = date(2018, 1, 1),
    months: int = 24,
    scale: float = 1.0,
) -> CityManifest:
    """Write monthly ED, ambulance and police extracts for a seeded synthetic Cardiff.

    ``data_dir`` is the shared open-data folder (venues, police.uk streets, boundaries);
    ``scale`` multiplies every rate (1.0 is about 4,000 ED, 2,000 ambulance and 12,000
    police records a year).
    """
    if months < 1 or scale <= 0:
        raise ValueError(f"months must be at least 1 and scale positive (got {months}, {scale})")
    geo = load_geography(data_dir)
    period = _period(start, months)
    sites = build_sites(geo, _rng(seed, "sites"))
    events = simulate_events(geo, sites, period, scale, _rng(seed, "events"))
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[Path, ...]] = {}
    placed: list[tuple[Layout, Placed]] = []
    errors_rng = _rng(seed, "errors")
    for layout in LAYOUTS:
        records = _records(layout, events, geo, period, _rng(seed, layout.name))
        spoiled = plant_errors(layout, number(layout, records), errors_rng)
        files[layout.name], written = write_source(
            layout, spoiled, out_dir, (period.start, period.end)
        )
        placed.extend((layout, p) for p in written)
    truth_path = out_dir / TRUTH_NAME
    pq.write_table(_truth(placed, events), truth_path)
    return CityManifest(
        out_dir=out_dir,
        files=files,
        truth_path=truth_path,
        sources=tuple(layout.source_entry() for layout in LAYOUTS),
        start=period.start,
        end=period.end,
        hotspot_beats=geo.hotspot_beats,
        rising_beat=geo.rising_beat,
        rise_start=period.rise_start,
    )


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, STREAMS[stream]])


def _period(start: date, count: int) -> Period:
    """The rise starts on the Monday on or after two thirds of the way through."""
    end = _months_after(start, count)
    two_thirds = start + timedelta(days=(end - start).days * 2 // 3)
    rise_start = two_thirds + timedelta(days=(7 - two_thirds.weekday()) % 7)
    return Period(start, end, rise_start)


def _months_after(start: date, count: int) -> date:
    """The same day ``count`` months later (or the month's last day if it is shorter)."""
    index = start.month - 1 + count
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _records(
    layout: Layout, events: pd.DataFrame, geo: Geography, period: Period, rng: np.random.Generator
):
    end = pd.Timestamp(period.end)
    if layout.kind == "ed":
        chosen = events[
            events["in_ed"] & (events["ed_site"] == layout.name) & (events["arrived_at"] < end)
        ]
        code_change = period.start + (period.end - period.start) // 2
        return ed_records(layout, chosen, geo, Streets(geo), code_change, rng)
    if layout.kind == "ambulance":
        chosen = events[events["in_ambulance"] & (events["call_at"] < end)]
        return ambulance_records(layout, chosen, Streets(geo), geo, rng)
    street_ids = {p.name: p.place_id for p in geo.places if p.kind == "street"}
    return police_records(layout, events[events["in_police"]], geo, street_ids, rng)


def _truth(placed: list[tuple[Layout, Placed]], events: pd.DataFrame) -> pa.Table:
    """One row per record: where it is, what it really was, and what was done to it."""
    if not placed:
        return TRUTH_SCHEMA.empty_table()
    records = pd.DataFrame(
        {
            "source": [layout.name for layout, _ in placed],
            "kind": [layout.kind for layout, _ in placed],
            "site": [layout.site for layout, _ in placed],
            "file": [p.file.as_posix() for _, p in placed],
            "row": [p.row for _, p in placed],
            "source_record_id": [p.source_record_id for _, p in placed],
            "event_id": [p.record.event_id for _, p in placed],
            "text_place_id": [p.record.text_place_id for _, p in placed],
            "text_names_place": [p.record.text_place_id is not None for _, p in placed],
            "noise": [list(p.record.noise) for _, p in placed],
            "identifiers": [list(p.record.identifiers) for _, p in placed],
            "planted_error": [p.planted_error for _, p in placed],
        }
    )
    facts = events[["event_id", "place_id", "lon", "lat", "beat", *EVENT_COLUMNS]]
    truth = records.merge(facts, on="event_id", how="left", validate="many_to_one")
    return pa.Table.from_pandas(truth, schema=TRUTH_SCHEMA, preserve_index=False)
