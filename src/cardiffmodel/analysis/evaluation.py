"""Did an intervention work? Evaluate it by three methods on each source's incidents.

For a registered intervention this counts incidents per area per week
(:func:`cardiffmodel.analysis.rises.weekly_counts`) for each source and for all sources
together, over the weeks the store holds: a window never reaches before the first extract
or across a missing one, because weeks nobody sent would count as weeks without violence
and the climb out of them would make the weeks after the start look like a fall. It then
estimates the effect by interrupted time series on the treated areas (:mod:`.its`),
difference in differences against comparison areas (:mod:`.did`) and synthetic control
with placebos (:mod:`.synthetic_control`). Each estimate is judged by the same explicit
rules (:class:`cardiffmodel.analysis.effect.VerdictRules`), and the methods' verdicts are
combined: an intervention "reduced" violence only when every method that could run says
so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType

import ibis
from threadpoolctl import threadpool_limits

from cardiffmodel.analysis.did import DidResult, difference_in_differences
from cardiffmodel.analysis.effect import (
    Effect,
    EvaluationError,
    Verdict,
    VerdictRules,
    judge,
    split_weeks,
    unavailable,
)
from cardiffmodel.analysis.its import ItsParameters, ItsResult, interrupted_time_series
from cardiffmodel.analysis.rises import NotHeld, WeeklySeries, weekly_counts
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.analysis.synthetic_control import (
    SyntheticControlParameters,
    SyntheticControlResult,
    synthetic_control,
)
from cardiffmodel.coverage import Coverage
from cardiffmodel.schema import SOURCES
from cardiffmodel.store.interventions import Intervention, WhatWorksRow

METHODS = ("its", "did", "synthetic_control")
ALL_SOURCES = "all"
COMBINED = "combined"


@dataclass(frozen=True)
class EvaluationOptions:
    """What to evaluate and how.

    Attributes
    ----------
    methods : tuple of str
        Some of :data:`METHODS`.
    sources : tuple of str
        ``"all"`` (every source together) and/or single sources.
    weeks_before : int
        Weeks of data before the start to use (two years lets the season be learnt), or
        fewer when the store holds fewer.
    its : ItsParameters
        Interrupted time series settings.
    did_block_weeks : int
        Weeks per block of the difference-in-differences event study.
    synthetic_control : SyntheticControlParameters
        Synthetic control settings.
    rules : VerdictRules
        Verdict rules.
    """

    methods: tuple[str, ...] = METHODS
    sources: tuple[str, ...] = (ALL_SOURCES, *SOURCES)
    weeks_before: int = 104
    its: ItsParameters = field(default_factory=ItsParameters)
    did_block_weeks: int = 4
    synthetic_control: SyntheticControlParameters = field(
        default_factory=SyntheticControlParameters
    )
    rules: VerdictRules = field(default_factory=VerdictRules)

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"evaluation methods {self.methods!r}: expected some of {METHODS}")
        allowed = (ALL_SOURCES, *SOURCES)
        unknown = [s for s in self.sources if s not in allowed]
        if unknown or not self.sources:
            raise ValueError(f"evaluation sources {self.sources!r}: expected some of {allowed}")
        if self.weeks_before < 8:
            raise ValueError(f"weeks_before {self.weeks_before}: expected at least 8")


@dataclass(frozen=True)
class MethodResult:
    """One method's result on one source.

    Attributes
    ----------
    source, method : str
        The source (or ``"all"``) and the method.
    verdict : Verdict
        The judged verdict (``too_weak`` with the reason when the method could not run).
    effect : Effect or None
        The estimate, or ``None`` when the method could not run.
    detail : ItsResult, DidResult, SyntheticControlResult or None
        The method's full result (event study, weights, placebos…).
    """

    source: str
    method: str
    verdict: Verdict
    effect: Effect | None = None
    detail: ItsResult | DidResult | SyntheticControlResult | None = None


@dataclass(frozen=True)
class Window:
    """The weeks one source's evaluation used.

    Attributes
    ----------
    first_week, last_week : date
        Mondays of the first and last weeks used.
    weeks_before : int
        Whole weeks used before the week the intervention started in.
    held_by : tuple of str
        Names of the configured sources covering every week used (empty when the caller
        vouched that the table is complete).
    """

    first_week: date
    last_week: date
    weeks_before: int
    held_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """An intervention's evaluation over every requested source and method.

    Attributes
    ----------
    intervention : Intervention
        What was evaluated.
    first_week, last_week : date
        Mondays of the first and last weeks of data used by any source.
    treated, comparison : tuple of str
        The treated and comparison area codes (by default every untreated area with an
        incident from any evaluated source; a method may drop areas without incidents).
    results : tuple of MethodResult
        By source, then method.
    weeks_before_asked : int
        The weeks before the start that were asked for.
    windows : Mapping of str to Window
        The weeks each source (or ``"all"``) used; a source the store holds no week of
        is missing, and its methods' verdicts say so.
    """

    intervention: Intervention
    first_week: date
    last_week: date
    treated: tuple[str, ...]
    comparison: tuple[str, ...]
    results: tuple[MethodResult, ...]
    weeks_before_asked: int = 0
    windows: Mapping[str, Window] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", MappingProxyType(dict(self.windows)))

    def shortened(self) -> tuple[tuple[str, Window], ...]:
        """The sources whose window holds fewer weeks before the start than were asked."""
        return tuple(
            (source, w)
            for source, w in self.windows.items()
            if w.weeks_before < self.weeks_before_asked
        )

    def combined(self, source: str = ALL_SOURCES) -> Verdict:
        """The verdicts of the methods that could run on one source (a difference in
        differences needs several treated areas, a synthetic control enough comparison
        areas), combined by :func:`combine_verdicts`; too weak when none could run."""
        ran = [r.verdict for r in self.results if r.source == source and r.effect is not None]
        if not ran:
            return Verdict("too_weak", "Too weak to say: no method could run.")
        return combine_verdicts(ran)

    def what_works(self, evaluated_at: datetime) -> tuple[WhatWorksRow, ...]:
        """Rows for the "what works" table: each method, then the combined verdict."""
        rows = []
        for source in dict.fromkeys(r.source for r in self.results):
            for r in (r for r in self.results if r.source == source):
                rows.append(self._row(source, r.method, r.effect, r.verdict, evaluated_at))
            rows.append(self._row(source, COMBINED, None, self.combined(source), evaluated_at))
        return tuple(rows)

    def _row(
        self, source: str, method: str, e: Effect | None, verdict: Verdict, at: datetime
    ) -> WhatWorksRow:
        return WhatWorksRow(
            intervention=self.intervention.name,
            kind=self.intervention.kind,
            source=source,
            method=method,
            rate_ratio=None if e is None else e.rate_ratio,
            low=None if e is None else e.low,
            high=None if e is None else e.high,
            pre_check_passed=None if e is None else e.pre_check.passed,
            verdict=verdict.code,
            explanation=verdict.text,
            evaluated_at=at,
        )


def combine_verdicts(verdicts: list[Verdict]) -> Verdict:
    """One verdict from several methods': theirs when they all agree, else too weak.

    Methods rest on different assumptions (trend and season carry on; parallel trends;
    a blend of areas tracks the treated ones), so a claim that something worked needs
    all of them behind it.
    """
    codes = {v.code for v in verdicts}
    if len(codes) == 1:
        code = codes.pop()
        texts = {
            "reduced": "Every method found a fall in incidents.",
            "increased": "Every method found a rise in incidents.",
            "no_change": "Every method found no clear change in incidents.",
            "too_weak": "Too weak to say by any method.",
        }
        return Verdict(code, texts[code])
    found = ", ".join(sorted(codes))
    return Verdict("too_weak", f"Too weak to say: the methods disagree ({found}).")


def evaluate(
    t: ibis.Table,
    intervention: Intervention,
    options: EvaluationOptions = EvaluationOptions(),
    through: date | None = None,
    coverage: Coverage | None = None,
) -> Evaluation:
    """Evaluate ``intervention`` on the incidents of ``t``.

    The data run from ``options.weeks_before`` weeks before the start to the
    intervention's end, or, while it continues, to ``through`` (default: the end of what
    the store holds). With ``coverage`` (the store's), each source's window is the last
    unbroken run of weeks its sources hold (:func:`weekly_counts`), so it starts later
    when the store holds fewer weeks before the start, and a source the store holds
    nothing of is judged "too weak" with the reason. ``coverage`` None means the caller
    vouches that every week of the window is held.
    """
    first = intervention.start - timedelta(weeks=options.weeks_before)
    last = intervention.end or through or _data_end(t, coverage)
    if not first < last:
        raise EvaluationError(f"no data after {first} to evaluate {intervention.name!r}")
    treated = intervention.areas
    counted, missing = {}, {}
    for source in options.sources:
        sel = Selection(
            start=first,
            end=last,
            sources=SOURCES if source == ALL_SOURCES else (source,),
            layer=intervention.layer,
        )
        try:
            counted[source] = weekly_counts(t, sel, coverage=coverage)
        except NotHeld as err:
            missing[source] = str(err)
    if not counted:
        raise EvaluationError(next(iter(missing.values())))
    seen = {code for series in counted.values() for code in series.counts}
    comparison = intervention.comparison or tuple(sorted(seen - set(treated)))
    results = []
    # Hundreds of small fits: threaded BLAS only adds contention on a busy machine.
    with threadpool_limits(limits=1, user_api="blas"):
        for source in options.sources:
            if source in missing:
                reason = unavailable(missing[source])
                results += [MethodResult(source, m, reason) for m in options.methods]
                continue
            series = _restrict(counted[source], treated, comparison)
            for method in options.methods:
                results.append(_run(method, source, series, intervention, comparison, options))
    windows = {source: _window(series, intervention) for source, series in counted.items()}
    return Evaluation(
        intervention=intervention,
        first_week=min(w.first_week for w in windows.values()),
        last_week=max(w.last_week for w in windows.values()),
        treated=treated,
        comparison=comparison,
        results=tuple(results),
        weeks_before_asked=options.weeks_before,
        windows=windows,
    )


def _window(series: WeeklySeries, intervention: Intervention) -> Window:
    part = split_weeks(series.weeks, intervention.start, intervention.end)
    before = int((part == -1).sum())
    return Window(series.weeks[0], series.weeks[-1], before, series.held_by)


def _run(
    method: str,
    source: str,
    series: WeeklySeries,
    intervention: Intervention,
    comparison: tuple[str, ...],
    options: EvaluationOptions,
) -> MethodResult:
    treated, start, end = intervention.areas, intervention.start, intervention.end
    try:
        if method == "its":
            totals = [sum(col) for col in zip(*(series.counts[c] for c in treated), strict=True)]
            detail = interrupted_time_series(series.weeks, totals, start, end, options.its)
        elif method == "did":
            detail = difference_in_differences(
                series, treated, start, end, comparison, options.did_block_weeks
            )
        else:
            detail = synthetic_control(
                series, treated, start, end, comparison, options.synthetic_control
            )
    except EvaluationError as err:
        return MethodResult(source, method, unavailable(str(err)))
    return MethodResult(source, method, judge(detail.effect, options.rules), detail.effect, detail)


def _restrict(
    series: WeeklySeries, treated: tuple[str, ...], comparison: tuple[str, ...]
) -> WeeklySeries:
    """The series of the treated and comparison areas, with zero weeks for areas that had
    no incident at all."""
    zeros = (0,) * len(series.weeks)
    counts = {c: series.counts.get(c, zeros) for c in (*treated, *comparison)}
    return WeeklySeries(series.weeks, counts, series.layer, series.unplaced, series.held_by)


def _data_end(t: ibis.Table, coverage: Coverage | None) -> date:
    """The day after the last the store holds: its coverage's end, else the latest
    incident's day."""
    if coverage is not None:
        extent = coverage.extent()
        if extent is None:
            raise EvaluationError("the store holds no period of any source to evaluate")
        return extent[1]
    latest = t.occurred_date.max().to_pyarrow().as_py()
    if latest is None:
        raise EvaluationError("the store holds no incidents to evaluate")
    return latest + timedelta(days=1)
