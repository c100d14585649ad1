"""Scoring hotspot forecasts: hit rate, PAI and PEI at set coverages on rolling origins.

A ranking is judged by what its top units would have caught in the period after the
origin: the hit rate HR = n/N, the Predictive Accuracy Index PAI = (n/N)/(a/A) that
rewards catching much in little area (Chainey, Tompson and Uhlig 2008), and the
Predictive Efficiency Index PEI = n/n*, the share of the best possible catch in that
area (Hunt 2016). PAI alone cannot say how good a forecast could have been; PEI can.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from cardiffmodel.analysis.forecast import Events, Method, Units, select_top
from cardiffmodel.analysis.selection import add_months

COVERAGES = (0.01, 0.05, 0.10)


@dataclass(frozen=True)
class Hits:
    """What a ranking captured at one coverage in one test period.

    Attributes
    ----------
    n, total : int
        Incidents in the selected units and in all units (Chainey's n and N).
    area, total_area : float
        Area selected and of all units, square metres (a and A).
    best : float
        n*: the most incidents any selection of area ``area`` could hold. On equal cells,
        the top cells by actual count; on unequal areas, the fractional-knapsack bound
        (whole areas by incidents per square metre, then part of the next), which is at
        least the exact n*, so PEI is never overstated.
    """

    n: int
    total: int
    area: float
    total_area: float
    best: float

    @property
    def hit_rate(self) -> float:
        """HR = n / N (NaN when N = 0)."""
        return self.n / self.total if self.total else float("nan")

    @property
    def pai(self) -> float:
        """PAI = (n / N) / (a / A)."""
        return self.hit_rate / (self.area / self.total_area)

    @property
    def pei(self) -> float:
        """PEI = n / n*: 1 for the best possible selection of this area."""
        return self.n / self.best if self.best else float("nan")


@dataclass(frozen=True)
class ForecastScore:
    """One method's scores at one coverage over the rolling origins.

    Attributes
    ----------
    method : str
        The method's name.
    coverage : float
        Share of the total area selected (the smallest run of top-ranked units reaching it).
    origins : tuple of date
        Forecast origins; each test period is the ``months`` calendar months from one.
    hit_rate, pai, pei : tuple of float
        Per origin (NaN for a test period without incidents).
    hit_rate_mean, pai_mean, pei_mean : float
        Means over the origins with incidents.
    """

    method: str
    coverage: float
    origins: tuple[date, ...]
    hit_rate: tuple[float, ...]
    pai: tuple[float, ...]
    pei: tuple[float, ...]
    hit_rate_mean: float
    pai_mean: float
    pei_mean: float


def coverage_hits(
    scores: np.ndarray,
    actual: np.ndarray,
    area_m2: np.ndarray,
    coverage: float,
    tiebreak: np.ndarray,
) -> Hits:
    """What the top-scored units up to ``coverage`` of the area held of ``actual``.

    ``actual`` holds the test period's incidents per unit; the selection is
    :func:`~cardiffmodel.analysis.forecast.select_top`'s.
    """
    chosen = select_top(scores, area_m2, coverage, tiebreak)
    area = float(area_m2[chosen].sum())
    return Hits(
        n=int(actual[chosen].sum()),
        total=int(actual.sum()),
        area=area,
        total_area=float(area_m2.sum()),
        best=_most_in_area(actual, area_m2, area),
    )


def _most_in_area(actual: np.ndarray, area_m2: np.ndarray, area: float) -> float:
    """Fractional-knapsack bound on the incidents any selection of ``area`` could hold."""
    order = np.argsort(-actual / area_m2, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(area_m2[order])[:-1]])
    share = np.clip((area - before) / area_m2[order], 0.0, 1.0)
    return float((actual[order] * share).sum())


def evaluate_forecasts(
    events: Events,
    units: Units,
    methods: Sequence[Method],
    origins: Sequence[date],
    months: int = 1,
    coverages: Sequence[float] = COVERAGES,
    seed: int = 0,
) -> tuple[ForecastScore, ...]:
    """Score each method at each coverage on the ``months`` months after each origin.

    A method sees only the incidents before its origin. Ties are broken by one seeded
    random order per origin, shared by all methods.
    """
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"forecast methods {names}: expected distinct names")
    hits = {(name, c): [] for name in names for c in coverages}
    for k, origin in enumerate(origins):
        history = events.between(date.min, origin)
        actual = events.between(origin, add_months(origin, months)).per_unit(len(units.codes))
        tiebreak = np.random.default_rng([seed, k]).random(len(units.codes))
        for method in methods:
            scores = method(history, units, origin)
            for coverage in coverages:
                found = coverage_hits(scores, actual, units.area_m2, coverage, tiebreak)
                hits[method.name, coverage].append(found)
    return tuple(
        _score(name, coverage, tuple(origins), found) for (name, coverage), found in hits.items()
    )


def _score(
    method: str, coverage: float, origins: tuple[date, ...], hits: list[Hits]
) -> ForecastScore:
    hit_rate = tuple(h.hit_rate for h in hits)
    pai = tuple(h.pai for h in hits)
    pei = tuple(h.pei for h in hits)
    return ForecastScore(
        method=method,
        coverage=coverage,
        origins=origins,
        hit_rate=hit_rate,
        pai=pai,
        pei=pei,
        hit_rate_mean=_mean(hit_rate),
        pai_mean=_mean(pai),
        pei_mean=_mean(pei),
    )


def _mean(values: tuple[float, ...]) -> float:
    known = [v for v in values if not np.isnan(v)]
    return float(np.mean(known)) if known else float("nan")
