"""Sites: the places of the city with how many assaults a year each would see at scale 1.

A site is a gazetteer place (a pub, a takeaway, a street, a school) in one *setting*, or a
residential piece of an LSOA for violence at home. Weights combine real signals (how many
licensed venues are near a street, how much violence police.uk recorded on it, residents
and deprivation) with seeded venue-to-venue variation, so a few premises are problem
premises, as in every real city, and the planted hotspot beats are clearly worse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiffmodel.synth.world import (
    HOTSPOT_FACTOR,
    HOTSPOT_HOME_FACTOR,
    OTHER_VENUE_WEIGHTS,
    OUTSIDE_FACTOR,
    SETTING_PER_YEAR,
    WORK_VENUE_WEIGHTS,
    Geography,
)


@dataclass(frozen=True)
class Sites:
    """One row per (site, setting); ``place`` or ``home`` says which table the site is in."""

    setting: np.ndarray  # setting name
    place: np.ndarray  # gazetteer index, -1 for home pieces
    home: np.ndarray  # home-piece index, -1 for places
    beat: np.ndarray  # beat code of the site, None outside every beat
    per_year: np.ndarray  # expected assaults a year at scale 1


def build_sites(geo: Geography, rng: np.random.Generator) -> Sites:
    """Every site in every setting, weighted to the setting's yearly total."""
    kind = np.array([p.kind for p in geo.places])
    category = np.array([p.category for p in geo.places])
    licensed = np.array([p.licensed for p in geo.places])
    street = kind == "street"
    police_violence = 1.0 + geo.street_violence
    centrality = geo.near_licensed + 0.5 * geo.near_takeaways
    problem = rng.gamma(1.0, 1.0, len(geo.places))  # a few venues see much more violence
    raw = {
        "licensed": (licensed, problem * (1.0 + 0.1 * geo.near_licensed)),
        "nte_street": (street & (geo.near_licensed > 0), centrality * police_violence),
        "street": (street & (geo.near_licensed == 0), police_violence),
        "venue_other": (
            np.isin(category, list(OTHER_VENUE_WEIGHTS)),
            problem * _lookup(category, OTHER_VENUE_WEIGHTS),
        ),
        "school_work": (
            np.isin(category, list(WORK_VENUE_WEIGHTS)),
            _lookup(category, WORK_VENUE_WEIGHTS),
        ),
        "transport": (street, 1.0 + centrality),
    }
    parts = []
    for setting, (mask, weight) in raw.items():
        index = np.flatnonzero(mask)
        beats = geo.place_beat[index]
        w = weight[index] * _beat_factor(beats, geo.hotspot_beats, HOTSPOT_FACTOR)
        parts.append((setting, index, np.full(len(index), -1), beats, w))
    homes = geo.homes
    home_weight = (
        homes.residents
        * (2.2 - 0.15 * homes.deprivation)
        * _beat_factor(homes.beat, geo.hotspot_beats, HOTSPOT_HOME_FACTOR)
    )
    parts.append(
        ("home", np.full(len(homes.beat), -1), np.arange(len(homes.beat)), homes.beat, home_weight)
    )
    return Sites(
        setting=np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts]),
        place=np.concatenate([p[1] for p in parts]),
        home=np.concatenate([p[2] for p in parts]),
        beat=np.concatenate([p[3] for p in parts]),
        per_year=np.concatenate([p[4] / p[4].sum() * SETTING_PER_YEAR[p[0]] for p in parts]),
    )


def _lookup(values: np.ndarray, table: dict[str, float]) -> np.ndarray:
    return np.array([table.get(v, 0.0) for v in values])


def _beat_factor(beats: np.ndarray, hotspots: tuple[str, ...], factor: float) -> np.ndarray:
    inside = np.array([b is not None for b in beats])
    hot = np.isin(beats.astype(str), list(hotspots))
    return np.where(hot, factor, np.where(inside, 1.0, OUTSIDE_FACTOR))
