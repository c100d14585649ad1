"""True assaults: when and where they happen, to whom, and which services record them.

Counts are Poisson per (setting, beat, day, hour) with rate = the sites' yearly weight x
season x day-of-week-by-hour profile x (2.5 in the rising beat from the rise date); each
event is then given a site within its group in proportion to the site weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely

from cardiffmodel.synth import behaviour as b
from cardiffmodel.synth.sites import Sites
from cardiffmodel.synth.world import Geography, from_metres, to_metres

RISE_FACTOR = 2.5
STREET_JITTER_M = 60.0
VENUE_JITTER_M = 8.0


@dataclass(frozen=True)
class Period:
    """Days covered, inclusive start and exclusive end, with the rising beat's start."""

    start: date
    end: date
    rise_start: date


def simulate_events(
    geo: Geography, sites: Sites, period: Period, scale: float, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per true assault, with its place, victim and which services recorded it."""
    days = pd.date_range(period.start, period.end, inclusive="left")
    site_index = _draw_sites(sites, days, geo.rising_beat, period.rise_start, scale, rng)
    n = len(site_index[0])
    setting = sites.setting[site_index[0]]
    occurred = (
        days.values[site_index[1]]
        + site_index[2].astype("timedelta64[h]")
        + rng.integers(0, 60, n).astype("timedelta64[m]")
    )
    order = np.argsort(occurred, kind="stable")
    chosen, setting, occurred = site_index[0][order], setting[order], occurred[order]
    lon, lat = _points(geo, sites, chosen, rng)
    events = pd.DataFrame(
        {
            "event_id": [f"T{i + 1:07d}" for i in range(n)],
            "setting": setting,
            "place_index": sites.place[chosen],
            "place_id": [geo.places[i].place_id if i >= 0 else None for i in sites.place[chosen]],
            "home_index": sites.home[chosen],
            "lon": lon,
            "lat": lat,
            "beat": geo.layer.assign(lon, lat),
            "occurred_at": occurred,
        }
    )
    _victims(events, rng)
    _recording(events, rng)
    return events


def _draw_sites(
    sites: Sites,
    days: pd.DatetimeIndex,
    rising: str,
    rise_start: date,
    scale: float,
    rng: np.random.Generator,
):
    """(site, day index, hour) of every event, drawn group by group."""
    profiles = b.time_profiles()
    season = b.seasonality(days.day_of_year.to_numpy())
    dow = days.day_of_week.to_numpy()
    rise = np.where(days.date >= rise_start, RISE_FACTOR, 1.0)
    keys = np.array([f"{s}|{bt}" for s, bt in zip(sites.setting, sites.beat, strict=True)])
    chosen, day_of, hour_of = [], [], []
    for key in sorted(set(keys)):
        members = np.flatnonzero(keys == key)
        setting = sites.setting[members[0]]
        weight = sites.per_year[members]
        daily = weight.sum() * scale / 365.25 * season
        if sites.beat[members[0]] == rising:
            daily = daily * rise
        rate = daily[:, None] * profiles[b.PROFILE_OF[setting]][dow]
        counts = rng.poisson(rate)
        day, hour = np.nonzero(counts)
        repeat = counts[day, hour]
        day_of.append(np.repeat(day, repeat))
        hour_of.append(np.repeat(hour, repeat))
        chosen.append(rng.choice(members, size=int(repeat.sum()), p=weight / weight.sum()))
    return np.concatenate(chosen), np.concatenate(day_of), np.concatenate(hour_of)


def _points(geo: Geography, sites: Sites, chosen: np.ndarray, rng: np.random.Generator):
    """True points: at the venue, somewhere along the street, or a home in the piece."""
    place = sites.place[chosen]
    lon = np.full(len(chosen), np.nan)
    lat = np.full(len(chosen), np.nan)
    named = place >= 0
    lon[named] = [geo.places[i].lon for i in place[named]]
    lat[named] = [geo.places[i].lat for i in place[named]]
    is_street = np.array([geo.places[i].kind == "street" if i >= 0 else False for i in place])
    spread = np.where(is_street, STREET_JITTER_M, VENUE_JITTER_M)[named]
    xy = to_metres(lon[named], lat[named]) + rng.normal(0, 1, (named.sum(), 2)) * spread[:, None]
    moved_lon, moved_lat = from_metres(xy)
    # A nudge must not carry an event over a beat boundary: its beat set its rate.
    stays = geo.layer.assign(moved_lon, moved_lat) == geo.place_beat[place[named]]
    lon[named] = np.where(stays, moved_lon, lon[named])
    lat[named] = np.where(stays, moved_lat, lat[named])
    homes = np.flatnonzero(~named)
    pieces = sites.home[chosen[homes]]
    for piece in np.unique(pieces):
        rows = homes[pieces == piece]
        lon[rows], lat[rows] = _random_points(geo.homes.geometries[piece], len(rows), rng)
    return lon, lat


def _random_points(polygon, n: int, rng: np.random.Generator):
    """Uniform points inside a polygon by rejection from its bounding box."""
    x0, y0, x1, y1 = shapely.bounds(polygon)
    found_x: list[np.ndarray] = []
    found_y: list[np.ndarray] = []
    need = n
    while need > 0:
        tries = max(16, int(need * 3 * (x1 - x0) * (y1 - y0) / max(polygon.area, 1e-12)))
        x, y = rng.uniform(x0, x1, tries), rng.uniform(y0, y1, tries)
        inside = shapely.contains_xy(polygon, x, y)
        found_x.append(x[inside][:need])
        found_y.append(y[inside][:need])
        need -= len(found_x[-1])
    return np.concatenate(found_x), np.concatenate(found_y)


def _pick(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    keys = list(table)
    p = np.array([table[k] for k in keys])
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _by_group(
    events: pd.DataFrame, column: str, groups: np.ndarray, tables: dict, rng: np.random.Generator
) -> None:
    values = np.empty(len(events), dtype=object)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        values[rows] = _pick(rng, tables[group], len(rows))
    events[column] = values


def _victims(events: pd.DataFrame, rng: np.random.Generator) -> None:
    """Location type, weapon, injury and the injured person, all by setting."""
    setting = events["setting"].to_numpy()
    family = np.array([b.FAMILY_OF[s] for s in setting])
    n = len(events)
    _by_group(events, "location_type", setting, b.LOCATION_TYPE, rng)
    _by_group(events, "weapon", setting, b.WEAPON, rng)
    male = rng.random(n) < np.array([b.MALE[s] for s in setting])
    events["sex"] = np.where(male, "male", "female")
    _by_group(events, "age_band", family, b.AGE_BAND, rng)
    ranges = np.array([b.AGE_RANGE[a] for a in events["age_band"]], dtype=int).reshape(-1, 2)
    events["age"] = rng.integers(ranges[:, 0], ranges[:, 1] + 1)
    relation_group = np.where(family == "home", np.where(male, "home_male", "home_female"), family)
    _by_group(events, "relationship", relation_group, b.RELATIONSHIP, rng)
    assailants = np.empty(n, dtype=int)
    for group, shares in b.ASSAILANTS.items():
        rows = np.flatnonzero(family == group)
        assailants[rows] = 1 + rng.choice(len(shares), size=len(rows), p=shares)
    events["assailants"] = assailants
    injury_table = {w: dict(zip(b.INJURY, p, strict=True)) for w, p in b.INJURY_BY_WEAPON.items()}
    _by_group(events, "injury", events["weapon"].to_numpy(), injury_table, rng)


def _recording(events: pd.DataFrame, rng: np.random.Generator) -> None:
    """Which services record each assault, and the ED, arrival and admission of patients."""
    n = len(events)
    injury = events["injury"].to_numpy()
    ambulance = rng.random(n) < np.array([b.P_AMBULANCE[i] for i in injury])
    walk_in = np.array([b.P_ED[i] for i in injury]) * np.array(
        [b.ED_FACTOR.get(s, 1.0) for s in events["setting"]]
    )
    p_ed = np.where(ambulance, b.P_ED_AFTER_AMBULANCE, walk_in)
    ed = rng.random(n) < p_ed
    young_man = (events["sex"].to_numpy() == "male") & events["age"].between(18, 34).to_numpy()
    p_police = (
        b.P_POLICE
        * np.where(young_man, b.POLICE_FACTOR_YOUNG_MAN, 1.0)
        * np.where(events["relationship"] == "stranger", b.POLICE_FACTOR_STRANGER, 1.0)
        * np.array([b.POLICE_FACTOR_INJURY[i] for i in injury])
        * np.where(events["setting"] == "home", b.POLICE_FACTOR_HOME, 1.0)
    )
    events["in_ambulance"] = ambulance
    events["in_ed"] = ed
    events["in_police"] = rng.random(n) < np.minimum(p_police, 0.95)
    events["ed_site"] = _choose_ed(events, injury, rng)
    call_delay = rng.uniform(2, 25, n)
    walk_in = np.exp(rng.normal(np.log(70), 0.7, n))
    next_day = rng.random(n) < 0.08
    walk_in = walk_in + next_day * rng.uniform(8 * 60, 30 * 60, n)
    conveyed = call_delay + rng.uniform(25, 80, n)
    minutes = np.where(ambulance, conveyed, walk_in).round().astype("timedelta64[m]")
    events["call_at"] = events["occurred_at"].to_numpy() + call_delay.round().astype(
        "timedelta64[m]"
    )
    events["arrived_at"] = events["occurred_at"].to_numpy() + minutes
    events["admitted"] = rng.random(n) < np.array([b.P_ADMITTED[i] for i in injury])


def _choose_ed(events: pd.DataFrame, injury: np.ndarray, rng: np.random.Generator):
    """Nearer departments are likelier; the minor injuries unit takes no serious injuries."""
    names = list(b.ED_SITES)
    here = to_metres(events["lon"].to_numpy(), events["lat"].to_numpy())
    weights = []
    for name in names:
        lon, lat, share = b.ED_SITES[name]
        distance_km = np.hypot(*(here - to_metres([lon], [lat])).T) / 1000
        w = share * np.exp(-distance_km / b.ED_DISTANCE_KM)
        if name == "cri":
            w = np.where(injury == "serious", 0.0, w)
        weights.append(w)
    weights = np.column_stack(weights)
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    pick = (rng.random(len(events))[:, None] > cumulative).sum(axis=1)
    return np.asarray(names, dtype=object)[np.minimum(pick, len(names) - 1)]
