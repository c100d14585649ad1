"""Intervention evaluation on simulated beat panels with a known planted effect.

Each replication simulates 30 beats over 156 weeks (two years before the start, one
after; citywide season, trend and week shocks; negative binomial noise), 5 of them
treated, with a planted rate ratio of 0.58 (Florence et al. 2011's estimate for the
Cardiff Model) or 1 (no effect), and runs each method. Reported per method: the mean
estimate against the truth, the RMSE of the log rate ratio against a naive before/after
comparison of the treated beats, 95% interval coverage against the nominal 0.95, false
"reduced" and false "reduced"/"increased" verdicts without an effect against the nominal
0.025 and 0.05, the same under diverging trends (treated beats drifting 15% a year apart,
which the pre-checks should catch; half as many panels), and the share of "reduced"
verdicts with the effect (power).

Difference in differences refits 31 times per panel (jackknife errors, twice: estimate
and pre-check) and synthetic control 40 times (39 placebos), so they get fewer panels
than the interrupted time series; their coverage is known to about ±0.04 and ±0.06.
Runs on two processes.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import row
from cardiffmodel.analysis.did import difference_in_differences
from cardiffmodel.analysis.effect import Effect, judge, split_weeks
from cardiffmodel.analysis.evaluation_sim import SimulatedPanel, simulate_panel
from cardiffmodel.analysis.its import interrupted_time_series
from cardiffmodel.analysis.synthetic_control import synthetic_control

PLANTED = 0.58
DIVERGING = 0.15
REPLICATIONS = {"its": 400, "did": 100, "synthetic_control": 60}
WORKERS = 2  # the machine's cores
NAMES = {"its": "ITS", "did": "DiD", "synthetic_control": "synthetic control"}


def estimate(method: str, panel: SimulatedPanel) -> Effect:
    """One method's effect on one panel."""
    series = panel.series
    if method == "its":
        totals = np.sum([series.counts[c] for c in panel.treated], axis=0)
        return interrupted_time_series(series.weeks, totals, panel.start).effect
    if method == "did":
        did = difference_in_differences(series, panel.treated, panel.start, event_study=False)
        return did.effect
    return synthetic_control(series, panel.treated, panel.start).effect


def naive_log_ratio(panel: SimulatedPanel) -> float:
    """Treated beats' mean weekly count after the start over before: the naive baseline."""
    totals = np.sum([panel.series.counts[c] for c in panel.treated], axis=0)
    part = split_weeks(panel.series.weeks, panel.start, None)
    return float(np.log(totals[part == 1].mean() / totals[part == -1].mean()))


def replicate(job: tuple[str, float, int, float]) -> tuple[float, float, bool, str]:
    """Log estimate, naive log estimate, coverage and verdict of one seeded panel."""
    method, rate_ratio, seed, diverging = job
    panel = simulate_panel(seed, rate_ratio, diverging_trend=diverging)
    effect = estimate(method, panel)
    covered = effect.low <= rate_ratio <= effect.high
    return np.log(effect.rate_ratio), naive_log_ratio(panel), covered, judge(effect).code


def scenario(
    pool: ProcessPoolExecutor, method: str, rate_ratio: float, seed0: int, diverging: float = 0.0
) -> dict:
    """Estimates, coverage and verdicts over the replications of one scenario (half as many
    for diverging trends, which only counts false verdicts)."""
    n = REPLICATIONS[method] // (2 if diverging else 1)
    jobs = [(method, rate_ratio, seed, diverging) for seed in range(seed0, seed0 + n)]
    logs, naive, covered, verdicts = (
        np.array(v) for v in zip(*pool.map(replicate, jobs), strict=True)
    )
    truth = np.log(rate_ratio)
    return {
        "mean_rr": float(np.exp(np.mean(logs))),
        "rmse": float(np.sqrt(np.mean((logs - truth) ** 2))),
        "naive_rmse": float(np.sqrt(np.mean((naive - truth) ** 2))),
        "coverage": float(np.mean(covered)),
        "reduced": float(np.mean(verdicts == "reduced")),
        "changed": float(np.mean(np.isin(verdicts, ["reduced", "increased"]))),
    }


def run() -> list[dict]:
    """Every method under the planted effect, no effect, and diverging trends."""
    rows = []
    with ProcessPoolExecutor(WORKERS, initializer=_one_blas_thread) as pool:
        for method, n in REPLICATIONS.items():
            rows += _method_rows(pool, method, n)
    return rows


def _method_rows(pool: ProcessPoolExecutor, method: str, n: int) -> list[dict]:
    """The rows of one method: its three scenarios and its wall time."""
    started = time.perf_counter()
    name = f"evaluation {NAMES[method]} ({n} panels)"
    effect = scenario(pool, method, PLANTED, 0)
    null = scenario(pool, method, 1.0, 100_000)
    drift = scenario(pool, method, 1.0, 200_000, DIVERGING)
    return [
        _row(f"{name}: mean rate ratio, planted {PLANTED}", effect["mean_rr"], PLANTED, "RR"),
        _row(
            f"{name}: RMSE log RR vs naive before/after",
            effect["rmse"],
            effect["naive_rmse"],
            "log RR",
        ),
        _row(f"{name}: 95% interval coverage, planted effect", effect["coverage"], 0.95),
        _row(f"{name}: 95% interval coverage, no effect", null["coverage"], 0.95),
        _row(f"{name}: false 'reduced' verdicts, no effect", null["reduced"], 0.025),
        _row(f"{name}: false 'reduced'/'increased', no effect", null["changed"], 0.05),
        _row(f"{name}: false 'reduced'/'increased', trends diverge", drift["changed"], 0.05),
        _row(f"{name}: 'reduced' verdicts (power), planted effect", effect["reduced"], 1.0),
        _row(f"{name}: wall time", time.perf_counter() - started, 60.0, "s"),
    ]


def _one_blas_thread() -> None:
    """Small fits in two processes: threaded BLAS would only fight over the two cores."""
    threadpool_limits(limits=1, user_api="blas")


def _row(target: str, ours: float, baseline: float, unit: str = "share") -> dict:
    return row(target, ours, baseline, unit)


if __name__ == "__main__":
    for row in run():
        print(row)
