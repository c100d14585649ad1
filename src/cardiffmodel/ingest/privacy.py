"""The privacy boundary: direct identifiers are removed from free text before it is stored.

Reception staff sometimes type more than the place ("assaulted by John Smith at home,
07700 900461"). Columns that hold identifiers (name, NHS number, date of birth) are never
read, because only mapped columns cross the boundary; this module cleans what remains in
the free text. It counts what it removed, by kind, and never keeps the values.

The text is normalised first (Unicode NFKC, invisible characters dropped, every run of
white space one space), so that what is checked is exactly what is stored. Then, in order:

1. e-mail addresses, written plainly or spelt out ("jo at gmail dot com");
2. dates after a cue ("dob", "d.o.b.", "born", "date of birth", "dyddiad geni") in any
   common form, counted as ``date_of_birth``, and any other full date;
3. phone numbers, found by Google's libphonenumber (``phonenumbers``) in any UK spelling,
   then every run of nine or more digits however it is grouped or separated: ten digits
   are an NHS number when they pass the modulus-11 check and are removed all the same
   when they do not;
4. the unit of full postcodes in any spacing (``CF62-4FX`` -> ``CF62 4``: the sector is a
   few thousand households);
5. house and flat numbers before a street name, English ("12 Clifton Street") or Welsh
   ("14 Heol y Nant", "3 Clos Hafod"), but never counts, ages, times or bus routes
   ("3 males on St Mary Street", "bus 61 on Cowbridge Road East");
6. people's names, found with given-name and surname lists (about 50,000 given names,
   88,000 surnames, Welsh names with their accents) scored with context: a given name
   before a surname, a word that introduces a person ("my mate", "bf", "partner", "Mr",
   "assaulted by"), brackets, a possessive home ("Sioned's flat"), or a given name that
   is not also an ordinary word. Lower case is no hiding place.

Places are kept: a phrase that is a known venue or street (the FSA food hygiene and
data.police.uk names of South Wales shipped in ``privacy_data``, and well-known venues),
words before a street or venue word ("Caroline Street", "Lewis Arms") or after a Welsh
one ("Heol y Frenhines"), and the location-type codes ("Other's home") are never taken
for a name. Work is linear in the text's length.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import phonenumbers

REDACTED = "[removed]"
# Longest text scrubbed as a whole; a longer one (which validation quarantines) is cut
# first, so that no text can hold the scrubber for long.
MAX_SCRUB_CHARS = 100_000


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---- normalisation -------------------------------------------------------------------

_ANY_DIGIT = re.compile(r"\d")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """The text as it is checked and stored: NFKC (full-width digits become digits,
    non-breaking spaces spaces), invisible characters gone, control characters and runs
    of white space one space."""
    if text.isascii() and text.isprintable():
        return _SPACES.sub(" ", text).strip() if "  " in text else text.strip()
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return _SPACES.sub(" ", text).strip()


# ---- structured identifiers ----------------------------------------------------------

_TLD = r"(?:com|net|org|co|uk|wales|cymru|ac|gov|nhs|edu|io|me|info|biz|ie|eu|de|fr|pl)"
_EMAIL = re.compile(r"[\w.+'-]+\s?@\s?[\w-]+(?:\s?\.\s?[\w-]+)+", re.IGNORECASE)
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\s?\.\s?)"
_SPELT_EMAIL = re.compile(
    rf"[\w+'-]+(?:{_DOT}[\w+'-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b", re.IGNORECASE
)
_MAYBE_EMAIL = re.compile(r"@|\bat\b", re.IGNORECASE)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|ion(?:awr)?|chwef(?:ror)?|"
    r"maw(?:rth)?|ebr(?:ill)?|mai|meh(?:efin)?|gorff(?:ennaf)?|awst|medi|hyd(?:ref)?|"
    r"tach(?:wedd)?|rhag(?:fyr)?)\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:'?\d{2}|\d{4})"
_NUMERIC_DATE = r"\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}"
_WORDED_DATE = (
    rf"\d{{1,2}}{_ORD}(?:\s+of)?[\s/.,-]*{_MONTH}[\s/.,-]*{_YEAR}|"
    rf"{_MONTH}[\s/.-]*\d{{1,2}}{_ORD},?[\s/.-]+{_YEAR}"
)
_DATE = re.compile(rf"(?<![\w/.-])(?:{_NUMERIC_DATE}|{_WORDED_DATE})(?![\w/-])", re.IGNORECASE)
_DOB_CUE = (
    r"\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|dyddiad\s+geni|birth\s?day|born(?:\s+on)?|"
    r"b\.(?=\s*\d)|geni)"
)
_DATE_OF_BIRTH = re.compile(
    rf"{_DOB_CUE}\s*[:=.\-]*\s*(?:"
    rf"{_WORDED_DATE}|\d{{1,4}}(?:\s?[/.-]\s?|\s)\d{{1,2}}(?:\s?[/.-]\s?|\s)\d{{2,4}}|"
    rf"\d{{1,2}}\s?{_MONTH}\s?{_YEAR}|\d{{8}}|\d{{6}}|(?:19|20)\d{{2}})(?!\d)",
    re.IGNORECASE,
)

_POSTCODE = re.compile(
    r"\b([A-Z]{1,2}\d[A-Z\d]?)[\s.-]{0,3}(\d)[\s.-]{0,2}([A-Z]{2})\b", re.IGNORECASE
)
# Digit groups joined by at most three separators ("943 476 5919", "07700.900.461",
# "(029) 2034 5678", "9 4 3 4 7 6 5 9 1 9"): one run, however it is grouped.
_DIGITS = re.compile(r"\d+")
_JOINER = re.compile(r"[\s().\-/+]{1,3}")
_LONG_RUN = 9  # digits; counts, ages, times, years, bus routes and house numbers are fewer

# ---- words: places, people -----------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
STREET_WORDS = _wordset("""
        street st road rd lane ln avenue ave close cl crescent cres terrace terr ter tce
        drive dr way place pl court ct gardens gdns garden grove gr walk row square sq view
        rise hill parade mews green boulevard wharf quay approach fields mount circle hollow
        gate bridge park
        """)
# Welsh street words come first: "Heol y Nant", "Lôn y Dail", "Clos Hafod".
WELSH_STREET_WORDS = _wordset("""
        heol hewl ffordd lon stryd clos maes rhodfa cilgant teras llys plas parc bryn cae
        gerddi rhes llwyn cwrt pant nant coed cefn erw bro dol glan tir penrhyn ty tai cwm
        """)
VENUE_WORDS = _wordset("""
        pub bar club inn arms hotel tavern lounge cafe caffi restaurant takeaway kebab chippy
        shop store stores station stadium centre center hospital school church chapel hall
        castle arcade market garage surgery academy college university gym library theatre
        cinema bakery diner grill tafarn gwesty canolfan gorsaf ysgol eglwys capel
        nightclub bistro brasserie wetherspoons spoons ltd limited plc inc sons catering pizza
        pizzeria kebabs sweets butchers barbers salon supermarket convenience newsagent
        launderette residence lodge bakeries foods co sklep deli
        """)


def _slips(words: frozenset[str]) -> frozenset[str]:
    """Street and venue words with one letter dropped, as typed in a hurry ("Rod",
    "Cloe", "Stret", "lub")."""
    return (
        frozenset(w[:i] + w[i + 1 :] for w in words if len(w) >= 4 for i in range(len(w))) - words
    )


PLACE_SLIPS = _slips(STREET_WORDS | VENUE_WORDS)
_WELSH_LINKS = frozenset({"y", "yr", "r", "'r", "of", "the", "and", "a", "de", "la", "le", "&"})
_STOP = _wordset("""
        on in at outside near nr opp opposite o/s by from to into onto with w and or of for
        the a an his her their my our your pts pt patients patient males females males lads
        men women people youths group gang aged age around approx about after before bus
        route number no platform gate junction level floor o s os
        """)
# Words that introduce a person: a name after them needs no other evidence.
_CUES = _wordset("""
        mate mates bf gf boyfriend girlfriend partner partners ex husband wife hubby brother
        sister bro sis son daughter mum mam mom dad tad step nan nain taid gran grandad
        uncle aunt auntie cousin neighbour neighbor friend friends ffrind brawd chwaer
        cariad landlord landlady lodger flatmate housemate colleague boss bouncer named
        called aka name assailant attacker suspect offender perpetrator victim mr mrs ms
        miss mx dr pc dc ds sgt insp is was teacher carer stepdad stepmum stepson
        stepdaughter fiance fiancee law
        """)
_VERB_BY = re.compile(
    r"(?:assault(?:ed)?|hit|attack(?:ed)?|punch(?:ed)?|kick(?:ed)?|stab(?:bed)?|glass(?:ed)?|"
    r"headbutt(?:ed)?|bit(?:ten)?|push(?:ed)?|slap(?:ped)?|threaten(?:ed)?|taken|brought|"
    r"dropped|beaten|beat|robbed|chased|ID'd|identified|fight|fought|argument|row|"
    r"between|w|w/|with|by|and|&|said|says)$",
    re.IGNORECASE,
)
_TITLES = frozenset(["mr", "mrs", "ms", "miss", "mx", "dr", "pc", "dc", "ds", "sgt", "insp"])
_CONNECTORS = frozenset({"ap", "ab", "ferch", "verch", "fab", "van", "von", "de", "der", "di"})
_HOME_AFTER = frozenset(["house", "flat", "home", "address", "place", "bedsit", "caravan", "room"])
_LOCATION_CODES = re.compile(
    r"\b(?:other|others|patient|patients|someone(?:\s+else)?|somebody(?:\s+else)?|own|"
    r"friend|friends|relative|relatives)['’]?s?\s+(?:home|house|flat)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cleaned:
    """Free text with identifiers removed, and what kinds were removed."""

    text: str | None
    removed: tuple[str, ...]


@dataclass(frozen=True)
class _Lexicon:
    """The word lists the scrubber reads, loaded once (they never change)."""

    first: frozenset[str]  # given names that are not also ordinary words
    common: frozenset[str]  # of those, the ones given in Britain, Ireland or the USA
    surnames: frozenset[str]  # surnames that are not also ordinary words
    any_surname: frozenset[str]  # every surname, "Price" and "Hill" included
    ambiguous: frozenset[str]  # names that are also ordinary words ("grace", "will")
    places: frozenset[tuple[str, ...]]  # place names, folded
    longest: int


def fold(word: str) -> str:
    """A word as the lists hold it: lower case, no accents, no apostrophes."""
    if word.isascii():
        return word.lower().replace("'", "")
    decomposed = unicodedata.normalize("NFKD", word)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().replace("'", "").replace("’", "")


def _words_of(name: str) -> tuple[str, ...]:
    return tuple(fold(w) for w in _WORD.findall(name))


def _data_lines(name: str) -> list[str]:
    text = resources.files("cardiffmodel.ingest").joinpath("privacy_data", name)
    lines = text.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@cache
def lexicon() -> _Lexicon:
    """Given names (gender-guesser's nam_dict, the US Census lists, Welsh names), surnames
    (US Census, Welsh), the words that are names only in context, and the places."""
    first: set[str] = set()
    common: set[str] = set()
    nam_dict = resources.files("gender_guesser").joinpath("data", "nam_dict.txt")
    for line in nam_dict.read_text(encoding="utf-8").splitlines():
        if line and line[0] not in "#=":
            parts = line.split()
            if len(parts) > 1:
                given = {fold(p) for p in re.split(r"[+\s-]", parts[1]) if len(p) > 1}
                first |= given
                if line[30:33].strip():  # a frequency in Britain, Ireland or the USA
                    common |= given
    names_pkg = resources.files("names")
    for file in ("dist.male.first", "dist.female.first"):
        common.update(fold(line.split()[0]) for line in names_pkg.joinpath(file).open())
    surnames = {fold(line.split()[0]) for line in names_pkg.joinpath("dist.all.last").open()}
    for line in _data_lines("welsh_first_names.txt"):
        common.update(fold(w) for w in line.split())
    first |= common
    for line in _data_lines("welsh_surnames.txt"):
        surnames.update(fold(w) for w in line.split())
    ordinary = {fold(w) for line in _data_lines("not_names.txt") for w in line.split()}
    ordinary |= STREET_WORDS | WELSH_STREET_WORDS | VENUE_WORDS | _STOP | _CUES | _TITLES
    places: set[tuple[str, ...]] = set()
    for line in _data_lines("places.txt"):
        places.update(_place_variants(_words_of(line)))
    for name in ("places_trusted.txt", "venues.txt"):
        for line in _data_lines(name):
            places.update(_place_variants(_words_of(line)))
    # A lone ordinary word ("Street", "Central") is no evidence of a place.
    places = {p for p in places if len(p) > 1 or p[0] not in ordinary}
    return _Lexicon(
        first=frozenset(first - ordinary),
        common=frozenset(common - ordinary),
        surnames=frozenset(surnames - ordinary),
        any_surname=frozenset(surnames),
        ambiguous=frozenset(ordinary & (first | surnames)),
        places=frozenset(places),
        longest=max(len(p) for p in places),
    )


_PLACE_NOISE = frozenset({"ltd", "limited", "plc", "the", "cardiff", "newport", "swansea", "uk"})


def _place_variants(words: tuple[str, ...]) -> set[tuple[str, ...]]:
    """A place name as people write it: without "The", "Ltd" or the town."""
    out = {words}
    core = list(words)
    while core and core[0] in _PLACE_NOISE:
        core.pop(0)
    while core and core[-1] in _PLACE_NOISE:
        core.pop()
    if core:
        out.add(tuple(core))
    return {w for w in out if w and len(w) <= 8}


# ---- the scrubber --------------------------------------------------------------------


def is_nhs_number(digits: str) -> bool:
    """True when ten digits pass the NHS number modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


@dataclass
class _Span:
    start: int
    end: int
    kind: str
    replacement: str = REDACTED


class _Spans:
    """Removals found so far; a later finder never reaches into an earlier removal."""

    def __init__(self) -> None:
        self.items: list[_Span] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s.start or start >= s.end for s in self.items)

    def add(self, start: int, end: int, kind: str, replacement: str = REDACTED) -> bool:
        if start >= end or not self.free(start, end):
            return False
        self.items.append(_Span(start, end, kind, replacement))
        return True

    def apply(self, text: str) -> tuple[str, tuple[str, ...]]:
        out = text
        for span in sorted(self.items, key=lambda s: s.start, reverse=True):
            out = out[: span.start] + span.replacement + out[span.end :]
        kinds = tuple(s.kind for s in sorted(self.items, key=lambda s: s.start))
        return out, kinds


def scrub(text: str | None, dates: bool = True) -> Cleaned:
    """Remove e-mails, dates of birth (and, unless ``dates=False``, other dates), phone
    numbers, NHS numbers and other long digit runs, the unit of full postcodes, house
    numbers before a street, and people's names; keep places. See the module docstring."""
    if text is None:
        return Cleaned(None, ())
    text = normalise_text(text[:MAX_SCRUB_CHARS])
    removed: list[str] = []
    for _ in range(3):  # a removal can bring two fragments together: look again
        cleaned, kinds = _scrub_once(text, dates)
        removed.extend(kinds)
        if not kinds:
            break
        text = _SPACES.sub(" ", cleaned).strip()
        text = re.sub(r"\s+([,.;:)])", r"\1", text) if kinds else text
    return Cleaned(text, tuple(removed))


def _scrub_once(text: str, dates: bool) -> tuple[str, tuple[str, ...]]:
    spans = _Spans()
    has_digit = _ANY_DIGIT.search(text) is not None
    if _MAYBE_EMAIL.search(text):
        for pattern in (_EMAIL, _SPELT_EMAIL):
            for m in pattern.finditer(text):
                spans.add(m.start(), m.end(), "email")
    if has_digit:
        for m in _DATE_OF_BIRTH.finditer(text):
            cue_end = m.start() + len(re.match(_DOB_CUE, m.group(0), re.I).group(0))
            spans.add(cue_end, m.end(), "date_of_birth", " " + REDACTED)
        if dates:
            for m in _DATE.finditer(text):
                spans.add(m.start(), m.end(), "date")
        _phones(text, spans)
        _digit_runs(text, spans)
        for m in _POSTCODE.finditer(text):
            if spans.free(m.start(), m.end()):
                spans.add(m.start(), m.end(), "postcode", f"{m.group(1).upper()} {m.group(2)}")
    words = _tokens(text)
    lex = lexicon()
    if words and (has_digit or any(_may_be_name(w.key, lex) for w in words)):
        protected = _places(text, words)
        if has_digit:
            _house_numbers(text, words, protected, spans)
        _names(text, words, protected, spans)
    if not spans.items:
        return text, ()
    return spans.apply(text)


def _may_be_name(key: str, lex: _Lexicon) -> bool:
    return key in lex.first or key in lex.any_surname or key in lex.ambiguous


def _phones(text: str, spans: _Spans) -> None:
    """Phone numbers by libphonenumber, in any UK spelling ("(029) 2034 5678",
    "+44 (0)7700 900461", "0044 7700 900461", "mob07700900461")."""
    if sum(c.isdigit() for c in text) < 7:
        return
    spaced = re.sub(r"(?<=[^\W\d_])(?=\d)", " ", text)  # "mob0779" -> "mob 0779"
    shift = _offsets(text, spaced)
    for match in phonenumbers.PhoneNumberMatcher(spaced, "GB", phonenumbers.Leniency.POSSIBLE):
        start, end = shift[match.start], shift[match.end - 1] + 1
        digits = "".join(c for c in text[start:end] if c.isdigit())
        if len(digits) >= 9:
            spans.add(start, end, "nhs_number" if is_nhs_number(digits) else "phone")


def _offsets(original: str, spaced: str) -> list[int]:
    """For each character of ``spaced`` (``original`` with spaces inserted), its position
    in ``original``."""
    out, i = [], 0
    for c in spaced:
        if i < len(original) and original[i] == c:
            out.append(i)
            i += 1
        else:
            out.append(max(i - 1, 0))
    return out


def _digit_runs(text: str, spans: _Spans) -> None:
    """Runs of nine or more digits, however separated: NHS numbers (valid or not), phone
    numbers libphonenumber did not take, any other long reference."""
    groups = [(m.start(), m.end()) for m in _DIGITS.finditer(text)]
    i = 0
    while i < len(groups):
        j = i
        while j + 1 < len(groups) and _JOINER.fullmatch(text[groups[j][1] : groups[j + 1][0]]):
            j += 1
        start, end = groups[i][0], groups[j][1]
        if start > 0 and text[start - 1] in "+(":
            start -= 1
        if end < len(text) and text[end] == ")":
            end += 1
        digits = "".join(c for c in text[start:end] if c.isdigit())
        if len(digits) >= _LONG_RUN:
            if len(digits) == 10 and is_nhs_number(digits):
                kind = "nhs_number"
            elif digits.startswith(("0", "44")) and len(digits) >= 10:
                kind = "phone"
            elif len(digits) == 10:
                kind = "nhs_number"  # ten digits that fail the check: a mistyped one
            else:
                kind = "long_number"
            spans.add(start, end, kind)
        i = j + 1


# ---- places, house numbers and names -------------------------------------------------


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    key: str  # folded, a trailing possessive dropped
    possessive: bool


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        possessive = False
        lower = word.lower()
        if lower.endswith(("'s", "’s")):
            word, possessive = word[:-2], True
        elif m.end() < len(text) and text[m.end()] in "'’" and lower.endswith("s"):
            possessive = True
        out.append(_Token(m.start(), m.start() + len(word), word, fold(word), possessive))
    return out


LISTED, LISTED_WORD, PATTERN = 3, 2, 1  # how a word is known to be part of a place


def _places(text: str, words: list[_Token]) -> list[int]:
    """For each word, how it is part of a place: LISTED in a known venue or street of two
    or more words, LISTED_WORD a known one-word place ("Howells", "Barry"), PATTERN before
    a street or venue word ("Caroline Street", "Lewis Arms") or after a Welsh street word
    ("Heol y Frenhines"), or in a location-type code ("Other's home"); else 0."""
    lex = lexicon()
    keys = [w.key for w in words]
    # A possessive is written "Millies" or "Millie's": try the word with and without "s".
    plain = [w.key + "s" if w.possessive and not w.key.endswith("s") else w.key for w in words]
    mark = [0] * len(words)
    n = len(words)
    i = 0
    while i < n:
        size = _listed_at(lex, keys, plain, i)
        for k in range(i, i + size):
            mark[k] = LISTED if size > 1 else LISTED_WORD
        i += max(size, 1)
    for i, key in enumerate(keys):
        slip = key in PLACE_SLIPS and i > 0 and words[i - 1].text[:1].isupper()
        if key in STREET_WORDS or key in VENUE_WORDS or slip:
            if key in ("st", "dr") and i + 1 < n and keys[i + 1] not in _STOP:
                continue  # "St Mary Street": a saint, not a street
            mark[i] = max(mark[i], PATTERN)
            k = i - 1
            while k >= 0 and i - k <= 4 and (keys[k] not in _STOP or keys[k] in _WELSH_LINKS):
                mark[k] = max(mark[k], PATTERN)
                k -= 1
        elif key in WELSH_STREET_WORDS and i + 1 < n and not words[i].possessive:
            mark[i] = max(mark[i], PATTERN)
            k = i + 1
            while k < n and k - i <= 3 and (keys[k] not in _STOP or keys[k] in _WELSH_LINKS):
                mark[k] = max(mark[k], PATTERN)
                k += 1
    for m in _LOCATION_CODES.finditer(text):
        for k, w in enumerate(words):
            if m.start() <= w.start < m.end():
                mark[k] = LISTED
    return mark


def _listed_at(lex: _Lexicon, keys: list[str], plain: list[str], i: int) -> int:
    """How many words from ``i`` make the longest listed place name (0 if none)."""
    for size in range(min(lex.longest, len(keys) - i), 0, -1):
        if tuple(keys[i : i + size]) in lex.places or tuple(plain[i : i + size]) in lex.places:
            return size
    return 0


_TIME_CUES = _wordset("""
    at around approx about after before by from till until
    """)
_NOT_HOUSE_BEFORE = _wordset("""
        bus route number platform gate junction j level floor aged age x over under for
        between of page room ward bay unit
        """)


def _house_numbers(text: str, words: list[_Token], protected: list[int], spans: _Spans) -> None:
    """House and flat numbers: a number straight before a street name (or after "flat")."""
    for m in re.finditer(r"(?<![\w/.:])(\d{1,4}[a-zA-Z]?)(?![\w/:])(?:\s*,)?\s+", text):
        number = m.group(1)
        after = [w for w in words if w.start >= m.end()]
        before = [w for w in words if w.end <= m.start()]
        previous = before[-1].key if before else ""
        if previous == "flat" or previous == "apartment" or previous == "apt":
            spans.add(m.start(1), m.end(1), "house_number", "")
            continue
        if not after or after[0].start != m.end():
            continue
        if previous in _NOT_HOUSE_BEFORE:
            continue
        digits = number.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if previous in _TIME_CUES and len(digits) >= 3:
            continue  # "around 2330 on City Road", "at 0130 on ..."
        if len(digits) == 4 and digits.startswith("0"):
            continue
        first = after[0]
        index = words.index(first)
        if protected[index] == 2 and not _is_street(words, index):
            continue  # a venue whose name starts with a number ("10 Feet Tall")
        if first.key in WELSH_STREET_WORDS or _is_street(words, index):
            spans.add(m.start(1), m.end(1), "house_number", "")


def _is_street(words: list[_Token], index: int) -> bool:
    """Words from ``index`` name a street: up to three name words then a street word, or a
    Welsh street word first."""
    if words[index].key in WELSH_STREET_WORDS:
        return index + 1 < len(words)
    for k in range(index, min(index + 4, len(words))):
        key = words[k].key
        if key in STREET_WORDS and k > index:
            return True
        if key in _STOP and key not in _WELSH_LINKS:
            return False
    return False


_VERBS_AFTER = _wordset("""
        punched hit kicked assaulted attacked stabbed glassed headbutted slapped pushed bit
        threw threatened hits punches kicks said says grabbed strangled stamped
        """)
_NOUN_CUES = _CUES - {"is", "was", "law"}


def _names(text: str, words: list[_Token], places: list[int], spans: _Spans) -> None:
    """People's names: runs of name words, removed when the evidence around them says a
    person (see the module docstring), kept when they are part of a place."""
    lex = lexicon()
    n = len(words)
    kind = [_name_kind(w, lex) for w in words]
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        title = i > 0 and words[i - 1].key in _TITLES
        if kind[i] in ("first", "last", "amb", "initial") or (title and kind[i] == "surname?"):
            j = i
            while j + 1 < n and kind[j + 1] and _joined(text, words[j], words[j + 1]):
                j += 1
            while kind[j] == "link" or (
                kind[j] == "surname?" and j > i and kind[j - 1] not in ("first", "amb")
            ):
                j -= 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    accepted = [r for r in runs if _is_name(text, words, kind, places, *r)]
    # "Jade and Chantelle": a name word beside an accepted name, joined by "and" or "&".
    for run in runs:
        inside = range(run[0], run[1] + 1)
        if (
            run not in accepted
            and any(_beside(text, words, run, other) for other in accepted)
            and any(kind[k] in ("first", "amb") for k in inside)
            and max(places[k] for k in inside) < LISTED
        ):
            accepted.append(run)
    # "my mate Gaz": a capitalised word the lists do not know, straight after a person word.
    for k in range(1, n):
        w = words[k]
        if (
            not kind[k]
            and not places[k]
            and w.text[:1].isupper()
            and w.key not in lex.ambiguous
            and words[k - 1].key in _NOUN_CUES
            and not places[k - 1]
            and text[words[k - 1].end : w.start] in (" ", " (", ": ", ", ", " - ")
        ):
            accepted.append((k, k))
    for i, j in accepted:
        # "by Carwyn Jones": a capitalised word the lists do not know, before a surname.
        if (
            i >= 2
            and kind[i] == "last"
            and not kind[i - 1]
            and not places[i - 1]
            and words[i - 1].text[:1].isupper()
            and words[i - 1].key not in lex.ambiguous
            and text[words[i - 1].end : words[i].start] == " "
            and _cue_before(text, words, places, i - 1) in ("noun", "strong", "weak", "place")
            and words[i - 2].key in _NOUN_CUES | {"by", "with", "w", "and"}
        ):
            i -= 1
        while i <= j and words[i].key in _TITLES:
            i += 1
        if i <= j:
            spans.add(words[i].start, words[j].end, "name")


def _name_kind(word: _Token, lex: _Lexicon) -> str:
    key = word.key
    if key in _CONNECTORS:
        return "link"
    if len(word.text) == 1:
        return "initial" if word.text.isupper() else ""
    parts = key.split("-") if "-" in word.text else [key]
    if len(key) < 2:
        return ""
    if key in lex.first or (len(parts) > 1 and all(p in lex.first for p in parts)):
        return "first"
    if key in lex.surnames or (key[:2] == "mc" and key[2:] in lex.surnames):
        return "last"
    capital = word.text[:1].isupper()
    if key in lex.ambiguous and capital:
        return "amb"
    if key in lex.any_surname:
        return "surname?"  # "price" in "rhodri price": a name only after a given name
    return ""


def _joined(text: str, a: _Token, b: _Token) -> bool:
    gap = text[a.end : b.start]
    return not a.possessive and gap.strip(" -") == "" and len(gap) <= 3


_PLACE_PREPOSITIONS = _wordset("""
        in at nr near opp opposite outside os o s behind inside by from to into ger yn i ar
        allan
        """)


def _cue_before(text: str, words: list[_Token], places: list[int], i: int) -> str:
    """What comes just before word ``i``: 'noun' for a word introducing a person ("mate",
    "Mr"), 'strong' for an open bracket or a verb and "by"/"with" ("assaulted by"),
    'weak' for a bare "with" or "and", 'place' for "in", "at", "opp" and the like."""
    if i == 0:
        return ""
    prev = words[i - 1]
    gap = text[prev.end : words[i].start]
    if "(" in gap and ")" not in gap:
        return "strong"
    if any(c in gap for c in ";/") or places[i - 1] >= LISTED_WORD:
        return ""  # "Miss" in "Miss Millies" is part of the place
    key = prev.key
    if key in _NOUN_CUES:
        return "noun"
    if key in ("by", "with", "w", "and", "between") or gap.strip() in ("&", "+"):
        if key in ("by", "with", "w") and i >= 2 and _VERB_BY.match(words[i - 2].text):
            return "strong"
        return "place" if key == "by" else "weak"
    if key in _PLACE_PREPOSITIONS:
        return "place"
    if _VERB_BY.match(key):
        return "weak"
    return ""


def _is_name(text, words, kind, places, i, j) -> bool:
    """Whether the run of name words ``i..j`` is a person, on the evidence around it."""
    lex = lexicon()
    core = [k for k in range(i, j + 1) if kind[k] not in ("link", "initial")]
    if not core:
        return False
    kinds = [kind[k] for k in core]
    marks = {places[k] for k in range(i, j + 1)}
    cue = _cue_before(text, words, places, i)
    capital = all(words[k].text[:1].isupper() for k in core)
    after = words[j + 1] if j + 1 < len(words) else None
    closing = text[words[j].end :].lstrip()[:1] == ")"
    home = words[j].possessive and (after is None or after.key in _HOME_AFTER | _CUES)
    verb_after = after is not None and after.key in _VERBS_AFTER
    # Given names that stand alone as evidence: common ones of three letters or more, or
    # any written with a capital.
    firsts = [
        k
        for k in core
        if kind[k] == "first"
        and (words[k].text[:1].isupper() or (words[k].key in lex.common and len(words[k].key) > 2))
    ]
    lasts = [k for k in core if kind[k] == "last" and words[k].text[:1].isupper()]
    # A given name then a surname ("cerys lewis", "Llŷr Evans", "rhodri price"), or an
    # ordinary-word given name written as a name ("Lee Jenkins", "Mark Evans").
    pair = any(
        (
            (kind[a] == "first" and kind[b] in ("first", "last", "surname?", "amb"))
            and (words[a].text[:1].isupper() or words[a].key in lex.common)
        )
        or (kind[a] == "amb" and kind[b] in ("first", "last") and words[a].text[:1].isupper())
        for a, b in itertools.pairwise(core)
    ) and any(len(words[k].key) > 2 for k in core)
    person = cue in ("noun", "strong") or verb_after or (closing and "(" in text[: words[i].start])
    if LISTED in marks or PATTERN in marks:
        # A known venue or street ("Ivor Davies", "Owain Glyndwr", "Charles Street") is a
        # person only when plainly introduced as one ("assaulted by Ivor Davies"), and
        # not when the run runs into the street word ("by Caroline Street").
        into_place = after is not None and (after.key in STREET_WORDS or after.key in VENUE_WORDS)
        return cue in ("noun", "strong") and bool(firsts) and not into_place
    if LISTED_WORD in marks and not (pair or person):
        return False  # "opp Howells", "the 95 bus to Barry"
    if person:
        if i > 0 and words[i - 1].key in _TITLES and kinds[0] in ("last", "surname?", "amb"):
            return True  # "mrs hughes", "Mr Price"
        return bool(firsts or lasts) or (cue == "noun" and capital)
    if pair:
        return True
    if home and (firsts or lasts) and (cue != "place" or after is not None):
        return True  # "Sioned's flat", "at Dewi's flat", "Nathan's"
    if cue == "place":
        return False  # "nr Agora", "in Bella's": a venue's name
    if firsts and cue == "weak":
        return True  # "fight w Tyler", "with Jade"
    return any(kind[k] == "first" and words[k].key in lex.common for k in firsts) and capital


def _beside(text, words, run, other) -> bool:
    (i, j), (a, b) = run, other
    if j < a:
        gap = text[words[j].end : words[a].start]
    elif i > b:
        gap = text[words[b].end : words[i].start]
    else:
        return False
    return gap.strip(" ,").lower() in ("and", "&", "+", "a", "ac", "or", "")


# ---- file names ----------------------------------------------------------------------


def scrub_file_name(path: str) -> str:
    """A file's path as the store may keep it: identifiers in the file name removed
    ("uhw_Elin_James_9434765919.csv" -> "uhw_removed_removed.csv"); the name is checked
    with its separators read as spaces, and left as it was when nothing is found."""
    folder, slash, name = path.replace("\\", "/").rpartition("/")
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    cleaned = scrub(re.sub(r"[_\-.]+", " ", stem))
    if not cleaned.removed:
        return path
    safe = re.sub(r"\W+", "_", cleaned.text.replace(REDACTED, "removed")).strip("_")
    return f"{path[: len(folder) + len(slash)]}{safe or 'removed'}{dot}{suffix}"


# ---- columns -------------------------------------------------------------------------


def count_removed(cleaned: list[Cleaned]) -> dict[str, int]:
    """Totals by kind over many texts, for the batch record."""
    return dict(sorted(Counter(kind for c in cleaned for kind in c.removed).items()))


def scrub_column(texts: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """Scrub a column of free text, running the patterns once per distinct text (ED
    location texts repeat heavily); returns the cleaned column (None for missing) and the
    totals removed by kind over every row."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    cleaned = [scrub(str(text)) for text in uniques]
    per_unique = np.bincount(codes[codes >= 0], minlength=len(uniques))
    totals: Counter[str] = Counter()
    for item, count in zip(cleaned, per_unique, strict=True):
        for kind in item.removed:
            totals[kind] += int(count)
    table = np.array([item.text for item in cleaned] + [None], dtype=object)
    out = pd.Series(table[codes], index=texts.index, dtype=object)  # code -1 is the None
    return out, dict(sorted(totals.items()))


def nhs_number_share(values: pd.Series) -> tuple[int, float]:
    """How many non-blank values are valid NHS numbers (spaces ignored), and what share of
    the non-blank values they are: record ids must not be NHS numbers."""
    text = values.astype("str")
    text = text[text != ""]
    length = text.str.len()
    ten = text[(length >= 10) & (length <= 12)].str.replace(r"[\s-]", "", regex=True)
    ten = ten[ten.str.fullmatch(r"\d{10}")]
    if ten.empty:
        return 0, 0.0
    digits = np.frombuffer("".join(ten).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - 48
    total = digits[:, :9].astype(np.int64) @ np.arange(10, 1, -1)
    check = (11 - total % 11) % 11
    valid = int(((check != 10) & (check == digits[:, 9])).sum())
    return valid, valid / len(text)
