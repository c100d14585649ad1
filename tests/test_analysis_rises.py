"""Weekly counts from a real DuckDB store, and rise detection on seeded weekly series."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cardiffmodel import testing
from cardiffmodel.analysis.rise_check import check_rises
from cardiffmodel.analysis.rises import NotHeld, WeeklySeries, detect_rises, weekly_counts
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.coverage import Coverage

FIRST_MONDAY = date(2019, 1, 7)


def incident(day: str, beat: str | None, source: str = "ed") -> dict:
    return testing.incident(day, beat=beat, source=source)


@pytest.fixture
def incidents(tmp_path):
    """Hand-made incidents in a real DuckDB file, opened through Ibis."""
    days = [
        ("2019-01-06", "B1"),  # Sunday before the first whole week
        ("2019-01-07", "B1"),  # Monday: week of 7 January
        ("2019-01-13", "B1"),  # Sunday: still the week of 7 January
        ("2019-01-13", "B2"),
        ("2019-01-14", None),  # not placed in any beat
        ("2019-01-22", "B2"),
        ("2019-01-27", "B2"),
        ("2019-01-28", "B1"),  # Monday of a week the period only starts
    ]
    rows = [incident(day, beat) for day, beat in days]
    rows.append(incident("2019-01-15", "B1", source="police"))
    path = tmp_path / "store.duckdb"
    testing.write_incidents(path, rows)
    return testing.open_incidents(path)


def test_weekly_counts_whole_iso_weeks_zero_filled(incidents):
    # 2 January (Wednesday) to 30 January (Wednesday): whole weeks 7, 14 and 21 January.
    series = weekly_counts(incidents, (date(2019, 1, 2), date(2019, 1, 30)))
    assert series.weeks == (date(2019, 1, 7), date(2019, 1, 14), date(2019, 1, 21))
    assert dict(series.counts) == {"B1": (2, 1, 0), "B2": (1, 0, 2)}
    assert series.layer == "beat"
    assert series.unplaced == 1


def held(*batches: tuple[str, str, str, str]) -> Coverage:
    """Coverage from (source, kind, first day, last day) batches, as the store reads it."""
    return Coverage.from_batches(
        (name, kind, date.fromisoformat(a), date.fromisoformat(b)) for name, kind, a, b in batches
    )


def test_weekly_counts_never_pads_weeks_no_extract_covers(incidents):
    period = (date(2019, 1, 2), date(2019, 1, 30))
    # ED delivered from 14 January only, police nothing: the week of 7 January is not a
    # week of one incident in B2, and the police record on 15 January is not counted.
    series = weekly_counts(
        incidents, period, coverage=held(("uhw", "ed", "2019-01-14", "2019-01-31"))
    )
    assert series.weeks == (date(2019, 1, 14), date(2019, 1, 21))
    assert dict(series.counts) == {"B2": (0, 2)}
    assert series.unplaced == 1 and series.held_by == ("uhw",)
    # A missing extract: only the unbroken run of weeks after the gap is used.
    gap = held(("uhw", "ed", "2019-01-01", "2019-01-13"), ("uhw", "ed", "2019-01-21", "2019-01-31"))
    assert weekly_counts(incidents, period, coverage=gap).weeks == (date(2019, 1, 21),)
    # A hospital joining: the weeks before it sent are not comparable with those after.
    joined = held(
        ("uhw", "ed", "2019-01-01", "2019-01-31"), ("cri", "ed", "2019-01-14", "2019-01-31")
    )
    series = weekly_counts(incidents, period, coverage=joined)
    assert series.weeks[0] == date(2019, 1, 14) and series.held_by == ("cri", "uhw")
    # The police extract of the latest week came, the hospital's not yet: the police
    # series, with its whole history, rather than no history at all.
    late = held(
        ("uhw", "ed", "2019-01-01", "2019-01-20"), ("swp", "police", "2019-01-01", "2019-01-31")
    )
    series = weekly_counts(incidents, period, coverage=late)
    assert series.weeks[0] == date(2019, 1, 7) and series.held_by == ("swp",)
    assert dict(series.counts) == {"B1": (0, 1, 0)}
    with pytest.raises(NotHeld, match="holds no week from 2019-01-07 to 2019-01-27 for ed"):
        weekly_counts(
            incidents, period, coverage=held(("swp", "police", "2018-01-01", "2018-12-31"))
        )


def test_check_rises_takes_the_longest_baseline_the_held_weeks_allow(tmp_path):
    rng = np.random.default_rng(3)
    first = date(2016, 1, 4)
    rows = [
        testing.incident(first + timedelta(weeks=w, days=d), beat=f"B{b}")
        for w in range(3 * 52)
        for b in range(3)
        for d in range(int(rng.poisson(4)))
    ]
    path = tmp_path / "store.duckdb"
    testing.write_incidents(path, rows)
    t = testing.open_incidents(path)
    december = Selection(date(2018, 12, 1), date(2019, 1, 1), sources=("ed",))
    full = check_rises(t, december, held(("uhw", "ed", "2016-01-01", "2018-12-31")))
    assert (full.method, full.years) == ("farrington", 2)
    assert full.weeks == tuple(date(2018, 12, 3) + timedelta(weeks=i) for i in range(4))
    assert "2 years of baseline, the longest" in full.note
    assert "2016-01-04 to 2018-12-02 (152 weeks) for uhw" in full.note
    # Uncovered 2016 is not history: one year of baseline, never five years of zeros.
    late = check_rises(t, december, held(("uhw", "ed", "2017-01-01", "2018-12-31")))
    assert late.years == 1 and late.result.areas["B0"].weeks[0] >= date(2017, 1, 2)
    short = held(("uhw", "ed", "2018-09-01", "2018-12-31"))
    ears = check_rises(t, december, short)
    assert ears.method == "ears_c3" and ears.note.startswith("EARS C3 (no season): because")
    assert "Farrington needs 1 year and 5 weeks" in ears.note
    refused = check_rises(t, december, short, method="farrington")
    assert refused.result is None and "the store holds 2018-09-03 to 2018-12-02" in refused.note
    none = check_rises(t, december, held(("uhw", "ed", "2018-11-01", "2018-12-31")))
    assert none.result is None and "EARS C3 needs 11 weeks" in none.note


def test_weekly_counts_follows_the_selection(incidents):
    sel = Selection(date(2019, 1, 7), date(2019, 1, 28), sources=("ed",), areas=("B2", "B9"))
    series = weekly_counts(incidents, sel)
    assert dict(series.counts) == {"B2": (1, 0, 2), "B9": (0, 0, 0)}
    assert series.unplaced == 0
    with pytest.raises(ValueError, match="differs from the selection's layer"):
        weekly_counts(incidents, sel, layer="lsoa")
    with pytest.raises(ValueError, match="no whole week"):
        weekly_counts(incidents, (date(2019, 1, 8), date(2019, 1, 14)))


def test_weekly_series_rejects_gaps_and_ragged_counts():
    monday = FIRST_MONDAY
    with pytest.raises(ValueError, match="Monday"):
        WeeklySeries(weeks=(monday + timedelta(days=1),), counts={})
    with pytest.raises(ValueError, match="7 days expected"):
        WeeklySeries(weeks=(monday, monday + timedelta(days=14)), counts={})
    with pytest.raises(ValueError, match="expected 2 counts"):
        WeeklySeries(weeks=(monday, monday + timedelta(days=7)), counts={"B1": (1,)})


def series_of(counts: dict[str, np.ndarray]) -> WeeklySeries:
    n = len(next(iter(counts.values())))
    weeks = tuple(FIRST_MONDAY + timedelta(weeks=k) for k in range(n))
    return WeeklySeries(weeks=weeks, counts=counts)


def test_ears_c3_by_hand():
    y = np.array([2, 2, 3, 3, 2, 3, 2, 6, 3, 2, 2])
    result = detect_rises(series_of({"B1": y}), "ears_c3", baseline=3).areas["B1"]
    z = 1.959963984540054  # standard normal 97.5% quantile
    sd = np.sqrt(1 / 3)  # deviation of two equal counts and one differing by 1
    # C2 of weeks 5 and 6 over weeks 0-2 and 1-3: (3 - 7/3)/sd and (2 - 8/3)/sd < 1.
    carried_7 = (3 - 7 / 3) / sd - 1
    # Week 7 (count 6) has C2 = (6 - 8/3)/sd = 5.77: its excess 4.77 alarms alone, and an
    # alarmed week carries nothing, so weeks 8 and 9 carry only week 6's excess (0). Week
    # 10's baseline is weeks 5-7 (3, 2, 6), and its previous two weeks carry nothing.
    sd_10 = np.std([3, 2, 6], ddof=1)
    nan = np.nan
    assert_allclose(result.expected, [nan] * 7 + [8 / 3, 8 / 3, 7 / 3, 11 / 3])
    assert_allclose(
        result.upper,
        [nan] * 7
        + [
            8 / 3 + sd * (1 + z - carried_7),
            8 / 3 + sd * (1 + z),
            7 / 3 + sd * (1 + z),
            11 / 3 + sd_10 * (1 + z),
        ],
    )
    assert result.alarm == (False,) * 7 + (True, False, False, False)


def test_ears_c3_floors_a_flat_baseline():
    quiet = np.zeros(12, dtype=int)
    one, two = quiet.copy(), quiet.copy()
    one[-1], two[-1] = 1, 2
    result = detect_rises(series_of({"one": one, "two": two}), "ears_c3", min_sigma=0.5)
    # Seven zero weeks: mean 0, deviation floored at 0.5, so the bound is 0.5 * (1 + z).
    assert_allclose(result.areas["one"].upper[-1], 0.5 * (1 + 1.959963984540054))
    assert result.alarms() == (("two", FIRST_MONDAY + timedelta(weeks=11)),)


def seasonal(n_areas: int, seed: int, level: float = 6.0, phi: float = 1.0) -> dict:
    """Four years and six weeks of seasonal counts per area (Poisson, or NB with phi > 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(4 * 52 + 6)
    counts = {}
    for i in range(n_areas):
        mean = level * np.exp(0.3 * np.cos(2 * np.pi * (t - 9 * i) / 52.18))
        if phi > 1:
            counts[f"B{i}"] = rng.negative_binomial(mean / (phi - 1), 1 / phi)
        else:
            counts[f"B{i}"] = rng.poisson(mean)
    return counts


RISE_START = 4 * 52 + 6 - 20  # 20 weeks before the end, well after three years


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("farrington", {"b": 3}),
        ("farrington", {"b": 3, "threshold": "power", "no_periods": 1}),
        ("ears_c3", {}),
    ],
)
def test_planted_rise_is_found_within_three_weeks(method, options):
    counts = seasonal(6, seed=11)
    rng = np.random.default_rng(12)
    mean = 6.0 * np.exp(
        0.3 * np.cos(2 * np.pi * (np.arange(RISE_START, RISE_START + 6) - 18) / 52.18)
    )
    counts["B2"][RISE_START : RISE_START + 6] = rng.poisson(2.5 * mean)
    result = detect_rises(series_of(counts), method, **options)
    assert any(result.areas["B2"].alarm[RISE_START : RISE_START + 3])


@pytest.mark.parametrize("threshold", ["negbin", "power"])
def test_farrington_false_alarms_near_nominal_on_stable_series(threshold):
    series = series_of(seasonal(8, seed=21, phi=1.6))
    result = detect_rises(series, "farrington", b=3, alpha=0.05, threshold=threshold)
    judged = [np.isfinite(r.upper) for r in result.areas.values()]
    alarms = [np.array(r.alarm) for r in result.areas.values()]
    assert min(j.sum() for j in judged) >= 50  # the last year or so is judged in every area
    assert not any(a[~j].any() for a, j in zip(alarms, judged, strict=True))
    assert sum(a.sum() for a in alarms) <= 2 * 0.05 * sum(j.sum() for j in judged)


def test_farrington_down_weights_a_past_outbreak():
    counts = seasonal(1, seed=31)["B0"]
    judged = len(counts) - 1
    counts[judged - 52 - 2 : judged - 52 + 3] *= 4  # an outbreak a year before the judged week
    series = series_of({"B0": counts})
    kept = detect_rises(series, "farrington", b=3, weights_threshold=1e9)
    down = detect_rises(series, "farrington", b=3)
    assert down.areas["B0"].expected[judged] < 0.9 * kept.areas["B0"].expected[judged]


def test_farrington_follows_a_significant_trend():
    rng = np.random.default_rng(41)
    t = np.arange(4 * 52 + 6)
    mean = 3 * np.exp(0.3 * t / 52)  # rising 35% a year
    series = series_of({"B0": rng.poisson(mean)})
    last = len(t) - 1
    with_trend = detect_rises(series, "farrington", b=3).areas["B0"].expected[last]
    without = detect_rises(series, "farrington", b=3, trend=False).areas["B0"].expected[last]
    assert abs(with_trend / mean[last] - 1) < 0.15
    assert without < 0.8 * mean[last]


def test_farrington_needs_history_and_recent_cases():
    counts = np.random.default_rng(51).poisson(0.3, size=4 * 52 + 6)
    counts[-4:] = [0, 0, 0, 4]  # far above a quiet area's level, but 4 cases in four weeks
    area = detect_rises(series_of({"B0": counts}), "farrington", b=3).areas["B0"]
    first_judged = int(np.flatnonzero(np.isfinite(area.upper))[0])
    assert 3 * 52 <= first_judged <= 3 * 52 + 6
    assert np.isnan(area.expected[:first_judged]).all()
    assert area.upper[-1] < 4
    assert not area.alarm[-1]


def test_detect_rises_rejects_unknown_methods_and_options():
    series = series_of({"B0": np.ones(60, dtype=int)})
    with pytest.raises(ValueError, match="expected one of"):
        detect_rises(series, "cusum")
    with pytest.raises(ValueError, match="threshold 'normal'"):
        detect_rises(series, "farrington", threshold="normal")
    with pytest.raises(ValueError, match="baseline 2"):
        detect_rises(series, "ears_c3", baseline=2)
    assert_array_equal(
        detect_rises(series, "farrington").areas["B0"].alarm, np.zeros(60, dtype=bool)
    )
