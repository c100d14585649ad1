"""The dashboard of a police-only deployment (real data.police.uk files), over HTTP: only
the police source is offered, panels for absent sources and unknown fields are left out,
and periods the store does not hold are null ("not held"), never 0."""

from __future__ import annotations

import pytest

NOT_HELD = {"value": None, "shown": "not held"}
CATHAYS = "W05000857"


@pytest.fixture(scope="module")
def police(police_only_project, web):
    web.add_users(police_only_project)
    client = web.new_client(web.make_app(police_only_project))
    client.__enter__()
    assert web.sign_in(client, web.users["police"][0]).status_code == 200
    yield client
    client.__exit__(None, None, None)


def test_filters_offer_only_the_sources_held(police):
    assert police.get("/api/filters").json()["sources"] == ["police"]
    page = police.get("/?month=2018-11").text
    assert '<option value="police"' in page
    assert '<option value="ed"' not in page and "Emergency Department" not in page


def test_comparisons_and_trend_not_held_are_null(police):
    found = police.get("/api/overview?month=2018-10").json()
    assert list(found["sources"]) == ["police"]
    current, previous = found["headline"]["current"], found["headline"]["previous"]
    assert current["held"] and current["total"]["value"] > 0
    assert not previous["held"] and previous["total"] == NOT_HELD
    assert previous["by_source"] == {"police": NOT_HELD}
    months, total = found["trend"]["months"], found["trend"]["total"]
    for month, cell in zip(months, total, strict=True):
        assert (cell == NOT_HELD) is (month < "2018-10"), month
    november = police.get("/api/overview?month=2018-11").json()["headline"]["previous"]
    assert november["held"] and november["total"]["value"] == current["total"]["value"]

    beats = police.get("/api/map/beats?month=2018-10").json()
    assert beats["sources"] == ["police"] and not beats["previous_held"]
    assert all(a["previous"] == NOT_HELD and a["change"] is None for a in beats["areas"])
    csv = police.get("/api/export/beats.csv?month=2018-10").text
    assert "not held" in csv.splitlines()[1]


def test_beat_page_has_no_panels_for_absent_sources_or_unknown_fields(police):
    beat = police.get(f"/api/beats/{CATHAYS}?month=2018-11").json()
    assert beat["held"] and beat["figures"]["count"]["value"] > 0
    assert beat["hour_weekday"] is None  # police.uk gives the month only
    assert beat["profiles"] == {}  # no weapon or place type in police.uk files
    assert beat["gap"] is None  # no hospital data to set against the police's
    page = police.get(f"/beats/{CATHAYS}?month=2018-11").text
    assert "Hospital and police" not in page and 'class="grid"' not in page
    assert "record no time of day" in page

    empty = police.get(f"/api/beats/{CATHAYS}?month=2019-01&months=3").json()
    assert empty["held"]  # November to January: all held
    absent = police.get("/api/map/beats?month=2019-02").json()  # the month after the last
    assert all(a["count"] == NOT_HELD for a in absent["areas"])
    assert absent["total"] == NOT_HELD
