"""Difference in differences: did the treated areas fall relative to comparison areas?

A Poisson regression of weekly counts per area with area and week fixed effects (pyfixest
``fepois``), so citywide weeks (a rugby international, a heatwave) and each area's own
level cancel out; the treated-after term is the rate ratio. Errors are clustered by area
(Bertrand, Duflo & Mullainathan 2004) by the leave-one-area-out jackknife (CRV3) with a t
reference of (areas − 1) degrees of freedom: with a handful of treated areas the usual
CRV1 errors are too small (MacKinnon & Webb 2017; 89% coverage of nominal 95% intervals
in ``make bench``), the jackknife's are not. It needs two or more treated areas: with one,
no clustered error can be estimated (use synthetic control). An event study of the
same model in blocks of weeks shows whether treated and comparison areas moved together
before the start; the pre-check tests for a difference in their trends before it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import stats

from cardiffmodel.analysis.effect import Effect, EvaluationError, PreCheck, split_weeks
from cardiffmodel.analysis.rises import WeeklySeries


@dataclass(frozen=True)
class EventStudyPoint:
    """The treated/comparison rate ratio in one block of weeks, relative to the block just
    before the start (which is 1 by definition).

    Attributes
    ----------
    block : int
        Block number relative to the start: -1 is the block just before, 0 the first
        after.
    first_week : date
        Monday of the block's first week.
    rate_ratio, low, high : float
        Rate ratio and its 95% interval (1, 1, 1 for the reference block).
    """

    block: int
    first_week: date
    rate_ratio: float
    low: float
    high: float


@dataclass(frozen=True)
class DidResult:
    """A difference-in-differences fit.

    Attributes
    ----------
    effect : Effect
        Treated-after rate ratio and its interval; the pre-check tests, on the weeks
        before alone, for a difference in linear trend between treated and comparison
        areas (jackknife errors, t with areas − 1 degrees of freedom).
    treated, comparison : tuple of str
        Area codes (areas without any incident in the weeks used are left out: they carry
        no information in a Poisson model with area effects).
    event_study : tuple of EventStudyPoint
        Blocks before and after, oldest first (empty when not asked for).
    block_weeks : int
        Weeks per event-study block.
    """

    effect: Effect
    treated: tuple[str, ...]
    comparison: tuple[str, ...]
    event_study: tuple[EventStudyPoint, ...]
    block_weeks: int


def difference_in_differences(
    series: WeeklySeries,
    treated: tuple[str, ...],
    start: date,
    end: date | None = None,
    comparison: tuple[str, ...] | None = None,
    block_weeks: int = 4,
    event_study: bool = True,
) -> DidResult:
    """Fit the two-way fixed-effects Poisson model to ``series``.

    ``comparison`` defaults to every area of the series that is not treated;
    ``event_study=False`` skips the event study (its points are then empty), which
    simulations that only need the estimate use to save time.
    """
    panel, treated, comparison = _panel(series, treated, start, end, comparison)
    clusters = len(treated) + len(comparison)
    fit = _fepois("y ~ treated_after | area + week", panel)
    log_rr, se = float(fit.coef().iloc[0]), float(fit.se().iloc[0])
    t = stats.t.ppf(0.975, clusters - 1)
    points = _event_study(panel, series.weeks, block_weeks, clusters) if event_study else ()
    post = panel.drop_duplicates("week")["after"]
    effect = Effect(
        method="did",
        rate_ratio=float(np.exp(log_rr)),
        low=float(np.exp(log_rr - t * se)),
        high=float(np.exp(log_rr + t * se)),
        p_value=float(2 * stats.t.sf(abs(log_rr) / se, clusters - 1)),
        pre_check=_pre_check(panel, clusters),
        weeks_before=int((~post).sum()),
        weeks_after=int(post.sum()),
    )
    return DidResult(effect, treated, comparison, points, block_weeks)


def _panel(
    series: WeeklySeries,
    treated: tuple[str, ...],
    start: date,
    end: date | None,
    comparison: tuple[str, ...] | None,
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """Long table of area-weeks with treated/after flags, weeks relative to the start."""
    part = split_weeks(series.weeks, start, end)
    keep = np.flatnonzero(part != 0)
    if comparison is None:
        comparison = tuple(c for c in series.counts if c not in treated)
    active = {
        code
        for code in (*treated, *comparison)
        if code in series.counts and sum(series.counts[code][i] for i in keep) > 0
    }
    treated = tuple(c for c in treated if c in active)
    comparison = tuple(c for c in comparison if c in active)
    if len(treated) < 2 or len(comparison) < 2:
        raise EvaluationError(
            f"difference in differences has {len(treated)} treated and {len(comparison)} "
            "comparison areas with incidents: expected at least 2 of each for clustered "
            "errors (synthetic control can judge a single area)"
        )
    first_after = int(np.flatnonzero(part == 1)[0]) if (part == 1).any() else len(part)
    if (part[keep] == -1).sum() < 2 or (part[keep] == 1).sum() < 1:
        raise EvaluationError(
            f"difference in differences needs weeks before and after {start}: "
            f"found {(part == -1).sum()} before and {(part == 1).sum()} after"
        )
    codes = (*treated, *comparison)
    counts = np.array([[series.counts[c][i] for i in keep] for c in codes])
    after = np.tile(part[keep] == 1, len(codes))
    is_treated = np.repeat([c in treated for c in treated + comparison], len(keep))
    panel = pd.DataFrame(
        {
            "area": np.repeat(codes, len(keep)),
            "week": np.tile(keep, len(codes)),
            "relative_week": np.tile(keep - first_after, len(codes)),
            "y": counts.ravel(),
            "treated": is_treated,
            "after": after,
        }
    )
    panel["treated_after"] = (panel["treated"] & panel["after"]).astype(float)
    return panel, treated, comparison


def _event_study(
    panel: pd.DataFrame, mondays: tuple[date, ...], block_weeks: int, clusters: int
) -> tuple[EventStudyPoint, ...]:
    """Treated/comparison rate ratios per block of weeks around the start."""
    block = panel["relative_week"] // block_weeks
    blocks = sorted(set(block) - {-1})
    names = [f"b{'m' if b < 0 else 'p'}{abs(b)}" for b in blocks]
    design = panel[["area", "week", "y"]].copy()
    for b, name in zip(blocks, names, strict=True):
        design[name] = ((block == b) & panel["treated"]).astype(float)
    fit = _fepois(f"y ~ {' + '.join(names)} | area + week", design)
    coef, se = fit.coef(), fit.se()
    t = stats.t.ppf(0.975, clusters - 1)
    points = []
    for b, name in [(-1, None), *zip(blocks, names, strict=True)]:
        first = mondays[int(panel["week"][block == b].min())]
        if name is None:
            points.append(EventStudyPoint(b, first, 1.0, 1.0, 1.0))
            continue
        c, s = float(coef.get(name, np.nan)), float(se.get(name, np.nan))
        points.append(EventStudyPoint(b, first, *np.exp([c, c - t * s, c + t * s]).tolist()))
    return tuple(sorted(points, key=lambda p: p.block))


def _pre_check(panel: pd.DataFrame, clusters: int) -> PreCheck:
    """Test for a difference in linear trend between treated and comparison areas before.

    One coefficient, so the clustered test keeps its size with a few dozen areas, where
    a joint test of every event-study block would reject far too often.
    """
    test = "difference in linear trend between treated and comparison areas before the start"
    before = panel[~panel["after"]].copy()
    before["treated_trend"] = before["treated"] * before["relative_week"] / 52.0
    fit = _fepois("y ~ treated_trend | area + week", before)
    slope, se = float(fit.coef().iloc[0]), float(fit.se().iloc[0])
    p = float(2 * stats.t.sf(abs(slope) / se, clusters - 1))
    yearly = f"{100 * (np.exp(slope) - 1):+.0f}% a year"
    if p < 0.05:
        return PreCheck(
            False,
            test,
            p,
            f"treated areas drifted {yearly} against comparison areas before (p = {p:.3f})",
        )
    return PreCheck(
        True, test, p, f"no clear drift between treated and comparison areas before (p = {p:.2f})"
    )


def _fepois(formula: str, data: pd.DataFrame):
    """pyfixest's Poisson fit with jackknife (CRV3) errors clustered by area."""
    with warnings.catch_warnings():
        # pyfixest warns when it drops all-zero fixed-effect groups, which is intended, and
        # (0.60) about pandas 3.1 deprecations inside itself, which are not ours to fix.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return pf.fepois(formula, data=data, vcov={"CRV3": "area"})
