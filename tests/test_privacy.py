"""The privacy boundary removes identifiers from free text and counts them by kind."""

import pytest

from cardiffmodel.ingest.privacy import REDACTED, count_removed, is_nhs_number, scrub


@pytest.mark.parametrize("digits", ["9434765919", "4010232137"])
def test_valid_nhs_numbers_pass_the_modulus_11_check(digits):
    assert is_nhs_number(digits)


@pytest.mark.parametrize("digits", ["9434765918", "1234567890", "943476591", "abcdefghij"])
def test_invalid_nhs_numbers_fail(digits):
    assert not is_nhs_number(digits)


def test_nhs_number_in_text_is_removed_but_other_long_numbers_are_kept():
    cleaned = scrub("NHS 943 476 5919 o/s club")
    assert "5919" not in cleaned.text and REDACTED in cleaned.text
    assert cleaned.removed == ("nhs_number",)
    # Ten digits failing the check are not an NHS number: not removed as one.
    assert "nhs_number" not in scrub("ref 1234567890").removed


def test_home_postcode_is_cut_to_its_sector():
    cleaned = scrub("pts home CF24 3AA")
    assert cleaned.text == "pts home CF24 3"
    assert cleaned.removed == ("postcode",)


@pytest.mark.parametrize(
    ("text", "kind", "gone"),
    [
        ("pts home tel 07700 900461", "phone", "900461"),
        ("call +44 7700 900461 re assault", "phone", "900461"),
        ("email jo.bloggs@example.com", "email", "example.com"),
        ("dob 31/12/1990 at home", "date_of_birth", "1990"),
        ("D.O.B: 3rd March 1990, o/s Revs", "date_of_birth", "1990"),
        ("seen 12/01/2019 at bus stn", "date", "2019"),
        ("at Dave Jones's flat", "name", "Jones"),
        ("Kelly's house", "name", "Kelly"),
        ("assaulted by John Smith outside Revs", "name", "Smith"),
        ("hit by Mr Jones in the street", "name", "Jones"),
        ("unk (ex partner Rhys Griffiths)", "name", "Griffiths"),
        ("havelock st - assailant Matthew Harris", "name", "Harris"),
        ("stabbed by Dai O'Brien", "name", "Brien"),
        ("pts home 12 Clifton Street", "house_number", "12"),
    ],
)
def test_identifiers_are_removed(text, kind, gone):
    cleaned = scrub(text)
    assert gone not in cleaned.text
    assert kind in cleaned.removed


@pytest.mark.parametrize(
    "text",
    [
        "o/s Walkabout St Marys St",
        "by Queen Street",
        "by Cardiff Castle",
        "hit by the bar",
        "Lewis Arms",
        "nr W H Smith Travel",
        "friends house",
        "Mum's house",
        "Patient's home",
        "Tiger Tiger's door",
    ],
)
def test_place_text_is_left_alone(text):
    assert scrub(text).text == text
    assert scrub(text).removed == ()
    assert scrub(None).text is None


def test_counts_by_kind_without_values():
    cleaned = [scrub("07700 900461 CF24 3AA"), scrub("07700 900462"), scrub("Queen St")]
    assert count_removed(cleaned) == {"phone": 2, "postcode": 1}
