"""The matcher on the hand-written Newport development set (benchmarks/places_dev): texts
written in reception style for a city the matcher was not written on, one class per
failure the generator's texts never showed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cardiffmodel.places.matcher import Matcher

_SPEC = importlib.util.spec_from_file_location(
    "places_dev_eval", Path(__file__).resolve().parents[1] / "benchmarks" / "places_dev_eval.py"
)
assert _SPEC is not None and _SPEC.loader is not None
places_dev_eval = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(places_dev_eval)
evaluate, newport_places = places_dev_eval.evaluate, places_dev_eval.newport_places


@pytest.fixture(scope="module")
def figures():
    return evaluate()


@pytest.fixture(scope="module")
def matcher():
    return Matcher(newport_places())


def test_targets_hold_on_the_development_set(figures):
    assert figures["all"]["precision"] >= 0.98
    assert figures["all"]["recall"] >= 0.90
    assert figures["none"]["placed"] == 0  # homes and vague words are never placed


@pytest.mark.parametrize("cls", ["connector", "namesake", "type", "street", "name"])
def test_each_class_is_mostly_resolved(figures, cls):
    assert figures[cls]["recall"] >= 0.85, figures[cls]


@pytest.mark.parametrize(
    ("text", "place_id"),
    [
        ("talisman pub", "fsa:536388"),  # a type word after the name
        ("cross keys hotel pub", "fsa:13678"),  # two of them
        ("Angel Inn on West St", "fsa:906232"),  # venue, connector, street
        ("the lamb bridge st", "fsa:1014132"),  # a street no crime point names
        ("wind sor castle", "fsa:687403"),  # a space in the wrong place
        ("windsorcastle", "fsa:687403"),  # a space missing
        ("angeli nn", "fsa:906232"),  # a space moved
        ("cross kyes", "fsa:13678"),  # a short word's transposition, read letter by letter
        ("greyhound christchurch", "fsa:964506"),  # namesakes told apart by the district
        ("greyhound high st", "fsa:430375"),  # ... and by the street
        ("tredegar arms rogerstone", "fsa:1004795"),
        ("tredegar arms caerphilly rd", "fsa:446652"),
    ],
)
def test_structure_of_location_texts(matcher, text, place_id):
    assert matcher.match(text).place_id == place_id


def test_a_district_word_no_name_holds_is_not_split_as_a_typo(matcher):
    assert "rogerstone" in matcher.index.join_split_words(("tredegar", "arm", "rogerstone"))
