"""Labelled messy location texts built from a real gazetteer, for calibration and benchmarks.

No real Emergency Department texts can be shared, so the matcher is calibrated and
measured on texts written the way reception staff write them: real venue and street
names with abbreviations ("St", "Rd", "o/s", "nr"), dropped or doubled letters, keyboard
slips, missing apostrophes, odd case, venue plus street ("Walkabout, St Mary St"), and the
texts that name no place ("pts home", "town", "n/k"). Some venues are held out of the
matcher's gazetteer and still written about, because real texts name places no gazetteer
holds, and a matcher must not pin them on a lookalike.

The generator is the assumption behind every number the calibration and benchmark give:
change its mix and the numbers move. Everything is seeded.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.index import name_variants
from cardiffmodel.places.normalise import key_tokens, normalise

# University Hospital of Wales, Heath Park, Cardiff: the attended site in generated sets.
UHW_SITE = (-3.1900, 51.5070)

KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")

ABBREVIATE = {
    "street": ("st", "st.", "str"),
    "road": ("rd", "rd."),
    "avenue": ("ave", "av"),
    "lane": ("ln",),
    "close": ("cl",),
    "crescent": ("cres",),
    "terrace": ("tce", "terr"),
    "place": ("pl",),
    "saint": ("st", "st."),
    "square": ("sq",),
}
PREFIXES = (
    ("", 10),
    ("o/s ", 5),
    ("outside ", 4),
    ("nr ", 2),
    ("near ", 1),
    ("opp ", 1),
    ("in ", 2),
    ("at ", 1),
    ("inside ", 1),
    ("behind ", 1),
    ("OUTSIDE ", 1),
)
NARRATIVE = (
    " by group of males",
    " after leaving the club",
    " at about 2am",
    " whilst walking home",
    " punched by unknown male",
    ", hit with bottle",
    " - police aware",
)
SEPARATORS = (" on ", ", ", " ", " - ", " in ", " o/s ", "/", " nr ")
HOME_TEXTS = (
    "pts home",
    "pt's home",
    "patients home",
    "Patient's home address",
    "home",
    "at home",
    "own home",
    "HOME ADDRESS",
    "his flat",
    "her house",
    "own flat",
    "pts address",
)
OTHER_HOME_TEXTS = (
    "friends house",
    "friend's flat",
    "partners house",
    "ex partners flat",
    "mates house",
    "someone elses house",
    "boyfriends flat",
    "house party",
    "relatives house",
    "mums house",
)
VAGUE_TEXTS = (
    "town",
    "city centre",
    "in the street",
    "street",
    "park",
    "nightclub",
    "the pub",
    "bus stn",
    "taxi rank",
    "n/k",
    "",
    "unknown",
    "not known",
    "outside shop",
    "car park",
    "club",
    "in town",
    "town centre",
    "at work",
    "school",
    "bus",
    "train station",
    "cardiff",
    "Caerdydd",
    "on a night out",
    "pub",
    "takeaway",
    "shop",
    "field",
    "?",
    "-",
    "N/K",
)
SAME_STREET_M = 1000.0  # a venue's street in the gazetteer must be this near to be its street
VENUE_WEIGHT = {"Pub/bar/nightclub": 6.0, "Takeaway/sandwich shop": 2.0}


@dataclass(frozen=True)
class LabelledText:
    """One generated text and what it names.

    ``truth`` is the place named (None when none: a home, a vague text, a held-out venue
    alone); ``lon``/``lat`` its point; ``accept`` other place ids counted right: the street
    a text names with its venue ("Coffee House, Cowbridge Rd East" placed on Cowbridge Road
    East is what the text says, though the street's point may be far from the venue);
    ``resolvable`` says the text names one place uniquely enough for a careful reader of
    the gazetteer to find it.
    """

    text: str
    truth: str | None
    lon: float | None
    lat: float | None
    accept: tuple[str, ...]
    kind: str
    resolvable: bool


def split_gazetteer(
    places: Sequence[Place], held_out: float, seed: int
) -> tuple[list[Place], list[Place]]:
    """(kept, held out): a seeded share of venues left out of the matcher's gazetteer."""
    rng = random.Random(seed)
    kept, out = [], []
    for place in places:
        (out if place.kind == "venue" and rng.random() < held_out else kept).append(place)
    return kept, out


class _Noise:
    """The slips of fast typing, all drawn from one seeded generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.neighbours = self._neighbours()

    @staticmethod
    def _neighbours() -> dict[str, str]:
        found: dict[str, str] = defaultdict(str)
        for r, row in enumerate(KEYBOARD_ROWS):
            for c, ch in enumerate(row):
                for rr, cc in ((r, c - 1), (r, c + 1), (r - 1, c), (r + 1, c)):
                    if 0 <= rr < len(KEYBOARD_ROWS) and 0 <= cc < len(KEYBOARD_ROWS[rr]):
                        found[ch] += KEYBOARD_ROWS[rr][cc]
        return dict(found)

    def typo(self, word: str) -> str:
        rng = self.rng
        i = rng.randrange(1, len(word) - 1)  # first and last letters are rarely wrong
        kind = rng.choice(("delete", "insert", "substitute", "transpose", "double"))
        if kind == "delete":
            return word[:i] + word[i + 1 :]
        if kind == "transpose":
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind == "double":
            return word[:i] + word[i] + word[i:]
        near = self.neighbours.get(word[i].lower())
        if not near:
            return word
        if kind == "insert":
            return word[:i] + rng.choice(near) + word[i:]
        return word[:i] + rng.choice(near) + word[i + 1 :]

    def words(self, text: str, typo_rate: float) -> str:
        out = []
        typos = 0
        for word in text.split():
            lowered = word.lower().strip(",.")
            if lowered in ABBREVIATE and self.rng.random() < 0.6:
                word = self.rng.choice(ABBREVIATE[lowered])
            elif lowered == "the" and self.rng.random() < 0.5:
                continue
            elif "'" in word and self.rng.random() < 0.5:
                word = word.replace("'", "")
            elif (
                len(word) >= 5 and word.isalpha() and typos < 2 and (self.rng.random() < typo_rate)
            ):
                word = self.typo(word)
                typos += 1
            out.append(word)
        return " ".join(out)

    def case(self, text: str) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return text.lower()
        if roll < 0.65:
            return text.upper()
        return text

    def prefix(self) -> str:
        options, weights = zip(*PREFIXES, strict=True)
        return self.rng.choices(options, weights)[0]


class _Truths:
    """Which clean texts name one place uniquely, judged on the full (unsplit) gazetteer of
    kept places: same-named places closer than 150 m count as one."""

    def __init__(self, kept: Sequence[Place]):
        self.by_name: dict[tuple[str, ...], list[Place]] = defaultdict(list)
        self.by_start: dict[tuple[str, ...], list[Place]] = defaultdict(list)
        for place in kept:
            for variant in name_variants(place):
                self.by_name[variant].append(place)
                for end in range(1, len(variant) + 1):
                    self.by_start[variant[:end]].append(place)

    def unique(
        self, name: str, place: Place, street: str | None = None, partial: bool = False
    ) -> bool:
        """Whether ``name`` (the first words of names, when ``partial``) names ``place``
        alone, or alone on ``street``."""
        tokens = key_tokens(normalise(name))
        same = (self.by_start if partial else self.by_name).get(tokens, [])
        if street is not None:
            street_key = key_tokens(normalise(street))
            same = [
                p for p in same if key_tokens(normalise(p.street))[-len(street_key) :] == street_key
            ]
        far = [p for p in same if _metres(p, place) > 150.0]
        if not far:
            return True
        if place.kind == "street":  # a street far busier than its namesakes is the one meant
            return place.crimes + 1 >= 0.9 * sum(p.crimes + 1 for p in [place, *far])
        return False


def _metres(a: Place, b: Place) -> float:
    mean_lat = math.radians((a.lat + b.lat) / 2)
    return math.hypot((a.lon - b.lon) * math.cos(mean_lat), a.lat - b.lat) * 111_195.0


def _spoken_name(place: Place, rng: random.Random) -> tuple[str, bool]:
    """The name as people say it: the FSA name, without company words and "Cardiff", or
    (for names of three or more words) just the first two words; and whether it is partial."""
    variants = name_variants(place)
    roll = rng.random()
    if len(variants[-1]) >= 3 and roll < 0.15:
        return " ".join(variants[-1][:2]).title(), True
    if len(variants) > 1 and roll < 0.6:
        return " ".join(variants[-1]).title(), False
    return place.name, False


def labelled_texts(
    kept: Sequence[Place],
    held_out: Sequence[Place],
    n: int,
    seed: int,
    typo_rate: float = 0.12,
) -> list[LabelledText]:
    """``n`` labelled texts in a fixed mix: venue (28%), venue with street (20%), street
    (25%), held-out venue alone or with its street (9%), home (8%), someone else's home
    (3%), vague or blank (7%). One venue or street text in 12 trails a few words of story
    ("by group of males")."""
    rng = random.Random(seed)
    noise = _Noise(rng)
    truths = _Truths(kept)
    venues = [p for p in kept if p.kind == "venue"]
    venue_weights = [VENUE_WEIGHT.get(p.category, 1.0) for p in venues]
    streets = [p for p in kept if p.kind == "street"]
    street_weights = [p.crimes + 1.0 for p in streets]
    streets_by_key: dict[tuple[str, ...], list[Place]] = defaultdict(list)
    for street in streets:
        streets_by_key[key_tokens(normalise(street.name))].append(street)
    mix = (
        ("venue", 28),
        ("venue_street", 20),
        ("street", 25),
        ("held_out", 9),
        ("home", 8),
        ("other_home", 3),
        ("vague", 7),
    )
    kinds, weights = zip(*mix, strict=True)
    out: list[LabelledText] = []
    while len(out) < n:
        kind = rng.choices(kinds, weights)[0]
        if kind in ("home", "other_home", "vague"):
            pool = {"home": HOME_TEXTS, "other_home": OTHER_HOME_TEXTS, "vague": VAGUE_TEXTS}
            text = noise.case(rng.choice(pool[kind]))
            out.append(LabelledText(text, None, None, None, (), kind, False))
            continue
        if kind == "street":
            place = rng.choices(streets, street_weights)[0]
            text = noise.prefix() + noise.words(place.name, typo_rate)
            text = noise.case(text + (rng.choice(NARRATIVE) if rng.random() < 0.08 else ""))
            resolvable = truths.unique(place.name, place)
            out.append(
                LabelledText(text, place.place_id, place.lon, place.lat, (), kind, resolvable)
            )
            continue
        if kind == "held_out":
            if not held_out:
                continue
            place = rng.choice(held_out)
            name = noise.words(_spoken_name(place, rng)[0], typo_rate)
            street = _street_place(place, streets_by_key)
            if street is not None and rng.random() < 0.5:
                text = noise.case(
                    noise.prefix()
                    + name
                    + rng.choice(SEPARATORS)
                    + noise.words(street.name, typo_rate)
                )
                accept: tuple[str, ...] = (street.place_id,)
            else:
                text, accept = noise.case(noise.prefix() + name), ()
            out.append(LabelledText(text, None, place.lon, place.lat, accept, kind, False))
            continue
        place = rng.choices(venues, venue_weights)[0]
        spoken, partial = _spoken_name(place, rng)
        street_name = _address_street(place, streets_by_key)
        if kind == "venue_street" and street_name:
            text = (
                noise.prefix()
                + noise.words(spoken, typo_rate)
                + rng.choice(SEPARATORS)
                + noise.words(street_name, typo_rate)
            )
            resolvable = truths.unique(spoken, place, street_name, partial)
            street = _street_place(place, streets_by_key)
            accept = (street.place_id,) if street is not None else ()
        else:
            kind, accept = "venue", ()
            text = noise.prefix() + noise.words(spoken, typo_rate)
            if place.licensed and rng.random() < 0.2:
                text += rng.choice((" pub", " bar", " club", " nightclub"))
            resolvable = truths.unique(spoken, place, partial=partial)
        if rng.random() < 0.08:
            text += rng.choice(NARRATIVE)
        out.append(
            LabelledText(
                noise.case(text), place.place_id, place.lon, place.lat, accept, kind, resolvable
            )
        )
    return out


def _street_place(venue: Place, streets_by_key: dict[tuple[str, ...], list[Place]]) -> Place | None:
    """The gazetteer street a venue stands on: the longest ending of its address that names
    a street, taking the same-named street nearest the venue, if within ``SAME_STREET_M``."""
    tokens = key_tokens(normalise(venue.street))
    for i in range(len(tokens)):
        found = streets_by_key.get(tokens[i:])
        if found:
            nearest = min(found, key=lambda s: _metres(s, venue))
            return nearest if _metres(nearest, venue) <= SAME_STREET_M else None
    return None


def _address_street(venue: Place, streets_by_key: dict[tuple[str, ...], list[Place]]) -> str:
    """The street name a venue's address gives, as staff would write it: the longest
    ending naming a known street, or "" when none does."""
    words = venue.street.split()
    for i in range(len(words)):
        if key_tokens(normalise(" ".join(words[i:]))) in streets_by_key:
            return " ".join(words[i:])
    return ""
