"""``make bench``: run every benchmark and print our figure, the baseline's and the ratio."""

from __future__ import annotations

import importlib
import sys
import time

MODULES = (
    "benchmarks.places_bench",
    "benchmarks.places_heldout_bench",
    "benchmarks.forecast_bench",
    "benchmarks.rises_bench",
    "benchmarks.scale_bench",
    "benchmarks.gap_bench",
    "benchmarks.report_bench",
    "benchmarks.web_bench",
    "benchmarks.evaluation_bench",
    "benchmarks.ingest_bench",
    "benchmarks.scrub_bench",
    "benchmarks.privacy_bench",
)


def main(names: list[str]) -> int:
    selected = [m for m in MODULES if not names or m.split(".")[-1] in names]
    print(f"{'target':<78} {'ours':>12} {'baseline':>12} {'ratio':>8}  unit")
    for name in selected:
        started = time.perf_counter()
        for row in importlib.import_module(name).run():
            print(
                f"{row['target']:<78} {row['ours']:>12.4g} {row['baseline']:>12.4g} "
                f"{row['ratio']:>8.3g}  {row['unit']}"
            )
        print(f"  ({name} took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
