"""What every evaluation method returns, and the rules that turn it into a verdict.

Each method (interrupted time series, difference in differences, synthetic control)
estimates a rate ratio with a 95% interval and runs its own check of the weeks before the
intervention. One set of explicit rules then words the verdict, so the methods are judged
alike and a partnership can read exactly why a result says "too weak to say".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

VERDICTS = ("reduced", "increased", "no_change", "too_weak")


class EvaluationError(ValueError):
    """The data cannot support a method (too few weeks, areas or incidents); says which."""


@dataclass(frozen=True)
class PreCheck:
    """A method's check that the weeks before the intervention behaved as it assumes.

    Attributes
    ----------
    passed : bool
        Whether the check passed; a failed check makes any verdict "too weak to say".
    test : str
        What was tested, in words.
    p_value : float or None
        The test's p-value, where the check is a test.
    note : str
        The outcome in plain language.
    """

    passed: bool
    test: str
    p_value: float | None
    note: str


@dataclass(frozen=True)
class Effect:
    """An estimated effect of an intervention on incident counts.

    Attributes
    ----------
    method : str
        ``"its"``, ``"did"`` or ``"synthetic_control"``.
    rate_ratio : float
        Incidents with the intervention divided by the incidents expected without it.
    low, high : float
        95% interval of the rate ratio (``high`` may be ``inf`` when the data cannot
        bound it).
    p_value : float
        Two-sided p-value against no effect (rate ratio 1).
    pre_check : PreCheck
        The method's check of the weeks before.
    weeks_before, weeks_after : int
        Weeks of data used before and after the start.
    """

    method: str
    rate_ratio: float
    low: float
    high: float
    p_value: float
    pre_check: PreCheck
    weeks_before: int
    weeks_after: int


@dataclass(frozen=True)
class VerdictRules:
    """The rules that word a verdict from a rate ratio, its interval and the pre-check.

    * **reduced**: the whole 95% interval is below 1 and the pre-intervention check passed.
    * **increased**: the whole 95% interval is above 1 and the check passed.
    * **no_change**: the interval includes 1 but lies inside ``negligible`` (so any effect
      is small) and the check passed.
    * **too_weak**: anything else: the check failed, or the interval is too wide to
      tell a real effect from none.

    Attributes
    ----------
    negligible : tuple of float
        Rate ratios counted as no meaningful change (default a fall under 20% or a rise
        under 25%, which are the same size on the log scale).
    """

    negligible: tuple[float, float] = (0.8, 1.25)

    def __post_init__(self) -> None:
        low, high = self.negligible
        if not 0 < low < 1 < high:
            raise ValueError(f"negligible band {self.negligible}: expected 0 < low < 1 < high")


@dataclass(frozen=True)
class Verdict:
    """``code`` is one of :data:`VERDICTS`; ``text`` says it in plain language."""

    code: str
    text: str


def judge(effect: Effect, rules: VerdictRules = VerdictRules()) -> Verdict:
    """Word the verdict for ``effect`` by the documented :class:`VerdictRules`."""
    interval = f"rate ratio {effect.rate_ratio:.2f}, 95% interval {_range(effect)}"
    if not effect.pre_check.passed:
        return Verdict(
            "too_weak",
            f"Too weak to say: the check of the weeks before failed ({effect.pre_check.note}), "
            f"so the estimate ({interval}) cannot be trusted.",
        )
    if effect.high < 1:
        return Verdict(
            "reduced",
            f"Incidents fell by about {_percent(1 - effect.rate_ratio)} ({interval}); "
            "the check of the weeks before passed.",
        )
    if effect.low > 1:
        return Verdict(
            "increased",
            f"Incidents rose by about {_percent(effect.rate_ratio - 1)} ({interval}); "
            "the check of the weeks before passed.",
        )
    low, high = rules.negligible
    if low <= effect.low and effect.high <= high:
        return Verdict(
            "no_change",
            f"No clear change ({interval}): the interval rules out a fall of more than "
            f"{_percent(1 - low)} or a rise of more than {_percent(high - 1)}.",
        )
    return Verdict(
        "too_weak",
        f"Too weak to say ({interval}): the data fit anything from "
        f"{_change(effect.low)} to {_change(effect.high)}.",
    )


def unavailable(reason: str) -> Verdict:
    """The verdict when a method could not be run at all."""
    return Verdict("too_weak", f"Too weak to say: {reason}.")


def split_weeks(weeks: tuple[date, ...], start: date, end: date | None) -> np.ndarray:
    """Each week's part: -1 wholly before ``start``, 1 wholly in ``[start, end)``, 0 neither.

    The week the intervention started in, and any week after it ended, belong to
    neither part, so no method mixes treated and untreated days in one week.
    """
    part = np.zeros(len(weeks), dtype=np.int8)
    for i, monday in enumerate(weeks):
        sunday_after = monday + timedelta(days=7)
        if sunday_after <= start:
            part[i] = -1
        elif monday >= start and (end is None or sunday_after <= end):
            part[i] = 1
    return part


def _range(effect: Effect) -> str:
    high = "unbounded" if not np.isfinite(effect.high) else f"{effect.high:.2f}"
    return f"{effect.low:.2f} to {high}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def _change(ratio: float) -> str:
    if not np.isfinite(ratio):
        return "an unbounded rise"
    if ratio < 1:
        return f"a fall of {_percent(1 - ratio)}"
    return f"a rise of {_percent(ratio - 1)}"
