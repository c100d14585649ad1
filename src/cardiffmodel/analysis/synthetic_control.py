"""Synthetic control: a weighted blend of comparison areas that tracked the treated ones.

Abadie, Diamond & Hainmueller (2010): choose non-negative weights summing to one over
comparison areas so the blend follows the treated areas' rate before the start; after it,
the blend is what the treated areas would have seen. Weekly counts are summed into blocks
of weeks and each unit's rate is divided by its own mean before the start, so a blend can
match a busy city-centre beat's shape whatever its level. Weights come from pysyncon with
equal predictor weights (every block before the start is a predictor), which skips the
slow nested search for predictor weights that adds little when the predictors are the
outcome itself.

Inference is by placebos in space: the same fit, with each comparison area (or group of
areas, as many as were treated) in turn pretending to be treated. The p-value is the rank
of the treated unit's |log rate ratio| among the placebos'; inverting that test for a
constant multiplicative effect gives the 95% interval (Firpo & Possebom 2018).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date
from itertools import combinations

import numpy as np
import pandas as pd
from pysyncon import Synth

from cardiffmodel.analysis.effect import Effect, EvaluationError, PreCheck, split_weeks
from cardiffmodel.analysis.rises import WeeklySeries


@dataclass(frozen=True)
class SyntheticControlParameters:
    """Settings of the synthetic control.

    Attributes
    ----------
    block_weeks : int
        Weeks summed into one period (fewer, steadier rates to match).
    placebos : int
        Most placebo units; with several treated areas, groups of that size are drawn
        at random (seeded) when there are more possible groups than this.
    pre_check_level : float
        The pre-check fails when the treated unit's fit before the start, or the trend of
        its gap to the blend before the start, is more extreme than the placebos' at this
        level (a rank p-value below it).
    seed : int
        Seed for drawing placebo groups.
    """

    block_weeks: int = 4
    placebos: int = 39
    pre_check_level: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        if self.block_weeks < 1 or self.placebos < 1:
            raise ValueError("synthetic control block_weeks and placebos must be at least 1")


@dataclass(frozen=True)
class SyntheticControlResult:
    """A synthetic control fit with its placebos.

    Attributes
    ----------
    effect : Effect
        Rate ratio (treated rate after the start over the synthetic one), the placebo
        interval and p-value; the pre-check ranks the fit before the start, and the trend
        of the gap before it, among the placebos'.
    weights : dict of str to float
        Each comparison area's weight in the blend (weights under 0.001 left out).
    periods : tuple of date
        Monday starting each block of weeks used.
    treated_rate, synthetic_rate : tuple of float
        The treated unit's rate and the blend's per block, relative to the treated mean
        before the start (1 = usual level).
    placebo_rate_ratios : tuple of float
        Each placebo unit's rate ratio.
    pre_rmspe : float
        Root mean squared gap between treated and blend before the start.
    """

    effect: Effect
    weights: dict[str, float]
    periods: tuple[date, ...]
    treated_rate: tuple[float, ...]
    synthetic_rate: tuple[float, ...]
    placebo_rate_ratios: tuple[float, ...]
    pre_rmspe: float


def synthetic_control(
    series: WeeklySeries,
    treated: tuple[str, ...],
    start: date,
    end: date | None = None,
    comparison: tuple[str, ...] | None = None,
    parameters: SyntheticControlParameters = SyntheticControlParameters(),
) -> SyntheticControlResult:
    """Fit the synthetic control of the treated areas' summed counts, with placebos.

    ``comparison`` defaults to every area of the series that is not treated; areas with
    no incident before the start cannot be donors and are left out.
    """
    periods, before, counts = _blocks(series, treated, start, end, comparison, parameters)
    treated_rate = _unit_rate(sum(counts.pop(c) for c in treated), before)
    donors = {c: _unit_rate(v, before) for c, v in counts.items()}
    weights, synthetic = _fit(treated_rate, donors, before)
    log_rr = _log_ratio(treated_rate, synthetic, before)
    fit = _pre_fit(treated_rate, synthetic, before)
    placebo_ratios, placebo_fits = [], []
    for group in _placebo_groups(tuple(donors), len(treated), parameters):
        pretend = _unit_rate(sum(counts[c] for c in group), before)
        _, blend = _fit(pretend, {c: r for c, r in donors.items() if c not in group}, before)
        placebo_ratios.append(_log_ratio(pretend, blend, before))
        placebo_fits.append(_pre_fit(pretend, blend, before))
    placebos = np.abs(np.array(placebo_ratios))
    p_value = _rank_p(abs(log_rr), placebos)
    margin = _margin(placebos)
    effect = Effect(
        method="synthetic_control",
        rate_ratio=float(np.exp(log_rr)),
        low=float(np.exp(log_rr - margin)),
        high=float(np.exp(log_rr + margin)),
        p_value=p_value,
        pre_check=_pre_check(fit, np.array(placebo_fits), parameters.pre_check_level),
        weeks_before=int(before.sum()) * parameters.block_weeks,
        weeks_after=int((~before).sum()) * parameters.block_weeks,
    )
    return SyntheticControlResult(
        effect=effect,
        weights={c: round(float(w), 4) for c, w in weights.items() if w >= 0.001},
        periods=periods,
        treated_rate=tuple(treated_rate.tolist()),
        synthetic_rate=tuple(synthetic.tolist()),
        placebo_rate_ratios=tuple(np.exp(placebo_ratios).tolist()),
        pre_rmspe=fit[0],
    )


def _blocks(
    series: WeeklySeries,
    treated: tuple[str, ...],
    start: date,
    end: date | None,
    comparison: tuple[str, ...] | None,
    parameters: SyntheticControlParameters,
) -> tuple[tuple[date, ...], np.ndarray, dict[str, np.ndarray]]:
    """Counts per block of weeks for the treated and donor areas.

    Blocks before the start are counted back from it and blocks after forward from it,
    so no block straddles the start; a part block at either end is dropped.
    """
    size = parameters.block_weeks
    part = split_weeks(series.weeks, start, end)
    before_weeks, after_weeks = np.flatnonzero(part == -1), np.flatnonzero(part == 1)
    n_before, n_after = len(before_weeks) // size, len(after_weeks) // size
    if n_before < 3 or n_after < 1:
        raise EvaluationError(
            f"synthetic control has {n_before} blocks of {size} weeks before {start} and "
            f"{n_after} after: expected at least 3 before and 1 after"
        )
    index = np.concatenate(
        [before_weeks[len(before_weeks) - n_before * size :], after_weeks[: n_after * size]]
    ).reshape(-1, size)
    if comparison is None:
        comparison = tuple(c for c in series.counts if c not in treated)
    zeros = (0,) * len(series.weeks)
    counts = {
        c: np.asarray(series.counts.get(c, zeros), dtype=float)[index].sum(axis=1)
        for c in (*treated, *comparison)
    }
    before = np.arange(n_before + n_after) < n_before
    if sum(counts[c][before].sum() for c in treated) == 0:
        raise EvaluationError("synthetic control: no incidents in the treated areas before")
    for code in comparison:
        if counts[code][before].sum() == 0:
            del counts[code]
    if len(counts) - len(treated) < 2:
        raise EvaluationError(
            "synthetic control: fewer than 2 comparison areas had incidents before the start"
        )
    periods = tuple(series.weeks[int(i)] for i in index[:, 0])
    return periods, before, counts


def _unit_rate(counts: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Counts relative to the unit's own mean before the start."""
    return counts / counts[before].mean()


def _fit(
    target: np.ndarray, donors: dict[str, np.ndarray], before: np.ndarray
) -> tuple[dict[str, float], np.ndarray]:
    """Donor weights matching ``target`` before the start, and the blend over all periods."""
    pool = pd.DataFrame(donors)
    x0, x1 = pool[before], pd.Series(target[before], name="target")
    x0.index = x1.index
    synth = Synth()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        synth.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=np.ones(len(x1)))
    weights = np.clip(np.asarray(synth.W, dtype=float), 0.0, None)
    weights /= weights.sum()
    return dict(zip(pool.columns, weights, strict=True)), pool.to_numpy() @ weights


def _log_ratio(target: np.ndarray, blend: np.ndarray, before: np.ndarray) -> float:
    """Log of the unit's mean rate after the start over its blend's (±inf when one is 0)."""
    observed, expected = target[~before].mean(), blend[~before].mean()
    if observed > 0 and expected > 0:
        return float(np.log(observed / expected))
    if observed == expected:
        return 0.0
    return math.inf if observed > expected else -math.inf


def _pre_fit(target: np.ndarray, blend: np.ndarray, before: np.ndarray) -> tuple[float, float]:
    """Root mean squared gap before the start, and the gap's least-squares trend per period.

    A treated unit drifting away from every donor still gets a blend that is right on
    average, so the fit alone can look ordinary; the drift shows in the gap's trend.
    """
    gap = target[before] - blend[before]
    return float(np.sqrt(np.mean(gap**2))), float(np.polyfit(np.arange(len(gap)), gap, 1)[0])


def _placebo_groups(
    donors: tuple[str, ...], size: int, parameters: SyntheticControlParameters
) -> list[tuple[str, ...]]:
    """Groups of ``size`` donors to pretend were treated: all of them, or a seeded draw."""
    if len(donors) - size < 2:
        raise EvaluationError(
            f"synthetic control: {len(donors)} comparison areas are too few for placebos of "
            f"{size} areas"
        )
    if math.comb(len(donors), size) <= parameters.placebos:
        return list(combinations(donors, size))
    rng = np.random.default_rng(parameters.seed)
    groups: set[tuple[str, ...]] = set()
    while len(groups) < parameters.placebos:
        drawn = rng.choice(len(donors), size=size, replace=False)
        groups.add(tuple(donors[i] for i in sorted(drawn)))
    return sorted(groups)


def _margin(placebos: np.ndarray, alpha: float = 0.05) -> float:
    """Half-width on the log scale of the interval from inverting the placebo test.

    A hypothesised ratio r is kept while at least floor(alpha (J + 1)) of the J placebos
    are as extreme as the treated unit's |log RR - log r|; with fewer than 1 / alpha - 1
    placebos nothing can be ruled out.
    """
    needed = math.floor(alpha * (len(placebos) + 1))
    if needed == 0:
        return math.inf
    return float(np.sort(placebos)[::-1][needed - 1])


def _pre_check(treated: tuple[float, float], placebos: np.ndarray, level: float) -> PreCheck:
    """Compare the treated unit's fit and gap trend before the start with the placebos'."""
    test = "fit and trend of the gap before the start, ranked among the placebo areas'"
    p_fit = _rank_p(treated[0], placebos[:, 0])
    p_trend = _rank_p(abs(treated[1]), np.abs(placebos[:, 1]))
    p = min(p_fit, p_trend)
    if p_fit < level:
        note = f"the blend tracked the treated areas worse than the placebos did (p = {p_fit:.3f})"
        return PreCheck(False, test, p, note)
    if p_trend < level:
        note = f"the treated areas drifted away from the blend before the start (p = {p_trend:.3f})"
        return PreCheck(False, test, p, note)
    return PreCheck(True, test, p, f"the blend tracked the treated areas as usual (p = {p:.2f})")


def _rank_p(value: float, placebos: np.ndarray) -> float:
    """Share of units (placebos and this one) at least as extreme as ``value``."""
    return (1 + int((placebos >= value - 1e-12).sum())) / (len(placebos) + 1)
