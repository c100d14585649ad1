"""EARS C3 reports new rises, not the weeks after one (issue 11, item 8)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cardiffmodel.analysis.ears import EarsC3Parameters, ears_c3

Z = 1.959963984540054  # standard normal 97.5% quantile, EARS C3's default critical value
PARAMS = EarsC3Parameters(baseline=3, min_sigma=0.5)
# Three-week baselines lagged by two: week t is judged against weeks t-5 to t-3.
# Weeks 7 and 8 each hold 4 incidents against a baseline of mean 7/3 and deviation
# sqrt(1/3); week 9 is back to 2 against a flat baseline of 2s.
SERIES = np.array([2, 3, 2, 3, 2, 2, 2, 4, 4, 2, 2])


def excess(week: int, y: np.ndarray = SERIES, baseline: int = 3) -> float:
    """max(0, C2 - 1) of one week, with the deviation floored at 0.5."""
    base = y[week - baseline - 2 : week - 2]
    sd = max(np.std(base, ddof=1), 0.5)
    return max(0.0, (y[week] - base.mean()) / sd - 1)


def test_a_carry_over_week_does_not_alarm_where_r_would():
    # Week 9 holds 2 incidents, its expected count: nothing new. R's earsC alarms there,
    # since its bound is the observed count plus sd * (z - the two previous excesses),
    # and weeks 7 and 8 carry 1.89 each; the C3 formula R documents alarms too.
    carried_by_7_and_8 = excess(7) + excess(8)
    assert carried_by_7_and_8 > Z
    r_bound_9 = SERIES[9] + 0.5 * (Z - carried_by_7_and_8)
    assert SERIES[9] > r_bound_9
    assert excess(9) + carried_by_7_and_8 > Z
    expected, upper, alarm = ears_c3(SERIES, PARAMS)
    # Week 8 alarmed, so only week 7's excess is carried into week 9: the bound is the
    # flat baseline's 2 + 0.5 * (1 + z - excess of week 7).
    assert_allclose(upper[9], 2 + 0.5 * (1 + Z - excess(7)))
    assert_allclose(expected[9], 2)
    assert not alarm[9]


def test_a_new_rise_alarms_when_two_moderate_weeks_add_up():
    # Neither week 7 nor week 8 is high enough alone (excess 1.89 < z), but together
    # they are: C3 alarms in week 8, the second week of the rise.
    assert excess(7) < Z and excess(8) < Z
    assert excess(7) + excess(8) > Z
    sd = np.sqrt(1 / 3)
    expected, upper, alarm = ears_c3(SERIES, PARAMS)
    assert_allclose(expected[7:9], [7 / 3, 7 / 3])
    assert_allclose(upper[7:9], [7 / 3 + sd * (1 + Z), 7 / 3 + sd * (1 + Z - excess(7))])
    assert alarm.tolist() == [False] * 8 + [True, False, False]


def test_an_alarmed_spike_carries_nothing_into_the_next_two_weeks():
    y = np.array([2, 3, 2, 3, 2, 3, 2, 12, 2, 2])
    expected, upper, alarm = ears_c3(y, PARAMS)
    assert alarm.tolist() == [False] * 7 + [True, False, False]
    assert_allclose(expected[8:], [8 / 3, 7 / 3])
    # Weeks 8 and 9 are judged as if the spike had not happened: mean + sd * (1 + z).
    sd = np.sqrt(1 / 3)
    assert_allclose(upper[8:], [8 / 3 + sd * (1 + Z), 7 / 3 + sd * (1 + Z)])


@pytest.mark.parametrize("seed", range(5))
def test_every_alarm_week_is_high_itself(seed):
    """On noisy series with planted rises, no alarm week is a carry-over: its own count
    is above the C2 mean plus one standard deviation."""
    rng = np.random.default_rng(seed)
    mean = np.full(150, 4.0)
    for start in rng.integers(15, 140, size=4):
        mean[start : start + 4] *= 3
    y = rng.poisson(mean)
    params = EarsC3Parameters()
    expected, upper, alarm = ears_c3(y, params)
    assert alarm.sum() >= 4
    for week in np.flatnonzero(alarm):
        assert excess(week, y, params.baseline) > 0, week
        assert y[week] > upper[week] >= expected[week]
