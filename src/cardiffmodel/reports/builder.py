"""Routine reports for Local Violence Prevention Groups.

The builder runs the analyses for a group and a period (:mod:`.analyses`), passes every
count through disclosure control together (:mod:`.published`), turns findings into advice
(:mod:`.findings`, :mod:`.advice`), draws the charts from published figures only
(:mod:`.charts`) and hands the template nothing but text to place. The template never
computes; :mod:`.render` writes HTML and PDF from it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cardiffmodel.analysis.selection import (
    Selection,
    held_part,
    month_selection,
    quarter_selection,
)
from cardiffmodel.config import GroupConfig
from cardiffmodel.coverage import Coverage
from cardiffmodel.disclosure import NO_RATE, Cell, needs_suppression
from cardiffmodel.places.areas import AreaLayer
from cardiffmodel.places.gazetteer import Place
from cardiffmodel.project import Project
from cardiffmodel.reports import charts
from cardiffmodel.reports.advice import Advice, advise, cited
from cardiffmodel.reports.analyses import (
    GroupAnalyses,
    NotHeld,
    RegionAnalyses,
    analyse_group,
    analyse_region,
    held_summary,
)
from cardiffmodel.reports.findings import Finding, find
from cardiffmodel.reports.published import (
    LAST_YEAR,
    NOT_HELD,
    PREVIOUS,
    TIME_UNKNOWN,
    TOTAL,
    Published,
    publish,
    shown_profiles,
    shows_gap,
    shows_grid,
)
from cardiffmodel.reports.render import FORMATS, render_html, write_pdf
from cardiffmodel.reports.whatworks import METHOD_LABELS, group_results, rate_ratio_text
from cardiffmodel.store.interventions import WhatWorksRow

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
AUDIENCE_LABELS = {
    "health": "Health staff (exact counts)",
    "police": "Police",
    "council": "Council",
    "partnership": "Partnership",
}
PROFILE_TITLES = {
    "weapon": "Weapon or method",
    "location_type": "Type of place",
    "age_band": "Age of the injured person",
    "sex": "Sex of the injured person",
    "relationship": "Relationship to the assailant",
}
LABELS = {
    "ed": "Emergency Department",
    "ambulance": "Ambulance",
    "police": "Police",
    "body": "Fist, feet or body",
    "knife_sharp": "Knife or sharp object",
    "bottle_glass": "Bottle or glass",
    "blunt_object": "Blunt object",
    "firearm": "Firearm",
    "home": "Own home",
    "other_home": "Someone else's home",
    "street": "Street or public place",
    "licensed_premises": "Licensed premises",
    "transport": "Transport",
    "school_work": "School or work",
    "65+": "65 and over",
    "cctv": "CCTV",
    None: "Not in the code list",
}
# How the sources line of a report describes each kind that holds the period.
SOURCE_DESCRIPTIONS = {
    "ed": "Emergency Departments (assault attendances, ISTV data set)",
    "ambulance": "ambulance service (assault call-outs)",
    "police": "police (recorded violent crime)",
}
INCIDENT_DEFINITIONS = {
    "ed": "one assault attendance at an Emergency Department",
    "ambulance": "one ambulance call-out for assault",
    "police": "one police-recorded violent crime",
}
HOTSPOT_LABELS = {"hot": "Hot spot", "cold": "Cold spot"}
SIGNIFICANCE = 0.05  # of the exact Poisson test of this period against the previous one


def label(code: str | None) -> str:
    """A code as readers see it."""
    if code in LABELS:
        return LABELS[code]
    return code.replace("_", " ").replace("-", " to ").capitalize()


@dataclass(frozen=True)
class Card:
    """A headline figure."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Row:
    """One line of a published table: cells already suppressed and formatted."""

    cells: tuple[str, ...]


@dataclass(frozen=True)
class Bar:
    """One line of a profile: label, shown figure and bar width in percent (0 if hidden)."""

    label: str
    shown: str
    width: int


@dataclass(frozen=True)
class ProfileTable:
    title: str
    rows: tuple[Bar, ...]


@dataclass(frozen=True)
class GroupReport:
    """Everything the template shows for one group and period, as display text."""

    title: str
    group: str
    period: str
    produced: str
    audience: str
    suppressed: bool
    threshold: int
    sources: str  # the kinds that hold the period, as a sentence
    missing: str  # configured sources without data for the period, or ""
    headline: tuple[Card, ...]
    map_svg: str
    beats: tuple[Row, ...]
    venues: tuple[Row, ...]
    grid: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # weekday, (shown, shade 0-5)
    grid_note: str  # under the grid, or instead of it when no time of day is known
    trend_svg: str
    trend: tuple[Row, ...]
    profiles: tuple[ProfileTable, ...]
    profiles_note: str  # which fields the sources held do not record
    flags: tuple[Row, ...]
    gap_sources: tuple[str, ...]  # column headings; empty when the table is not shown
    gap: tuple[Row, ...]
    gap_note: str
    quality: tuple[Row, ...]
    quality_note: str
    findings: tuple[Finding, ...]
    advice: tuple[Advice, ...]
    references: tuple[tuple[str, str], ...]
    methods: tuple[tuple[str, str], ...]
    what_works: tuple[Row, ...] = ()  # intervention, type, source, method, ratio, verdict
    held: bool = True  # False: no source holds the period (written with --allow-empty)


class Figures:
    """Published cells by key, with the text to print for each; a figure of a period the
    sources do not hold has no value and reads "not held"."""

    def __init__(self, published: Published):
        figures = published.figures
        self._cells = dict(zip(figures.keys, figures.cells, strict=True))
        self._cells.update((key, Cell(None, NOT_HELD)) for key in published.not_held)
        self.threshold = figures.threshold

    def cell(self, key: Hashable) -> Cell:
        return self._cells[key]

    def text(self, key: Hashable) -> str:
        cell = self._cells[key]
        return cell.shown if cell.value is None else f"{cell.value:,}"

    def shown(self, key: Hashable) -> charts.Shown:
        return charts.Shown(self._cells[key].value, self.text(key))


def period_label(sel: Selection) -> str:
    """ "January 2019", or "January 2019 to March 2019" for a longer period."""
    last = date.fromordinal(sel.end.toordinal() - 1)
    if (sel.start.year, sel.start.month) == (last.year, last.month):
        return sel.start.strftime("%B %Y")
    return f"{sel.start:%B %Y} to {last:%B %Y}"


def selection_for(period: str, quarter: bool, group: GroupConfig) -> Selection:
    """The month (or quarter starting at that month) of a group's report."""
    make = quarter_selection if quarter else month_selection
    return make(period, layer=group.layer, areas=group.areas)


def build_group_report(
    project: Project,
    group: GroupConfig,
    sel: Selection,
    region: RegionAnalyses | None = None,
    venues: Mapping[str, Place] | None = None,
    today: date | None = None,
) -> GroupReport:
    """Run the analyses for one group and period and make them safe to publish.

    Only the sources that hold the period are counted, and comparisons are made only with
    periods the same sources hold (the store's coverage); raises
    :class:`~cardiffmodel.reports.analyses.NotHeld` when no source holds the period.
    ``region`` (the layer-wide hotspots, rises and data quality) is computed when not
    given; pass it to share it between groups of one layer. ``venues`` gives venue
    coordinates and licensing by place id (the project's gazetteer when not given).
    """
    layer = project.layer(group.layer)
    with project.store(read_only=True) as store:
        t = store.incidents()
        coverage = store.coverage()
        analyses = analyse_group(t, layer, group, sel, coverage)
        region = region or analyse_region(t, layer, sel, coverage)
        results = group_results(store.con, group)
    if venues is None:
        venues = {p.place_id: p for p in project.gazetteer if p.kind == "venue"}
    threshold = project.settings.suppress_below
    return assemble(analyses, region, layer, venues, threshold, today, results)


def assemble(
    analyses: GroupAnalyses,
    region: RegionAnalyses,
    layer: AreaLayer,
    venues: Mapping[str, Place],
    threshold: int = 5,
    today: date | None = None,
    results: Sequence[WhatWorksRow] = (),
) -> GroupReport:
    """The display text of a report from its analysis results and the stored evaluations
    of the group's interventions."""
    group, sel = analyses.group, analyses.selection
    protect = needs_suppression(group.audience)
    figures = Figures(publish(analyses, protect, threshold))
    licensed = tuple(
        v.place_name
        for v in analyses.venues.rows
        if v.count >= threshold and (p := venues.get(v.place_id)) is not None and p.licensed
    )
    findings = find(analyses, region, protect, licensed)
    grid = shows_grid(analyses)
    advice = advise(findings, sections=frozenset({"grid"} if grid else ()))
    beat_order = _published_order(figures, [("beat", r.code) for r in analyses.ranking.rows])
    venue_order = _published_order(figures, [("venue", v.place_id) for v in analyses.venues.rows])
    shown_venues = [analyses.venues.rows[i] for i in venue_order]
    gap = shows_gap(analyses)
    return GroupReport(
        title=f"Violence in {group.name}: {period_label(sel)}",
        group=group.name,
        period=period_label(sel),
        produced=_day(today or date.today()),
        audience=AUDIENCE_LABELS[group.audience],
        suppressed=protect,
        threshold=threshold,
        sources=_sources_text(sel.sources),
        missing=_missing_text(analyses.missing),
        headline=_headline(figures, sel.sources, len(findings)),
        map_svg=_map(analyses, layer, figures, [venues.get(v.place_id) for v in shown_venues]),
        beats=_beat_rows(analyses, region, figures, beat_order),
        venues=_venue_rows(shown_venues, layer, figures, venues),
        grid=_grid(figures) if grid else (),
        grid_note=_grid_note(analyses, figures, grid),
        trend_svg=_trend_chart(analyses, figures),
        trend=_trend_rows(analyses, figures),
        profiles=tuple(_profile(analyses, f, figures) for f in shown_profiles(analyses)),
        profiles_note=_profiles_note(analyses),
        flags=_flag_rows(analyses, region, beat_order),
        gap_sources=tuple(label(s) for s in sel.sources) if gap else (),
        gap=_gap_rows(analyses, figures, beat_order) if gap else (),
        gap_note=(
            "Aggregate counts per beat from each source, computed with "
            "cardiffmodel.analysis.counts.rank_areas one source at a time. They compare "
            "volumes, not people: one assault can appear in more than one source, and an "
            "Emergency Department attendance known to the police is not told apart here."
            if gap
            else ""
        ),
        quality=_quality_rows(region, protect, threshold),
        quality_note=_quality_note(region),
        findings=findings,
        advice=advice,
        references=cited(advice),
        methods=_methods(region, threshold, protect, sel.sources),
        what_works=_what_works_rows(results),
    )


def _sources_text(kinds: Sequence[str]) -> str:
    """The sources that hold the period, as the header names them."""
    parts = [SOURCE_DESCRIPTIONS[k] for k in kinds]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    listed = listed[0].upper() + listed[1:]
    return listed + (", combined by beat." if len(parts) > 1 else ", by beat.")


def _missing_text(names: Sequence[str]) -> str:
    if not names:
        return ""
    return (
        f"No data for this period has been received from {', '.join(names)}; "
        "their figures are not in this report (not held, which is not the same as none)."
    )


def _what_works_rows(results: Sequence[WhatWorksRow]) -> tuple[Row, ...]:
    return tuple(
        Row(
            (
                r.intervention,
                label(r.kind),
                label(r.source) if r.source != "all" else "All sources",
                METHOD_LABELS.get(r.method, label(r.method)),
                rate_ratio_text(r),
                r.explanation,
            )
        )
        for r in results
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _published_order(figures: Figures, keys: Sequence[Hashable]) -> list[int]:
    """Positions of the rows by published figure: shown counts first (largest first), then
    hidden ones in their given order. Ranking a hidden count among shown ones would
    place it between two known values and give it away."""

    def key(i: int):
        cell = figures.cell(keys[i])
        if cell.value is not None:
            return (0, -cell.value, i)
        return (1 if cell.secondary else 2, 0, i)

    return sorted(range(len(keys)), key=key)


def _headline(figures: Figures, kinds: Sequence[str], n_findings: int) -> tuple[Card, ...]:
    """The total with its comparisons, then one card per source kind that holds the period
    (none for an absent source: its 0 would read as no violence)."""
    total = figures.cell(TOTAL)
    notes = []
    for key, name in ((PREVIOUS, "previous period"), (LAST_YEAR, "same period last year")):
        notes.append(f"{name} {figures.text(key)}{_change(total, figures.cell(key))}")
    heading = "Incidents, all sources" if len(kinds) > 1 else f"Incidents ({label(kinds[0])})"
    cards = [Card(heading, figures.text(TOTAL), "; ".join(notes))]
    if len(kinds) > 1:
        cards += [Card(label(s), figures.text(("source", s))) for s in kinds]
    cards.append(Card("Findings with advice", str(n_findings), "see the advice section"))
    return tuple(cards)


def _change(now: Cell, before: Cell) -> str:
    """A percentage change, only between two shown counts (a change against a hidden count
    would give it back; against a period not held there is nothing to compare)."""
    if now.value is None or before.value is None or before.value == 0:
        return ""
    change = (now.value - before.value) / before.value
    return " (no change)" if round(change, 2) == 0 else f" ({change:+.0%})"


def _map(
    analyses: GroupAnalyses, layer: AreaLayer, figures: Figures, places: Sequence[Place | None]
) -> str:
    codes = set(analyses.group.areas)
    areas = [
        charts.MapArea(layer.geometries[i], layer.names[i], figures.shown(("beat", code)))
        for i, code in enumerate(layer.codes)
        if code in codes
    ]
    context = [
        g for g, code in zip(layer.geometries, layer.codes, strict=True) if code not in codes
    ]
    points = [
        charts.MapPoint(p.lon, p.lat, str(number))
        for number, p in enumerate(places, 1)
        if p is not None
    ]
    return charts.choropleth(areas, context, points, figures.threshold)


def _beat_rows(
    analyses: GroupAnalyses, region: RegionAnalyses, figures: Figures, order: Sequence[int]
) -> tuple[Row, ...]:
    rows = []
    for position, i in enumerate(order, 1):
        area = analyses.ranking.rows[i]
        now, before = figures.cell(("beat", area.code)), figures.cell(("previous_beat", area.code))
        both_shown = now.value is not None and before.value is not None
        change = ""
        significant = area.change_p_value is not None and area.change_p_value < SIGNIFICANCE
        if both_shown and significant and area.change:
            change = "rise" if area.change > 0 else "fall"
        rate = NO_RATE if now.value is None else _rate(area.rate_per_1000)
        rows.append(
            Row(
                (
                    str(position) if now.value is not None else "",
                    area.name,
                    figures.text(("beat", area.code)),
                    rate,
                    figures.text(("previous_beat", area.code)),
                    change,
                )
            )
        )
    return tuple(rows)


def _rate(rate: float | None) -> str:
    return NO_RATE if rate is None else f"{rate:,.1f}"


def _venue_rows(
    rows: Sequence, layer: AreaLayer, figures: Figures, venues: Mapping[str, Place]
) -> tuple[Row, ...]:
    names = dict(zip(layer.codes, layer.names, strict=True))
    result = []
    for number, venue in enumerate(rows, 1):
        place = venues.get(venue.place_id)
        result.append(
            Row(
                (
                    str(number),
                    venue.place_name or venue.place_id,
                    names.get(venue.area, "") if venue.area else "",
                    "Yes" if place is not None and place.licensed else "",
                    figures.text(("venue", venue.place_id)),
                    figures.text(("previous_venue", venue.place_id)),
                )
            )
        )
    return tuple(result)


def _grid(figures: Figures):
    """Hour x weekday cells with a shade from 0 to 5, from published values only: a hidden
    cell is unshaded, because a shade computed from its true count would reveal it."""
    cells = [[figures.cell(("hour", d, h)) for h in range(24)] for d in range(7)]
    top = max((c.value or 0 for row in cells for c in row), default=0) or 1
    return tuple(
        (
            day,
            tuple(
                (figures.text(("hour", d, h)), round(5 * (cells[d][h].value or 0) / top))
                for h in range(24)
            ),
        )
        for d, day in enumerate(WEEKDAYS)
    )


def _grid_note(analyses: GroupAnalyses, figures: Figures, shown: bool) -> str:
    if shown:
        return (
            f"{figures.text(TIME_UNKNOWN)} incidents with no recorded time of day are not in "
            "the grid."
        )
    if not analyses.when.total:
        return "No incidents in this period, so there is no hour-by-day grid."
    return (
        "The sources held for this period record no time of day (data.police.uk, for "
        "example, gives the month only), so there is no hour-by-day grid."
    )


def _profiles_note(analyses: GroupAnalyses) -> str:
    """Names the fields left out because every value is unknown."""
    left_out = [f for f in analyses.profiles if f not in shown_profiles(analyses)]
    if not left_out:
        return ""
    names = [PROFILE_TITLES[f].lower() for f in left_out]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    if not analyses.ranking.total:
        return f"No incidents in this period, so no {listed} table."
    return (
        f"Not shown: {listed}. The sources held for this period do not record "
        f"{'it' if len(names) == 1 else 'them'} (every value is unknown)."
    )


def _trend_keys(analyses: GroupAnalyses) -> tuple[list, list, list[str]]:
    n = len(analyses.trend.months)
    this_year = list(range(n - 12, n))
    labels = [_month_abbr(analyses.trend.months[i]) for i in this_year]
    return this_year, [i - 12 for i in this_year], labels


def _trend_chart(analyses: GroupAnalyses, figures: Figures) -> str:
    this_year, last_year, labels = _trend_keys(analyses)
    return charts.paired_bars(
        labels,
        [figures.shown(("month", i)) for i in this_year],
        [figures.shown(("month", i)) for i in last_year],
        ("Latest 12 months", "The same months a year earlier"),
    )


def _trend_rows(analyses: GroupAnalyses, figures: Figures) -> tuple[Row, ...]:
    this_year, last_year, labels = _trend_keys(analyses)
    months = analyses.trend.months
    return (
        Row(("Month", *labels)),
        Row(
            (
                f"{months[this_year[0]]} to {months[this_year[-1]]}",
                *(figures.text(("month", i)) for i in this_year),
            )
        ),
        Row(
            (
                f"{months[last_year[0]]} to {months[last_year[-1]]}",
                *(figures.text(("month", i)) for i in last_year),
            )
        ),
    )


def _month_abbr(month: str) -> str:
    return date.fromisoformat(f"{month}-01").strftime("%b")


def _profile(analyses: GroupAnalyses, field: str, figures: Figures) -> ProfileTable:
    p = analyses.profiles[field]
    codes = [*p.codes, *([None] if p.uncoded else [])]
    cells = [figures.cell(("profile", field, code)) for code in codes]
    top = max((c.value or 0 for c in cells), default=0) or 1
    return ProfileTable(
        PROFILE_TITLES[field],
        tuple(
            Bar(
                label(code),
                figures.text(("profile", field, code)),
                round(100 * (c.value or 0) / top),
            )
            for code, c in zip(codes, cells, strict=True)
        ),
    )


def _flag_rows(
    analyses: GroupAnalyses, region: RegionAnalyses, order: Sequence[int]
) -> tuple[Row, ...]:
    """Per beat: the Gi* class and the weeks a rise was flagged (no counts)."""
    hot = dict(zip(region.hotspots.codes, region.hotspots.classification, strict=True))
    weeks: dict[str, list[str]] = {}
    for code, week in region.rises.alarms():
        weeks.setdefault(code, []).append(f"{week.day} {week:%b}")
    return tuple(
        Row((a.name, HOTSPOT_LABELS.get(hot.get(a.code, ""), ""), ", ".join(weeks.get(a.code, []))))
        for a in (analyses.ranking.rows[i] for i in order)
    )


def _gap_rows(analyses: GroupAnalyses, figures: Figures, order: Sequence[int]) -> tuple[Row, ...]:
    """Beat by source (the kinds that hold the period), with the sources' totals last."""
    kinds = analyses.selection.sources
    rows = [
        Row(
            (
                a.name,
                *(figures.text(("beat_source", a.code, s)) for s in kinds),
                figures.text(("beat", a.code)),
            )
        )
        for a in (analyses.ranking.rows[i] for i in order)
    ]
    total = ("All beats", *(figures.text(("source", s)) for s in kinds), figures.text(TOTAL))
    return (*rows, Row(total))


def _quality_rows(region: RegionAnalyses, protect: bool, threshold: int) -> tuple[Row, ...]:
    rows = []
    for q in region.quality.rows:
        small = protect and 0 < q.records < threshold
        rows.append(
            Row(
                (
                    label(q.source),
                    f"<{threshold}" if small else f"{q.records:,}",
                    *(
                        "-" if small else _percent(part, q.records)
                        for part in (q.located, q.with_time, q.with_weapon)
                    ),
                )
            )
        )
    return tuple(rows)


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _quality_note(region: RegionAnalyses) -> str:
    """The data-quality caveat in plain words, from the Emergency Department's share."""
    ed = next((q for q in region.quality.rows if q.source == "ed"), None)
    if "ed" not in region.selection.sources:
        return (
            "Records are placed from the map point each source records; records that "
            "could not be placed belong to no beat, so beat figures are lower bounds."
        )
    if ed is None or not ed.records:
        return "The Emergency Departments sent no assault attendances for this period."
    tenths = round(10 * ed.located / ed.records)
    return (
        f"About {tenths} in 10 Emergency Department records could be placed on the map. The "
        "rest belong to no beat, so the hospital figures for each beat are lower bounds. "
        "Records are placed from the location typed at reception (hospital) or the map "
        "point recorded (police, ambulance)."
    )


def _methods(
    region: RegionAnalyses, threshold: int, protect: bool, kinds: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    rises = region.rises
    if rises.method == "farrington":
        rise_text = (
            f"Farrington flexible (Noufaily et al. 2013) with {rises.years} year"
            f"{'s' * (rises.years > 1)} of weekly history, alarm above the 99% quantile "
            "(cardiffmodel.analysis.rises.detect_rises)."
        )
    elif rises.method == "ears_c3":
        rise_text = (
            "EARS C3 on the previous seven weeks, because the store holds less than a year "
            "of history before this period (cardiffmodel.analysis.rises.detect_rises)."
        )
    else:
        rise_text = "Not run: the store holds too little history before this period."
    disclosure = (
        f"Counts from 1 to {threshold - 1} are shown as <{threshold}. Further counts are "
        "hidden (*) where a total elsewhere in the report would give a small count away; "
        "every table, chart and map is protected together. Rates are not shown for hidden "
        "counts, and rows with hidden counts are listed after the others."
        if protect
        else "Exact counts for health staff; this report must not be passed on outside health."
    )
    defined = [INCIDENT_DEFINITIONS[k] for k in kinds]
    incident = defined[0] if len(defined) == 1 else ", ".join(defined[:-1]) + " or " + defined[-1]
    incident = incident[0].upper() + incident[1:] + "."
    if len(kinds) > 1:
        incident += " One assault can appear in more than one source."
    return (
        ("Incident", incident),
        (
            "Not held",
            "A period for which no data has been received from the sources counted here. "
            "It is left blank and marked not held: it is not a count of zero, and no change "
            "is worked out against it.",
        ),
        (
            "Beat",
            "The area an incident's location falls in. Rates use resident population, which "
            "understates the people present in night-time economy areas.",
        ),
        (
            "Change",
            "Marked as a rise or fall when an exact Poisson test of this period against the "
            f"previous one gives p < {SIGNIFICANCE}.",
        ),
        (
            "Hot spot",
            f"Getis-Ord Gi* over all beats of the region with {region.hotspots.permutations:,} "
            "permutations, false discovery rate controlled at "
            f"{region.hotspots.alpha:.0%} (cardiffmodel.analysis.hotspots.gi_star).",
        ),
        ("Rise", rise_text),
        (
            "Hour by day",
            "Calendar hour of the assault; an assault at 01:00 on Sunday counts on Sunday.",
        ),
        (
            "Advice",
            "Each piece of advice follows a documented rule: it appears only when its finding "
            "is present, and names that finding.",
        ),
        ("Disclosure control", disclosure),
    )


def not_held_report(
    group: GroupConfig,
    sel: Selection,
    coverage: Coverage,
    threshold: int = 5,
    today: date | None = None,
) -> GroupReport:
    """A report of a period no source holds, written only when asked (``--allow-empty``):
    it says so and shows no figure, since every one would be an absence read as zero."""
    return GroupReport(
        title=f"Violence in {group.name}: {period_label(sel)} (no data held)",
        group=group.name,
        period=period_label(sel),
        produced=_day(today or date.today()),
        audience=AUDIENCE_LABELS[group.audience],
        suppressed=needs_suppression(group.audience),
        threshold=threshold,
        sources="None: no source holds this period.",
        missing=(
            f"No data for {period_label(sel)} has been received from any source, so this "
            f"report has no figures (held: {held_summary(coverage)})."
        ),
        headline=(),
        map_svg="",
        beats=(),
        venues=(),
        grid=(),
        grid_note="",
        trend_svg="",
        trend=(),
        profiles=(),
        profiles_note="",
        flags=(),
        gap_sources=(),
        gap=(),
        gap_note="",
        quality=(),
        quality_note="",
        findings=(),
        advice=(),
        references=(),
        methods=(),
        held=False,
    )


def write_reports(
    project: Project,
    groups: Sequence[GroupConfig],
    period: str,
    quarter: bool = False,
    formats: Sequence[str] = ("html",),
    today: date | None = None,
    allow_empty: bool = False,
) -> list[Path]:
    """Write each group's report in each format into the project's reports folder.

    A period that no source holds is refused (:class:`NotHeld`, nothing written) unless
    ``allow_empty``, which writes a report saying so. The layer-wide analyses and the
    venue list are computed once and shared.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"report formats {unknown}: expected some of {', '.join(FORMATS)}")
    with project.store(read_only=True) as store:
        coverage = store.coverage()
    empty = [g for g in groups if held_part(selection_for(period, quarter, g), coverage) is None]
    if empty and not allow_empty:
        raise NotHeld(selection_for(period, quarter, empty[0]), coverage)
    out = project.settings.reports_dir / (f"{period}-quarter" if quarter else period)
    out.mkdir(parents=True, exist_ok=True)
    venues = {p.place_id: p for p in project.gazetteer if p.kind == "venue"}
    regions: dict[str, RegionAnalyses] = {}
    paths = []
    for group in groups:
        sel = selection_for(period, quarter, group)
        if group in empty:
            threshold = project.settings.suppress_below
            report = not_held_report(group, sel, coverage, threshold, today)
        else:
            if group.layer not in regions:
                with project.store(read_only=True) as store:
                    regions[group.layer] = analyse_region(
                        store.incidents(), project.layer(group.layer), sel, coverage
                    )
            report = build_group_report(project, group, sel, regions[group.layer], venues, today)
        html = render_html(report)
        for fmt in formats:
            path = out / f"{group.slug}.{fmt}"
            if fmt == "html":
                path.write_text(html, encoding="utf-8")
            else:
                write_pdf(html, path)
            paths.append(path)
    return paths
