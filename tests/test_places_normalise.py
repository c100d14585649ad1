"""Location text normalisation, matching keys and location types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardiffmodel.places.normalise import (
    extract_postcode,
    key_tokens,
    location_type,
    match_key,
    normalise,
)
from cardiffmodel.schema import LOCATION_TYPES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("o/s Walkabout St Marys St", "outside walkabout saint marys street"),
        ("Queen St", "queen street"),
        ("QUEEN ST.", "queen street"),
        ("St Mary Street", "saint mary street"),
        ("nr Cathays Terr", "near cathays terrace"),
        ("opp 12 Albany Rd", "opposite 12 albany road"),
        ("bus stn", "bus station"),
        ("pt's home", "patients home"),
        ("Tŷ Glas Avenue, Caerdydd", "ty glas avenue cardiff"),
        ("Cae'r Graig", "caer graig"),
        ("Slug & Lettuce", "slug and lettuce"),
        ("n/k", "not known"),
        ("walkabout st davids st", "walkabout saint davids street"),
        ("st", "street"),
    ],
)
def test_normalise_expands_abbreviations_and_folds_case_and_accents(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "!!!", "-/-", "???"])
def test_normalise_of_nothing_is_empty(text):
    assert normalise(text) == ""
    assert match_key(text) == ""


def test_saint_and_street_spellings_share_one_key():
    spellings = ["St Mary Street", "St Marys St", "st. mary's st.", "ST MARYS STREET"]
    assert {match_key(s) for s in spellings} == {"saint mary street"}


def test_st_is_street_after_a_name_and_saint_before_one():
    assert match_key("Bute St") == "bute street"
    assert match_key("St Johns St") == "saint john street"
    assert match_key("o/s walkabout, st mary st") == "walkabout saint mary street"


def test_keys_drop_filler_but_keep_names_and_numbers():
    assert key_tokens(normalise("outside the Kings Castle near the pub")) == (
        "king",
        "castle",
        "pub",
    )
    assert key_tokens(normalise("Bar 33")) == ("bar", "33")


def test_very_long_text_is_handled():
    text = ("o/s walkabout st marys st " * 20)[:255]
    assert len(text) == 255
    assert normalise(text).startswith("outside walkabout saint marys street")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=255))
@settings(max_examples=300, deadline=None)
def test_normalise_is_ascii_lowercase_and_idempotent(text):
    once = normalise(text)
    assert once == normalise(once)
    assert once.isascii()
    assert once == once.lower()
    assert location_type(text) in LOCATION_TYPES


@pytest.mark.parametrize(
    ("text", "rest", "postcode"),
    [
        ("o/s 12 Newport Rd CF24 0AB", "o/s 12 newport rd", "CF24 0AB"),
        ("mcdonalds cf101ab", "mcdonalds", "CF10 1AB"),
        ("Town Centre", "town centre", ""),
    ],
)
def test_extract_postcode(text, rest, postcode):
    assert extract_postcode(text) == (rest, postcode)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("pts home", "home"),
        ("pt's home address", "home"),
        ("HOME", "home"),
        ("at home", "home"),
        ("own flat", "home"),
        ("his house", "home"),
        ("friends house", "other_home"),
        ("partner's flat", "other_home"),
        ("someone else's home", "other_home"),
        ("house party", "other_home"),
        ("a house on Clifton St", "other_home"),
        ("o/s Home Bargains", "street"),
        ("Home Bargains", "other"),
        ("walking home from town", "street"),
        ("Ty Hafod nursing home", "other"),
        ("in the pub", "licensed_premises"),
        ("Kings Castle pub", "licensed_premises"),
        ("nightclub", "licensed_premises"),
        ("fish bar on city rd", "street"),
        ("breakfast club", "other"),
        ("bus stn", "transport"),
        ("taxi rank queen st", "transport"),
        ("on the bus", "transport"),
        ("Queen Street station", "transport"),
        ("Station Road", "street"),
        ("police station", "other"),
        ("at work", "school_work"),
        ("school", "school_work"),
        ("post office", "other"),
        ("Queen St", "street"),
        ("in the street", "street"),
        ("park behind tescos", "street"),
        ("town", "street"),
        ("city centre", "street"),
        ("Revs", "other"),
        ("walkabot", "other"),
        ("", "unknown"),
        (None, "unknown"),
        ("n/k", "unknown"),
        ("UNKNOWN", "unknown"),
        ("not known", "unknown"),
    ],
)
def test_location_type_from_words(text, kind):
    assert location_type(text) == kind
