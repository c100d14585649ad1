"""The scrubber as it was before issue 17 (commit bd8b148), kept as the baseline that
benchmarks/scrub_bench.py measures the current one against. Not used by the package."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Full UK postcode: the outward code and the sector digit are kept (the sector is a few
# thousand households), the unit letters that pin a home are dropped.
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d)[A-Z]{2}\b", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_NHS_CANDIDATE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_PHONE = re.compile(r"(?<![\w])(?:\+44\s?|0)(?:\d[\s-]?){9,10}(?!\d)")
_NUMERIC_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}"
_WORDED_DATE = (
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
    r"[a-z]*\.?,?\s+(?:19|20)\d{2}"
)
_DATE = re.compile(rf"\b(?:{_NUMERIC_DATE}|{_WORDED_DATE})\b")
# A date after "dob", "d.o.b." or "born" is a date of birth, counted as its own kind.
_DATE_OF_BIRTH = re.compile(
    rf"\b(?i:d\.?\s?o\.?\s?b\.?|date of birth|born)\s*(?:on\s+)?:?\s*"
    rf"(?:{_NUMERIC_DATE}|{_WORDED_DATE})\b"
)
# A capitalised name after words that introduce a person ("by John Smith", "Mr Jones",
# "ex partner Rhys Jones", "assailant Dai Evans").
_PERSON_WORDS = (
    "by|named|called|mr|mrs|ms|miss|dr|assailant|attacker|suspect|partner|boyfriend|"
    "girlfriend|husband|wife|friend|brother|sister|son|daughter|mother|father|mum|dad|"
    "uncle|aunt|cousin|neighbour|neighbor"
)
# Words that end a place name: "by Queen Street" or "by Cardiff Castle" is not a person.
_PLACE_WORDS = (
    "street|st|road|rd|lane|avenue|ave|close|crescent|terrace|drive|way|place|court|square|"
    "park|station|castle|arms|inn|bar|club|hotel|centre|center|arcade|bridge|market|stadium"
)
_NAME_WORD = r"[A-Z][A-Za-z]*(?:['’-][A-Za-z]+)*\b"
_KIN_WORDS = (
    "pt|pts|patient|patients|mum|mums|dad|dads|nan|nans|nana|gran|grans|nain|taid|mam|"
    "mother|father|brother|sister|son|daughter|uncle|aunt|auntie|cousin|friend|friends|"
    "partner|partners|neighbour|neighbours|boyfriend|girlfriend|husband|wife|someone|"
    "somebody|his|her|their|my|own"
)
_HOME_WORDS = r"['’]s?\s+(?i:house|flat|home|address|place|bedsit)\b"
# "Dave Jones's flat", "Kelly's house": a named person's home.
_POSSESSIVE_NAME = re.compile(
    rf"\b(?!(?i:{_KIN_WORDS})\b){_NAME_WORD}(?:\s+{_NAME_WORD})?(?={_HOME_WORDS})"
)
_NAME = re.compile(
    rf"\b(?i:{_PERSON_WORDS})\.?:?\s+"
    rf"((?!(?i:{_PLACE_WORDS})\b){_NAME_WORD}(?:\s+(?!(?i:{_PLACE_WORDS})\b){_NAME_WORD}){{0,2}})"
    rf"(?!\s+(?i:{_PLACE_WORDS})\b)"
)
# A house number before a street name pins a home: the number goes, the street stays.
_HOUSE_NUMBER = re.compile(
    r"\b\d{1,4}[a-zA-Z]?,?\s+(?=(?:[A-Za-z'’-]+\s+){1,3}"
    r"(?:street|st|road|rd|lane|ln|avenue|ave|close|cl|crescent|cres|terrace|ter|drive|dr|"
    r"way|place|pl|court|ct|gardens|gdns|grove|walk|row|square|sq|view|rise|hill|parade)\b)",
    re.IGNORECASE,
)

# Every pattern needs a digit, an @, a word introducing a person or a possessive home:
# text with none of them (most location texts) skips the patterns.
_MAYBE_IDENTIFIER = re.compile(rf"\d|@|\b(?i:{_PERSON_WORDS})\b|{_HOME_WORDS}")

_SPACES = re.compile(r"\s{2,}")

REDACTED = "[removed]"


@dataclass(frozen=True)
class Cleaned:
    """Free text with identifiers removed, and what kinds were removed."""

    text: str | None
    removed: tuple[str, ...]


def is_nhs_number(digits: str) -> bool:
    """True when ten digits pass the NHS number modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def scrub(text: str | None, dates: bool = True) -> Cleaned:
    """Remove NHS numbers, phone numbers, e-mails, dates (of birth), the unit of full
    postcodes, house numbers before a street name, and names after words that introduce a
    person or before "'s house"; ``dates=False`` keeps dates, for a date column's text."""
    if text is None:
        return Cleaned(None, ())
    if not _MAYBE_IDENTIFIER.search(text):
        return Cleaned(_SPACES.sub(" ", text).strip(), ())
    removed: list[str] = []

    def replace(kind: str, replacement: str):
        def inner(match: re.Match[str]) -> str:
            removed.append(kind)
            return replacement if "\\" not in replacement else match.expand(replacement)

        return inner

    def nhs(match: re.Match[str]) -> str:
        if is_nhs_number("".join(match.groups())):
            removed.append("nhs_number")
            return REDACTED
        return match.group(0)

    text = _EMAIL.sub(replace("email", REDACTED), text)
    text = _NHS_CANDIDATE.sub(nhs, text)
    text = _PHONE.sub(replace("phone", REDACTED), text)
    if dates:
        text = _DATE_OF_BIRTH.sub(replace("date_of_birth", REDACTED), text)
        text = _DATE.sub(replace("date", REDACTED), text)
    text = _POSTCODE.sub(replace("postcode", r"\1 \2"), text)
    text = _HOUSE_NUMBER.sub(replace("house_number", ""), text)
    text = _NAME.sub(lambda m: _drop_name(m, removed), text)
    text = _POSSESSIVE_NAME.sub(replace("name", REDACTED), text)
    return Cleaned(_SPACES.sub(" ", text).strip(), tuple(removed))


def _drop_name(match: re.Match[str], removed: list[str]) -> str:
    removed.append("name")
    return match.group(0)[: match.start(1) - match.start(0)] + REDACTED


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
