"""SVG charts of evaluation and ACE results (matplotlib, no pyplot state).

Each function takes a finished result and returns SVG text; callers decide where it goes
(a file, a report, the dashboard). Nothing here computes a statistic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

from cardiffmodel.analysis.aces import ACE_CATEGORIES, SurveyResult
from cardiffmodel.analysis.aces_summary import AttributableFraction
from cardiffmodel.analysis.did import DidResult

INK, MUTED, ACCENT, LIGHT = "#1b2a3a", "#6b7785", "#b03a2e", "#e8d5d3"
CATEGORY_LABELS = {"0": "No ACEs", "1": "1 ACE", "2-3": "2–3 ACEs", "4+": "4+ ACEs"}
RATIO_TICKS = (0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8)
CATEGORY_SHADES = ("#d9dee4", "#e7b7b1", "#cd7568", "#b03a2e")


def event_study_svg(result: DidResult, title: str) -> str:
    """Treated/comparison rate ratio per block of weeks, with 95% intervals; the blocks
    before the start should sit on 1 if the areas moved together."""
    figure = Figure(figsize=(8, 3.6))
    ax = figure.add_subplot()
    points = result.event_study
    x = [p.first_week for p in points]
    ax.axhline(1.0, color=MUTED, linewidth=0.8)
    start = next((p.first_week for p in points if p.block == 0), None)
    if start is not None:
        ax.axvline(start, color=ACCENT, linestyle="--", linewidth=1)
        ax.annotate("start", (start, 1), xytext=(4, 60), textcoords="offset points", color=ACCENT)
    lows = [p.rate_ratio - p.low for p in points]
    highs = [p.high - p.rate_ratio for p in points]
    colours = [INK if p.block < 0 else ACCENT for p in points]
    ax.errorbar(x, [p.rate_ratio for p in points], yerr=[lows, highs], fmt="none",
                ecolor=LIGHT, elinewidth=2)  # fmt: skip
    ax.scatter(x, [p.rate_ratio for p in points], c=colours, s=14, zorder=3)
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(FixedLocator(RATIO_TICKS))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylabel("rate ratio, treated vs comparison")
    ax.set_title(title, loc="left", color=INK)
    _tidy(ax)
    return _svg(figure)


def survey_infographic_svg(result: SurveyResult, title: str) -> str:
    """ACE prevalence and, per outcome, the 4+ vs none odds ratio and the share that
    preventing ACEs would remove, laid out like the Welsh ACE study's summary."""
    rows = [
        (
            _label(o.outcome),
            o.odds_ratios[-1].odds_ratio,
            o.reduction,
            o.low,
            o.high,
        )
        for o in result.outcomes
    ]
    shares = {p.category: p.share for p in result.prevalence}
    note = f"{result.respondents:,} respondents" + (", weighted" if result.weighted else "")
    return _infographic(title, shares, rows, note)


def summary_infographic_svg(fractions: Sequence[AttributableFraction], title: str) -> str:
    """The share of each outcome attributable to ACEs from published summary figures."""
    rows = [
        (_label(f.outcome), f.odds_ratio_4plus[0], f.fraction, f.low, f.high) for f in fractions
    ]
    return _infographic(title, None, rows, "Miettinen's case-based formula, summary inputs")


def _infographic(
    title: str,
    shares: dict[str, float] | None,
    rows: list[tuple[str, float, float, float, float]],
    note: str,
) -> str:
    height = 1.6 + 0.55 * len(rows) + (1.3 if shares else 0)
    figure = Figure(figsize=(9, height))
    figure.suptitle(title, x=0.02, ha="left", color=INK, fontsize=14)
    grid = figure.add_gridspec(2 if shares else 1, 1, height_ratios=[1, 0.45 * len(rows) + 0.6]
                               if shares else None)  # fmt: skip
    if shares:
        _prevalence_bar(figure.add_subplot(grid[0]), shares)
    ax = figure.add_subplot(grid[-1])
    y = list(range(len(rows)))[::-1]
    reductions = [100 * r[2] for r in rows]
    ax.barh(y, reductions, color=ACCENT, height=0.55)
    ax.errorbar(reductions, y, xerr=[[100 * (r[2] - r[3]) for r in rows],
                [100 * (r[4] - r[2]) for r in rows]], fmt="none", ecolor=INK)  # fmt: skip
    for yi, row in zip(y, rows, strict=True):
        ax.text(-1, yi, f"{row[0]}  ({row[1]:.0f}× with 4+ ACEs)", ha="right", va="center",
                color=INK)  # fmt: skip
        ax.text(100 * row[4] + 1.5, yi, f"{100 * row[2]:.0f}%", va="center", color=ACCENT,
                fontweight="bold")  # fmt: skip
    ax.set_yticks([])
    ax.set_xlim(0, 105)
    ax.set_xlabel("% of each outcome that would not occur if ACEs were prevented (95% interval)")
    _tidy(ax)
    figure.text(0.02, 0.01, note, color=MUTED, fontsize=8)
    figure.subplots_adjust(left=0.42, right=0.97, top=1 - 0.6 / height, bottom=0.9 / height,
                           hspace=0.9)  # fmt: skip
    return _svg(figure)


def _prevalence_bar(ax, shares: dict[str, float]) -> None:
    left = 0.0
    for category, shade in zip(ACE_CATEGORIES, CATEGORY_SHADES, strict=True):
        share = shares[category]
        ax.barh(0, share, left=left, color=shade, height=0.6)
        ax.text(left + share / 2, 0, f"{100 * share:.0f}%\n{CATEGORY_LABELS[category]}",
                ha="center", va="center", fontsize=9, color=INK)  # fmt: skip
        left += share
    ax.set_xlim(0, 1)
    ax.axis("off")
    ax.set_title("How many adults had adverse childhood experiences", loc="left", color=INK,
                 fontsize=10)  # fmt: skip


def _label(outcome: str) -> str:
    text = outcome.removeprefix("outcome_").replace("_", " ")
    return text[:1].upper() + text[1:]


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _svg(figure: Figure) -> str:
    """SVG with real text (not glyph outlines), so it is searchable, accessible and small."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):
        FigureCanvasSVG(figure).print_svg(buffer)
    return buffer.getvalue()
