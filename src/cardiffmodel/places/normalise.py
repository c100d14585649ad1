"""Free-text location cleaning: one canonical spelling, matching keys, and the kind of place.

Emergency Department reception staff type locations fast ("o/s Walkabout St Marys St",
"pts home", "bus stn"). Everything that compares such text with gazetteer names goes
through the same functions here, applied to both sides, so that a spelling choice made
here (say, dropping a plural "s") can never make a text and its place disagree.

Canonical choices, documented because other modules rely on them:

* ``normalise`` keeps every word, lower-cased and ASCII-folded (Welsh ``ŵ``/``ŷ``/``â``
  become ``w``/``y``/``a``), apostrophes dropped ("Mary's" -> "marys"), other punctuation a
  space, abbreviations expanded. "St" means *saint* before a saint's name or at the start
  of the text, and *street* elsewhere: "St Marys St" -> "saint marys street".
* ``key_tokens`` drops filler ("outside", "near", "the", ...) and a final plural or
  possessive "s" on words of four letters or more, so that "St Mary Street",
  "St Marys St" and "st. mary's street" all become ``saint mary street``.
* ``location_type`` reads the words only; the matcher refines it with the matched place
  (a matched licensed venue makes the location ``licensed_premises``). Parks, car parks,
  "town" and "city centre" count as ``street`` (the ISTV "street or other public place").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

# Word lists are kept compact, a few words a line, for reading.
# fmt: off
# Abbreviations that mean one thing wherever they appear.
ABBREVIATIONS = {
    "rd": "road", "str": "street", "strt": "street", "ave": "avenue", "av": "avenue",
    "avn": "avenue", "ln": "lane", "cl": "close", "cres": "crescent", "cresc": "crescent",
    "sq": "square", "pl": "place", "tce": "terrace", "terr": "terrace", "ter": "terrace",
    "dr": "drive", "ct": "court", "gdns": "gardens", "gdn": "garden", "gro": "grove",
    "pde": "parade", "hwy": "highway", "pk": "park", "mkt": "market", "ctr": "centre",
    "cntr": "centre", "cent": "centre", "center": "centre", "nr": "near", "opp": "opposite",
    "opps": "opposite", "oppo": "opposite", "bhd": "behind", "nxt": "next", "btwn": "between",
    "stn": "station", "rly": "railway", "pts": "patients", "pt": "patient", "pat": "patient",
    "uni": "university", "coll": "college", "sch": "school", "hosp": "hospital", "twn": "town",
    "n/c": "nightclub", "caerdydd": "cardiff", "sant": "saint", "macdonalds": "mcdonalds"
}

# Written with a slash or dot, so expanded before punctuation is removed.
SLASHED = {
    "o/s": "outside",
    "o.s": "outside",
    "o/side": "outside",
    "n/k": "not known",
    "u/k": "unknown",
    "b/w": "between",
    "f/o": "front of",
    "r/o": "rear of",
    "c/o": "care of",
}

STREET_TYPES = frozenset(
    {
        "arcade", "avenue", "bridge", "cilgant", "clos", "close", "court", "crescent", "drive",
        "ffordd", "garden", "gardens", "green", "grove", "heol", "highway", "hill", "lane",
        "llys", "lon", "mews", "parade", "place", "precinct", "rhodfa", "rise", "road", "row",
        "square", "street", "stryd", "teras", "terrace", "view", "walk", "way"
    }
)

# Saints whose names follow "St" in Welsh and English place names; "St" before one of these
# is "saint" even in the middle of a text ("o/s Walkabout St Marys St").
SAINTS = frozenset(
    {
        "agnes", "alban", "andrew", "ann", "anne", "anthony", "athan", "augustine", "barnabas",
        "benedict", "bride", "brigid", "cadoc", "catherine", "cennydd", "clare", "cuthbert",
        "cyres", "david", "denys", "dyfrig", "edeyrn", "edmund", "edward", "fagan", "francis",
        "george", "giles", "helen", "hilary", "illtyd", "isan", "james", "john", "joseph",
        "julian", "lawrence", "leonard", "luke", "margaret", "mark", "martin", "mary", "matthew",
        "mellon", "michael", "monica", "nicholas", "patrick", "paul", "peter", "philip",
        "stephen", "teilo", "theodore", "thomas", "tydfil", "vincent", "winifred", "woolo"
    }
)

# Words that say where relative to a place, or join words, but name nothing.
FILLER = frozenset(
    {
        "a", "about", "adjacent", "after", "alcohol", "am", "ambulance", "an", "and", "approx",
        "area", "argument", "around", "as", "assault", "assaulted", "at", "attacked", "aware",
        "been", "before", "behind", "being", "beside", "between", "bottle", "bottom", "boy",
        "boys", "brought", "by", "did", "drinking", "drunk", "during", "female", "females",
        "fight", "fighting", "for", "friend", "friends", "from", "front", "get", "girl", "girls",
        "glass", "going", "got", "group", "had", "has", "have", "he", "her", "here", "him", "his",
        "hit", "home", "in", "infront", "injured", "injury", "inside", "into", "it", "its", "jct",
        "junction", "just", "kicked", "knife", "lad", "lads", "leaving", "left", "loc", "male",
        "males", "man", "mate", "mates", "men", "near", "nearby", "next", "night", "no", "nos",
        "not", "number", "of", "off", "on", "onto", "opposite", "out", "outiside", "outside",
        "people", "person", "pm", "police", "punched", "rear", "round", "she", "side", "stabbed",
        "the", "them", "then", "there", "they", "to", "unknown", "vicinity", "walking", "was",
        "weapon", "went", "were", "when", "while", "whilst", "who", "with", "woman", "women", "y",
        "yr",
        # what the privacy scrub leaves around an identifier it removed ("ex partner
        # [removed]", "NHS [removed]", "contact [removed]")
        "assailant", "attacker", "called", "contact", "dob", "ex", "miss", "mob", "mobile", "mr",
        "mrs", "ms", "named", "nhs", "partner", "phone", "removed", "suspect", "tel"
    }
)

# Words kept in the text that never identify a place on their own.
GENERIC = frozenset(
    {
        "alley", "avenue", "bar", "beach", "bus", "cafe", "car", "cardiff", "centre", "city",
        "club", "corner", "field", "flat", "garage", "hotel", "house", "lane", "nightclub",
        "outside", "park", "party", "pavement", "place", "playground", "pub", "public", "rank",
        "restaurant", "road", "school", "shop", "shops", "square", "station", "stop", "street",
        "takeaway", "taxi", "town", "train", "uk", "wales", "work"
    }
)
# fmt: on

_POSTCODE = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})\b")
_SECTOR = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)\s+(\d)\b", re.IGNORECASE)
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"\d+(?:[a-z]|am|pm|hrs)?")  # house numbers, "12a", times
_SLASHED = re.compile(
    r"(?<![a-z0-9])("
    + "|".join(re.escape(k) for k in sorted(SLASHED, key=len, reverse=True))
    + r")(?![a-z0-9])"
)


def _fold(text: str) -> str:
    """Lower-case and strip accents so Welsh circumflexes and typed variants compare equal."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_saint(previous: str | None, following: str | None) -> bool:
    """Whether an "st" token means saint: before a saint's name, or opening the text."""
    if following is None:
        return False
    name = following[:-1] if following.endswith("s") and len(following) > 3 else following
    if name in SAINTS or following in SAINTS:
        return True
    return previous is None and following not in STREET_TYPES and following not in FILLER


def normalise(text: str | None) -> str:
    """The canonical spelling of a location text: lower case, ASCII, words expanded.

    >>> normalise("o/s Walkabout St Marys St")
    'outside walkabout saint marys street'
    """
    if not text:
        return ""
    folded = _APOSTROPHES.sub("", _fold(text))
    folded = _SLASHED.sub(lambda m: " " + SLASHED[m.group(1)] + " ", folded)
    folded = folded.replace("&", " and ").replace("@", " at ").replace("+", " and ")
    tokens = _NON_WORD.sub(" ", folded).split()
    out = []
    for i, token in enumerate(tokens):
        if token == "st":
            previous = out[-1] if out else None
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            out.append("saint" if _is_saint(previous, following) else "street")
        else:
            out.append(ABBREVIATIONS.get(token, token))
    return " ".join(out)


def stem(token: str) -> str:
    """Drop a plural or possessive "s" ("tescos", "marys"), the commonest spelling drift."""
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def key_tokens(normalised: str) -> tuple[str, ...]:
    """Matching tokens of an already normalised text: no filler, stemmed. Numbers stay
    (they are part of names like "Bar 33"); the matcher gives house numbers no weight."""
    return tuple(stem(t) for t in normalised.split() if t not in FILLER)


def is_number(token: str) -> bool:
    """A house or unit number ("12", "3a")."""
    return bool(_DIGITS.fullmatch(token))


def match_key(text: str | None) -> str:
    """The key that compares a text with gazetteer names ("St Marys St" -> "saint mary street")."""
    return " ".join(key_tokens(normalise(text)))


def extract_postcode(text: str | None) -> tuple[str, str]:
    """Split a full UK postcode out of a text, lower-cased: ("o/s 12 x rd", "CF10 1FA"), or
    (text, "") when there is none."""
    if not text:
        return "", ""
    lowered = _fold(text)
    found = _POSTCODE.search(lowered)
    if found is None:
        return lowered, ""
    rest = lowered[: found.start()] + " " + lowered[found.end() :]
    return rest.strip(), f"{found.group(1)} {found.group(2)}".upper()


def extract_sector(text: str, districts: Collection[str]) -> tuple[str, str]:
    """Split a postcode sector ("CF24 3", what the privacy scrub leaves of a full postcode)
    out of a text: ("pts home", "CF24 3"), or (text, "") when there is none. Only outward
    codes in ``districts`` count, so "A48 2" (a road and a number) is not taken for one."""
    for found in _SECTOR.finditer(text):
        district = found.group(1).upper()
        if district in districts:
            rest = text[: found.start()] + " " + text[found.end() :]
            return rest.strip(), f"{district} {found.group(2)}"
    return text, ""


# ---- location type -------------------------------------------------------------------

# fmt: off
_UNKNOWN_TEXTS = frozenset(
    {
        "", "cannot remember", "cant remember", "declined", "do not know", "dont know", "n a",
        "n k", "na", "nk", "no details", "none", "not given", "not known", "not recorded",
        "not stated", "not sure", "other", "refused", "tbc", "unk", "unknown", "unsure",
        "does not know", "doesnt know", "cant recall", "dont remember", "not said"
    }
)
_WHO_DOES_NOT_KNOW = re.compile(r"^(?:patients?|victims?) ")  # "pt unsure", "patient n/k"
_DWELLINGS = frozenset(
    {
        "addr", "address", "bedsit", "bungalow", "flat", "home", "house", "property", "residence",
        "room"
    }
)
_OWN = frozenset({"patients", "patient", "own", "his", "her", "their", "my", "pt", "victims"})
_OTHERS = frozenset(
    {
        "acquaintances", "assailants", "aunts", "boyfriends", "brothers", "carers", "cousins",
        "dads", "daughters", "else", "elses", "ex", "exs", "fathers", "friend", "friends",
        "girlfriends", "grandparents", "husbands", "mate", "mates", "mothers", "mum", "mums",
        "nans", "neighbour", "neighbours", "offenders", "parents", "partner", "partners",
        "relative", "relatives", "sisters", "somebody", "somebodys", "someone", "someones",
        "sons", "strangers", "uncles", "wifes"
    }
)
# "walking home", "on the way home": a journey, not a dwelling.
_JOURNEY = frozenset({"walking", "way", "going", "travelling", "heading", "driving", "cycling"})
_SOMEBODYS = frozenset({"a", "private", "some", "another", "residential"})
# Institutions called homes: places with an address, not somebody's dwelling.
_INSTITUTION = frozenset(
    {
        "care", "cheshire", "childrens", "community", "funeral", "group", "nursin", "nursing",
        "nurssing", "residential", "rest", "retirement"
    }
)
# "Home" that does not mean a dwelling: brand names and institutions.
_HOME_NOT_DWELLING = frozenset(
    {
        "bargains", "base", "care", "depot", "guard", "office", "sense", "store", "stores"
    }
)
_TRANSPORT = frozenset(
    {
        "airport", "bus", "buses", "cab", "coach", "ferry", "interchange", "platform", "railway",
        "rank", "station", "taxi", "taxis", "train", "trains"
    }
)
_NOT_TRANSPORT_BEFORE_STATION = frozenset(
    {
        "ambulance", "filling", "fire", "petrol", "police", "power", "pumping", "service"
    }
)
_LICENSED = frozenset(
    {
        "bar", "bouncer", "bouncers", "brewery", "club", "disco", "doorman", "doormen", "inn",
        "lounge", "nightclub", "pub", "spoons", "tavern", "wetherspoons"
    }
)
_NOT_LICENSED_BEFORE = frozenset(
    {
        "book", "breakfast", "chocolate", "coffee", "fish", "juice", "kebab", "nail", "salad",
        "sandwich", "school", "snack", "youth"
    }
)
_SCHOOL_WORK = frozenset(
    {
        "academy", "campus", "college", "comprehensive", "factory", "job", "nursery", "office",
        "school", "university", "warehouse", "work", "workplace"
    }
)
# Street types that make a text a street name (others, like "view" or "green", are as
# often part of a venue's name).
_STREET_WORDS = frozenset(
    {
        "avenue", "close", "court", "crescent", "drive", "ffordd", "gardens", "grove", "heol",
        "highway", "lane", "mews", "parade", "place", "road", "row", "square", "street", "stryd",
        "terrace", "walk", "way"
    }
)
_PUBLIC = frozenset(
    {
        "alley", "alleyway", "bay", "beach", "bridge", "carpark", "centre", "common", "field",
        "fields", "footpath", "lane", "marina", "outside", "park", "path", "pavement",
        "playground", "precinct", "promenade", "subway", "town", "underpass", "woods"
    }
)

# fmt: on


def _dwelling_type(tokens: list[str]) -> str | None:
    """home / other_home from a dwelling word and whose it is; None when no dwelling is named.

    A bare "home" is a dwelling at the end of the text, before an address word, or after
    "at"/"in"/"from"; before other words it is usually a shop's name ("Home Bargains").
    """
    for i, token in enumerate(tokens):
        if token not in _DWELLINGS:
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        before = tokens[max(0, i - 3) : i]
        previous = before[-1] if before else None
        if token == "home" and (
            following in _HOME_NOT_DWELLING or previous in _JOURNEY or previous in _INSTITUTION
        ):
            continue
        if any(b in _OTHERS for b in before) or following == "party":
            return "other_home"
        if any(b in _OWN for b in before):
            return "home"
        if token == "home" and (
            following is None or following in _DWELLINGS or previous in {"at", "in", "from"}
        ):
            return "home"
        if previous in _SOMEBODYS:
            # "a house on X Road", "private address": a home, not said to be theirs
            return "other_home"
    return None


def location_type(text: str | None) -> str:
    """The ISTV kind of place the words describe (see ``schema.LOCATION_TYPES``).

    Order matters: a home beats a street name in the same text ("pts home, Queen St"),
    transport and licensed premises beat the street they are on.
    """
    return type_of_normalised(normalise(text))


def type_of_normalised(normalised: str) -> str:
    """``location_type`` of a text already passed through ``normalise``."""
    if normalised in _UNKNOWN_TEXTS or _WHO_DOES_NOT_KNOW.sub("", normalised) in _UNKNOWN_TEXTS:
        return "unknown"
    tokens = normalised.split()
    dwelling = _dwelling_type(tokens)
    if dwelling is not None:
        return dwelling
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else ""
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _TRANSPORT and following not in STREET_TYPES:
            if token == "station" and previous in _NOT_TRANSPORT_BEFORE_STATION:
                continue
            return "transport"
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else ""
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (
            token in _LICENSED
            and previous not in _NOT_LICENSED_BEFORE
            and following not in STREET_TYPES
        ):
            return "licensed_premises"
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else ""
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _SCHOOL_WORK and following not in STREET_TYPES and previous != "post":
            return "school_work"
    if any(t in _STREET_WORDS or t in _PUBLIC for t in tokens):
        return "street"
    return "other"
