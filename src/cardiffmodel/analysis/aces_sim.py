"""A synthetic ACE survey with known true parameters, shaped like the Welsh ACE study.

Nine ACE items share a latent childhood adversity that deprivation raises (so
deprivation confounds ACEs and outcomes, as in real surveys); outcomes follow a logistic
model with known odds ratios per ACE category. The true share of each outcome that
preventing ACEs would remove is computed on a large population from the same model, so
tests can check that :func:`cardiffmodel.analysis.aces.analyse_survey` recovers it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cardiffmodel.analysis.aces import ACE_CATEGORIES, SurveySpec, ace_category

ITEMS = (
    "ace_verbal_abuse",
    "ace_physical_abuse",
    "ace_sexual_abuse",
    "ace_parental_separation",
    "ace_domestic_violence",
    "ace_mental_illness",
    "ace_alcohol_abuse",
    "ace_drug_use",
    "ace_incarceration",
)
# Outcome: (log-odds with no ACEs at the reference covariates, odds ratios for 1, 2-3, 4+).
OUTCOMES = {
    "violence_victim": (-3.6, (1.6, 3.0, 14.2)),
    "high_risk_drinking": (-1.6, (1.3, 1.8, 4.0)),
}
_THRESHOLDS = np.array([1.3, 1.5, 2.1, 1.1, 1.4, 1.6, 1.5, 2.1, 2.3])


@dataclass(frozen=True)
class SimulatedSurvey:
    """A synthetic survey and its truth.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per respondent: ``id``, the ACE items, age, sex, deprivation
        (quintile 1 = most deprived), outcomes and ``weight``.
    spec : SurveySpec
        The columns (unweighted).
    odds_ratios : dict of str to dict of str to float
        True adjusted odds ratio of each outcome per ACE category.
    reduction : dict of str to float
        True share of each outcome that would not occur without ACEs, in the population.
    """

    frame: pd.DataFrame
    spec: SurveySpec
    odds_ratios: dict[str, dict[str, float]]
    reduction: dict[str, float]


def simulate_survey(respondents: int = 2028, seed: int = 0) -> SimulatedSurvey:
    """A seeded survey of ``respondents`` adults (2,028 as in Bellis et al. 2015)."""
    rng = np.random.default_rng(seed)
    frame = _people(respondents, rng)
    population = _people(400_000, np.random.default_rng(seed + 1))
    reduction = {}
    for outcome, (intercept, ratios) in OUTCOMES.items():
        frame[outcome] = rng.random(respondents) < _risk(frame, intercept, ratios, False)
        frame[outcome] = frame[outcome].astype(int)
        observed = _risk(population, intercept, ratios, False).mean()
        without = _risk(population, intercept, ratios, True).mean()
        reduction[outcome] = float(1 - without / observed)
    frame["weight"] = rng.uniform(0.5, 1.5, respondents).round(3)
    spec = SurveySpec(ace_items=ITEMS, outcomes=tuple(OUTCOMES))
    truth = {
        outcome: dict(zip(ACE_CATEGORIES[1:], ratios, strict=True))
        for outcome, (_, ratios) in OUTCOMES.items()
    }
    return SimulatedSurvey(frame, spec, truth, reduction)


def _people(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Covariates and ACE items; about 47% have an ACE and 14% four or more."""
    deprivation = rng.integers(1, 6, n)
    adversity = rng.normal(0, 1, n) + 0.25 * (3 - deprivation)
    items = 1.1 * adversity[:, None] + rng.normal(0, 1, (n, len(ITEMS))) > _THRESHOLDS
    frame = pd.DataFrame(items.astype(int), columns=list(ITEMS))
    frame.insert(0, "id", np.arange(1, n + 1))
    frame["age"] = rng.integers(18, 70, n)
    frame["sex"] = rng.choice(["female", "male"], n)
    frame["deprivation"] = deprivation
    return frame


def _risk(frame: pd.DataFrame, intercept: float, ratios: tuple, no_aces: bool) -> np.ndarray:
    """Outcome probability from the true model; ``no_aces`` sets everyone to 0 ACEs."""
    category = ace_category(frame[list(ITEMS)].sum(axis=1).to_numpy())
    log_odds = (
        intercept
        - 0.02 * (frame["age"].to_numpy() - 40)
        + 0.4 * (frame["sex"].to_numpy() == "male")
        + 0.15 * (3 - frame["deprivation"].to_numpy())
    )
    if not no_aces:
        for c, ratio in zip(ACE_CATEGORIES[1:], ratios, strict=True):
            log_odds = log_odds + np.log(ratio) * (category == c)
    return 1 / (1 + np.exp(-log_odds))
