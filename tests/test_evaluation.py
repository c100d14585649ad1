"""Intervention evaluation: each method against an independent computation (statsmodels
directly, a hand-built synthetic control, a hand-run jackknife) and against panels with a
planted effect; the verdict rules; the evaluation of a real store."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy import stats

from cardiffmodel.analysis.did import difference_in_differences
from cardiffmodel.analysis.effect import (
    Effect,
    EvaluationError,
    PreCheck,
    VerdictRules,
    judge,
    split_weeks,
)
from cardiffmodel.analysis.evaluation_sim import simulate_panel
from cardiffmodel.analysis.its import ItsParameters, interrupted_time_series
from cardiffmodel.analysis.rises import WeeklySeries
from cardiffmodel.analysis.synthetic_control import synthetic_control

MONDAY = date(2018, 1, 1)


def _treated_totals(panel) -> np.ndarray:
    return np.sum([panel.series.counts[c] for c in panel.treated], axis=0)


def test_weeks_are_split_around_a_mid_week_start_and_an_end():
    weeks = tuple(MONDAY + timedelta(weeks=i) for i in range(6))
    # Starts on Wednesday of week 2, ends (exclusive) on Monday of week 5.
    part = split_weeks(weeks, MONDAY + timedelta(weeks=2, days=2), MONDAY + timedelta(weeks=5))
    assert part.tolist() == [-1, -1, 0, 1, 1, 0]


def _effect(ratio, low, high, passed=True):
    check = PreCheck(passed, "test", 0.5, "fine" if passed else "trends differed")
    return Effect("did", ratio, low, high, 0.01, check, 52, 26)


@pytest.mark.parametrize(
    ("ratio", "low", "high", "passed", "code"),
    [
        (0.58, 0.49, 0.69, True, "reduced"),
        (1.40, 1.10, 1.80, True, "increased"),
        (0.98, 0.85, 1.12, True, "no_change"),
        (0.90, 0.60, 1.35, True, "too_weak"),
        (0.58, 0.49, 0.69, False, "too_weak"),
        (0.98, 0.79, 1.12, True, "too_weak"),  # below the negligible band's 0.8
    ],
)
def test_verdict_rules(ratio, low, high, passed, code):
    verdict = judge(_effect(ratio, low, high, passed))
    assert verdict.code == code
    if code == "reduced":
        assert "fell by about 42%" in verdict.text
    if not passed:
        assert "trends differed" in verdict.text


def test_verdict_band_is_configurable_and_checked():
    assert judge(_effect(0.98, 0.79, 1.12), VerdictRules((0.75, 1.33))).code == "no_change"
    with pytest.raises(ValueError, match="negligible band"):
        VerdictRules((1.1, 1.3))


def test_its_matches_statsmodels_fitted_directly():
    panel = simulate_panel(7, 0.7)
    y = _treated_totals(panel)
    result = interrupted_time_series(panel.series.weeks, y, panel.start)
    mid = [w + timedelta(days=3) for w in panel.series.weeks]
    angle = 2 * np.pi * np.array([m.timetuple().tm_yday for m in mid]) / 365.25
    frame = pd.DataFrame(
        {
            "y": y,
            "years": [(m - panel.start).days / 365.25 for m in mid],
            "post": [float(w >= panel.start) for w in panel.series.weeks],
            **{f"s{h}": np.sin(h * angle) for h in (1, 2)},
            **{f"c{h}": np.cos(h * angle) for h in (1, 2)},
        }
    )
    direct = sm.GLM.from_formula(
        "y ~ years + s1 + c1 + s2 + c2 + post", frame, family=sm.families.Poisson()
    ).fit(scale="X2")
    low, high = direct.conf_int().loc["post"]
    assert_allclose(
        [result.effect.rate_ratio, result.effect.low, result.effect.high],
        np.exp([direct.params["post"], low, high]),
        rtol=1e-6,
    )
    assert result.dispersion == pytest.approx(direct.scale)


def test_its_recovers_a_planted_effect_and_a_negative_binomial_fit_agrees():
    panel = simulate_panel(11, 0.58)
    y = _treated_totals(panel)
    quasi = interrupted_time_series(panel.series.weeks, y, panel.start).effect
    negbin = interrupted_time_series(
        panel.series.weeks, y, panel.start, parameters=ItsParameters(family="negbin")
    ).effect
    for effect in (quasi, negbin):
        assert effect.low < 0.58 < effect.high
        assert effect.high < 1 and effect.pre_check.passed
    assert negbin.rate_ratio == pytest.approx(quasi.rate_ratio, rel=0.05)


def test_its_with_slope_change_reports_the_average_effect_after():
    panel = simulate_panel(3, 0.58)
    y = _treated_totals(panel)
    effect = interrupted_time_series(
        panel.series.weeks, y, panel.start, parameters=ItsParameters(slope_change=True)
    ).effect
    assert effect.low < 0.58 < effect.high


def test_its_pre_check_fails_with_under_a_year_before():
    panel = simulate_panel(3, 0.58, weeks_before=30)
    effect = interrupted_time_series(panel.series.weeks, _treated_totals(panel), panel.start).effect
    assert not effect.pre_check.passed
    assert "only 30 weeks" in effect.pre_check.note
    assert judge(effect).code == "too_weak"


def _poisson_fe(frame: pd.DataFrame) -> float:
    dummies = pd.get_dummies(frame[["area", "week"]].astype(str), drop_first=True, dtype=float)
    design = np.column_stack([np.ones(len(frame)), frame["treated_after"], dummies])
    fit = sm.GLM(frame["y"].to_numpy(float), design, family=sm.families.Poisson()).fit()
    return float(fit.params[1])


def test_did_matches_a_statsmodels_poisson_with_dummies_and_a_hand_run_jackknife():
    panel = simulate_panel(5, 0.7, beats=10, treated=3, weeks_before=30, weeks_after=20)
    result = difference_in_differences(panel.series, panel.treated, panel.start, event_study=False)
    rows = [
        {
            "area": code,
            "week": i,
            "y": count,
            "treated_after": float(code in panel.treated and week >= panel.start),
        }
        for code, counts in panel.series.counts.items()
        for i, (week, count) in enumerate(zip(panel.series.weeks, counts, strict=True))
    ]
    frame = pd.DataFrame(rows)
    beta = _poisson_fe(frame)
    assert np.log(result.effect.rate_ratio) == pytest.approx(beta, abs=1e-6)
    # Leave-one-area-out jackknife with fixest's small-sample factor G/(G-1) (N-1)/(N-K),
    # K counting the coefficient, intercept and week effects (area effects nest in areas).
    left_out = np.array([_poisson_fe(frame[frame["area"] != a]) for a in panel.series.counts])
    g, n, k = len(left_out), len(frame), 1 + 1 + 49
    se = np.sqrt(g / (g - 1) * (n - 1) / (n - k) * np.sum((left_out - beta) ** 2))
    t = stats.t.ppf(0.975, g - 1)
    assert_allclose([result.effect.low, result.effect.high], np.exp(beta + np.array([-t, t]) * se))


def test_did_recovers_a_planted_effect_with_flat_pre_trends():
    panel = simulate_panel(2, 0.58, beats=12, treated=3, weeks_before=64, weeks_after=32)
    result = difference_in_differences(panel.series, panel.treated, panel.start)
    assert result.effect.low < 0.58 < result.effect.high
    assert judge(result.effect).code == "reduced"
    before = [p for p in result.event_study if p.block < -1]
    assert sum(p.low <= 1 <= p.high for p in before) >= 0.8 * len(before)
    after = [p for p in result.event_study if p.block >= 0]
    assert np.median([p.rate_ratio for p in after]) == pytest.approx(0.58, abs=0.1)


def test_did_pre_check_catches_diverging_trends():
    panel = simulate_panel(
        2, 1.0, beats=12, treated=3, weeks_before=64, weeks_after=32, diverging_trend=0.4
    )
    effect = difference_in_differences(
        panel.series, panel.treated, panel.start, event_study=False
    ).effect
    assert not effect.pre_check.passed
    assert "drifted" in effect.pre_check.note
    assert judge(effect).code == "too_weak"


def test_did_refuses_a_single_treated_area():
    panel = simulate_panel(2, 0.58, treated=1)
    with pytest.raises(EvaluationError, match="at least 2 of each"):
        difference_in_differences(panel.series, panel.treated, panel.start)


def test_synthetic_control_recovers_a_hand_built_blend():
    rng = np.random.default_rng(4)
    weeks = tuple(MONDAY + timedelta(weeks=i) for i in range(80))
    start = weeks[60]
    season = 1 + 0.3 * np.sin(np.arange(80) / 6)
    donors = {
        "D1": rng.poisson(10 * season),
        "D2": rng.poisson(10 * season[::-1]),
        **{f"X{i}": rng.poisson(rng.uniform(5, 15), 80) for i in range(20)},
    }
    # The treated area is D1 + D2 before the start, then half of it.
    both = (donors["D1"] + donors["D2"]).astype(float)
    pre_ratio = donors["D1"][:60].sum() / donors["D2"][:60].sum()
    treated = np.round(np.where(np.arange(80) < 60, both, both / 2) * 10).astype(int)
    series = WeeklySeries(weeks, {"T": treated, **donors})
    result = synthetic_control(series, ("T",), start)
    # With blocks normalised by their mean before, D1 + D2 is a blend of D1 and D2 with
    # weights in proportion to their counts before the start.
    expected_d1 = pre_ratio / (1 + pre_ratio)
    assert result.weights == pytest.approx({"D1": expected_d1, "D2": 1 - expected_d1}, abs=0.02)
    assert result.effect.rate_ratio == pytest.approx(0.5, abs=0.02)
    assert result.effect.pre_check.passed
    assert result.effect.p_value == pytest.approx(1 / 23)  # more extreme than all 22 placebos


def test_synthetic_control_interval_inverts_the_placebo_test():
    panel = simulate_panel(8, 0.58)
    result = synthetic_control(panel.series, panel.treated, panel.start)
    placebos = np.sort(np.abs(np.log(result.placebo_rate_ratios)))[::-1]
    assert len(placebos) == 39
    # 39 placebos: an effect is kept while 2 of them (5% of 40) are at least as extreme.
    margin = placebos[1]
    assert_allclose(
        [result.effect.low, result.effect.high],
        result.effect.rate_ratio * np.exp([-margin, margin]),
    )
    assert result.effect.low < 0.58 < result.effect.high


def test_synthetic_control_pre_check_catches_a_treated_unit_drifting_away():
    panel = simulate_panel(2, 1.0, diverging_trend=0.4)
    effect = synthetic_control(panel.series, panel.treated, panel.start).effect
    assert not effect.pre_check.passed
    assert judge(effect).code == "too_weak"


def test_methods_refuse_too_little_data():
    panel = simulate_panel(1, 1.0, weeks_before=6, weeks_after=2)
    y = _treated_totals(panel)
    for run in (
        lambda: interrupted_time_series(panel.series.weeks, y, panel.start),
        lambda: synthetic_control(panel.series, panel.treated, panel.start),
    ):
        with pytest.raises(EvaluationError, match="expected at least"):
            run()
