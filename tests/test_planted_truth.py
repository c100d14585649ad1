"""The analyses find what the synthetic city planted: its night-time economy hotspots and
its rising beat (issue: analysis, item 7). The city is built from real Cardiff data."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from cardiffmodel.analysis.excess import excess_by_area
from cardiffmodel.analysis.hotspots import contiguity, counts_by_area, gi_star
from cardiffmodel.analysis.rises import detect_rises, weekly_counts
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.demo import build_demo_store
from cardiffmodel.project import Project


@pytest.fixture(scope="module")
def city(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("planted")
    manifest, _ = build_demo_store(folder, shared_data, seed=11, months=24, scale=0.3)
    project = Project.open(folder)
    with project.store(read_only=True) as store:
        yield manifest, project, store.incidents()


def test_the_planted_hotspot_beats_hold_the_hot_lsoas(city):
    manifest, project, t = city
    lsoas = project.layer("lsoa")
    half_year = Selection(manifest.end - timedelta(days=182), manifest.end, layer="lsoa")
    counts = counts_by_area(t, half_year, lsoas.codes)
    result = gi_star(counts, contiguity(lsoas.geometries, lsoas.codes), seed=0)
    hot = [c for c, k in zip(result.codes, result.classification, strict=True) if k == "hot"]
    assert hot, "no hot LSOA found"
    beats = project.layer("beat")
    points = [lsoas.geometries[lsoas.codes.index(code)].representative_point() for code in hot]
    owners = beats.assign([p.x for p in points], [p.y for p in points])
    # Gi* counts an area with its neighbours, so the LSOAs next to a hot beat can be hot
    # too; none may be further away, and each planted beat must hold a hot LSOA.
    ward_graph = contiguity(beats.geometries, beats.codes)
    near = set(manifest.hotspot_beats)
    for beat in manifest.hotspot_beats:
        near |= set(ward_graph[beat].index)
    assert set(owners) <= near, (owners, manifest.hotspot_beats)
    assert set(manifest.hotspot_beats) <= set(owners)


def test_the_rising_beat_alarms_within_four_weeks_of_its_rise(city):
    manifest, _, t = city
    series = weekly_counts(t, (manifest.start, manifest.end), "beat")
    alarms = detect_rises(series, method="ears_c3").alarms()
    window = (manifest.rise_start, manifest.rise_start + timedelta(weeks=4))
    rising = [week for code, week in alarms if code == manifest.rising_beat]
    assert any(window[0] <= week < window[1] for week in rising), rising[:10]


def test_the_busiest_beat_is_flagged_by_the_excess_test(city):
    """Gi* holds an area's own count fixed, so it cannot single out the busiest beat; the
    excess test against population does, and flags nothing but what was planted."""
    manifest, project, t = city
    beats = project.layer("beat")
    half_year = Selection(manifest.end - timedelta(days=182), manifest.end, layer="beat")
    result = excess_by_area(t, half_year, beats.codes, beats.population)
    assert result.basis == "population"
    busiest = result.codes[int(np.argmax(result.observed))]
    assert busiest in manifest.hotspot_beats
    high = set(result.codes_of("high"))
    assert busiest in high and result.ratio[result.codes.index(busiest)] > 2
    assert set(manifest.hotspot_beats) <= high <= {*manifest.hotspot_beats, manifest.rising_beat}


def test_the_rising_beat_exceeds_its_own_history(city):
    manifest, project, t = city
    beats = project.layer("beat")
    start = manifest.rise_start
    quarter = Selection(start, start + timedelta(weeks=13), layer="beat")
    result = excess_by_area(t, quarter, beats.codes, basis="history")
    assert result.periods == 3
    assert result.codes_of("high") == (manifest.rising_beat,)
