"""Population attributable fractions of ACEs from published summary figures.

When only a study's tables are at hand (per ACE category: adjusted odds ratios with 95%
intervals, and the share of people, or of cases, in the category), the share of an
outcome attributable to ACEs is Miettinen's case-based formula

    PAF = sum over exposed categories i of  pc_i (RR_i - 1) / RR_i

where ``pc_i`` is the share of *cases* in category ``i`` (Miettinen 1974; Bruzzi et al.
1985). It stays valid with confounder-adjusted ratios, because the case distribution
already carries the confounding. Levin's formula, ``sum p_i (RR_i - 1) / (1 + sum p_i
(RR_i - 1))`` with *population* shares ``p_i``, is only right without confounding: with
adjusted ratios it is biased (Rockhill, Newman & Weinberg 1998; Darrow & Steenland
2011), and, above all, odds ratios exaggerate risk ratios whenever the outcome is not
rare, so plugging adjusted odds ratios into it overstates the fraction. Both are
reported, so the difference shows; see docs/aces.md.

Where the outcome's prevalence among people with no ACEs is given, odds ratios are turned
into approximate risk ratios by Zhang & Yu (1998), ``RR = OR / (1 - p0 + p0 OR)``;
otherwise odds ratios stand in for risk ratios, which is only right for rare outcomes.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardiffmodel.analysis.aces import ACE_CATEGORIES, Z95

COLUMNS = (
    "outcome",
    "category",
    "odds_ratio",
    "low",
    "high",
    "population_share",
    "outcome_prevalence",
    "case_share",
)
SHARES = ("population_share", "outcome_prevalence", "case_share")


class SummaryError(ValueError):
    """A summary file is unusable; names the file, row, column and value."""


@dataclass(frozen=True)
class SummaryRow:
    """Published figures for one outcome in one ACE category.

    Attributes
    ----------
    outcome, category : str
        The outcome and the ACE category (``"0"``, ``"1"``, ``"2-3"``, ``"4+"``).
    odds_ratio, low, high : float
        Adjusted odds ratio against no ACEs and its 95% interval (1, 1, 1 for ``"0"``).
    population_share : float or None
        Share of the population in the category.
    outcome_prevalence : float or None
        Share of the category with the outcome.
    case_share : float or None
        Share of the outcome's cases in the category.
    """

    outcome: str
    category: str
    odds_ratio: float
    low: float
    high: float
    population_share: float | None = None
    outcome_prevalence: float | None = None
    case_share: float | None = None


@dataclass(frozen=True)
class AttributableFraction:
    """The share of one outcome attributable to ACEs, from summary figures.

    Attributes
    ----------
    outcome : str
        The outcome.
    fraction, low, high : float
        Miettinen's case-based fraction and its 95% Monte Carlo interval (from the odds
        ratios' intervals, case shares taken as known).
    levin : float or None
        Levin's formula with the adjusted odds ratios and population shares, for
        comparison (``None`` without population shares).
    ratios : str
        ``"zhang-yu"`` (odds ratios converted to risk ratios) or ``"odds"`` (odds ratios
        used as risk ratios).
    case_shares : dict of str to float
        Share of cases per category used in the formula.
    odds_ratio_4plus : tuple of float
        The 4+ vs 0 adjusted odds ratio and its interval, for the chart.
    """

    outcome: str
    fraction: float
    low: float
    high: float
    levin: float | None
    ratios: str
    case_shares: dict[str, float]
    odds_ratio_4plus: tuple[float, float, float]


def miettinen(case_shares: np.ndarray, risk_ratios: np.ndarray) -> np.ndarray:
    """Miettinen's case-based attributable fraction over exposed categories (last axis)."""
    return np.sum(case_shares * (risk_ratios - 1) / risk_ratios, axis=-1)


def levin(population_shares: np.ndarray, risk_ratios: np.ndarray) -> np.ndarray:
    """Levin's multi-category attributable fraction over exposed categories (last axis)."""
    excess = np.sum(population_shares * (risk_ratios - 1), axis=-1)
    return excess / (1 + excess)


def odds_to_risk_ratio(odds_ratio: np.ndarray, reference_risk: float) -> np.ndarray:
    """Zhang & Yu's (1998) approximate risk ratio from an odds ratio and the risk in the
    reference category."""
    return odds_ratio / (1 - reference_risk + reference_risk * odds_ratio)


def read_summary(path: Path) -> tuple[SummaryRow, ...]:
    """Read a summary CSV with the :data:`COLUMNS` (the last three may be blank)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS[:5] if c not in (reader.fieldnames or [])]
            if missing:
                raise SummaryError(
                    f"{path}: no column {missing[0]!r}; expected columns {list(COLUMNS)}"
                )
            return tuple(_row(raw, path, number) for number, raw in enumerate(reader, start=2))
    except (OSError, UnicodeDecodeError) as err:
        raise SummaryError(f"{path}: cannot read the summary ({err})") from err


def attributable_fractions(
    rows: tuple[SummaryRow, ...], draws: int = 10_000, seed: int = 0
) -> tuple[AttributableFraction, ...]:
    """Miettinen (and Levin, for comparison) for each outcome of ``rows``."""
    rng = np.random.default_rng(seed)
    outcomes = dict.fromkeys(r.outcome for r in rows)
    return tuple(
        _fraction(name, [r for r in rows if r.outcome == name], draws, rng) for name in outcomes
    )


def _fraction(
    name: str, rows: list[SummaryRow], draws: int, rng: np.random.Generator
) -> AttributableFraction:
    by_category = {r.category: r for r in rows}
    missing = [c for c in ACE_CATEGORIES if c not in by_category]
    if missing:
        raise SummaryError(f"outcome {name!r} has no row for ACE category {missing[0]!r}")
    ordered = [by_category[c] for c in ACE_CATEGORIES]
    exposed = ordered[1:]
    cases = _case_shares(name, ordered)
    odds = np.array([r.odds_ratio for r in exposed])
    spread = np.array([(math.log(r.high) - math.log(r.low)) / (2 * Z95) for r in exposed])
    simulated = np.exp(np.log(odds) + spread * rng.standard_normal((draws, len(exposed))))
    reference = ordered[0].outcome_prevalence
    if reference is not None:
        odds, simulated = (odds_to_risk_ratio(x, reference) for x in (odds, simulated))
    fractions = miettinen(cases[1:], simulated)
    shares = [r.population_share for r in ordered]
    levin_value = None
    if all(s is not None for s in shares):
        levin_value = float(levin(np.array(shares[1:]), np.array([r.odds_ratio for r in exposed])))
    low, high = np.quantile(fractions, [0.025, 0.975])
    top = by_category["4+"]
    return AttributableFraction(
        outcome=name,
        fraction=float(miettinen(cases[1:], odds)),
        low=float(low),
        high=float(high),
        levin=levin_value,
        ratios="odds" if reference is None else "zhang-yu",
        case_shares=dict(zip(ACE_CATEGORIES, cases.tolist(), strict=True)),
        odds_ratio_4plus=(top.odds_ratio, top.low, top.high),
    )


def _case_shares(name: str, ordered: list[SummaryRow]) -> np.ndarray:
    """Cases per category: as given, or from population shares × outcome prevalence."""
    if all(r.case_share is not None for r in ordered):
        shares = np.array([r.case_share for r in ordered])
    elif all(r.population_share is not None and r.outcome_prevalence is not None for r in ordered):
        shares = np.array([r.population_share * r.outcome_prevalence for r in ordered])
    else:
        raise SummaryError(
            f"outcome {name!r}: Miettinen's formula needs the share of cases in each ACE "
            "category: give case_share, or population_share and outcome_prevalence, for "
            "every category"
        )
    if shares.sum() <= 0:
        raise SummaryError(f"outcome {name!r}: the case shares add up to {shares.sum()}")
    return shares / shares.sum()


def _row(raw: dict, path: Path, number: int) -> SummaryRow:
    def number_in(column: str, optional: bool = False) -> float | None:
        text = (raw.get(column) or "").strip()
        if not text and optional:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        share = column in SHARES
        if not math.isfinite(value) or value < 0 or (share and value > 1):
            expected = "a share from 0 to 1" if share else "a positive number"
            raise SummaryError(f"{path} row {number} column {column!r} value {text!r}: {expected}")
        return value

    category = (raw.get("category") or "").strip()
    if category not in ACE_CATEGORIES:
        raise SummaryError(
            f"{path} row {number} column 'category' value {category!r}: "
            f"expected one of {ACE_CATEGORIES}"
        )
    ratio, low, high = (number_in(c) for c in ("odds_ratio", "low", "high"))
    if not 0 < low <= ratio <= high:
        raise SummaryError(
            f"{path} row {number}: odds ratio {ratio} with interval {low} to {high}: "
            "expected 0 < low <= odds_ratio <= high"
        )
    return SummaryRow(
        outcome=(raw.get("outcome") or "").strip(),
        category=category,
        odds_ratio=ratio,
        low=low,
        high=high,
        population_share=number_in("population_share", True),
        outcome_prevalence=number_in("outcome_prevalence", True),
        case_share=number_in("case_share", True),
    )


def summary_table(fractions: tuple[AttributableFraction, ...]) -> list[dict]:
    """One row per outcome, for CSV: Miettinen's fraction with its interval, and Levin's."""
    return [
        {
            "outcome": f.outcome,
            "attributable_fraction": round(f.fraction, 4),
            "low": round(f.low, 4),
            "high": round(f.high, 4),
            "levin_with_adjusted_odds_ratios": None if f.levin is None else round(f.levin, 4),
            "ratios": f.ratios,
            "aor_4plus": f.odds_ratio_4plus[0],
        }
        for f in fractions
    ]
