"""The interventions register and the "what works" results, kept in the project store.

A partnership records each intervention (what, where, when) once; evaluations read it
from here and write their verdicts back, so reports and the dashboard can show a "what
works" table without refitting any model. The tables live in the same DuckDB file as the
incidents and are created on first use, so a store made before them still opens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np

from cardiffmodel.places.areas import AreaLayer
from cardiffmodel.places.gazetteer import Place
from cardiffmodel.schema import AREA_LAYERS

INTERVENTION_TYPES = (
    "patrols",
    "licensing",
    "cctv",
    "glassware",
    "help_point",
    "outreach",
    "pedestrianisation",
    "night_transport",
    "other",
)

_DDL = (
    """CREATE TABLE IF NOT EXISTS interventions (
        name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, layer VARCHAR NOT NULL,
        areas VARCHAR[] NOT NULL, venues VARCHAR[] NOT NULL, comparison VARCHAR[],
        start_date DATE NOT NULL, end_date DATE, description VARCHAR NOT NULL,
        added_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS intervention_results (
        intervention VARCHAR NOT NULL, source VARCHAR NOT NULL, method VARCHAR NOT NULL,
        rate_ratio DOUBLE, low DOUBLE, high DOUBLE, pre_check_passed BOOLEAN,
        verdict VARCHAR NOT NULL, explanation VARCHAR NOT NULL, evaluated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (intervention, source, method))""",
)


class InterventionError(ValueError):
    """An intervention cannot be registered or found; the message says which and why."""


@dataclass(frozen=True)
class Intervention:
    """One intervention as registered by the partnership.

    Attributes
    ----------
    name : str
        Unique name, e.g. ``"St Mary Street polycarbonate glasses"``.
    kind : str
        One of :data:`INTERVENTION_TYPES`.
    layer : str
        Area layer of ``areas`` (usually ``"beat"``).
    areas : tuple of str
        Codes of the treated areas on ``layer``.
    start : date
        First day the intervention was in force.
    end : date or None
        Day after the last day in force; ``None`` while it continues.
    venues : tuple of str
        Gazetteer place ids of treated venues, when it targeted venues (their areas
        are in ``areas``).
    comparison : tuple of str or None
        Areas to compare against; ``None`` lets the evaluation use every untreated area.
    description : str
        Free text: what was done, by whom.
    """

    name: str
    kind: str
    layer: str
    areas: tuple[str, ...]
    start: date
    end: date | None = None
    venues: tuple[str, ...] = ()
    comparison: tuple[str, ...] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        where = f"intervention {self.name!r}"
        if not self.name.strip():
            raise InterventionError("intervention name is empty: expected a name")
        if self.kind not in INTERVENTION_TYPES:
            raise InterventionError(
                f"{where} type {self.kind!r}: expected one of {', '.join(INTERVENTION_TYPES)}"
            )
        if self.layer not in AREA_LAYERS:
            raise InterventionError(f"{where} layer {self.layer!r}: expected one of {AREA_LAYERS}")
        if not self.areas:
            raise InterventionError(f"{where} treats no area: expected at least one area code")
        if self.end is not None and not self.start < self.end:
            raise InterventionError(f"{where} ends {self.end}: expected a date after {self.start}")
        overlap = set(self.comparison or ()) & set(self.areas)
        if overlap:
            raise InterventionError(
                f"{where} compares against its own areas {sorted(overlap)}: "
                "expected comparison areas that were not treated"
            )
        object.__setattr__(self, "areas", tuple(self.areas))
        object.__setattr__(self, "venues", tuple(self.venues))
        if self.comparison is not None:
            object.__setattr__(self, "comparison", tuple(self.comparison))

    def as_dict(self) -> dict:
        """Plain JSON-ready fields, for the API and the CLI."""
        return {
            "name": self.name,
            "type": self.kind,
            "layer": self.layer,
            "areas": list(self.areas),
            "venues": list(self.venues),
            "comparison": None if self.comparison is None else list(self.comparison),
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "description": self.description,
        }


@dataclass(frozen=True)
class WhatWorksRow:
    """One intervention's estimated effect by one method on one source.

    Attributes
    ----------
    intervention, kind : str
        The intervention's name and type.
    source : str
        ``"ed"``, ``"ambulance"``, ``"police"`` or ``"all"``.
    method : str
        ``"its"``, ``"did"`` or ``"synthetic_control"``.
    rate_ratio, low, high : float or None
        Rate ratio (incidents with the intervention / without) and its 95% interval;
        ``None`` when the method could not be run.
    pre_check_passed : bool or None
        Whether the method's pre-intervention check passed.
    verdict : str
        ``"reduced"``, ``"increased"``, ``"no_change"`` or ``"too_weak"``.
    explanation : str
        The plain-language verdict.
    evaluated_at : datetime
        When the evaluation ran.
    """

    intervention: str
    kind: str
    source: str
    method: str
    rate_ratio: float | None
    low: float | None
    high: float | None
    pre_check_passed: bool | None
    verdict: str
    explanation: str
    evaluated_at: datetime


def resolve_areas(layer: AreaLayer, given: Iterable[str]) -> tuple[str, ...]:
    """Area codes for codes or names (any case) of ``layer``'s areas, in the order given."""
    by_name = {name.casefold(): code for code, name in zip(layer.codes, layer.names, strict=True)}
    codes = []
    for item in given:
        code = item if item in layer.codes else by_name.get(item.strip().casefold())
        if code is None:
            raise InterventionError(
                f"no area {item!r} on layer {layer.layer!r}: expected a code or name such as "
                f"{layer.codes[0]} ({layer.names[0]})"
            )
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def venue_areas(
    places: Iterable[Place], layer: AreaLayer, venues: Iterable[str]
) -> tuple[str, ...]:
    """The areas of ``layer`` holding the gazetteer venues ``venues`` (place ids)."""
    wanted = tuple(venues)
    found = {p.place_id: p for p in places if p.place_id in wanted}
    missing = [v for v in wanted if v not in found]
    if missing:
        raise InterventionError(f"no venue with place id {missing[0]!r} in the gazetteer")
    lon = np.array([found[v].lon for v in wanted])
    lat = np.array([found[v].lat for v in wanted])
    areas = layer.assign(lon, lat)
    outside = [v for v, a in zip(wanted, areas, strict=True) if a is None]
    if outside:
        raise InterventionError(f"venue {outside[0]!r} lies in no area of layer {layer.layer!r}")
    return tuple(dict.fromkeys(str(a) for a in areas))


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the register's tables in a store opened for writing, if missing."""
    for statement in _DDL:
        con.execute(statement)


def add_intervention(
    con: duckdb.DuckDBPyConnection, intervention: Intervention, now: datetime | None = None
) -> None:
    """Register an intervention; a name already registered is refused, never overwritten."""
    ensure_tables(con)
    if _exists(con, intervention.name):
        raise InterventionError(
            f"intervention {intervention.name!r} is already registered: expected a new name"
        )
    i = intervention
    con.execute(
        "INSERT INTO interventions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            i.name,
            i.kind,
            i.layer,
            list(i.areas),
            list(i.venues),
            None if i.comparison is None else list(i.comparison),
            i.start,
            i.end,
            i.description,
            now or datetime.now(),
        ],
    )


def list_interventions(con: duckdb.DuckDBPyConnection) -> tuple[Intervention, ...]:
    """Every registered intervention, oldest start first (none in a store without the table)."""
    if not _has_table(con, "interventions"):
        return ()
    rows = con.execute(
        "SELECT name, kind, layer, areas, venues, comparison, start_date, end_date, description "
        "FROM interventions ORDER BY start_date, name"
    ).fetchall()
    return tuple(_intervention(row) for row in rows)


def get_intervention(con: duckdb.DuckDBPyConnection, name: str) -> Intervention:
    """The registered intervention called ``name``."""
    found = [i for i in list_interventions(con) if i.name == name]
    if not found:
        names = ", ".join(i.name for i in list_interventions(con)) or "none registered"
        raise InterventionError(f"no intervention named {name!r}: expected one of: {names}")
    return found[0]


def save_results(con: duckdb.DuckDBPyConnection, rows: tuple[WhatWorksRow, ...]) -> None:
    """Store evaluation results, replacing earlier ones for the same intervention, source
    and method, in one transaction."""
    ensure_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for r in rows:
            con.execute(
                "INSERT OR REPLACE INTO intervention_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r.intervention,
                    r.source,
                    r.method,
                    r.rate_ratio,
                    r.low,
                    r.high,
                    r.pre_check_passed,
                    r.verdict,
                    r.explanation,
                    r.evaluated_at,
                ],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def what_works(con: duckdb.DuckDBPyConnection) -> tuple[WhatWorksRow, ...]:
    """The stored results of every evaluated intervention, for reports and the dashboard.

    Rows come by intervention start, then name, source and method; an intervention removed
    from the register keeps no rows here.
    """
    if not _has_table(con, "intervention_results"):
        return ()
    rows = con.execute(
        "SELECT r.intervention, i.kind, r.source, r.method, r.rate_ratio, r.low, r.high, "
        "r.pre_check_passed, r.verdict, r.explanation, r.evaluated_at "
        "FROM intervention_results r JOIN interventions i ON i.name = r.intervention "
        "ORDER BY i.start_date, r.intervention, r.source, r.method"
    ).fetchall()
    return tuple(WhatWorksRow(*row) for row in rows)


def _intervention(row: tuple) -> Intervention:
    name, kind, layer, areas, venues, comparison, start, end, description = row
    return Intervention(
        name=name,
        kind=kind,
        layer=layer,
        areas=tuple(areas),
        start=start,
        end=end,
        venues=tuple(venues),
        comparison=None if comparison is None else tuple(comparison),
        description=description,
    )


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM interventions WHERE name = ?", [name]).fetchall())


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()
    return bool(found)
