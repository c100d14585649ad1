"""ACEs: the survey analysis against statsmodels fitted directly and a synthetic survey
with known parameters; the summary formulas against hand-worked examples; the command."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from click.testing import CliRunner
from numpy.testing import assert_allclose
from statsmodels.stats.proportion import proportion_confint

from cardiffmodel.analysis.aces import (
    SurveyError,
    SurveySpec,
    ace_category,
    ace_prevalence,
    analyse_survey,
    default_spec,
    read_survey,
    wilson,
)
from cardiffmodel.analysis.aces_sim import simulate_survey
from cardiffmodel.analysis.aces_summary import (
    SummaryError,
    SummaryRow,
    attributable_fractions,
    levin,
    miettinen,
    odds_to_risk_ratio,
    read_summary,
)
from cardiffmodel.cli import main


@pytest.fixture(scope="module")
def survey():
    return simulate_survey(3000, seed=5)


@pytest.fixture(scope="module")
def result(survey):
    return analyse_survey(survey.frame, survey.spec, bootstrap=200, seed=1)


def test_ace_counts_fall_into_the_study_categories():
    assert ace_category(np.array([0, 1, 2, 3, 4, 9])).tolist() == [
        "0",
        "1",
        "2-3",
        "2-3",
        "4+",
        "4+",
    ]


def test_synthetic_survey_looks_like_the_welsh_study(result):
    shares = {p.category: p.share for p in result.prevalence}
    assert 1 - shares["0"] == pytest.approx(0.47, abs=0.04)
    assert shares["4+"] == pytest.approx(0.14, abs=0.03)


def test_odds_ratios_and_reductions_match_statsmodels_fitted_directly(survey, result):
    frame = survey.frame.assign(
        cat=ace_category(survey.frame[list(survey.spec.ace_items)].sum(axis=1).to_numpy())
    )
    for outcome in result.outcomes:
        fit = smf.logit(
            f"{outcome.outcome} ~ C(cat, Treatment('0')) + age + C(sex) + C(deprivation)", frame
        ).fit(disp=0)
        names = [f"C(cat, Treatment('0'))[T.{c}]" for c in ("1", "2-3", "4+")]
        ours = [(r.odds_ratio, r.low, r.high) for r in outcome.odds_ratios]
        theirs = np.exp(np.column_stack([fit.params[names], fit.conf_int().loc[names]]))
        assert_allclose(ours, theirs, rtol=1e-5)
        without = fit.predict(frame.assign(cat="0")).mean()
        assert outcome.counterfactual == pytest.approx(without, rel=1e-6)
        observed = frame[outcome.outcome].mean()
        assert outcome.reduction == pytest.approx(1 - without / observed, rel=1e-6)


def test_true_parameters_lie_within_their_intervals(survey, result):
    # Eight 95% intervals: each misses its truth 1 time in 20, so one miss is allowed
    # (two or more would happen about 1 time in 20 by chance alone).
    misses = []
    for outcome in result.outcomes:
        truth = survey.odds_ratios[outcome.outcome]
        for ratio in outcome.odds_ratios:
            if not ratio.low < truth[ratio.category] < ratio.high:
                misses.append((outcome.outcome, ratio))
        if not outcome.low < survey.reduction[outcome.outcome] < outcome.high:
            misses.append((outcome.outcome, outcome.reduction, outcome.low, outcome.high))
        assert outcome.low < outcome.reduction < outcome.high
    assert len(misses) <= 1, misses


def test_prevalence_intervals_are_wilson_and_weights_count():
    frame = pd.DataFrame(
        {
            "ace_a": [0, 1, 1, 1, 0, 0, 1, 1],
            "ace_b": [0, 0, 1, 1, 0, 0, 1, 1],
            "ace_c": [0, 0, 0, 1, 0, 0, 1, 1],
            "ace_d": [0, 0, 0, 1, 0, 0, 0, 1],
            "age": [30, 40, 50, 60, 35, 45, 55, 65],
            "sex": ["f", "m"] * 4,
            "deprivation": [1, 2, 3, 4, 5, 1, 2, 3],
            "violence": [0, 1, 0, 1, 0, 1, 0, 1],
            "w": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0],
        }
    )
    category = ace_category(frame[["ace_a", "ace_b", "ace_c", "ace_d"]].sum(axis=1).to_numpy())
    plain = {p.category: p for p in ace_prevalence(category, np.ones(8))}
    assert [plain[c].respondents for c in ("0", "1", "2-3", "4+")] == [3, 1, 2, 2]
    assert (plain["4+"].low, plain["4+"].high) == pytest.approx(
        proportion_confint(2, 8, method="wilson")
    )
    weighted = {p.category: p for p in ace_prevalence(category, frame["w"].to_numpy())}
    assert weighted["4+"].share == pytest.approx(6 / 12)
    effective = 12**2 / (7 + 25)
    assert (weighted["4+"].low, weighted["4+"].high) == pytest.approx(wilson(0.5, effective))


def test_weighted_analysis_uses_the_weights(survey):
    spec = SurveySpec(survey.spec.ace_items, survey.spec.outcomes, weight="weight")
    weighted = analyse_survey(survey.frame, spec, bootstrap=50, seed=1)
    assert weighted.weighted
    frame = survey.frame
    outcome = weighted.outcomes[0]
    expected = np.average(frame[outcome.outcome], weights=frame["weight"])
    assert outcome.observed == pytest.approx(expected)


def test_survey_files_are_checked_with_row_column_and_value(tmp_path, survey):
    path = tmp_path / "survey.csv"
    frame = survey.frame.head(50).copy()
    frame.loc[7, "ace_drug_use"] = 2
    frame.to_csv(path, index=False)
    with pytest.raises(SurveyError, match=r"row 9 column 'ace_drug_use' value '2'"):
        read_survey(path)
    spec = default_spec(list(survey.frame.columns), weight="weight")
    assert spec.outcomes == ("violence_victim", "high_risk_drinking")
    assert len(spec.ace_items) == 9


def test_miettinen_and_levin_by_hand():
    # Cases split 30/20/30/20% over 0, 1, 2-3, 4+ ACEs; risk ratios 2, 4 and 10:
    # 0.2 x 1/2 + 0.3 x 3/4 + 0.2 x 9/10 = 0.505.
    assert miettinen(np.array([0.2, 0.3, 0.2]), np.array([2.0, 4.0, 10.0])) == pytest.approx(0.505)
    # Population 50/20/20/10%: excess 0.2 + 0.6 + 0.9 = 1.7, so 1.7 / 2.7.
    assert levin(np.array([0.2, 0.2, 0.1]), np.array([2.0, 4.0, 10.0])) == pytest.approx(1.7 / 2.7)
    # Zhang & Yu: OR 4 with 20% risk in the unexposed is RR 4 / (0.8 + 0.8) = 2.5.
    assert odds_to_risk_ratio(np.array(4.0), 0.2) == pytest.approx(2.5)


def test_miettinen_is_right_with_adjusted_ratios_where_levin_is_not():
    # Two equal strata of a confounder. Stratum A: 20% exposed, risk 0.1 unexposed;
    # stratum B: 60% exposed, risk 0.2 unexposed; the risk ratio is 2 in both.
    # Cases per 2 people: 0.08 + 0.04 (A) + 0.08 + 0.24 (B) = 0.44, of which 0.28 exposed;
    # with nobody exposed there would be 0.1 + 0.2 = 0.3, so the true fraction is 0.14/0.44.
    truth = 0.14 / 0.44
    assert miettinen(np.array([0.28 / 0.44]), np.array([2.0])) == pytest.approx(truth)
    # Levin with the adjusted ratio and population exposure: 0.4 / 1.4 = 0.29, too low;
    # with the crude ratio 2.625 it gives the confounded crude fraction 0.39, too high.
    assert levin(np.array([0.4]), np.array([2.0])) == pytest.approx(0.4 / 1.4)
    crude = (0.28 / 0.8) / (0.16 / 1.2)
    assert levin(np.array([0.4]), np.array([crude])) == pytest.approx(0.65 / 1.65)
    assert 0.4 / 1.4 < truth < 0.65 / 1.65


def _rows(outcome, odds, shares, prevalence):
    rows = [SummaryRow(outcome, "0", 1, 1, 1, shares[0], prevalence[0])]
    for category, (ratio, low, high), share, prev in zip(
        ("1", "2-3", "4+"), odds, shares[1:], prevalence[1:], strict=True
    ):
        rows.append(SummaryRow(outcome, category, ratio, low, high, share, prev))
    return rows


def test_summary_fractions_with_a_common_outcome_show_levin_overstating():
    odds = [(1.5, 1.2, 1.9), (2.5, 2.0, 3.1), (4.0, 3.0, 5.3)]
    shares = (0.53, 0.19, 0.14, 0.14)
    prevalence = (0.20, 0.27, 0.38, 0.50)  # a common outcome, like high-risk drinking
    (fraction,) = attributable_fractions(tuple(_rows("drinking", odds, shares, prevalence)))
    cases = np.array(shares) * np.array(prevalence)
    cases /= cases.sum()
    risk = odds_to_risk_ratio(np.array([o[0] for o in odds]), 0.20)
    assert fraction.ratios == "zhang-yu"
    assert fraction.fraction == pytest.approx(miettinen(cases[1:], risk))
    assert fraction.low < fraction.fraction < fraction.high
    assert fraction.levin == pytest.approx(levin(np.array(shares[1:]), np.array([1.5, 2.5, 4.0])))
    assert fraction.levin > fraction.high  # adjusted odds ratios in Levin's formula overstate


def test_summary_files_are_read_and_checked(tmp_path):
    path = tmp_path / "summary.csv"
    header = ["outcome", "category", "odds_ratio", "low", "high", "case_share"]
    lines = [
        ["violence", "0", "1", "1", "1", "0.25"],
        ["violence", "1", "1.6", "1.1", "2.4", "0.15"],
        ["violence", "2-3", "3.0", "2.0", "4.4", "0.2"],
        ["violence", "4+", "14.2", "9.1", "22.1", "0.4"],
    ]
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *lines])
    (fraction,) = attributable_fractions(read_summary(path))
    assert fraction.ratios == "odds" and fraction.levin is None
    expected = 0.15 * 0.6 / 1.6 + 0.2 * 2 / 3 + 0.4 * 13.2 / 14.2
    assert fraction.fraction == pytest.approx(expected)
    lines[3][3] = "many"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *lines])
    with pytest.raises(SummaryError, match=r"row 5 column 'low' value 'many'"):
        read_summary(path)
    rows = tuple(r for r in _rows("x", [(2, 1, 3)] * 3, (0.5, 0.2, 0.2, 0.1), (0.1,) * 4))
    with pytest.raises(SummaryError, match="needs the share of cases"):
        attributable_fractions(
            tuple(r.__class__(**{**r.__dict__, "outcome_prevalence": None}) for r in rows)
        )


def test_command_writes_table_and_chart(tmp_path, survey):
    path = tmp_path / "survey.csv"
    survey.frame.head(1500).to_csv(path, index=False)
    out = tmp_path / "out"
    done = CliRunner().invoke(
        main,
        [
            "aces",
            "--survey",
            str(path),
            "--weight",
            "weight",
            "--bootstrap",
            "50",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / "aces.csv")
    assert list(table["outcome"]) == ["violence_victim", "high_risk_drinking"]
    assert {"aor_4+", "reduction_if_aces_prevented"} <= set(table.columns)
    assert (out / "aces_prevalence.csv").exists()
    svg = (out / "aces.svg").read_text()
    assert "<svg" in svg and "4+ ACEs" in svg
    neither = CliRunner().invoke(main, ["aces"])
    assert neither.exit_code != 0 and "--survey FILE or --summary FILE" in neither.output
