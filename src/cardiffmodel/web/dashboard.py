"""What the dashboard shows, as JSON-ready dictionaries: one producer for page and API.

Each method runs analysis functions on the store for a set of filters and a view, and
publishes every count through :mod:`cardiffmodel.web.publish`; nothing here computes a
statistic of its own. Answers are cached per store version, filters and view.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from functools import cached_property
from typing import Any

import ibis
import numpy as np
import shapely

from cardiffmodel.analysis.counts import monthly_trend, rank_areas, rank_venues
from cardiffmodel.analysis.excess import excess_by_area
from cardiffmodel.analysis.hotspots import contiguity, counts_by_area, gi_star
from cardiffmodel.analysis.profiles import WEEKDAYS, hour_weekday, profile
from cardiffmodel.analysis.quality import data_quality
from cardiffmodel.analysis.selection import Selection, held_part
from cardiffmodel.coverage import Coverage
from cardiffmodel.disclosure import NO_RATE
from cardiffmodel.places.areas import AreaLayer
from cardiffmodel.project import Project
from cardiffmodel.reports.builder import label
from cardiffmodel.reports.published import has_known_values
from cardiffmodel.reports.whatworks import METHOD_LABELS, rate_ratio_text
from cardiffmodel.schema import SOURCES
from cardiffmodel.store.duckdb_store import read_coverage
from cardiffmodel.store.interventions import list_interventions, what_works
from cardiffmodel.web.access import View
from cardiffmodel.web.filters import Filters
from cardiffmodel.web.gate import ResultCache, StoreGate
from cardiffmodel.web.publish import (
    NOT_HELD_CELL,
    cell_json,
    publish_change,
    publish_counts,
    publish_rate,
    publish_table,
)

HOURS = tuple(f"{h:02d}" for h in range(24))
TREND_MONTHS = 24
SIMPLIFY_DEGREES = 0.0001  # about 7 to 11 metres in Cardiff: invisible at city zoom


class UnknownArea(LookupError):
    """An area code that is not in the map layer."""


def _percent(part: int, whole_cell: dict, whole: int) -> str:
    """A completeness percentage, shown only beside a shown record count."""
    if whole_cell["value"] is None or not whole:
        return "-"
    return f"{part / whole:.0%}"


def _excess_label(basis: str, periods: int) -> str:
    """What the excess test compared each area's count with."""
    if basis == "population":
        return "Excess test: count against population at the region's rate (exact Poisson, FDR 5%)"
    return f"Excess test: count against the {periods} previous periods (exact, FDR 5%)"


class Dashboard:
    """The figures of every page for one project, computed on a shared store gate."""

    def __init__(self, project: Project, cache_size: int = 256, permutations: int = 9999):
        self.project = project
        self.settings = project.settings
        self.gate = StoreGate(self.settings.store)
        self.cache = ResultCache(cache_size)
        self.permutations = permutations
        names = [a.layer for a in self.settings.areas]
        self.layer_name = "beat" if "beat" in names else names[0]

    @cached_property
    def layer(self) -> AreaLayer:
        return self.project.layer(self.layer_name)

    @cached_property
    def _weights(self):
        return contiguity(self.layer.geometries, self.layer.codes)

    def _cached(self, name: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        return self.cache.get((name, self.gate.version, key), compute)

    def _table(self, cursor, f: Filters, view: View) -> ibis.Table:
        return f.narrow(ibis.duckdb.from_connection(cursor).table("incidents"), view.sites)

    # ---- what the store holds -----------------------------------------------------------

    def coverage(self, view: View) -> Coverage:
        """The periods each source holds, limited to the view's sites: a health user's own
        figures are held only where their own sources delivered."""
        full = self._cached("coverage", None, lambda: self._read_coverage())
        if view.sites is None:
            return full
        names = {s.name for s in self.settings.sources if s.site in view.sites}
        return Coverage(tuple(s for s in full.sources if s.name in names))

    def _read_coverage(self) -> Coverage:
        with self.gate.reading() as cursor:
            return read_coverage(cursor)

    def kinds_held(self, view: View | None = None) -> tuple[str, ...]:
        """Source kinds that hold some period (in ``SOURCES`` order): the filters offer
        these, and pages show panels only for them."""
        cov = self.coverage(view or View(True, None))
        present = {s.kind for s in cov.sources}
        return tuple(k for k in SOURCES if k in present)

    def _held(self, sel: Selection, view: View) -> Selection | None:
        """The selection narrowed to the kinds that hold its period, or None."""
        return held_part(sel, self.coverage(view))

    def warm(self) -> None:
        """Compute what the first visitors ask for: the latest month's map, both ways."""
        latest = Filters(month=self.months()[0])
        for suppressed in (True, False):
            self.beat_map(latest, View(suppressed, None, self.settings.suppress_below))
        self.areas_geojson()

    # ---- what the filters offer -------------------------------------------------------

    def months(self) -> list[str]:
        """Calendar months from the first to the last incident in the store, newest first."""

        def compute() -> list[str]:
            with self.gate.reading() as cursor:
                low, high = cursor.execute(
                    "SELECT min(occurred_date), max(occurred_date) FROM incidents"
                ).fetchall()[0]
            if low is None:
                return [date.today().strftime("%Y-%m")]
            first, last = low.year * 12 + low.month - 1, high.year * 12 + high.month - 1
            return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(last, first - 1, -1)]

        return self._cached("months", None, compute)

    def areas_geojson(self) -> dict:
        """The map layer's polygons (simplified, 5 decimals) with codes and names."""

        def compute() -> dict:
            simple = shapely.simplify(self.layer.geometries, SIMPLIFY_DEGREES)
            features = [
                {
                    "type": "Feature",
                    "id": code,
                    "properties": {"code": code, "name": name},
                    "geometry": shapely.geometry.mapping(shapely.set_precision(g, 1e-5)),
                }
                for code, name, g in zip(self.layer.codes, self.layer.names, simple, strict=True)
            ]
            return {"type": "FeatureCollection", "features": features}

        return self._cached("areas", None, compute)

    # ---- the map ------------------------------------------------------------------------

    def beat_map(self, f: Filters, view: View) -> dict:
        """Every area's count, rate per 1,000 residents and change, published for the view."""
        return self._cached("beat_map", (f, view.key), lambda: self._beat_map(f, view))

    def _ranking(self, f: Filters, view: View):
        """The areas ranked over the kinds that hold the period (None when none does),
        shared by every view over the same sites (published apart)."""

        def compute():
            held = self._held(f.selection(self.layer_name), view)
            if held is None:
                return None
            with self.gate.reading() as cursor:
                t = self._table(cursor, f, view)
                return rank_areas(t, held, self.layer.lookup(), coverage=self.coverage(view))

        return self._cached("ranking", (f, view.key[1]), compute)

    def _beat_map(self, f: Filters, view: View) -> dict:
        sel = f.selection(self.layer_name)
        ranking = self._ranking(f, view)
        if ranking is None:
            return self._beat_map_not_held(f, view, sel)
        rows = ranking.rows
        now, total = publish_counts([r.count for r in rows] + [ranking.unplaced], view)
        before, _ = publish_counts([r.previous_count for r in rows], view)
        year_ago, _ = publish_counts([r.last_year_count for r in rows], view)
        areas = []
        for row, cell, prev, last in zip(rows, now[:-1], before, year_ago, strict=True):
            shown = cell.value is not None
            # Flagged only between two shown counts of periods the same sources hold.
            compared = shown and prev.value is not None and row.change_p_value is not None
            significant = compared and row.change_p_value < 0.05 and row.change != 0
            areas.append(
                {
                    "code": row.code,
                    "name": row.name,
                    "count": cell_json(cell),
                    "previous": cell_json(prev),
                    "last_year": cell_json(last),
                    "change": publish_change(cell, prev),
                    "change_flag": ("rise" if row.change > 0 else "fall") if significant else "",
                    "rate_per_1000": publish_rate(cell, row.rate_per_1000),
                    "rate_value": round(row.rate_per_1000, 3)
                    if shown and row.rate_per_1000 is not None
                    else None,
                    "population": row.population,
                }
            )
        return {
            "period": _period(sel),
            "filters": f.query(),
            "layer": self.layer_name,
            "suppressed": view.suppressed,
            "sources": list(ranking.selection.sources),
            "previous_held": ranking.previous_held,
            "last_year_held": ranking.last_year_held,
            "areas": areas,
            "unplaced": cell_json(now[-1]),
            "total": cell_json(total),
        }

    def _beat_map_not_held(self, f: Filters, view: View, sel: Selection) -> dict:
        """No source holds the period: every area's figures read "not held"."""
        blank = cell_json(NOT_HELD_CELL)
        lookup = self.layer.lookup()
        return {
            "period": _period(sel),
            "filters": f.query(),
            "layer": self.layer_name,
            "suppressed": view.suppressed,
            "sources": [],
            "previous_held": False,
            "last_year_held": False,
            "areas": [
                {
                    "code": code,
                    "name": name,
                    "count": blank,
                    "previous": blank,
                    "last_year": blank,
                    "change": None,
                    "change_flag": "",
                    "rate_per_1000": NO_RATE,
                    "rate_value": None,
                    "population": population,
                }
                for code, (name, population) in lookup.items()
            ],
            "unplaced": blank,
            "total": blank,
        }

    def venues(self, f: Filters, view: View, area: str | None = None, limit: int = 20) -> dict:
        """The venues with most incidents (never a home), with their map points."""
        if area is not None:
            self._check_area(area)
        return self._cached(
            "venues", (f, view.key, area, limit), lambda: self._venues(f, view, area, limit)
        )

    def _venues(self, f: Filters, view: View, area: str | None, limit: int) -> dict:
        sel = f.selection(self.layer_name, (area,) if area else None)
        held = self._held(sel, view)
        if held is None:
            return {"period": _period(sel), "venues": []}
        with self.gate.reading() as cursor:
            t = self._table(cursor, f, view)
            ranking = rank_venues(t, held, limit=limit, coverage=self.coverage(view))
            ids = [v.place_id for v in ranking.rows]
            points = {}
            if ids:
                where = t.filter(t.place_id.isin(ids), t.lon.notnull())
                found = where.group_by("place_id").aggregate(
                    lon=where.lon.min(), lat=where.lat.min()
                )
                points = {r["place_id"]: r for r in found.to_pyarrow().to_pylist()}
        cells, _ = publish_counts([v.count for v in ranking.rows], view)
        before, _ = publish_counts([v.previous_count for v in ranking.rows], view)
        return {
            "period": _period(sel),
            "venues": [
                {
                    "place_id": v.place_id,
                    "name": v.place_name or v.place_id,
                    "area": v.area,
                    "count": cell_json(cell),
                    "previous": cell_json(prev),
                    "lon": points.get(v.place_id, {}).get("lon"),
                    "lat": points.get(v.place_id, {}).get("lat"),
                }
                for v, cell, prev in zip(ranking.rows, cells, before, strict=True)
            ],
        }

    def hotspots(self, f: Filters, view: View) -> dict:
        """Getis-Ord Gi* of the areas' counts (clusters of high counts) and the excess test
        (areas high or low on their own), each false discovery rate controlled at 5%.

        Only classes and Gi*'s adjusted p-value to two significant figures are published:
        no ratio to the expected count, which with the populations would give the count.
        """
        return self._cached("hotspots", (f, view.key), lambda: self._hotspots(f, view))

    def _hotspots(self, f: Filters, view: View) -> dict:
        sel = f.selection(self.layer_name)
        held = self._held(sel, view)
        if held is None:
            return {
                "period": _period(sel),
                "statistic": "not run: no source holds the period",
                "permutations": 0,
                "areas": [],
            }
        with self.gate.reading() as cursor:
            t = self._table(cursor, f, view)
            counts = counts_by_area(t, held, self.layer.codes)
            excess = excess_by_area(
                t, held, self.layer.codes, self.layer.population, coverage=self.coverage(view)
            )
        result = gi_star(counts, self._weights, permutations=self.permutations, seed=0)
        return {
            "period": _period(sel),
            "statistic": "Getis-Ord Gi* (queen contiguity, Benjamini-Hochberg FDR 5%)",
            "permutations": result.permutations,
            "excess": _excess_label(excess.basis, excess.periods),
            "areas": [
                {
                    "code": code,
                    "class": kind,
                    "p_adjusted": None if np.isnan(p) else float(f"{p:.2g}"),
                    "excess": excess_kind,
                }
                for code, kind, p, excess_kind in zip(
                    result.codes,
                    result.classification,
                    result.p_adjusted,
                    (excess.classification[excess.codes.index(c)] for c in result.codes),
                    strict=True,
                )
            ],
        }

    # ---- overview and beat pages ---------------------------------------------------------

    def overview(self, f: Filters, view: View) -> dict:
        """Headline numbers by source for the period and its comparisons, and the trend."""
        return self._cached("overview", (f, view.key), lambda: self._overview(f, view))

    def _overview(self, f: Filters, view: View) -> dict:
        sel = f.selection(self.layer_name)
        cov = self.coverage(view)
        kinds = tuple(k for k in self.kinds_held(view) if k in sel.sources)
        periods = {"current": sel, "previous": sel.previous(), "last_year": sel.last_year()}
        with self.gate.reading() as cursor:
            t = self._table(cursor, f, view)
            by_source = {k: profile(t, s, "source") for k, s in periods.items()}
            trend = monthly_trend(t, sel, months_back=TREND_MONTHS, coverage=cov)
        now = (sel.start, sel.end)
        held_now = cov.kinds_covering(*now, kinds)
        headline = {}
        for key, found in by_source.items():
            span = (periods[key].start, periods[key].end)
            counts = dict(zip(found.codes, found.counts, strict=True))
            # A kind's count is shown when it holds this period and, for a comparison,
            # the same sources of that kind hold the period compared with.
            shown = [
                counts[k] if k in held_now and cov.comparable(now, span, (k,)) else None
                for k in kinds
            ]
            cells, total = publish_counts(shown, view)
            if not held_now or not cov.comparable(now, span, held_now):
                total = NOT_HELD_CELL
            headline[key] = {
                "period": _period(periods[key]),
                "held": held_now != () and cov.comparable(now, span, held_now),
                "total": cell_json(total),
                "by_source": {s: cell_json(c) for s, c in zip(kinds, cells, strict=True)},
            }
        return {
            "period": _period(sel),
            "suppressed": view.suppressed,
            "headline": headline,
            "trend": self._trend(trend, kinds, view),
            "sources": {s: label(s) for s in kinds},
        }

    @staticmethod
    def _trend(trend, sources: tuple[str, ...], view: View) -> dict:
        """Months as a month x source table; a month or source not held reads "not held"
        (null value), never 0, so charts draw a gap."""
        matrix = [[trend.by_source[s][i] for s in sources] for i in range(len(trend.months))]
        cells, totals = publish_table(matrix, trend.months, sources, view)
        return {
            "months": list(trend.months),
            "total": [cell_json(c) for c in totals],
            "by_source": {s: [cell_json(row[j]) for row in cells] for j, s in enumerate(sources)},
        }

    def beat(self, code: str, f: Filters, view: View) -> dict:
        """One area's page: its figures as on the map, profile, venues, trend and gap."""
        self._check_area(code)
        return self._cached("beat", (code, f, view.key), lambda: self._beat(code, f, view))

    def _check_area(self, code: str) -> None:
        if code not in self.layer.codes:
            raise UnknownArea(f"{self.layer_name} {code!r} is not in the map layer")

    def _beat(self, code: str, f: Filters, view: View) -> dict:
        on_map = next(a for a in self.beat_map(f, view)["areas"] if a["code"] == code)
        sel = f.selection(self.layer_name, (code,))
        held = self._held(sel, view)
        kinds = tuple(k for k in self.kinds_held(view) if k in sel.sources)
        with self.gate.reading() as cursor:
            t = self._table(cursor, f, view)
            trend = monthly_trend(t, sel, months_back=13, coverage=self.coverage(view))
            if held is not None:
                grid = hour_weekday(t, held)
                profiles = {name: profile(t, held, name) for name in ("weapon", "location_type")}
                gap = {
                    s: rank_areas(t, _with_sources(held, (s,)), self.layer.lookup((code,))).total
                    for s in ("ed", "police")
                }
        found = {
            "code": code,
            "name": on_map["name"],
            "period": _period(sel),
            "suppressed": view.suppressed,
            "held": held is not None,
            "figures": on_map,
            "hour_weekday": None,
            "profiles": {},
            "trend": self._trend(trend, kinds, view),
            "venues": self.venues(f, view, area=code, limit=10)["venues"],
            "gap": None,
        }
        if held is None:
            return found
        if grid.time_unknown < grid.total:  # no grid when no incident has a time of day
            grid_cells, _ = publish_table(grid.counts, WEEKDAYS, HOURS, view)
            found["hour_weekday"] = {
                "weekdays": list(WEEKDAYS),
                "hours": list(HOURS),
                "cells": [[cell_json(c) for c in row] for row in grid_cells],
                "time_unknown": grid.time_unknown if not view.suppressed else None,
            }
        found["profiles"] = {
            name: self._profile(p, view) for name, p in profiles.items() if has_known_values(p)
        }
        if {"ed", "police"} <= set(held.sources):  # hospital against police: both held
            gap_cells, _ = publish_counts(list(gap.values()), view)
            found["gap"] = {
                "note": "Emergency Department and police counts in this area for the period; "
                "the gap analysis will replace this panel.",
                "counts": {s: cell_json(c) for s, c in zip(gap, gap_cells, strict=True)},
            }
        return found

    @staticmethod
    def _profile(found, view: View) -> list[dict]:
        cells, _ = publish_counts(list(found.counts), view)
        return [
            {"code": code, "label": label(code), "count": cell_json(cell)}
            for code, cell in zip(found.codes, cells, strict=True)
        ]

    def quality(self, f: Filters, view: View) -> dict:
        """How much of each source could be placed on the map and in time."""
        return self._cached("quality", (f, view.key), lambda: self._quality(f, view))

    def _quality(self, f: Filters, view: View) -> dict:
        sel = f.selection(self.layer_name)
        held = self._held(sel, view)
        if held is None:
            return {"period": _period(sel), "suppressed": view.suppressed, "sources": []}
        with self.gate.reading() as cursor:
            found = data_quality(self._table(cursor, f, view), held)
        cells, _ = publish_counts([q.records for q in found.rows], view)
        rows = []
        for q, cell in zip(found.rows, cells, strict=True):
            shown = cell_json(cell)
            rows.append(
                {
                    "source": q.source,
                    "label": label(q.source),
                    "records": shown,
                    "located": _percent(q.located, shown, q.records),
                    "with_time": _percent(q.with_time, shown, q.records),
                    "with_weapon": _percent(q.with_weapon, shown, q.records),
                }
            )
        return {"period": _period(sel), "suppressed": view.suppressed, "sources": rows}

    # The register and its results hold no counts, so every role sees the same; they are
    # not cached, since ``cardiff interventions add`` and ``cardiff evaluate`` write from
    # outside the server.

    def interventions(self) -> list[dict]:
        """The interventions register, oldest start first."""
        with self.gate.reading() as cursor:
            register = list_interventions(cursor)
        return [i.as_dict() | {"type_label": label(i.kind)} for i in register]

    def what_works(self) -> list[dict]:
        """The stored evaluations of the registered interventions, with their verdicts."""
        with self.gate.reading() as cursor:
            results = what_works(cursor)
        return [
            {
                "intervention": r.intervention,
                "type": r.kind,
                "source": r.source,
                "method": r.method,
                "method_label": METHOD_LABELS.get(r.method, label(r.method)),
                "rate_ratio": r.rate_ratio,
                "low": r.low,
                "high": r.high,
                "rate_ratio_text": rate_ratio_text(r),
                "pre_check_passed": r.pre_check_passed,
                "verdict": r.verdict,
                "explanation": r.explanation,
                "evaluated_at": r.evaluated_at.isoformat(),
            }
            for r in results
        ]


def _with_sources(sel: Selection, sources: tuple[str, ...]) -> Selection:
    return Selection(sel.start, sel.end, sources, sel.layer, sel.areas)


def _period(sel: Selection) -> dict:
    last = date.fromordinal(sel.end.toordinal() - 1)
    return {"start": sel.start.isoformat(), "end": last.isoformat(), "days": sel.days}
