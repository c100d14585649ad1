"""EARS C3: is the count high against the last few weeks, needing no past years?

The CDC's Early Aberration Reporting System (Hutwagner et al. 2003), in the form of
Fricker, Hegler and Dunfee (2008) that R's ``surveillance::earsC`` documents, with weeks
as the time unit. C2 standardises a count by the mean and standard deviation of
``baseline`` earlier units lagged by two (units ``t-baseline-2`` to ``t-3``); C3 adds the
part of C2 above 1 of this unit to that of the two before:

    C3(t) = max(0, C2(t) - 1) + carried(t-1) + carried(t-2)

and alarms when C3(t) exceeds the ``1 - alpha`` standard normal quantile. A previous
unit's part is carried only if that unit did not itself alarm: its excess has already
been reported, and carrying it would flag the next two weeks whatever their counts, as
carry-overs rather than new rises (a beat with 7 incidents against 9.4 expected). So the
two carried parts sum to at most the critical value, and an alarm always needs this
week's own count above the C2 mean plus one standard deviation.

This is the reset after a signal of the CDC's EARS as Johns Hopkins APL implements it
(``calculateEARS`` in SAGES: a unit's part is carried only while below the threshold).
APL drops a part that alone reaches the threshold; this module drops the part of any
unit that alarmed, which also covers a unit tipped over by the parts carried into it.
The formula R's ``earsC`` documents carries every part; R's code differs again: its
bound is the observed count plus ``sd * (z - carried)``, so it alarms exactly when the
two previous units' parts exceed the critical value, whatever this unit's count
(benchmarks/rises_bench.py compares). The method suits areas with less than the years
of history Farrington needs.
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

    The expected count is the C2 baseline mean. The threshold is the count at which C3
    reaches the critical value given what the two previous weeks carry: never below the
    mean plus one standard deviation, since an alarmed week carries nothing. The first
    ``baseline + 4`` weeks lack a full baseline and get NaN expected and threshold and
    no alarm; the two weeks before the first judged one are run through C3 too, so that
    their excess is carried only if they would not have alarmed themselves.
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
    critical = norm.ppf(1 - params.alpha)
    carried = np.zeros(n - lag)  # the two previous units' part of C3(t)
    signalled = np.zeros(n - lag, dtype=bool)
    kept = (0.0, 0.0)  # parts the units t-2 and t-1 carry forward
    for i, part in enumerate(excess):
        carried[i] = kept[0] + kept[1]
        signalled[i] = part + carried[i] > critical
        kept = (kept[1], 0.0 if signalled[i] else part)
    bound = mean + sd * (1 + critical - carried)
    expected[lag + 2 :], upper[lag + 2 :] = mean[2:], bound[2:]
    alarm[lag + 2 :] = signalled[2:]
    return expected, upper, alarm
