"""EARS C3: is the count high against the last few weeks, needing no past years?

The CDC's Early Aberration Reporting System (Hutwagner et al. 2003), in the form of
Fricker, Hegler and Dunfee (2008) that R's ``surveillance::earsC`` documents, with weeks
as the time unit. C2 standardises a count by the mean and standard deviation of
``baseline`` earlier units lagged by two (units ``t-baseline-2`` to ``t-3``); C3 sums the
part of C2 above 1 over this unit and the two before:

    C3(t) = max(0, C2(t) - 1) + max(0, C2(t-1) - 1) + max(0, C2(t-2) - 1)

and alarms when C3(t) exceeds the ``1 - alpha`` standard normal quantile. It suits areas
with less than the years of history Farrington needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.stats import norm


@dataclass(frozen=True)
class EarsC3Parameters:
    """Control settings of EARS C3.

    Attributes
    ----------
    baseline : int
        Units (weeks) in the moving baseline (R ``baseline``; 7 as in EARS).
    alpha : float
        C3 alarms above the ``1 - alpha`` standard normal quantile (R's C3 default 0.025,
        about the CDC's 2).
    min_sigma : float
        Floor on the baseline's standard deviation (R ``minSigma``). 0.5, as Burkom
        suggests for sparse data, rather than R's 0: a beat's seven quiet weeks often all
        hold zero incidents, and a zero deviation would make any single incident
        infinitely surprising.
    """

    baseline: int = 7
    alpha: float = 0.025
    min_sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.baseline < 3:
            raise ValueError(f"EARS baseline {self.baseline}: expected at least 3 units")
        if not 0 < self.alpha < 1:
            raise ValueError(f"EARS alpha {self.alpha}: expected between 0 and 1")
        if not self.min_sigma > 0:
            raise ValueError(
                f"EARS min_sigma {self.min_sigma}: expected above 0, so that a flat "
                "baseline gives a finite statistic"
            )


def ears_c3(
    counts: np.ndarray, params: EarsC3Parameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected count, upper threshold and alarm of every week of one weekly series.

    The expected count is the C2 baseline mean. The threshold is the count at which
    C3 reaches the critical value given the two previous weeks; once those alone exceed
    it the threshold is 0, so any incident in the next two weeks alarms (a week with no
    incidents never does). The first ``baseline + 4`` weeks lack a full baseline and get
    NaN expected and threshold and no alarm.
    """
    y = np.asarray(counts, dtype=float)
    n, lag = len(y), params.baseline + 2
    expected, upper = np.full(n, np.nan), np.full(n, np.nan)
    alarm = np.zeros(n, dtype=bool)
    if n < lag + 3:
        return expected, upper, alarm
    windows = sliding_window_view(y, params.baseline)[: n - lag]
    mean = windows.mean(axis=1)  # mean[i] is the baseline of unit i + lag
    sd = np.maximum(windows.std(axis=1, ddof=1), params.min_sigma)
    excess = np.maximum(0.0, (y[lag:] - mean) / sd - 1)
    carried = excess[1:-1] + excess[:-2]  # the two previous units' part of C3(t)
    z = norm.ppf(1 - params.alpha)
    mean, sd = mean[2:], sd[2:]
    bound = np.where(carried > z, 0.0, np.maximum(0.0, mean + sd * (1 + z - carried)))
    expected[lag + 2 :], upper[lag + 2 :] = mean, bound
    alarm[lag + 2 :] = y[lag + 2 :] > bound
    return expected, upper, alarm
