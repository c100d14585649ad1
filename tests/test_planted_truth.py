"""The analyses find what the synthetic city planted: its night-time economy hotspots and
its rising beat (issue: analysis, item 7), and no effect of an intervention it did not
plant, however little history the store holds (issue 11, items 2 and 7). The city is
built from real Cardiff data and ingested from its extract files."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import numpy as np
import pytest
from click.testing import CliRunner

from cardiffmodel.analysis.evaluation import EvaluationOptions, evaluate
from cardiffmodel.analysis.excess import excess_by_area
from cardiffmodel.analysis.hotspots import contiguity, counts_by_area, gi_star
from cardiffmodel.analysis.rises import detect_rises, weekly_counts
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.cli import main
from cardiffmodel.demo import build_demo_store
from cardiffmodel.project import Project
from cardiffmodel.store.interventions import Intervention

PATROLS_START = date(2019, 6, 1)  # the README's example: nothing was planted in Cathays


@pytest.fixture(scope="module")
def city(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("planted")
    manifest, _ = build_demo_store(folder, shared_data, seed=11, months=24, scale=0.3)
    project = Project.open(folder)
    with project.store(read_only=True) as store:
        yield manifest, project, store.incidents()


@pytest.fixture(scope="module")
def copies(city, tmp_path_factory):
    """Two writable copies of the city's project: as ingested, and with the police
    extracts of January to June 2018 withdrawn (a force that joined late)."""
    manifest, _, _ = city
    folder, root = manifest.out_dir.parent, tmp_path_factory.mktemp("copies")
    full = Project.open(shutil.copytree(folder, root / "full"))
    late = Project.open(shutil.copytree(folder, root / "late"))
    with late.store() as store:
        early = store.con.execute(
            "SELECT batch_id FROM batches WHERE kind = 'police' AND period_end < DATE '2018-07-01'"
        ).fetchall()
        assert len(early) == 6
        for (batch_id,) in early:
            store.withdraw(batch_id)
    return full, late


def _evaluate(project: Project, weeks_before: int = 104):
    layer = project.layer("beat")
    code = layer.codes[layer.names.index("Cathays")]
    intervention = Intervention("Cathays patrols", "patrols", "beat", (code,), PATROLS_START)
    options = EvaluationOptions(sources=("all", "police"), weeks_before=weeks_before)
    with project.store(read_only=True) as store:
        return evaluate(store.incidents(), intervention, options, coverage=store.coverage())


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


def test_the_readme_evaluation_finds_no_effect_where_none_was_planted(copies):
    full, _ = copies
    run = CliRunner().invoke
    folder = ["--project", str(full.settings.root)]
    args = [*folder, "interventions", "add", "Cathays patrols", "--type", "patrols"]
    done = run(main, [*args, "--start", str(PATROLS_START), "--area", "Cathays"])
    assert done.exit_code == 0, done.output
    done = run(main, [*folder, "evaluate", "Cathays patrols", "--format", "csv"])
    assert done.exit_code == 0, done.output
    # The store starts in January 2018: 73 weeks before the start, not a padded 104.
    assert "73 weeks before 2019-06-01 are held (from 2018-01-01), not the 104" in done.stderr
    rows = [line.split(",") for line in done.stdout.splitlines()[1:]]
    assert rows and all(row[6] != "reduced" for row in rows), done.stdout
    its = next(row for row in rows if row[:2] == ["all", "its"])
    assert float(its[3]) < 1 < float(its[4])  # the interval holds no effect


def test_missing_early_months_give_the_verdict_of_a_window_that_never_held_them(copies):
    full, late = copies
    # With police missing until June 2018, the window starts on 2 July 2018; on the full
    # store, 48 weeks before the start reach back to that same Monday.
    missing = _evaluate(late)
    never = _evaluate(full, weeks_before=48)
    for source in ("all", "police"):
        assert missing.windows[source].first_week == date(2018, 7, 2)
        assert missing.windows[source] == never.windows[source]
    assert missing.comparison == never.comparison
    for a, b in zip(missing.results, never.results, strict=True):
        assert (a.source, a.method, a.verdict) == (b.source, b.method, b.verdict)
        if a.effect is not None:
            assert a.effect.rate_ratio == pytest.approx(b.effect.rate_ratio)


def test_rises_on_a_store_of_two_years_say_which_baseline_they_used(city, copies):
    manifest, _, _ = city
    full, _ = copies
    month = f"{manifest.end - timedelta(days=1):%Y-%m}"
    folder = ["--project", str(full.settings.root), "analyse", "rises", "--format", "csv"]
    done = CliRunner().invoke(main, [*folder, "--period", month, "--all"])
    assert done.exit_code == 0, done.output
    assert "Farrington flexible with 1 year of baseline, the longest" in done.stderr
    assert "from 2018-01-01" not in done.stderr and "the store holds 2018-01-01 to" in done.stderr
    assert len(done.stdout.splitlines()) == 1 + 4 * 29  # the last four weeks of every ward
    done = CliRunner().invoke(main, [*folder, "--period", "2018-03"])
    assert done.exit_code != 0
    assert "No rise method can run: Farrington needs 1 year and 5 weeks" in done.output


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
