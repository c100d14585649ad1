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

from cardiffmodel.analysis.selection import Selection, month_selection, quarter_selection
from cardiffmodel.config import GroupConfig
from cardiffmodel.disclosure import NO_RATE, Cell, SuppressedFigures, needs_suppression
from cardiffmodel.places.areas import AreaLayer
from cardiffmodel.places.gazetteer import Place
from cardiffmodel.project import Project
from cardiffmodel.reports import charts
from cardiffmodel.reports.advice import Advice, advise, cited
from cardiffmodel.reports.analyses import (
    REPORT_PROFILES,
    GroupAnalyses,
    RegionAnalyses,
    analyse_group,
    analyse_region,
)
from cardiffmodel.reports.findings import Finding, find
from cardiffmodel.reports.published import LAST_YEAR, PREVIOUS, TIME_UNKNOWN, TOTAL, publish
from cardiffmodel.reports.render import FORMATS, render_html, write_pdf
from cardiffmodel.reports.whatworks import METHOD_LABELS, group_results, rate_ratio_text
from cardiffmodel.schema import SOURCES
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
    headline: tuple[Card, ...]
    map_svg: str
    beats: tuple[Row, ...]
    venues: tuple[Row, ...]
    grid: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # weekday, (shown, shade 0-5)
    grid_note: str
    trend_svg: str
    trend: tuple[Row, ...]
    profiles: tuple[ProfileTable, ...]
    flags: tuple[Row, ...]
    gap: tuple[Row, ...]
    gap_note: str
    quality: tuple[Row, ...]
    quality_note: str
    findings: tuple[Finding, ...]
    advice: tuple[Advice, ...]
    references: tuple[tuple[str, str], ...]
    methods: tuple[tuple[str, str], ...]
    what_works: tuple[Row, ...] = ()  # intervention, type, source, method, ratio, verdict


class Figures:
    """Published cells by key, with the text to print for each."""

    def __init__(self, figures: SuppressedFigures):
        self._cells = dict(zip(figures.keys, figures.cells, strict=True))
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

    ``region`` (the layer-wide hotspots, rises and data quality) is computed when not
    given; pass it to share it between groups of one layer. ``venues`` gives venue
    coordinates and licensing by place id (the project's gazetteer when not given).
    """
    layer = project.layer(group.layer)
    with project.store(read_only=True) as store:
        t = store.incidents()
        analyses = analyse_group(t, layer, group, sel)
        region = region or analyse_region(t, layer, sel, store.coverage())
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
    advice = advise(findings)
    beat_order = _published_order(figures, [("beat", r.code) for r in analyses.ranking.rows])
    venue_order = _published_order(figures, [("venue", v.place_id) for v in analyses.venues.rows])
    shown_venues = [analyses.venues.rows[i] for i in venue_order]
    return GroupReport(
        title=f"Violence in {group.name}: {period_label(sel)}",
        group=group.name,
        period=period_label(sel),
        produced=_day(today or date.today()),
        audience=AUDIENCE_LABELS[group.audience],
        suppressed=protect,
        threshold=threshold,
        headline=_headline(figures, len(findings)),
        map_svg=_map(analyses, layer, figures, [venues.get(v.place_id) for v in shown_venues]),
        beats=_beat_rows(analyses, region, figures, beat_order),
        venues=_venue_rows(shown_venues, layer, figures, venues),
        grid=_grid(figures),
        grid_note=(
            f"{figures.text(TIME_UNKNOWN)} incidents with no recorded time of day are not in "
            "the grid."
        ),
        trend_svg=_trend_chart(analyses, figures),
        trend=_trend_rows(analyses, figures),
        profiles=tuple(_profile(analyses, field, figures) for field in REPORT_PROFILES),
        flags=_flag_rows(analyses, region, beat_order),
        gap=_gap_rows(analyses, figures, beat_order),
        gap_note=(
            "Aggregate counts per beat from each source, computed with "
            "cardiffmodel.analysis.counts.rank_areas one source at a time. They compare "
            "volumes, not people: one assault can appear in all three sources, and an "
            "Emergency Department attendance known to the police is not told apart here."
        ),
        quality=_quality_rows(region, protect, threshold),
        quality_note=_quality_note(region),
        findings=findings,
        advice=advice,
        references=cited(advice),
        methods=_methods(region, threshold, protect),
        what_works=_what_works_rows(results),
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


def _headline(figures: Figures, n_findings: int) -> tuple[Card, ...]:
    total = figures.cell(TOTAL)
    notes = []
    for key, name in ((PREVIOUS, "previous period"), (LAST_YEAR, "same period last year")):
        notes.append(f"{name} {figures.text(key)}{_change(total, figures.cell(key))}")
    cards = [Card("Incidents, all sources", figures.text(TOTAL), "; ".join(notes))]
    cards += [Card(label(s), figures.text(("source", s))) for s in SOURCES]
    cards.append(Card("Findings with advice", str(n_findings), "see the advice section"))
    return tuple(cards)


def _change(now: Cell, before: Cell) -> str:
    """A percentage change, only between two shown counts (a change against a hidden count
    would give it back)."""
    if now.value is None or before.value is None or before.value == 0:
        return ""
    return f" ({(now.value - before.value) / before.value:+.0%})"


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
        if both_shown and area.change_p_value < SIGNIFICANCE and area.change:
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
    """Beat by source, with the sources' totals as a last row."""
    rows = [
        Row(
            (
                a.name,
                *(figures.text(("beat_source", a.code, s)) for s in SOURCES),
                figures.text(("beat", a.code)),
            )
        )
        for a in (analyses.ranking.rows[i] for i in order)
    ]
    total = ("All beats", *(figures.text(("source", s)) for s in SOURCES), figures.text(TOTAL))
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
    if ed is None or not ed.records:
        return "No Emergency Department records arrived for this period."
    tenths = round(10 * ed.located / ed.records)
    return (
        f"About {tenths} in 10 Emergency Department records could be placed on the map. The "
        "rest belong to no beat, so the hospital figures for each beat are lower bounds. "
        "Records are placed from the location typed at reception (hospital) or the map "
        "point recorded (police, ambulance)."
    )


def _methods(region: RegionAnalyses, threshold: int, protect: bool) -> tuple[tuple[str, str], ...]:
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
    return (
        (
            "Incident",
            "One assault attendance at an Emergency Department, one ambulance call-out for "
            "assault, or one police-recorded violent crime. One assault can appear in more "
            "than one source.",
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


def write_reports(
    project: Project,
    groups: Sequence[GroupConfig],
    period: str,
    quarter: bool = False,
    formats: Sequence[str] = ("html",),
    today: date | None = None,
) -> list[Path]:
    """Write each group's report in each format into the project's reports folder.

    The layer-wide analyses and the venue list are computed once and shared.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"report formats {unknown}: expected some of {', '.join(FORMATS)}")
    out = project.settings.reports_dir / (f"{period}-quarter" if quarter else period)
    out.mkdir(parents=True, exist_ok=True)
    venues = {p.place_id: p for p in project.gazetteer if p.kind == "venue"}
    regions: dict[str, RegionAnalyses] = {}
    paths = []
    for group in groups:
        sel = selection_for(period, quarter, group)
        if group.layer not in regions:
            with project.store(read_only=True) as store:
                regions[group.layer] = analyse_region(
                    store.incidents(), project.layer(group.layer), sel, store.coverage()
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
