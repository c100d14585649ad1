"""Per-area excess: does this area alone hold more incidents than expected of it?

Gi* (:mod:`cardiffmodel.analysis.hotspots`) asks whether an area is part of a *cluster*
of high counts, and holds the area's own count fixed while it shuffles the others: a
city's busiest beat among quiet neighbours is never a Gi* hot spot, however extreme.
The excess test asks the other question, of each area on its own: does it hold more
than its population predicts at the region's rate (or, where populations are unknown,
more than its own recent past)? Its p-values are exact and one-sided in each direction;
the smaller, doubled, is the two-sided p whose side names the label, and the
Benjamini-Hochberg procedure holds the false discovery rate over the areas tested.

Counts of violence vary between areas more than Poisson noise does, so against
population this test flags many areas in a busy region: read the ratio of observed to
expected for how far out an area is, the flag for whether chance could explain it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import numpy as np
from scipy.stats import binom, poisson
from statsmodels.stats.multitest import multipletests

from cardiffmodel.analysis.hotspots import counts_by_area
from cardiffmodel.analysis.selection import Selection, comparable
from cardiffmodel.coverage import Coverage

BASES = ("population", "history")
CLASSES = ("high", "low", "not_significant", "untested")
HISTORY_PERIODS = 3  # the previous three periods: a quarter of months, enough to compare


@dataclass(frozen=True)
class ExcessResult:
    """Each area's count against the count expected of it, with exact tests.

    Attributes
    ----------
    codes : tuple of str
        Area codes, in the order given.
    observed : numpy.ndarray of int
        Incidents in each area in the period (a copy).
    expected : numpy.ndarray
        The count expected under the ``basis``: the region's rate times the area's
        population (``population``), or the mean count of the ``periods`` periods of
        the same length before (``history``). NaN where the area is not tested.
    ratio : numpy.ndarray
        ``observed / expected``; NaN where ``expected`` is 0 or NaN.
    p_high, p_low : numpy.ndarray
        One-sided exact p-values of a count at least, or at most, ``observed``. Against
        population, Poisson with mean ``expected`` (the region's rate is estimated from
        every area, so taken as known); against history, the exact conditional test of
        two Poisson counts (Przyborowski and Wilenski 1940): given the period's count
        and the history's, the period's is binomial with probability ``1 / (periods +
        1)``, which allows for the history being a sample too. NaN where not tested.
    p_adjusted : numpy.ndarray
        The two-sided ``min(1, 2 * min(p_high, p_low))`` adjusted by Benjamini-Hochberg
        over the areas tested. NaN where not tested.
    classification : tuple of str
        Per area, one of ``CLASSES``: ``high`` or ``low`` where ``p_adjusted <= alpha``,
        by the side of the smaller one-sided p-value; ``not_significant``; or
        ``untested`` where there is no population (or a population of 0) or no history.
    basis : str
        ``"population"`` or ``"history"`` (see ``expected``).
    periods : int
        Periods of history the expected counts come from (0 against population).
    alpha : float
        The false discovery rate controlled.
    """

    codes: tuple[str, ...]
    observed: np.ndarray
    expected: np.ndarray
    ratio: np.ndarray
    p_high: np.ndarray
    p_low: np.ndarray
    p_adjusted: np.ndarray
    classification: tuple[str, ...]
    basis: str
    periods: int
    alpha: float

    def codes_of(self, kind: str) -> tuple[str, ...]:
        """Codes of the areas classified as ``kind`` (one of ``CLASSES``)."""
        return tuple(c for c, k in zip(self.codes, self.classification, strict=True) if k == kind)


def excess_over_population(
    counts: Sequence[int],
    population: Sequence[float | None],
    codes: Sequence[str],
    alpha: float = 0.05,
) -> ExcessResult:
    """Test each area's count against the region's rate times its population.

    The rate is that of the areas with a population: their incidents over their people.
    Areas with no population, or none living there, are not tested.
    """
    y, known = _observed(counts, codes, alpha), _positive(population, len(codes))
    people = np.array([p if ok else 0.0 for p, ok in zip(population, known, strict=True)])
    rate = y[known].sum() / people[known].sum() if known.any() else 0.0
    expected = np.where(known, rate * people, np.nan)
    with np.errstate(invalid="ignore"):
        p_high = np.where(known, poisson.sf(y - 1, expected), np.nan)
        p_low = np.where(known, poisson.cdf(y, expected), np.nan)
    return _result(codes, y, expected, p_high, p_low, "population", 0, alpha)


def excess_over_history(
    counts: Sequence[int],
    history: np.ndarray,
    codes: Sequence[str],
    alpha: float = 0.05,
) -> ExcessResult:
    """Test each area's count against its own ``history``: an array of (periods, areas)
    counts of earlier periods of the same length. With no periods, nothing is tested."""
    y = _observed(counts, codes, alpha)
    past = np.array(history, dtype=np.int64).reshape(-1, len(y))
    periods = past.shape[0]
    if periods == 0:
        nothing = np.full(len(y), np.nan)
        return _result(codes, y, nothing, nothing, nothing, "history", 0, alpha)
    before = past.sum(axis=0)
    share = 1 / (periods + 1)
    both = y + before
    p_high = np.where(both > 0, binom.sf(y - 1, both, share), 1.0)
    p_low = np.where(both > 0, binom.cdf(y, both, share), 1.0)
    return _result(codes, y, before / periods, p_high, p_low, "history", periods, alpha)


def excess_by_area(
    t: ibis.Table,
    sel: Selection,
    codes: Sequence[str],
    population: Sequence[float | None] | None = None,
    basis: str | None = None,
    periods: int = HISTORY_PERIODS,
    alpha: float = 0.05,
    coverage: Coverage | None = None,
) -> ExcessResult:
    """The excess test of the period of ``sel`` over ``codes`` of its layer.

    ``basis`` ``None`` chooses ``population`` when every area has a known population,
    else ``history``. History is the ``periods`` periods of the same length before
    (:meth:`Selection.previous`), as many of them as the store covers: a period before
    its first record would count as a quiet one and make every area look high. With
    ``coverage``, history stops at the first earlier period not held by the same sources;
    without it, at the first record.
    """
    if basis is None:
        complete = population is not None and all(p is not None for p in population)
        basis = "population" if complete else "history"
    if basis not in BASES:
        raise ValueError(f"excess basis {basis!r}: expected one of {BASES}")
    region = dataclasses.replace(sel, areas=None)
    counts = counts_by_area(t, region, codes)
    if basis == "population":
        if population is None or all(p is None for p in population):
            raise ValueError("excess against population: no area of the layer has a population")
        return excess_over_population(counts, population, codes, alpha)
    if periods < 1:
        raise ValueError(f"excess history of {periods} periods: expected at least 1")
    first = t.occurred_date.min().to_pyarrow().as_py()
    history, earlier = [], region
    for _ in range(periods):
        earlier = earlier.previous()
        if coverage is not None and not comparable(region, earlier, coverage):
            break
        if coverage is None and (first is None or earlier.start < first):
            break
        history.append(counts_by_area(t, earlier, codes))
    return excess_over_history(counts, np.array(history).reshape(-1, len(codes)), codes, alpha)


def _observed(counts: Sequence[int], codes: Sequence[str], alpha: float) -> np.ndarray:
    y = np.array(counts, dtype=np.int64)  # a copy: the caller's counts stay as they are
    if y.shape != (len(codes),):
        raise ValueError(f"counts have shape {y.shape}: expected ({len(codes)},), one per area")
    if (y < 0).any():
        raise ValueError(f"counts include {y.min()}: expected counts of at least 0")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha {alpha}: expected a rate between 0 and 1")
    return y


def _positive(population: Sequence[float | None], n: int) -> np.ndarray:
    if len(population) != n:
        raise ValueError(f"{len(population)} populations: expected {n}, one per area")
    return np.array([p is not None and np.isfinite(p) and p > 0 for p in population])


def _result(
    codes: Sequence[str],
    y: np.ndarray,
    expected: np.ndarray,
    p_high: np.ndarray,
    p_low: np.ndarray,
    basis: str,
    periods: int,
    alpha: float,
) -> ExcessResult:
    """Adjust the two-sided p-values of the tested areas and classify every area."""
    tested = ~np.isnan(p_high)
    p_adjusted = np.full(len(y), np.nan)
    if tested.any():
        two_sided = np.minimum(1.0, 2 * np.minimum(p_high[tested], p_low[tested]))
        p_adjusted[tested] = multipletests(two_sided, alpha=alpha, method="fdr_bh")[1]
    side = np.where(p_high <= p_low, "high", "low")
    significant = tested & (np.nan_to_num(p_adjusted, nan=1.0) <= alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, y / expected, np.nan)
    return ExcessResult(
        codes=tuple(codes),
        observed=y,
        expected=expected,
        ratio=ratio,
        p_high=p_high,
        p_low=p_low,
        p_adjusted=p_adjusted,
        classification=tuple(
            str(s) if sig else "not_significant" if ok else "untested"
            for ok, sig, s in zip(tested, significant, side, strict=True)
        ),
        basis=basis,
        periods=periods,
        alpha=alpha,
    )
