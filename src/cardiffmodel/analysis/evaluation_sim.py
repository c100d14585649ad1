"""Simulated beat panels with a planted intervention effect, to validate the evaluators.

Each beat's weekly count is negative binomial around a beat level × a citywide season and
trend × citywide week shocks (events that hit every beat at once) × the planted rate ratio
in treated beats after the start. The truth is known, so bias, interval coverage and false
"it worked" verdicts of each method can be measured (``benchmarks/evaluation_bench.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cardiffmodel.analysis.rises import WeeklySeries


@dataclass(frozen=True)
class SimulatedPanel:
    """A simulated panel and its truth.

    Attributes
    ----------
    series : WeeklySeries
        Weekly counts per beat (codes ``B01``, ``B02``…).
    treated : tuple of str
        The treated beats.
    start : date
        The Monday the intervention started.
    rate_ratio : float
        The planted effect (1 for none).
    """

    series: WeeklySeries
    treated: tuple[str, ...]
    start: date
    rate_ratio: float


def simulate_panel(
    seed: int,
    rate_ratio: float = 1.0,
    beats: int = 30,
    treated: int = 5,
    weeks_before: int = 104,
    weeks_after: int = 52,
    first_monday: date = date(2017, 1, 2),
    diverging_trend: float = 0.0,
    dispersion: float = 10.0,
) -> SimulatedPanel:
    """One seeded panel; the first ``treated`` beats are treated.

    ``diverging_trend`` is a yearly log-rate trend of the treated beats alone (before and
    after the start), which breaks parallel trends: the pre-checks should catch it.
    ``dispersion`` is the negative binomial size (smaller is noisier).
    """
    rng = np.random.default_rng(seed)
    n = weeks_before + weeks_after
    years = (np.arange(n) - weeks_before) / 52.18
    season = 0.25 * np.cos(2 * np.pi * (years - rng.uniform(0, 1)))
    city = season - 0.05 * years + rng.normal(0, 0.08, n)
    level = np.log(rng.uniform(3, 20, beats))
    is_treated = np.arange(beats) < treated
    log_mean = level[:, None] + city[None, :]
    log_mean[is_treated] += diverging_trend * years
    log_mean[is_treated, weeks_before:] += np.log(rate_ratio)
    mean = np.exp(log_mean)
    counts = rng.negative_binomial(dispersion, dispersion / (dispersion + mean))
    codes = [f"B{i + 1:02d}" for i in range(beats)]
    weeks = tuple(first_monday + timedelta(weeks=i) for i in range(n))
    return SimulatedPanel(
        series=WeeklySeries(weeks, dict(zip(codes, counts.tolist(), strict=True))),
        treated=tuple(codes[:treated]),
        start=weeks[weeks_before],
        rate_ratio=rate_ratio,
    )
