"""The review queue: location texts the matcher could not place, and analysts' decisions.

The matcher declines texts it cannot place with confidence, and the same texts come back
every month ("the usual bus stop", a pub's nickname). An analyst looks at them once, most
frequent first, and decides: this text means that place (or that point), or it names no
place. The decision is stored in the project's DuckDB file (table ``place_decisions``),
applied at once to the incidents already stored with that text, and applied by
``ReviewedMatcher`` to every later record whose text has the same key (``decision_key``:
the text's canonical spelling, so case, abbreviations, punctuation and plurals do not
matter).

A reviewed match has method ``review`` and score 1.0: a person has read the text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.matcher import VAGUE, Match, Matcher
from cardiffmodel.places.normalise import normalise, stem
from cardiffmodel.places.territory import Territory
from cardiffmodel.schema import AREA_LAYERS

TABLE_DDL = """CREATE TABLE IF NOT EXISTS place_decisions (
    text_key VARCHAR PRIMARY KEY, example VARCHAR, place_id VARCHAR, place_name VARCHAR,
    lon DOUBLE, lat DOUBLE, decided_by VARCHAR, decided_at TIMESTAMP, note VARCHAR)"""
COLUMNS = (
    "text_key",
    "example",
    "place_id",
    "place_name",
    "lon",
    "lat",
    "decided_by",
    "decided_at",
    "note",
)
LOW_CONFIDENCE = 0.9  # matches scoring below this are queued with the unresolved
# Methods whose rows need no review: a point was given, a person decided, or a home.
SETTLED_METHODS = ("coordinates", "review", "home")


class ReviewError(ValueError):
    """A decision cannot be made as asked; the message says why."""


def decision_key(text: str | None) -> str:
    """The key decisions are stored and looked up by: the text's canonical spelling with
    plurals and possessives dropped ("St Marys St" and "st. mary's street" are one text)."""
    return " ".join(stem(word) for word in normalise(text).split())


@dataclass(frozen=True)
class Decision:
    """An analyst's reading of one text key; ``place_id`` None means "names no place"."""

    text_key: str
    example: str
    place_id: str | None
    place_name: str | None
    lon: float | None
    lat: float | None
    decided_by: str
    decided_at: datetime
    note: str = ""

    def as_match(self, words: Match) -> Match:
        """The match a decided text gets; the kind of place still comes from its words."""
        if self.place_id is None:
            reason = f"reviewed by {self.decided_by}: names no place"
            return Match(
                None, None, None, None, 0.0, "unresolved", "unresolved", words.location_type, reason
            )
        return Match(
            self.place_id,
            self.place_name,
            self.lon,
            self.lat,
            1.0,
            "matched",
            "review",
            words.location_type,
            f"reviewed by {self.decided_by}",
        )


@dataclass(frozen=True)
class QueueItem:
    """One text key awaiting review: how many stored incidents have it, the commonest
    spelling, how many spellings, and what the matcher makes of it now."""

    text_key: str
    example: str
    incidents: int
    spellings: int
    status: str
    location_type: str
    score: float
    reason: str
    suggestions: tuple[str, ...]  # place ids the best score could be


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'place_decisions'"
    ).fetchall()
    return found[0][0] > 0


def load_decisions(con: duckdb.DuckDBPyConnection) -> dict[str, Decision]:
    """Every stored decision by text key (none before the first decision is made)."""
    if not _has_table(con):
        return {}
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM place_decisions").fetchall()
    return {row[0]: Decision(*row) for row in rows}


def decide(
    con: duckdb.DuckDBPyConnection,
    text: str,
    place: Place | None,
    decided_by: str,
    note: str = "",
    when: datetime | None = None,
) -> Decision:
    """Store (or replace) the decision for ``text``'s key: ``place``, or None for "names
    no place"."""
    key = decision_key(text)
    if not key:
        raise ReviewError(f"{text!r}: a blank text cannot be decided")
    decision = Decision(
        key,
        text,
        place.place_id if place else None,
        place.name if place else None,
        place.lon if place else None,
        place.lat if place else None,
        decided_by,
        when or datetime.now(),
        note,
    )
    con.execute(TABLE_DDL)
    values = [getattr(decision, c) for c in COLUMNS]
    marks = ", ".join("?" * len(values))
    con.execute(f"INSERT OR REPLACE INTO place_decisions VALUES ({marks})", values)
    return decision


def apply_to_stored(
    con: duckdb.DuckDBPyConnection, decision: Decision, territory: Territory | None
) -> int:
    """Re-place the stored incidents whose text has the decision's key (rows placed by
    their own coordinates excepted), area codes included, as ingest places them (a place
    outside the deployment's area gets no area); returns how many changed."""
    texts = [
        t
        for (t,) in con.execute(
            "SELECT DISTINCT location_text FROM incidents "
            "WHERE location_text IS NOT NULL AND match_method <> 'coordinates'"
        ).fetchall()
        if decision_key(t) == decision.text_key
    ]
    if not texts:
        return 0
    placed = decision.place_id is not None
    lon = np.array([decision.lon if placed else np.nan])
    lat = np.array([decision.lat if placed else np.nan])
    values: dict[str, object] = {
        "place_id": decision.place_id,
        "place_name": decision.place_name,
        "lon": decision.lon,
        "lat": decision.lat,
        "match_score": 1.0 if placed else 0.0,
        "match_method": "review" if placed else "unresolved",
    }
    if territory is not None:
        for layer, codes in territory.place(lon, lat, {}).codes.items():
            if layer in AREA_LAYERS:
                values[layer] = codes[0]
    assignments = ", ".join(f"{column} = ?" for column in values)
    marks = ", ".join("?" * len(texts))
    where = f"location_text IN ({marks}) AND match_method <> 'coordinates'"
    count = con.execute(f"SELECT count(*) FROM incidents WHERE {where}", texts).fetchall()[0][0]
    con.execute(f"UPDATE incidents SET {assignments} WHERE {where}", [*values.values(), *texts])
    return count


def review_queue(
    con: duckdb.DuckDBPyConnection,
    matcher: Matcher,
    below: float = LOW_CONFIDENCE,
    sites: Mapping[str, tuple[float, float]] | None = None,
    vague: bool = False,
) -> list[QueueItem]:
    """Unresolved and low-confidence (score below ``below``) texts of the stored incidents,
    grouped by key, most incidents first.

    Left out: keys already decided, blanks and homes (no decision can place them) and,
    unless ``vague``, texts naming no particular place ("town", "nightclub"). Each text is
    resolved again, with the hospital (``sites``: site code -> lon, lat) most of its
    incidents came from, to show the reason and the places it could be.
    """
    settled = ", ".join(f"'{m}'" for m in SETTLED_METHODS)
    rows = con.execute(
        "SELECT location_text, site, count(*) FROM incidents "
        f"WHERE location_text IS NOT NULL AND match_method NOT IN ({settled}) "
        "AND (match_method = 'unresolved' OR match_score < ?) GROUP BY location_text, site",
        [below],
    ).fetchall()
    decided = load_decisions(con)
    spellings: dict[str, Counter] = defaultdict(Counter)
    site_counts: dict[str, Counter] = defaultdict(Counter)
    for text, site, n in rows:
        key = decision_key(text)
        if key and key not in decided:
            spellings[key][text] += n
            site_counts[key][site] += n
    items = []
    for key, counts in spellings.items():
        example = min(counts, key=lambda t: (-counts[t], t))
        site = max(site_counts[key], key=lambda s: (site_counts[key][s], str(s)))
        found = matcher.diagnose(example, (sites or {}).get(site))
        match = found.match
        if match.location_type == "unknown" or match.status == "home":
            continue
        if match.reason.startswith(VAGUE) and not vague:
            continue
        items.append(
            QueueItem(
                key,
                example,
                sum(counts.values()),
                len(counts),
                match.status,
                match.location_type,
                match.score,
                match.reason,
                found.group,
            )
        )
    items.sort(key=lambda item: (-item.incidents, item.text_key))
    return items


class ReviewedMatcher:
    """A matcher that gives texts an analyst has decided their decided place."""

    def __init__(self, matcher: Matcher, decisions: Mapping[str, Decision]):
        self.matcher = matcher
        self.decisions = dict(decisions)

    def match(self, text: str | None, site: tuple[float, float] | None = None) -> Match:
        return self.match_many([text], [site])[0]

    def match_many(
        self,
        texts: Sequence[str | None],
        sites: Sequence[tuple[float, float] | None] | None = None,
        workers: int = 1,
    ) -> list[Match]:
        """``Matcher.match_many``, then the decisions applied."""
        matches = self.matcher.match_many(texts, sites, workers=workers)
        if not self.decisions:
            return matches
        keys = {t: decision_key(t) for t in set(texts)}
        return [
            self.decisions[keys[text]].as_match(match) if keys[text] in self.decisions else match
            for text, match in zip(texts, matches, strict=True)
        ]
