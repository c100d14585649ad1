"""Matching a CSV of location texts to a CSV of places (``cardiff places match``), for
evaluating the matcher on a partnership's own texts without setting up a project."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cardiffmodel.config import AreaConfig
from cardiffmodel.places.areas import load_area_layer
from cardiffmodel.places.gazetteer import Bbox, GazetteerError, Place
from cardiffmodel.places.matcher import Match, Matcher
from cardiffmodel.places.postcodes import postcode_gazetteer
from cardiffmodel.places.sources import load_sources

INPUT_COLUMNS = ("id", "text")
SITE_COLUMNS = ("site_lon", "site_lat")
OUTPUT_COLUMNS = (
    "id",
    "place_id",
    "place_name",
    "lon",
    "lat",
    "location_type",
    "score",
    "status",
    "reason",
)


class BatchError(ValueError):
    """The input CSV cannot be matched; the message names the file, row and column."""


class Resolver(Protocol):
    def match_many(
        self,
        texts: Sequence[str | None],
        sites: Sequence[tuple[float, float] | None] | None = None,
        workers: int = 1,
    ) -> list[Match]: ...


def load_gazetteer_files(paths: Sequence[Path], bbox: Bbox | None = None) -> list[Place]:
    """Places from files of any supported kind, told apart by their contents (see
    ``sources.source_kind``); ``bbox`` keeps the downloaded sources' places inside it (a
    force's file reaches far beyond one city)."""
    return load_sources(paths, bbox)


def matcher_from_files(
    gazetteer: Sequence[Path],
    postcodes: Sequence[Path] = (),
    beats: Path | None = None,
    beat_field: str | None = None,
    bbox: Bbox | None = None,
) -> Matcher:
    """A matcher over the given files (inside ``bbox``, when given); postcode sectors need
    a beat layer to be checked against (``beats`` with its code field ``beat_field``)."""
    within = None
    if beats is not None:
        if not beat_field:
            raise GazetteerError(f"{beats}: give the field holding the beat codes")
        within = load_area_layer(AreaConfig("beat", beats, beat_field, beat_field))
    places = load_gazetteer_files(gazetteer, bbox)
    return Matcher(places + postcode_gazetteer(postcodes, bbox, within))


def _site(path: Path, line: int, row: dict[str, str]) -> tuple[float, float] | None:
    given = [(row.get(c) or "").strip() for c in SITE_COLUMNS]
    if not any(given):
        return None
    values = []
    for column, value in zip(SITE_COLUMNS, given, strict=True):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isnan(number):
            raise BatchError(
                f"{path} row {line} column {column}: {value!r}; expected WGS84 degrees "
                "(give both site_lon and site_lat, or neither)"
            )
        values.append(number)
    return values[0], values[1]


def read_texts(path: Path) -> tuple[list[str], list[str], list[tuple[float, float] | None]]:
    """ids, texts and attended sites of an input CSV (``id,text[,site_lon,site_lat]``)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in INPUT_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BatchError(
                    f"{path}: missing column(s) {missing}; expected id,text and optionally "
                    f"site_lon,site_lat; the header is {reader.fieldnames}"
                )
            ids, texts, sites = [], [], []
            for line, row in enumerate(reader, start=2):
                ids.append(row["id"])
                texts.append(row["text"] or "")
                sites.append(_site(path, line, row))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise BatchError(f"{path}: not a readable CSV file: {err}") from err
    return ids, texts, sites


def match_csv(resolver: Resolver, source: Path, target: Path, workers: int = 1) -> Counter:
    """Match every text of ``source`` and write ``target`` (``OUTPUT_COLUMNS``); returns
    how many rows got each status."""
    ids, texts, sites = read_texts(source)
    matches = resolver.match_many(texts, sites, workers=workers)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for row_id, m in zip(ids, matches, strict=True):
            place = [m.place_id or "", m.place_name or "", _number(m.lon), _number(m.lat)]
            writer.writerow([row_id, *place, m.location_type, f"{m.score:.4f}", m.status, m.reason])
    return Counter(m.status for m in matches)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"
