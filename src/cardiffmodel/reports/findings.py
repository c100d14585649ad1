"""Findings: what a group's analysis results show that a partnership can act on.

Each rule reads analysis results (never the incidents) and either finds nothing or returns
one :class:`Finding` naming the evidence. Advice (:mod:`cardiffmodel.reports.advice`) is
attached to findings only, so no advice appears without the finding behind it.

The evidence a finding prints must not undo disclosure control. For an audience outside
health it states that a documented threshold was passed and names places, but gives no
new count or share (a share of a published total is a count by another name); health
staff see the exact figures. The thresholds are in :class:`Thresholds` and docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from cardiffmodel.analysis.counts import AreaRanking
from cardiffmodel.analysis.profiles import HourWeekday, Profile
from cardiffmodel.reports.analyses import GroupAnalyses, RegionAnalyses

# Friday 20:00 to Saturday 03:59 and Saturday 20:00 to Sunday 03:59: (weekday, hour) with
# Monday as 0, the hours the night-time economy's violence concentrates in.
WEEKEND_NIGHTS = tuple(
    (day, hour)
    for day, hours in ((4, range(20, 24)), (5, range(4)), (5, range(20, 24)), (6, range(4)))
    for hour in hours
)
HOURS_IN_WEEK = 7 * 24
HOME = ("home", "other_home")
CLOSE = ("partner", "family")


@dataclass(frozen=True)
class Thresholds:
    """When each rule fires. Every rule needs a minimum count as well as a share, so that a
    handful of incidents in a quiet month never triggers advice.

    Attributes
    ----------
    licensed_min : int
        Incidents at licensed premises with a known time.
    weekend_night_share : float
        Share of those in the 16 weekend-night hours (9.5% of the week's hours).
    glass_min, glass_share : int, float
        Bottle or glass injuries, and their share of incidents with a known weapon.
    domestic_min, domestic_share : int, float
        Incidents at a home (own or someone else's) or by a partner or family member,
        and their share of incidents with a known place (or known relationship).
    knife_min : int
        Knife or sharp-object incidents.
    hidden_min : int
        Emergency Department attendances in a beat whose police records are fewer.
    located_share : float
        Share of Emergency Department records placed on the map below which the
        location recording at reception needs attention.
    """

    licensed_min: int = 10
    weekend_night_share: float = 0.4
    glass_min: int = 5
    glass_share: float = 0.1
    domestic_min: int = 10
    domestic_share: float = 0.25
    knife_min: int = 5
    hidden_min: int = 10
    located_share: float = 0.6


@dataclass(frozen=True)
class Finding:
    """Something in the data that a rule of the advice set responds to.

    Attributes
    ----------
    rule : str
        The rule's identifier (a key of ``advice.RULES``).
    title : str
        The finding in one plain sentence.
    evidence : str
        What in this report triggered it, safe for the report's audience.
    places : tuple of str
        The beats or venues it concerns, for the advice to name.
    """

    rule: str
    title: str
    evidence: str
    places: tuple[str, ...] = ()


def find(
    group: GroupAnalyses,
    region: RegionAnalyses,
    protect: bool,
    venues: Sequence[str] = (),
    thresholds: Thresholds = Thresholds(),
) -> tuple[Finding, ...]:
    """Every finding of a group's period, in a fixed order.

    ``venues`` names the licensed venues with at least five incidents, for the
    licensing review; ``protect`` is True for audiences outside health.
    """
    names = {row.code: row.name for row in group.ranking.rows}
    found = [
        night_time_economy(
            group.licensed_when, group.licensed_ranking, venues, protect, thresholds
        ),
        glass_injuries(group.profiles["weapon"], group.ranking, protect, thresholds),
        knife_injuries(group.profiles["weapon"], protect, thresholds),
        domestic(
            group.profiles["location_type"], group.profiles["relationship"], protect, thresholds
        ),
        hotspots(region, names, protect),
        rises(region, names),
        hidden_violence(group, protect, thresholds),
        location_quality(region, thresholds),
    ]
    return tuple(f for f in found if f is not None)


def night_time_economy(
    when: HourWeekday,
    licensed: AreaRanking,
    venues: Sequence[str],
    protect: bool,
    thresholds: Thresholds,
) -> Finding | None:
    """Violence at licensed premises concentrated on Friday and Saturday nights."""
    timed = when.total - when.time_unknown
    nights = sum(when.counts[day][hour] for day, hour in WEEKEND_NIGHTS)
    if timed < thresholds.licensed_min or nights < thresholds.weekend_night_share * timed:
        return None
    beats = tuple(row.name for row in licensed.rows if row.count > 0)[:3]
    if protect:
        evidence = (
            f"At least {thresholds.licensed_min} incidents at licensed premises had a known "
            f"time, and more than {thresholds.weekend_night_share:.0%} of them happened on "
            f"Friday or Saturday night (20:00 to 04:00), which is "
            f"{len(WEEKEND_NIGHTS) / HOURS_IN_WEEK:.0%} of the week's hours."
        )
    else:
        evidence = (
            f"{nights} of the {timed} incidents at licensed premises with a known time "
            f"({nights / timed:.0%}) happened on Friday or Saturday night (20:00 to 04:00), "
            f"which is {len(WEEKEND_NIGHTS) / HOURS_IN_WEEK:.0%} of the week's hours."
        )
    return Finding(
        rule="night_time_economy",
        title="Violence at licensed premises clusters on Friday and Saturday nights.",
        evidence=evidence + _most_in(beats) + _venues_named(venues),
        places=beats + tuple(venues),
    )


def glass_injuries(
    weapons: Profile, ranking: AreaRanking, protect: bool, thresholds: Thresholds
) -> Finding | None:
    """Injuries from bottles or glasses, which toughened glassware prevents."""
    glass = _count_of(weapons, "bottle_glass")
    known = weapons.total - _count_of(weapons, "unknown")
    if glass < thresholds.glass_min or glass < thresholds.glass_share * known:
        return None
    if protect:
        evidence = (
            f"At least {thresholds.glass_min} injuries were caused by a bottle or glass, "
            f"more than {thresholds.glass_share:.0%} of incidents with a known weapon."
        )
    else:
        evidence = (
            f"{glass} of the {known} incidents with a known weapon ({glass / known:.0%}) "
            "involved a bottle or glass."
        )
    return Finding(
        rule="glass_injuries",
        title="Bottles and glasses are a common weapon.",
        evidence=evidence,
        places=tuple(row.name for row in ranking.rows if row.count > 0)[:3],
    )


def knife_injuries(weapons: Profile, protect: bool, thresholds: Thresholds) -> Finding | None:
    """Knife or sharp-object injuries, the most serious and the most preventable by early
    intervention with the people involved."""
    knives = _count_of(weapons, "knife_sharp")
    if knives < thresholds.knife_min:
        return None
    evidence = (
        f"At least {thresholds.knife_min} incidents involved a knife or sharp object."
        if protect
        else f"{knives} incidents involved a knife or sharp object."
    )
    return Finding("knife_injuries", "Knives or sharp objects were used.", evidence)


def domestic(
    places: Profile, relationships: Profile, protect: bool, thresholds: Thresholds
) -> Finding | None:
    """Violence at home or by a partner or family member: a matter for referral to
    specialist services rather than patrols."""
    at_home = sum(_count_of(places, code) for code in HOME)
    close = sum(_count_of(relationships, code) for code in CLOSE)
    known_place = places.total - _count_of(places, "unknown")
    known_relation = relationships.total - _count_of(relationships, "unknown")
    home_hit = at_home >= thresholds.domestic_min and at_home >= thresholds.domestic_share * (
        known_place
    )
    close_hit = close >= thresholds.domestic_min and close >= thresholds.domestic_share * (
        known_relation
    )
    if not (home_hit or close_hit):
        return None
    parts = []
    at_least = f"at least {thresholds.domestic_min}, more than {thresholds.domestic_share:.0%}"
    if home_hit:
        parts.append(
            f"{at_least} of incidents with a known place, happened in a home (the injured "
            "person's or someone else's)"
            if protect
            else f"{at_home} of {known_place} incidents with a known place were in a home"
        )
    if close_hit:
        parts.append(
            f"{at_least} of incidents with a known relationship, were by a partner or family member"
            if protect
            else f"{close} of {known_relation} with a known relationship were by a partner or "
            "family member"
        )
    evidence = "; ".join(parts)
    evidence = evidence[0].upper() + evidence[1:] + "."
    return Finding(
        "domestic",
        "Much of the violence is domestic: at home, or by a partner or family member.",
        evidence,
    )


def hotspots(region: RegionAnalyses, names: dict[str, str], protect: bool) -> Finding | None:
    """Beats of the group that stand out in the region, and which test says so: Getis-Ord
    Gi* for a cluster of high counts, the excess test for a beat high on its own (such as
    a city centre among quiet neighbours, which Gi* cannot flag). Outside health the
    ratio to the expected count is left out: with the published populations it would give
    the count."""
    clustered = [names[code] for code in region.hotspots.codes_of("hot") if code in names]
    excess = region.excess
    high = [code for code in excess.codes_of("high") if code in names]
    if not clustered and not high:
        return None
    parts = []
    if clustered:
        parts.append(
            f"Getis-Ord Gi* with {region.hotspots.permutations:,} permutations marks "
            f"{join_names(clustered)} as part of a cluster of high counts (false discovery "
            f"rate {region.hotspots.alpha:.0%}): together with neighbouring beats, more "
            "incidents than chance would put there"
        )
    if high:
        expected = (
            "the population at the region's rate"
            if excess.basis == "population"
            else f"the mean of the {excess.periods} period{'s' * (excess.periods != 1)} before"
        )
        beats = [
            names[code]
            if protect
            else f"{names[code]} ({excess.ratio[excess.codes.index(code)]:.1f}× the expected count)"
            for code in high
        ]
        parts.append(
            f"the excess test marks {join_names(beats)} as holding more incidents than "
            f"expected from {expected} (false discovery rate {excess.alpha:.0%})"
        )
    evidence = "; ".join(parts)
    return Finding(
        "hotspot",
        "Part of the group's area is a hot spot of the region.",
        f"{evidence[0].upper()}{evidence[1:]}.",
        tuple(dict.fromkeys([*clustered, *(names[code] for code in high)])),
    )


def rises(region: RegionAnalyses, names: dict[str, str]) -> Finding | None:
    """Beats whose weekly count rose above what their history predicts."""
    alarms = [(code, week) for code, week in region.rises.alarms() if code in names]
    if not alarms:
        return None
    beats = tuple(dict.fromkeys(names[code] for code, _ in alarms))
    weeks = sorted({week for _, week in alarms})
    method = (
        f"Farrington flexible ({region.rises.years} year{'s' * (region.rises.years > 1)} of "
        "history)"
        if region.rises.method == "farrington"
        else "EARS C3 (less than a year of history)"
    )
    return Finding(
        "rise",
        "Incidents rose above the expected level.",
        f"{method} flags {join_names(beats)} in the week{'s' * (len(weeks) > 1)} starting "
        f"{join_names([_day(w) for w in weeks])}.",
        beats,
    )


def hidden_violence(group: GroupAnalyses, protect: bool, thresholds: Thresholds) -> Finding | None:
    """Beats where hospitals see more violence than police records show: the violence the
    Cardiff Model exists to bring to light."""
    if not {"ed", "police"} <= group.by_source.keys():
        return None  # against a source not held, every beat would look hidden
    ed = {row.code: row for row in group.by_source["ed"].rows}
    police = {row.code: row.count for row in group.by_source["police"].rows}
    beats = [
        (row.name, row.count, police.get(code, 0))
        for code, row in ed.items()
        if row.count >= thresholds.hidden_min and row.count > police.get(code, 0)
    ]
    if not beats:
        return None
    if protect:
        evidence = (
            f"In {join_names([name for name, _, _ in beats])}, Emergency Departments recorded at "
            f"least {thresholds.hidden_min} assault attendances, more than the police "
            "recorded violent crimes."
        )
    else:
        evidence = (
            "; ".join(
                f"{name}: {ed_count} Emergency Department attendances, "
                f"{police_count} police records"
                for name, ed_count, police_count in beats
            )
            + "."
        )
    return Finding(
        "hidden_violence",
        "Hospitals see violence that police records miss.",
        evidence,
        tuple(name for name, _, _ in beats),
    )


def location_quality(region: RegionAnalyses, thresholds: Thresholds) -> Finding | None:
    """Too few Emergency Department records could be placed on the map."""
    ed = next((q for q in region.quality.rows if q.source == "ed"), None)
    if ed is None or not ed.records or ed.located >= thresholds.located_share * ed.records:
        return None
    return Finding(
        "location_quality",
        "Many Emergency Department records could not be placed on the map.",
        f"Across the region, {ed.located / ed.records:.0%} of Emergency Department records "
        f"were placed on the map (below {thresholds.located_share:.0%}), so beat figures "
        "understate hospital-recorded violence.",
    )


def _count_of(p: Profile, code: str) -> int:
    return p.counts[p.codes.index(code)] if code in p.codes else 0


def _most_in(beats: Sequence[str]) -> str:
    return f" The beats with most of them: {join_names(beats)}." if beats else ""


def _venues_named(venues: Sequence[str]) -> str:
    if not venues:
        return ""
    return f" Licensed venues with five or more incidents: {join_names(venues)}."


def join_names(items: Sequence[str]) -> str:
    """Names as an English list: "A", "A and B", "A, B and C"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
