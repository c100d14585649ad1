"""Farrington flexible: is this week's count above what past years predict for it?

Implements the improved Farrington algorithm of Noufaily et al. (2013, "An improved
algorithm for outbreak detection in multiple surveillance systems", Stat Med 32:1206-22)
as R's ``surveillance::farringtonFlexible`` does, with statsmodels' quasi-Poisson GLM
(Poisson family, dispersion from Pearson's X², ``scale="X2"``). For each week it fits
the counts of ``b`` past years (windows of ``2w + 1`` weeks around the same week, plus,
with ``no_periods > 1``, a seasonal factor over the weeks between them), leaving out the
most recent weeks so a rise under way does not inflate its own baseline, down-weights
past outbreaks by their Anscombe residuals, and sets an upper threshold on the count.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import statsmodels.api as sm
from scipy.stats import nbinom, norm, poisson
from statsmodels.genmod.generalized_linear_model import GLMResults
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

THRESHOLD_METHODS = ("negbin", "power")


@dataclass(frozen=True)
class FarringtonParameters:
    """Control settings of Farrington flexible; defaults follow Noufaily et al. (2013).

    Attributes
    ----------
    b : int
        Years back the baseline reaches (R ``b``).
    w : int
        Weeks either side of the same week in past years (R ``w``).
    alpha : float
        The threshold is the ``1 - alpha`` quantile of the count expected this week. 0.01
        (R's default is 0.05) so that a stable beat raises a false alarm about once in two
        years rather than every five months.
    no_periods : int
        Levels of the seasonal factor (R ``noPeriods``): 10 splits each year into the
        reference window and nine blocks between; 1 is the original Farrington baseline
        (reference windows only).
    past_weeks_not_included : int
        Recent weeks left out of the baseline besides the current one (R
        ``pastWeeksNotIncluded``), so a rise of up to six months does not mask itself.
    weights_threshold : float
        Past weeks whose Anscombe residual exceeds this are down-weighted as past
        outbreaks (R ``weightsThreshold``; 2.58 in Noufaily, 1 in Farrington 1996).
    trend : bool
        Try a linear time trend; it is kept only when significant at
        ``p_threshold_trend``, ``b >= 3`` and it does not predict above every past count.
    p_threshold_trend : float
        Significance level of the trend (t test with the estimated dispersion).
    threshold : str
        ``"negbin"``: quantile of a negative binomial with the predicted mean and the
        estimated dispersion (Noufaily; R ``thresholdMethod="nbPlugin"``), the default
        because it keeps false alarms near ``alpha`` for small counts. ``"power"``: the
        2/3-power transformed normal quantile that also allows for the error of the
        prediction (Farrington 1996; R ``thresholdMethod="delta"``, ``powertrans="2/3"``).
    min_cases, min_cases_weeks : int
        No alarm unless the last ``min_cases_weeks`` weeks (this one included) hold at
        least ``min_cases`` incidents (R ``limit54``), so single incidents in quiet areas
        do not alarm.
    """

    b: int = 5
    w: int = 3
    alpha: float = 0.01
    no_periods: int = 10
    past_weeks_not_included: int = 26
    weights_threshold: float = 2.58
    trend: bool = True
    p_threshold_trend: float = 0.05
    threshold: str = "negbin"
    min_cases: int = 5
    min_cases_weeks: int = 4

    def __post_init__(self) -> None:
        if self.b < 1 or self.w < 0 or self.no_periods < 1:
            raise ValueError(
                f"Farrington b={self.b}, w={self.w}, no_periods={self.no_periods}: "
                "expected b >= 1, w >= 0 and no_periods >= 1"
            )
        if not 0 < self.alpha < 1 or not 0 < self.p_threshold_trend < 1:
            raise ValueError(
                f"Farrington alpha={self.alpha}, p_threshold_trend={self.p_threshold_trend}: "
                "expected probabilities strictly between 0 and 1"
            )
        if self.threshold not in THRESHOLD_METHODS:
            raise ValueError(
                f"Farrington threshold {self.threshold!r}: expected one of {THRESHOLD_METHODS}"
            )
        if self.past_weeks_not_included < 0 or self.min_cases < 0 or self.min_cases_weeks < 1:
            raise ValueError(
                f"Farrington past_weeks_not_included={self.past_weeks_not_included}, "
                f"min_cases={self.min_cases}, min_cases_weeks={self.min_cases_weeks}: "
                "expected non-negative numbers and at least one week"
            )


@dataclass(frozen=True)
class _Prediction:
    mean: float  # expected count this week
    se_log_mean: float  # standard error of its logarithm (dispersion unclamped, as R)
    phi: float  # dispersion, at least 1


def farrington_flexible(
    counts: np.ndarray, weeks: Sequence[date], params: FarringtonParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected count, upper threshold and alarm of every week of one weekly series.

    Weeks with less than ``b`` years (plus ``w`` weeks) of history before them, or whose
    model does not converge, get NaN expected and threshold and no alarm.
    """
    n = len(counts)
    expected, upper = np.full(n, np.nan), np.full(n, np.nan)
    alarm = np.zeros(n, dtype=bool)
    for k in range(n):
        baseline = _baseline(weeks, k, params)
        if baseline is None:
            continue
        pred = _predict(counts, *baseline, k, params)
        if pred is None:
            continue
        expected[k], upper[k] = pred.mean, _upper(pred, params)
        recent = counts[max(0, k - params.min_cases_weeks + 1) : k + 1].sum()
        alarm[k] = recent >= params.min_cases and counts[k] > upper[k]
    return expected, upper, alarm


def _baseline(
    weeks: Sequence[date], k: int, params: FarringtonParameters
) -> tuple[np.ndarray, np.ndarray] | None:
    """Indices of the weeks that model week ``k`` and their seasonal level (1..no_periods).

    The level ``no_periods`` marks the reference windows, the one ``k`` is predicted in.
    None when the history does not reach ``b`` years and ``w`` weeks back.
    """
    refs = [k, *(_same_week_years_back(weeks, k, y) for y in range(1, params.b + 1))]
    w, p = params.w, params.no_periods
    if refs[-1] - w < 0:
        return None
    levels = np.zeros(k + 1, dtype=int)
    levels[max(0, k - w) : k + 1] = p
    for newer, ref in pairwise(refs):
        levels[ref - w : ref + w + 1] = p
        if p > 1:
            start, stop = ref + w + 1, newer - w
            if stop - start < p - 1:
                raise ValueError(
                    f"Farrington no_periods={p} with w={w}: the {stop - start} weeks between "
                    "reference windows cannot hold the seasonal blocks"
                )
            size, rest = divmod(stop - start, p - 1)
            lengths = [size + (j < rest) for j in range(p - 1)]
            edges = start + np.concatenate([[0], np.cumsum(lengths)])
            for j in range(p - 1):
                levels[edges[j] : edges[j + 1]] = j + 1
    levels[max(0, k - params.past_weeks_not_included) :] = 0
    rows = np.flatnonzero(levels)
    return rows, levels[rows]


def _same_week_years_back(weeks: Sequence[date], k: int, years: int) -> int:
    """Index of the week nearest the same date ``years`` earlier (R's reference points).

    29 February falls back to 1 March, as R's ``seq(by = "-1 year")`` does.
    """
    day = weeks[k]
    try:
        back = day.replace(year=day.year - years)
    except ValueError:
        back = date(day.year - years, 3, 1)
    offset = (back - day).days % 7
    nearest = back - timedelta(days=offset) if offset <= 3 else back + timedelta(7 - offset)
    return (nearest - weeks[0]).days // 7


def _predict(
    counts: np.ndarray,
    rows: np.ndarray,
    levels: np.ndarray,
    k: int,
    params: FarringtonParameters,
) -> _Prediction | None:
    """This week's expected count from the baseline, with or without a trend."""
    y = counts[rows].astype(float)
    if not y.any():
        return _Prediction(mean=0.0, se_log_mean=0.0, phi=1.0)
    wtime = (rows - rows[0]).astype(float)
    present = np.unique(levels)[1:]  # the lowest level present is the reference
    seasonal = (levels[:, None] == present[None, :]).astype(float)
    now_seasonal = (present == params.no_periods).astype(float)
    x_trend = np.column_stack([np.ones_like(y), wtime, seasonal])
    x_now_trend = np.concatenate([[1.0, k - rows[0]], now_seasonal])
    if params.trend:
        fitted = _fit_reweighted(y, x_trend, params.weights_threshold)
        if fitted is not None:
            result, phi = fitted
            pred = _prediction(result, x_now_trend, phi)
            if (
                params.b >= 3
                and result.pvalues[1] < params.p_threshold_trend
                and pred.mean <= y.max()
            ):
                return pred
    no_trend = np.delete(x_trend, 1, axis=1)
    fitted = _fit_reweighted(y, no_trend, params.weights_threshold)
    if fitted is None:
        return None
    return _prediction(fitted[0], np.delete(x_now_trend, 1), fitted[1])


def _fit_reweighted(
    y: np.ndarray, x: np.ndarray, weights_threshold: float
) -> tuple[GLMResults, float] | None:
    """Quasi-Poisson fit, refitted once with past outbreaks down-weighted.

    Returns the refitted result and its dispersion (at least 1), or None when either fit
    fails to converge.
    """
    first = _fit(y, x, None)
    if first is None:
        return None
    phi = max(first.scale, 1.0)
    mu = first.fittedvalues
    with np.errstate(divide="ignore", invalid="ignore"):
        anscombe = 1.5 * (y ** (2 / 3) * mu ** (-1 / 6) - np.sqrt(mu))
        anscombe /= np.sqrt(phi * (1 - first.get_hat_matrix_diag()))
        down = np.where(anscombe > weights_threshold, anscombe**-2.0, 1.0)
    omega = down * len(y) / down.sum()
    second = _fit(y, x, omega)
    if second is None:
        return None
    return second, max(second.scale, 1.0)


def _fit(y: np.ndarray, x: np.ndarray, weights: np.ndarray | None) -> GLMResults | None:
    """Poisson GLM with Pearson-X² dispersion and t tests, or None if it does not converge.

    Areas with weeks of zeros push some coefficients towards minus infinity; R's ``glm``
    warns and carries on, and so do we, judging the fit by convergence and finiteness.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = sm.GLM(y, x, family=sm.families.Poisson(), var_weights=weights)
        result = model.fit(scale="X2", use_t=True)
    if not result.converged or not np.isfinite(result.params).all():
        return None
    return result


def _prediction(result: GLMResults, x_now: np.ndarray, phi: float) -> _Prediction:
    eta = float(x_now @ result.params)
    variance = float(x_now @ result.cov_params() @ x_now)
    return _Prediction(mean=float(np.exp(eta)), se_log_mean=float(np.sqrt(variance)), phi=phi)


def _upper(pred: _Prediction, params: FarringtonParameters) -> float:
    """The count above which this week alarms."""
    mu, phi, alpha = pred.mean, pred.phi, params.alpha
    if not np.isfinite(mu):
        return np.nan
    if params.threshold == "negbin":
        if phi > 1:
            return float(nbinom.ppf(1 - alpha, mu / (phi - 1), 1 / phi))
        return float(poisson.ppf(1 - alpha, mu))
    if mu == 0:
        return 0.0
    # Farrington 1996: the 2/3 power makes the count nearly symmetric; tau adds the
    # prediction's own variance (delta method) to the dispersion.
    tau = phi + mu * pred.se_log_mean**2
    spread = np.sqrt(4 / 9 * mu ** (1 / 3) * tau)
    return float((mu ** (2 / 3) + norm.ppf(1 - alpha) * spread) ** 1.5)
