"""Benchmarks run by ``make bench``: each module's ``run()`` returns rows of
{target, ours, baseline, ratio, unit}, measured side by side in the same run."""


def row(target: str, ours: float, baseline: float, unit: str) -> dict:
    """One printed line: our figure, the baseline's and ours / baseline."""
    return {
        "target": target,
        "ours": round(ours, 4),
        "baseline": round(baseline, 4),
        "ratio": round(ours / baseline, 3) if baseline else float("nan"),
        "unit": unit,
    }
