"""The report's hotspot finding says which test flagged which beat (issue 11, item 7)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from cardiffmodel import testing
from cardiffmodel.analysis.selection import month_selection
from cardiffmodel.config import AreaConfig
from cardiffmodel.places.areas import load_area_layer
from cardiffmodel.reports.analyses import analyse_region
from cardiffmodel.reports.findings import hotspots

CATHAYS = "W05000857"
BUSY, QUIET, PEOPLE = 80, 4, 10_000


@pytest.fixture(scope="module")
def region(tmp_path_factory, shared_data):
    """March 2019: Cathays far busier than the other 28 wards, which are all alike; every
    ward has the same population, so Cathays alone is high, and no cluster exists."""
    config = AreaConfig(
        layer="beat",
        path=shared_data / "boundaries" / "cardiff_wards_2013.geojson",
        code_field="WD13CD",
        name_field="WD13NM",
    )
    wards = load_area_layer(config)
    wards = dataclasses.replace(wards, population=(float(PEOPLE),) * len(wards.codes))
    rows = [
        testing.incident(f"2019-03-{1 + k % 28:02d}", beat=code, weapon="body")
        for code in wards.codes
        for k in range(BUSY if code == CATHAYS else QUIET)
    ]
    path = tmp_path_factory.mktemp("finding") / "store.duckdb"
    testing.write_incidents(path, rows)
    found = analyse_region(testing.open_incidents(path), wards, month_selection("2019-03"))
    return found, {code: wards.name_of(code) for code in wards.codes}


def test_the_busiest_beat_is_named_with_the_excess_test_and_its_ratio(region):
    found, names = region
    assert found.hotspots.codes_of("hot") == ()  # Gi* holds Cathays' own count
    finding = hotspots(found, names, protect=False)
    expected = (BUSY + 28 * QUIET) / 29  # equal populations: the mean count
    assert finding.places == ("Cathays",)
    assert f"Cathays ({BUSY / expected:.1f}× the expected count)" in finding.evidence
    assert finding.evidence.startswith("The excess test marks Cathays")
    assert "population at the region's rate" in finding.evidence
    assert "Gi*" not in finding.evidence


def test_outside_health_the_ratio_is_left_out(region):
    found, names = region
    evidence = hotspots(found, names, protect=True).evidence
    assert "Cathays" in evidence
    assert set(re.findall(r"\d+", evidence)) == {"5"}  # the false discovery rate only


def test_beats_outside_the_group_are_not_named(region):
    found, names = region
    others = {code: name for code, name in names.items() if code != CATHAYS}
    assert hotspots(found, others, protect=False) is None
