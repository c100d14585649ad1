"""The privacy scrubber on the development set and on a million location texts.

Per identifier kind, the share of planted identifiers removed (recall) on the
hand-written development set in ``tests/privacy_dev`` (828 rows, issue 17's forms, Welsh
text, must-keep FSA and data.police.uk places), and the share of must-keep words
damaged; then the seconds ``scrub_column`` takes over the million location texts of the
ingest benchmark. The baseline is the scrubber before issue 17
(``benchmarks/scrub_baseline.py``). Targets: recall >= 0.99 for each structured kind,
>= 0.95 for names, <= 2% of must-keep words damaged.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import scrub_baseline
from benchmarks.ingest_bench import SEED, _places, _texts
from cardiffmodel.ingest.privacy import lexicon, scrub_column

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from privacy_dev.evaluate import evaluate

ROWS = 1_000_000


def _seconds(function, texts: pd.Series) -> float:
    started = time.perf_counter()
    function(texts)
    return time.perf_counter() - started


def run() -> list[dict]:
    ours, before = evaluate(scrub_column), evaluate(scrub_baseline.scrub_column)
    rows = []
    for kind, recall in ours.recall.items():
        target = 0.95 if kind == "name" else 0.99
        rows.append(
            {
                "target": f"scrub dev set: recall {kind} (target >= {target})",
                "ours": recall,
                "baseline": before.recall[kind],
                "ratio": recall / before.recall[kind] if before.recall[kind] else float("inf"),
                "unit": "share",
            }
        )
    rows.append(
        {
            "target": "scrub dev set: must-keep words damaged (target <= 0.02)",
            "ours": ours.over_redaction,
            "baseline": before.over_redaction,
            "ratio": before.over_redaction / max(ours.over_redaction, 1e-9),
            "unit": "share",
        }
    )
    texts = pd.Series(_texts(np.random.default_rng(SEED), ROWS, _places()))
    lexicon()  # loaded once per process (about a second), not per column
    new, old = _seconds(scrub_column, texts), _seconds(scrub_baseline.scrub_column, texts)
    rows.append(
        {
            "target": "scrub_column on 1M location texts (s)",
            "ours": new,
            "baseline": old,
            "ratio": old / new,
            "unit": "s",
        }
    )
    return rows


if __name__ == "__main__":
    for line in run():
        print(line)
