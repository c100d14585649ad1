"""Adverse Childhood Experiences (ACEs) from an individual-level survey.

As in the Welsh ACE study (Bellis et al. 2015): each respondent's ACE items are counted
into the categories 0, 1, 2–3 and 4+; the prevalence of each category is estimated
(optionally with survey weights); each outcome is modelled by logistic regression on the
ACE category adjusted for covariates (age, sex, deprivation), giving adjusted odds ratios;
and the share of each outcome attributable to ACEs is the fall in its predicted
prevalence if nobody had any ACE, from the same model (the counterfactual, or
model-standardised, population attributable fraction; Greenland & Drescher 1993):
``(observed − counterfactual) / observed``, with percentile bootstrap intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from threadpoolctl import threadpool_limits

ACE_CATEGORIES = ("0", "1", "2-3", "4+")
COVARIATES = ("age", "sex", "deprivation")
Z95 = stats.norm.ppf(0.975)


class SurveyError(ValueError):
    """A survey file or frame is unusable; names the file, row, column and value."""


@dataclass(frozen=True)
class SurveySpec:
    """Which columns of a survey hold what.

    Attributes
    ----------
    ace_items : tuple of str
        The ACE items (0 = no, 1 = yes).
    outcomes : tuple of str
        The outcomes (0 = no, 1 = yes).
    covariates : tuple of str
        Adjustment covariates.
    categorical : tuple of str
        Covariates modelled as categories (the rest enter as numbers, e.g. age).
    weight : str or None
        Survey weight column, or ``None`` for an unweighted analysis.
    """

    ace_items: tuple[str, ...]
    outcomes: tuple[str, ...]
    covariates: tuple[str, ...] = COVARIATES
    categorical: tuple[str, ...] = ("sex", "deprivation")
    weight: str | None = None

    def __post_init__(self) -> None:
        if not self.ace_items or not self.outcomes:
            raise SurveyError("a survey needs at least one ACE item and one outcome column")


@dataclass(frozen=True)
class Prevalence:
    """Share of respondents in one ACE category, with a 95% Wilson interval (on the
    Kish effective sample size when weighted)."""

    category: str
    respondents: int
    share: float
    low: float
    high: float


@dataclass(frozen=True)
class OddsRatio:
    """Adjusted odds ratio of an outcome in one ACE category against no ACEs."""

    category: str
    odds_ratio: float
    low: float
    high: float


@dataclass(frozen=True)
class OutcomeResult:
    """One outcome's association with ACEs and the share attributable to them.

    Attributes
    ----------
    outcome : str
        The outcome column.
    respondents : int
        Respondents with the outcome and every covariate recorded.
    observed : float
        Prevalence of the outcome (weighted when the survey is).
    odds_ratios : tuple of OddsRatio
        Categories 1, 2–3 and 4+ against 0, adjusted for the covariates (Wald intervals;
        robust sandwich errors when weighted).
    counterfactual : float
        Predicted prevalence if everyone had no ACEs.
    reduction, low, high : float
        ``(observed − counterfactual) / observed``, the share of the outcome that would
        not occur if ACEs were prevented, with its percentile bootstrap interval.
    """

    outcome: str
    respondents: int
    observed: float
    odds_ratios: tuple[OddsRatio, ...]
    counterfactual: float
    reduction: float
    low: float
    high: float


@dataclass(frozen=True)
class SurveyResult:
    """ACE prevalence and outcomes of one survey.

    Attributes
    ----------
    respondents : int
        Respondents with every ACE item and covariate recorded.
    weighted : bool
        Whether survey weights were used.
    prevalence : tuple of Prevalence
        Categories 0, 1, 2–3, 4+.
    outcomes : tuple of OutcomeResult
        In the spec's order.
    bootstrap, seed : int
        Bootstrap resamples and their seed.
    """

    respondents: int
    weighted: bool
    prevalence: tuple[Prevalence, ...]
    outcomes: tuple[OutcomeResult, ...]
    bootstrap: int
    seed: int


def default_spec(columns: list[str], weight: str | None = None) -> SurveySpec:
    """The usual layout: ``ace_*`` columns are items, age/sex/deprivation covariates, and
    every other column (except ``id`` and the weight) an outcome."""
    items = tuple(c for c in columns if c.startswith("ace_"))
    skip = {*items, *COVARIATES, "id", weight}
    return SurveySpec(
        ace_items=items, outcomes=tuple(c for c in columns if c not in skip), weight=weight
    )


def read_survey(
    path: Path, spec: SurveySpec | None = None, weight: str | None = None
) -> tuple[pd.DataFrame, SurveySpec]:
    """Read a survey CSV and check its columns; ``spec`` defaults to :func:`default_spec`
    (with ``weight`` as the weight column)."""
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise SurveyError(f"{path}: cannot read the survey as CSV ({err})") from err
    spec = spec or default_spec(list(frame.columns), weight)
    check_survey(frame, spec, str(path))
    return frame, spec


def check_survey(frame: pd.DataFrame, spec: SurveySpec, where: str = "survey") -> None:
    """Raise :class:`SurveyError` at the first missing column or value that is not 0/1."""
    wanted = [*spec.ace_items, *spec.outcomes, *spec.covariates]
    if spec.weight:
        wanted.append(spec.weight)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SurveyError(
            f"{where}: no column {missing[0]!r}; expected columns {wanted} "
            f"(found {list(frame.columns)})"
        )
    for column in (*spec.ace_items, *spec.outcomes):
        values = frame[column]
        bad = values.notna() & ~values.isin([0, 1])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise SurveyError(
                f"{where} row {row + 2} column {column!r} value {str(values.iloc[row])!r}: "
                "expected 0 (no), 1 (yes) or blank"
            )
    if spec.weight:
        weights = pd.to_numeric(frame[spec.weight], errors="coerce")
        bad = ~(weights > 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise SurveyError(
                f"{where} row {row + 2} column {spec.weight!r} value "
                f"{str(frame[spec.weight].iloc[row])!r}: expected a positive weight"
            )


def ace_category(counts: np.ndarray) -> np.ndarray:
    """ACE counts as the categories ``"0"``, ``"1"``, ``"2-3"``, ``"4+"``."""
    counts = np.asarray(counts)
    return np.select(
        [counts == 0, counts == 1, counts <= 3], ["0", "1", "2-3"], default="4+"
    ).astype(object)


def analyse_survey(
    frame: pd.DataFrame, spec: SurveySpec, bootstrap: int = 500, seed: int = 0
) -> SurveyResult:
    """Prevalence, adjusted odds ratios and attributable reductions for a survey.

    Respondents missing any ACE item or covariate are left out (complete cases); those
    missing one outcome are left out of that outcome only.
    """
    if bootstrap < 50:
        raise ValueError(f"bootstrap {bootstrap}: expected at least 50 resamples")
    check_survey(frame, spec)
    complete = frame.dropna(subset=[*spec.ace_items, *spec.covariates])
    if len(complete) == 0:
        raise SurveyError("survey: no respondent has every ACE item and covariate recorded")
    category = ace_category(complete[list(spec.ace_items)].sum(axis=1).to_numpy())
    weights = complete[spec.weight].to_numpy(float) if spec.weight else np.ones(len(complete))
    covariates = _covariate_matrix(complete, spec)
    rng = np.random.default_rng(seed)
    # Hundreds of small fits: threaded BLAS only adds contention (12x slower on 2 busy cores).
    with threadpool_limits(limits=1, user_api="blas"):
        outcomes = tuple(
            _outcome(
                name,
                complete[name].to_numpy(),
                category,
                covariates,
                weights,
                bool(spec.weight),
                bootstrap,
                rng,
            )
            for name in spec.outcomes
        )
    return SurveyResult(
        respondents=len(complete),
        weighted=bool(spec.weight),
        prevalence=ace_prevalence(category, weights),
        outcomes=outcomes,
        bootstrap=bootstrap,
        seed=seed,
    )


def _covariate_matrix(frame: pd.DataFrame, spec: SurveySpec) -> np.ndarray:
    """Covariates as numbers: categorical ones as indicators of all but the first level."""
    parts = []
    for column in spec.covariates:
        if column in spec.categorical:
            levels = pd.Categorical(frame[column].astype(str))
            dummies = pd.get_dummies(levels, drop_first=True, dtype=float)
            parts.append(dummies.to_numpy())
        else:
            values = pd.to_numeric(frame[column], errors="coerce")
            if values.isna().any():
                row = int(np.flatnonzero(values.isna().to_numpy())[0])
                raise SurveyError(
                    f"survey row {row + 2} column {column!r} value "
                    f"{str(frame[column].iloc[row])!r}: expected a number (or list it as "
                    "categorical)"
                )
            parts.append(values.to_numpy(float)[:, None])
    return np.hstack(parts) if parts else np.empty((len(frame), 0))


def _design(category: np.ndarray, covariates: np.ndarray) -> np.ndarray:
    """Intercept, indicators of ACE categories 1, 2–3 and 4+, then the covariates."""
    indicators = [(category == c).astype(float) for c in ACE_CATEGORIES[1:]]
    return np.column_stack([np.ones(len(category)), *indicators, covariates])


def _outcome(
    name: str,
    y: np.ndarray,
    category: np.ndarray,
    covariates: np.ndarray,
    weights: np.ndarray,
    weighted: bool,
    bootstrap: int,
    rng: np.random.Generator,
) -> OutcomeResult:
    known = ~pd.isna(y)
    y, category = y[known].astype(float), category[known]
    covariates, weights = covariates[known], weights[known]
    if y.sum() == 0 or y.sum() == len(y):
        raise SurveyError(f"outcome {name!r}: everyone or no one has it, so nothing to model")
    design = _design(category, covariates)
    fit = _logit(y, design, weights, weighted)
    observed, counterfactual = _prevalences(fit.params, design, y, weights)
    odds_ratios = tuple(
        OddsRatio(
            c,
            float(np.exp(fit.params[i])),
            float(np.exp(fit.params[i] - Z95 * fit.bse[i])),
            float(np.exp(fit.params[i] + Z95 * fit.bse[i])),
        )
        for i, c in enumerate(ACE_CATEGORIES[1:], start=1)
    )
    draws = []
    for _ in range(bootstrap):
        pick = rng.integers(0, len(y), len(y))
        try:
            refit = _logit(y[pick], design[pick], weights[pick], weighted=False)
        except (np.linalg.LinAlgError, ValueError):
            continue  # a resample without some category cannot be fitted; it is skipped
        seen, unseen = _prevalences(refit.params, design[pick], y[pick], weights[pick])
        draws.append(1 - unseen / seen)
    if len(draws) < bootstrap / 2:
        raise SurveyError(
            f"outcome {name!r}: most bootstrap resamples could not be fitted (too few "
            "respondents in some ACE category with or without the outcome)"
        )
    low, high = np.quantile(draws, [0.025, 0.975])
    return OutcomeResult(
        outcome=name,
        respondents=len(y),
        observed=observed,
        odds_ratios=odds_ratios,
        counterfactual=counterfactual,
        reduction=1 - counterfactual / observed,
        low=float(low),
        high=float(high),
    )


def _logit(y: np.ndarray, design: np.ndarray, weights: np.ndarray, weighted: bool):
    """Logistic regression; with survey weights, robust (sandwich) errors."""
    model = sm.GLM(y, design, family=sm.families.Binomial(), var_weights=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sm.tools.sm_exceptions.PerfectSeparationWarning)
        try:
            return model.fit(cov_type="HC0") if weighted else model.fit()
        except sm.tools.sm_exceptions.PerfectSeparationWarning as err:
            raise ValueError("perfect separation") from err


def _prevalences(
    params: np.ndarray, design: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """Observed prevalence, and the model's prediction with every ACE indicator set to 0."""
    none = design.copy()
    none[:, 1 : len(ACE_CATEGORIES)] = 0.0
    predicted = 1 / (1 + np.exp(-(none @ params)))
    return float(np.average(y, weights=weights)), float(np.average(predicted, weights=weights))


def ace_prevalence(category: np.ndarray, weights: np.ndarray) -> tuple[Prevalence, ...]:
    """Share of (weighted) respondents per ACE category, with Wilson intervals on the
    Kish effective sample size, so unequal weights widen them."""
    effective = weights.sum() ** 2 / (weights**2).sum()
    rows = []
    for c in ACE_CATEGORIES:
        share = float(weights[category == c].sum() / weights.sum())
        low, high = wilson(share, effective)
        rows.append(Prevalence(c, int((category == c).sum()), share, low, high))
    return tuple(rows)


def wilson(share: float, n: float) -> tuple[float, float]:
    """95% Wilson score interval of a proportion ``share`` out of ``n``."""
    centre = (share + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * np.sqrt(share * (1 - share) / n + Z95**2 / (4 * n**2))
    return float(centre - half), float(centre + half)


def survey_table(result: SurveyResult) -> list[dict]:
    """One row per outcome, for CSV: prevalence, odds ratios and the attributable reduction."""
    rows = []
    for o in result.outcomes:
        row = {
            "outcome": o.outcome,
            "respondents": o.respondents,
            "prevalence": round(o.observed, 4),
            "prevalence_without_aces": round(o.counterfactual, 4),
            "reduction_if_aces_prevented": round(o.reduction, 4),
            "reduction_low": round(o.low, 4),
            "reduction_high": round(o.high, 4),
        }
        for ratio in o.odds_ratios:
            row[f"aor_{ratio.category}"] = round(ratio.odds_ratio, 3)
            row[f"aor_{ratio.category}_low"] = round(ratio.low, 3)
            row[f"aor_{ratio.category}_high"] = round(ratio.high, 3)
        rows.append(row)
    return rows


def prevalence_table(result: SurveyResult) -> list[dict]:
    """One row per ACE category, for CSV."""
    return [
        {
            "category": p.category,
            "respondents": p.respondents,
            "share": round(p.share, 4),
            "low": round(p.low, 4),
            "high": round(p.high, 4),
        }
        for p in result.prevalence
    ]
