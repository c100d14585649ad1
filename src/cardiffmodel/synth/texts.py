"""ED free-text locations written the way reception staff write them.

A venue becomes "o/s Walkabout St Marys St", "nr walkabout", "WALKABOUT" or "Revolution on
St Mary St"; a street becomes "Queen St"; a home becomes "pts home"; some texts are vague
("town"), some blank, some misspelt by one letter, and a few carry personal identifiers
(a name, a phone number, a home postcode or address, an NHS number) that ingest must strip.
Every text reports which gazetteer place it names, if any, and the noise applied, so tests
can measure the matcher against the truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.synth import identity

STREET_ABBREVIATIONS = {
    "Street": "St",
    "Road": "Rd",
    "Avenue": "Ave",
    "Lane": "Ln",
    "Place": "Pl",
    "Crescent": "Cres",
    "Terrace": "Terr",
    "Square": "Sq",
    "Close": "Cl",
    "Drive": "Dr",
}
VENUE_PREPOSITIONS = ("o/s", "outside", "nr", "opp", "in", "inside", "at", "outside of")
VAGUE_TOWN = ("town", "town centre", "city centre", "in town", "cardiff", "city center")
UNKNOWN = ("unknown", "not known", "N/K", "?", "cant remember", "pt unsure", "unk")
STREET_VAGUE = (
    "in the street",
    "street",
    "on the street",
    "walking home",
    "outside",
    "in an alley",
    "park",
)
OWN_HOME = (
    "pts home",
    "pt's home",
    "pt\u2019s home",
    "Patient's home",
    "home address",
    "HOME",
    "own home",
    "at home",
    "home",
    "patients house",
    "pts flat",
)
OTHER_HOME = (
    "friends house",
    "friend's flat",
    "partners house",
    "mums house",
    "ex partners address",
    "house party",
    "someone elses house",
    "neighbours house",
)
TRANSPORT = (
    "bus stn",
    "bus station",
    "train station",
    "Central station",
    "Queen St stn",
    "on bus",
    "on the train",
    "taxi rank",
)
WORK = ("work", "at work", "school", "college", "workplace", "at school")
GENERIC_VENUE = {
    "licensed": ("pub", "nightclub", "a bar in town", "outside club", "club"),
    "venue_other": ("takeaway", "kebab shop", "shop", "chip shop", "restaurant"),
}
KEYBOARD_NEIGHBOURS = {
    "a": "sq",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "u": "yi",
    "n": "bm",
    "s": "ad",
    "t": "ry",
    "r": "et",
    "l": "k",
    "m": "n",
    "c": "xv",
    "d": "sf",
    "h": "gj",
}


@dataclass(frozen=True)
class Style:
    """How one department's reception staff write: capitals, blanks and care."""

    upper: float
    lower: float
    blank: float
    typo: float = 0.10
    identifiers: float = 0.05


@dataclass(frozen=True)
class Scene:
    """What reception staff could know about where the assault happened."""

    setting: str
    location_type: str
    place: Place | None  # venue or street of the event (None at home)
    street: Place | None  # the gazetteer street the place stands on
    nearby: Place | None  # a named venue near a street event
    area_name: str | None  # the beat's name, for "a house in Splott"
    sector: str  # postcode sector of the home


@dataclass(frozen=True)
class LocationText:
    text: str
    place_id: str | None  # the gazetteer place the text names, if any
    noise: tuple[str, ...]
    identifiers: tuple[str, ...]


class _Writer:
    """Builds one text; holds the seeded generator and the noise it has applied."""

    def __init__(self, rng: np.random.Generator, style: Style):
        self.rng = rng
        self.style = style
        self.noise: list[str] = []

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def one(self, options) -> str:
        return options[int(self.rng.integers(len(options)))]

    def venue(self, place: Place) -> str:
        name = place.name
        short = re.sub(r"\s+(Ltd|Limited|Plc|Cardiff)$", "", name, flags=re.IGNORECASE)
        short = re.sub(r"\s*\([^)]*\)", "", short).strip()
        if short != name:
            self.noise.append("short_name")
            name = short
        if name.lower().startswith("the ") and self.chance(0.6):
            name = name[4:]
            self.noise.append("drop_the")
        if "&" in name and self.chance(0.5):
            name = name.replace("&", "and")
            self.noise.append("ampersand")
        elif " and " in name.lower() and self.chance(0.4):
            name = re.sub(r"\band\b", "&", name, flags=re.IGNORECASE)
            self.noise.append("ampersand")
        if "'" in name and self.chance(0.5):
            name = name.replace("'", "")
            self.noise.append("apostrophe")
        return self.typo(name)

    def street(self, place: Place) -> str:
        name = place.name
        words = name.split()
        if words and words[-1] in STREET_ABBREVIATIONS and self.chance(0.5):
            words[-1] = STREET_ABBREVIATIONS[words[-1]]
            self.noise.append("abbreviation")
            if words[0] == "St" and len(words) == 3 and self.chance(0.5):
                words[1] += "s"  # "St Mary Street" -> "St Marys St"
                self.noise.append("possessive")
        return self.typo(" ".join(words))

    def typo(self, text: str) -> str:
        """One slip of the keyboard in one longer word, some of the time."""
        words = text.split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if not long_words or not self.chance(self.style.typo):
            return text
        i = long_words[int(self.rng.integers(len(long_words)))]
        word = words[i]
        at = int(self.rng.integers(1, len(word) - 1))
        kind = int(self.rng.integers(4))
        if kind == 0:  # dropped letter
            word = word[:at] + word[at + 1 :]
        elif kind == 1:  # doubled letter
            word = word[:at] + word[at] + word[at:]
        elif kind == 2:  # swapped letters
            word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
        else:  # neighbouring key
            near = KEYBOARD_NEIGHBOURS.get(word[at].lower(), "e")
            word = word[:at] + near[int(self.rng.integers(len(near)))] + word[at + 1 :]
        words[i] = word
        self.noise.append("typo")
        return " ".join(words)

    def case(self, text: str) -> str:
        roll = self.rng.random()
        if roll < self.style.upper:
            self.noise.append("upper")
            return text.upper()
        if roll < self.style.upper + self.style.lower:
            self.noise.append("lower")
            return text.lower()
        return text


def location_text(rng: np.random.Generator, scene: Scene, style: Style) -> LocationText:
    """The free-text location one receptionist might type for this assault."""
    writer = _Writer(rng, style)
    if writer.chance(style.blank):
        return LocationText("", None, ("blank",), ())
    text, place_id = _describe(writer, scene)
    if place_id is None and "vague" not in writer.noise and scene.setting != "home":
        writer.noise.append("generic")
    text = writer.case(text)
    text, identifiers = _plant_identifiers(writer, scene, text)
    return LocationText(text, place_id, tuple(writer.noise), identifiers)


def _describe(w: _Writer, scene: Scene) -> tuple[str, str | None]:
    """The words for the place, and the gazetteer place they name (None if none)."""
    place = scene.place
    if scene.setting == "home":
        return _home(w, scene), None
    if scene.setting == "transport":
        if place is not None and w.chance(0.3):
            where = w.one(("bus stop", "bus stop on", "taxi rank"))
            return f"{where} {w.street(place)}", place.place_id
        return w.one(TRANSPORT), None
    if scene.setting == "school_work":
        if place is not None and w.chance(0.4):
            return w.one(("{}", "at {}", "works at {}")).format(w.venue(place)), place.place_id
        return w.one(WORK), None
    if place is not None and place.kind == "venue":
        return _venue(w, place, scene.street, scene.setting)
    return _street(w, scene)


def _venue(w: _Writer, place: Place, street: Place | None, setting: str) -> tuple[str, str | None]:
    roll = w.rng.random()
    if roll < 0.30:
        return w.venue(place), place.place_id
    if roll < 0.55:
        return f"{w.one(VENUE_PREPOSITIONS)} {w.venue(place)}", place.place_id
    if roll < 0.72 and street is not None:
        joiner = w.one((" on ", ", ", " ", " / ", " in "))
        prefix = w.one(("", "", "o/s ", "nr "))
        return f"{prefix}{w.venue(place)}{joiner}{w.street(street)}", place.place_id
    if roll < 0.80 and street is not None:
        w.noise.append("street_only")
        return w.street(street), street.place_id
    if roll < 0.88:
        return w.one(GENERIC_VENUE.get(setting, ("shop",))), None
    w.noise.append("vague")
    return w.one(VAGUE_TOWN + UNKNOWN), None


def _street(w: _Writer, scene: Scene) -> tuple[str, str | None]:
    place, nearby = scene.place, scene.nearby
    roll = w.rng.random()
    if place is not None and roll < 0.55:
        return w.street(place), place.place_id
    if place is not None and roll < 0.65:
        template = w.one(
            (
                "lane behind {}",
                "alley off {}",
                "outside shop on {}",
                "{} nr shops",
                "top of {}",
                "bottom of {}",
            )
        )
        return template.format(w.street(place)), place.place_id
    if nearby is not None and roll < 0.75:
        return f"{w.one(('o/s', 'outside', 'nr', 'opp'))} {w.venue(nearby)}", nearby.place_id
    w.noise.append("vague")
    if scene.setting == "nte_street" and w.chance(0.5):
        return w.one(VAGUE_TOWN), None
    return w.one(STREET_VAGUE + UNKNOWN), None


def _home(w: _Writer, scene: Scene) -> str:
    if scene.location_type == "home":
        return w.one(OWN_HOME)
    if scene.area_name and w.chance(0.2):
        return f"{w.one(('a house in', 'house party in', 'friends house in'))} {scene.area_name}"
    return w.one(OTHER_HOME)


def _plant_identifiers(w: _Writer, scene: Scene, text: str) -> tuple[str, tuple[str, ...]]:
    """Now and then a receptionist types something that identifies someone."""
    if not w.chance(w.style.identifiers):
        return text, ()
    kinds = ["name", "phone", "nhs_number"]
    if scene.setting == "home":
        kinds += ["postcode", "postcode"] + (["address"] if scene.street else [])
    kind = w.one(kinds)
    rng = w.rng
    if kind == "name":
        assailant = identity.full_name(rng, "male" if w.chance(0.8) else "female")
        template = w.one(("assaulted by {n} {t}", "{t} - assailant {n}", "{t} (ex partner {n})"))
        return template.format(n=assailant, t=text), (kind,)
    if kind == "phone":
        label = w.one(("pt tel", "contact", "mob", "tel:"))
        return f"{text} {label} {identity.phone_number(rng)}", (kind,)
    if kind == "nhs_number":
        number = identity.nhs_number(rng)
        shown = identity.spaced_nhs(number) if w.chance(0.5) else number
        return f"{text} NHS {shown}", (kind,)
    code = identity.postcode(rng, scene.sector)
    if kind == "postcode" or scene.street is None:
        return f"{text} {code}", ("postcode",)
    number = int(rng.integers(1, 180))
    return f"{text} {number} {scene.street.name} {code}", ("address", "postcode")
