"""Interrupted time series: did the treated areas' weekly counts step down at the start?

A segmented regression (Bernal, Cummins & Gasparrini 2017) of the treated areas' weekly
total on an underlying trend, annual seasonality (Fourier terms) and a step at the start
(optionally also a change of slope), fitted by statsmodels as a quasi-Poisson GLM (the
Pearson dispersion widens the intervals for overdispersed counts) or a negative binomial
model. It needs no comparison areas, but assumes the trend and season before carry on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import statsmodels.api as sm
from scipy import stats

from cardiffmodel.analysis.effect import Effect, EvaluationError, PreCheck, split_weeks

FAMILIES = ("quasipoisson", "negbin")
Z95 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class ItsParameters:
    """Settings of the segmented regression.

    Attributes
    ----------
    family : str
        ``"quasipoisson"`` (default) or ``"negbin"`` (NB2, dispersion estimated).
    harmonics : int
        Pairs of annual Fourier terms for the season (0 for none).
    slope_change : bool
        Also let the trend change at the start; the rate ratio is then the average over
        the weeks after.
    min_weeks_before : int
        Fewer weeks than this before the start fail the pre-check: under a year cannot
        tell the season from the intervention.
    """

    family: str = "quasipoisson"
    harmonics: int = 2
    slope_change: bool = False
    min_weeks_before: int = 52

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"ITS family {self.family!r}: expected one of {FAMILIES}")
        if self.harmonics < 0:
            raise ValueError(f"ITS harmonics {self.harmonics}: expected 0 or more")


@dataclass(frozen=True)
class ItsResult:
    """An interrupted time series fit.

    Attributes
    ----------
    effect : Effect
        Rate ratio of the step (or the average effect after the start, with a slope
        change), with its interval and the pre-check: a placebo step half-way through
        the weeks before, fitted on those weeks alone, should find nothing.
    parameters : ItsParameters
        The settings used.
    dispersion : float
        Pearson dispersion (quasi-Poisson) or NB2 alpha (negative binomial).
    weeks : tuple of date
        Mondays of the weeks used (before and after; the start week is left out).
    observed : tuple of int
        The treated areas' incidents in those weeks.
    fitted, counterfactual : tuple of float
        The model's expected counts, with and without the intervention terms.
    """

    effect: Effect
    parameters: ItsParameters
    dispersion: float
    weeks: tuple[date, ...]
    observed: tuple[int, ...]
    fitted: tuple[float, ...]
    counterfactual: tuple[float, ...]


def interrupted_time_series(
    weeks: tuple[date, ...],
    counts: np.ndarray,
    start: date,
    end: date | None = None,
    parameters: ItsParameters = ItsParameters(),
) -> ItsResult:
    """Fit the segmented regression to weekly ``counts`` (one per Monday in ``weeks``)."""
    counts = np.asarray(counts, dtype=float)
    part = split_weeks(weeks, start, end)
    keep = part != 0
    used = tuple(w for w, k in zip(weeks, keep, strict=True) if k)
    y, post = counts[keep], part[keep] == 1
    n_before, n_after = int((~post).sum()), int(post.sum())
    if n_before < 8 or n_after < 4:
        raise EvaluationError(
            f"interrupted time series has {n_before} whole weeks before and {n_after} after "
            f"the start {start}: expected at least 8 before and 4 after"
        )
    if y[~post].sum() == 0:
        raise EvaluationError("interrupted time series: no incidents in the weeks before")
    base = _base_design(used, start, parameters.harmonics)
    years = base[:, 1]
    terms = [post.astype(float)]
    if parameters.slope_change:
        terms.append(np.where(post, years, 0.0))
    design = np.column_stack([base, *terms])
    params, cov, dispersion, mean = _fit(y, design, parameters.family)
    k = base.shape[1]
    log_rr, se = _average_effect(params[k:], cov[k:, k:], years[post], parameters.slope_change)
    counterfactual = np.exp(base @ params[:k])
    effect = Effect(
        method="its",
        rate_ratio=float(np.exp(log_rr)),
        low=float(np.exp(log_rr - Z95 * se)),
        high=float(np.exp(log_rr + Z95 * se)),
        p_value=float(2 * stats.norm.sf(abs(log_rr) / se)),
        pre_check=_pre_check(y[~post], base[~post], parameters),
        weeks_before=n_before,
        weeks_after=n_after,
    )
    return ItsResult(
        effect=effect,
        parameters=parameters,
        dispersion=dispersion,
        weeks=used,
        observed=tuple(int(v) for v in y),
        fitted=tuple(mean.tolist()),
        counterfactual=tuple(counterfactual.tolist()),
    )


def _base_design(weeks: tuple[date, ...], start: date, harmonics: int) -> np.ndarray:
    """Intercept, years since the start, and annual Fourier terms at each week's midpoint."""
    middles = [w + timedelta(days=3) for w in weeks]
    years = np.array([(m - start).days / 365.25 for m in middles])
    angle = 2 * np.pi * np.array([m.timetuple().tm_yday for m in middles]) / 365.25
    columns = [np.ones(len(weeks)), years]
    for h in range(1, harmonics + 1):
        columns += [np.sin(h * angle), np.cos(h * angle)]
    return np.column_stack(columns)


def _fit(
    y: np.ndarray, design: np.ndarray, family: str
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Coefficients, their covariance, the dispersion and the fitted means."""
    if family == "quasipoisson":
        fit = sm.GLM(y, design, family=sm.families.Poisson()).fit(scale="X2")
        return fit.params, fit.cov_params(), float(fit.scale), fit.fittedvalues
    fit = sm.NegativeBinomial(y, design, loglike_method="nb2").fit(disp=0, maxiter=200)
    if not fit.mle_retvals["converged"]:
        raise EvaluationError("interrupted time series: the negative binomial fit did not converge")
    k = design.shape[1]
    return fit.params[:k], fit.cov_params()[:k, :k], float(fit.params[k]), fit.predict()


def _average_effect(
    coef: np.ndarray, cov: np.ndarray, years_after: np.ndarray, slope: bool
) -> tuple[float, float]:
    """Log of the mean rate ratio over the weeks after, and its delta-method error."""
    if not slope:
        return float(coef[0]), float(np.sqrt(cov[0, 0]))
    ratios = np.exp(coef[0] + coef[1] * years_after)
    weights = ratios / ratios.sum()
    gradient = np.array([1.0, float(weights @ years_after)])
    return float(np.log(ratios.mean())), float(np.sqrt(gradient @ cov @ gradient))


def _pre_check(y: np.ndarray, base: np.ndarray, parameters: ItsParameters) -> PreCheck:
    test = "placebo step half-way through the weeks before, fitted on those weeks alone"
    if len(y) < parameters.min_weeks_before:
        return PreCheck(
            False,
            test,
            None,
            f"only {len(y)} weeks before the start; at least {parameters.min_weeks_before} "
            "are needed to tell the season from the intervention",
        )
    step = (np.arange(len(y)) >= len(y) // 2).astype(float)
    params, cov, _, _ = _fit(y, np.column_stack([base, step]), parameters.family)
    p = float(2 * stats.norm.sf(abs(params[-1]) / np.sqrt(cov[-1, -1])))
    if p < 0.05:
        return PreCheck(False, test, p, f"the weeks before already changed level (p = {p:.3f})")
    return PreCheck(True, test, p, f"no change of level within the weeks before (p = {p:.2f})")
