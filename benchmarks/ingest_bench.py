"""Ingest of a million synthetic ED rows against a plain pandas row-by-row baseline.

A seeded extract in the UHW layout (the synthetic city's largest ED, with patient names,
NHS numbers and dates of birth in unmapped columns) is written with location texts drawn
from real Cardiff venue and street names as reception staff type them: mostly repeated
phrases, a fifth with a dropped letter, 2% carrying an identifier, 0.5% with a bad value.

The target (issue 3) is ingest as read, validate, strip identifiers, store: the pipeline
(``prepare_batch`` + ``commit_batch``, also placing points in wards and LSOAs) runs with a
resolver that places nothing, on a million rows, in a fresh DuckDB store. The baseline
does the same checks one row at a time in pandas with the same scrubber, then stores the
accepted rows with one insert: the plain way (``iterrows``) and the tuned way
(``itertuples``). Its cost is linear in the rows, so it is timed on the first 50,000
rows and scaled by twenty (a million rows would hold a shared machine for many minutes);
ours is also timed on those 50,000 rows, for a like-for-like ratio.

A last row times the whole ``cardiff ingest`` with the real location matcher on 50,000
rows against the tuned baseline matching row by row: the matcher (owned by places/)
dominates both, and ours resolves each distinct text once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from cardiffmodel.config import write_settings
from cardiffmodel.ingest.pipeline import commit_batch, prepare_batch
from cardiffmodel.ingest.privacy import scrub
from cardiffmodel.places.gazetteer import build_gazetteer
from cardiffmodel.places.matcher import Match, Matcher
from cardiffmodel.project import Project
from cardiffmodel.schema import age_band
from cardiffmodel.synth.layouts import UHW

DATA = Path(os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
ROWS = 1_000_000
BASELINE_ROWS = 50_000
TARGET_SECONDS = 30.0
SEED = 20190101
BBOX = (-3.35, 51.38, -3.05, 51.57)
PHRASES = (
    "pts home",
    "home",
    "town",
    "city centre",
    "in town",
    "unknown",
    "N/K",
    "friends house",
    "house party",
    "bus station",
    "Central station",
    "at work",
    "in the street",
    "nightclub",
)
PREPOSITIONS = ("", "o/s ", "outside ", "nr ", "in ", "at ", "opp ")
IDENTIFIERS = (
    "assaulted by John Smith at {p}",
    "{p} tel 07700 900{n:03d}",
    "pts home CF24 {d}AB",
    "{p} NHS 943 476 5919",
    "dob 0{d}/03/1990 {p}",
    "at Kelly's house",
)


def _gazetteer() -> list:
    """Cardiff's venues and streets from the open data the demo uses."""
    return build_gazetteer(
        [DATA / "venues/fsa_food_hygiene_cardiff_2020-11.xml"],
        sorted((DATA / "police_uk").glob("*.csv")),
        BBOX,
    )


def _places() -> list[str]:
    return sorted({p.name for p in _gazetteer()})


def _texts(rng: np.random.Generator, n: int, names: list[str]) -> np.ndarray:
    """Location texts: Zipf-like reuse of a few thousand phrasings, slips and identifiers."""
    common = list(PHRASES) + [
        f"{PREPOSITIONS[i % len(PREPOSITIONS)]}{name}" for i, name in enumerate(names)
    ]
    weights = 1.0 / np.arange(1, len(common) + 1) ** 0.9
    pick = rng.choice(len(common), size=n, p=weights / weights.sum())
    texts = np.array(common, dtype=object)[pick]
    slips = np.flatnonzero(rng.random(n) < 0.2)
    for i in slips:
        text = texts[i]
        if len(text) > 4:
            at = int(rng.integers(1, len(text) - 1))
            texts[i] = text[:at] + text[at + 1 :]
    marked = np.flatnonzero(rng.random(n) < 0.02)
    for i in marked:
        template = IDENTIFIERS[int(rng.integers(len(IDENTIFIERS)))]
        texts[i] = template.format(p=texts[i], n=int(rng.integers(1000)), d=int(rng.integers(1, 9)))
    texts[rng.random(n) < 0.05] = ""
    return texts


def _spelling(rng: np.random.Generator, field: str, n: int) -> np.ndarray:
    options = np.array(sorted(UHW.codes[field]), dtype=object)
    return options[rng.integers(len(options), size=n)]


def write_extract(path: Path, n: int, seed: int = SEED) -> None:
    """A UHW-layout CSV of ``n`` assault attendances over two years."""
    rng = np.random.default_rng(seed)
    names = _places()
    start = np.datetime64("2018-01-01T00:00")
    occurred = start + rng.integers(0, 2 * 365 * 24 * 60, size=n).astype("timedelta64[m]")
    arrived = occurred + rng.integers(10, 300, size=n).astype("timedelta64[m]")
    occurred_s, arrived_s = pd.Series(occurred), pd.Series(arrived)
    age = rng.integers(12, 80, size=n)
    columns = {
        "AttendanceNo": [f"A{i:08d}" for i in range(n)],
        "ArrivalDateTime": arrived_s.dt.strftime("%d/%m/%Y %H:%M").to_numpy(object),
        "IncidentDate": occurred_s.dt.strftime("%d/%m/%Y").to_numpy(object),
        "IncidentTime": occurred_s.dt.strftime("%H:%M").to_numpy(object),
        "PatientName": np.array(["Rhys Jones", "Sian Evans", "Dai Price"])[rng.integers(3, size=n)],
        "NHSNumber": np.full(n, "943 476 5919", dtype=object),
        "DOB": (occurred_s - pd.to_timedelta(age * 365 + 200, unit="D"))
        .dt.strftime("%d/%m/%Y")
        .to_numpy(object),
        "Age": age.astype(str),
        "Gender": _spelling(rng, "sex", n),
        "IncidentLocation": _texts(rng, n, names),
        "LocationType": _spelling(rng, "location_type", n),
        "AssaultMethod": _spelling(rng, "weapon", n),
        "Relationship": _spelling(rng, "relationship", n),
        "NoOfAssailants": rng.integers(1, 4, size=n).astype(str),
        "Disposal": _spelling(rng, "admitted", n),
    }
    bad = np.flatnonzero(rng.random(n) < 0.005)
    columns["AssaultMethod"][bad[::2]] = "Code 99"
    columns["IncidentDate"][bad[1::2]] = "31/02/2019"
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    pacsv.write_csv(table, path)


def make_project(folder: Path) -> Project:
    """A project with the UHW source, wards and LSOAs, and the real gazetteer."""
    write_settings(
        {
            "project": {"name": "bench", "region_bbox": list(BBOX)},
            "places": {
                "fsa_xml": [str(DATA / "venues/fsa_food_hygiene_cardiff_2020-11.xml")],
                "police_uk_streets": [str(p) for p in sorted((DATA / "police_uk").glob("*.csv"))],
            },
            "areas": [
                {
                    "layer": "beat",
                    "path": str(DATA / "boundaries/cardiff_wards_2013.geojson"),
                    "code_field": "WD13CD",
                    "name_field": "WD13NM",
                },
                {
                    "layer": "lsoa",
                    "path": str(DATA / "boundaries/cardiff_lsoa2011.geojson"),
                    "code_field": "LSOA11CD",
                    "name_field": "LSOA11NM",
                },
            ],
            "sources": [UHW.source_entry() | {"encoding": "utf-8"}],
        },
        folder,
    )
    return Project.open(folder)


class NoPlaces:
    """A resolver that places nothing: the target times ingest, not location matching."""

    UNPLACED = Match(None, None, None, None, 0.0, "unresolved", "unresolved", "unknown", "")

    def match_many(self, texts, sites=None) -> list[Match]:
        return [self.UNPLACED] * len(texts)


def ingest_ours(folder: Path, extract: Path, places: bool = False) -> tuple[float, int, int]:
    """Seconds to ingest one file into a fresh project; accepted and quarantined rows.
    With ``places`` this is ``cardiff ingest`` itself (Project.ingest, real matcher)."""
    folder.mkdir()
    started = time.perf_counter()
    project = make_project(folder)
    if places:
        (result,) = project.ingest("uhw", [extract])
        if result.skipped:
            raise RuntimeError(result.skipped)
    else:
        batch = prepare_batch(project.settings, "uhw", extract, NoPlaces(), project.territory)
        with project.store() as store:
            result = commit_batch(store, batch)
    return time.perf_counter() - started, result.accepted, result.quarantined


def ingest_row_by_row(
    folder: Path, extract: Path, rows: int, places: bool = False, tuples: bool = False
) -> tuple[float, int, int]:
    """The baseline: pandas reads the file, then each row (``iterrows``, the plain way, or
    ``itertuples`` with ``tuples``, the tuned way) gets the same checks as ours
    (record id, dates, assault before arrival, codes, age, counts), its location text is
    scrubbed (and, with ``places``, matched) in Python; rejected rows keep their scrubbed
    cells; accepted rows are placed in the wards and stored with one insert each."""
    folder.mkdir()
    started = time.perf_counter()
    project = make_project(folder)
    codes = {f: {k.lower(): v for k, v in t.items()} for f, t in UHW.codes.items()}
    matcher = Matcher(_gazetteer()) if places else None
    today = datetime.now()
    frame = pd.read_csv(extract, dtype=str, keep_default_na=False, nrows=rows)
    seen: set[str] = set()
    accepted, quarantined = [], []
    records = frame.itertuples(index=False) if tuples else (r for _, r in frame.iterrows())
    for row in records:
        fields, problems = _check_row(row, codes, seen, today)
        if problems:
            raw = {c: scrub(getattr(row, c), dates=False).text for c in UHW.columns.values()}
            quarantined.append({"reason": "; ".join(problems), "raw": json.dumps(raw)})
            continue
        text = scrub(row.IncidentLocation or None).text
        match = matcher.match(text) if matcher else NoPlaces.UNPLACED
        record = f"ed|7A4BV|{row.AttendanceNo}".encode()
        accepted.append(
            fields
            | {
                "incident_id": hashlib.sha256(record).hexdigest()[:24],
                "location_text": text,
                "place_id": match.place_id,
                "lon": match.lon,
                "lat": match.lat,
            }
        )
    stored = pd.DataFrame(accepted)
    for layer in project.layers:
        stored[layer.layer] = layer.assign(
            stored["lon"].to_numpy(float, na_value=np.nan),
            stored["lat"].to_numpy(float, na_value=np.nan),
        )
    with duckdb.connect(str(folder / "baseline.duckdb")) as con:
        con.register("stored", stored)
        con.execute("CREATE TABLE incidents AS SELECT * FROM stored")
        con.register("rejected", pd.DataFrame(quarantined))
        con.execute("CREATE TABLE quarantine AS SELECT * FROM rejected")
    return time.perf_counter() - started, len(accepted), len(quarantined)


def _check_row(row, codes: dict, seen: set[str], today: datetime) -> tuple[dict, list[str]]:
    """One row's canonical fields and what is wrong with it, the plain way."""
    problems = []
    if not row.AttendanceNo:
        problems.append("AttendanceNo: a record id is required")
    elif row.AttendanceNo in seen:
        problems.append("AttendanceNo: the same record id appears earlier in this file")
    seen.add(row.AttendanceNo)
    occurred = arrived = None
    try:
        arrived = datetime.strptime(row.ArrivalDateTime, "%d/%m/%Y %H:%M")
        occurred = datetime.strptime(row.IncidentDate, "%d/%m/%Y")
        if row.IncidentTime:
            clock = datetime.strptime(row.IncidentTime, "%H:%M")
            occurred = occurred.replace(hour=clock.hour, minute=clock.minute)
        if occurred > arrived:
            problems.append("ArrivalDateTime: the assault is recorded as after arrival")
        if occurred > today or occurred.year < 1990:
            problems.append("IncidentDate: an assault date out of range")
    except ValueError as err:
        problems.append(f"not a valid date/time: {err}")
    fields = {"occurred_at": occurred, "arrived_at": arrived, "time_known": bool(row.IncidentTime)}
    for field in ("weapon", "sex", "location_type", "relationship", "admitted"):
        value = getattr(row, UHW.columns[field]).strip()
        fields[field] = codes[field].get(value.lower()) if value else "unknown"
        if fields[field] is None:
            problems.append(f"{UHW.columns[field]}: unknown code {value!r}")
    try:
        age = float(row.Age) if row.Age else None
        fields["age_band"] = age_band(int(age)) if age is not None else "unknown"
        if age is not None and not 0 <= age <= 120:
            problems.append("Age: an age outside 0-120 years")
    except ValueError:
        problems.append("Age: not a number of years")
    try:
        count = float(row.NoOfAssailants) if row.NoOfAssailants else None
        if count is not None and (count < 0 or count % 1 or count > 10_000):
            problems.append("NoOfAssailants: not a whole number")
        fields["assailants"] = count
    except ValueError:
        problems.append("NoOfAssailants: not a whole number")
    return fields, problems


def _row(target: str, ours: float, baseline: float) -> dict:
    return {
        "target": target,
        "ours": round(ours, 2),
        "baseline": round(baseline, 2),
        "ratio": round(baseline / ours, 2),
        "unit": "s",
    }


def run() -> list[dict]:
    """Seconds to ingest a million rows, and the speed-ups over row-by-row pandas."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big, small = folder / "uhw_1m.csv", folder / "uhw_small.csv"
        write_extract(big, ROWS)
        write_extract(small, BASELINE_ROWS)
        ours_big, accepted, quarantined = ingest_ours(folder / "ours_1m", big)
        ours_small, *_ = ingest_ours(folder / "ours_small", small)
        plain, *_ = ingest_row_by_row(folder / "plain", small, BASELINE_ROWS)
        tuned, *_ = ingest_row_by_row(folder / "tuned", small, BASELINE_ROWS, tuples=True)
        full_ours, *_ = ingest_ours(folder / "full", small, places=True)
        full_base, *_ = ingest_row_by_row(
            folder / "full_base", small, BASELINE_ROWS, places=True, tuples=True
        )
    print(f"  1,000,000 rows: {accepted:,} accepted, {quarantined:,} quarantined")
    scale = ROWS / BASELINE_ROWS
    small_rows = f"{BASELINE_ROWS // 1000}k"
    return [
        _row(
            f"ingest 1M ED rows (s; target < {TARGET_SECONDS:.0f}) vs pandas iterrows x{scale:.0f}",
            ours_big,
            plain * scale,
        ),
        _row(f"ingest 1M ED rows (s) vs pandas itertuples x{scale:.0f}", ours_big, tuned * scale),
        _row(f"ingest {small_rows} ED rows (s) vs pandas iterrows", ours_small, plain),
        _row(f"ingest {small_rows} ED rows (s) vs pandas itertuples", ours_small, tuned),
        _row(
            f"cardiff ingest {small_rows} ED rows with place matching (s) vs itertuples",
            full_ours,
            full_base,
        ),
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
