"""Identifier scrubbing: recall per kind, over-redaction and speed on a held-out set.

The set (``privacy_eval/rows.jsonl``, see its README) holds 2,000+ ED location texts as
reception staff type them, written from hand-made templates and lists, independently of
the scrubber's patterns, with every planted identifier (NHS number, phone, e-mail, full
postcode, date of birth, name, house number of a home) and every must-keep word (venues,
streets, landmarks, counts, times, bus routes, location types) annotated. It is held out:
not for tuning the scrubber's patterns.

Ours is the project's public scrubber, ``cardiffmodel.ingest.privacy.scrub_column``. The
baseline is a named reference written here: **regex-only, NHS 10-digit + UK postcode +
e-mail** (three plain regular expressions, the first thing one would write), so a ratio
says how much the scrubber adds over it.

Scoring (``privacy_eval.generate`` holds the helpers, so the set's own checks agree):

* recall per kind: share of planted values no longer present in the scrubbed text. A value
  is present when it survives after folding case and white space; an NHS number or phone
  when any 7 consecutive digits of it survive in one digit run (reading through spaces,
  dots, dashes, slashes and brackets); a postcode in any spacing, case or hyphenation (its
  sector alone, "CF10 1", may stay); a name or house number as a whole word. A strict
  name row also counts a name leaked when any word of it (titles and "ap"/"ferch" aside)
  survives.
* over-redaction: share of must-keep words damaged, i.e. found verbatim (case-sensitive,
  as whole words) fewer times in the output than in the input.
* speed: a million rows made by replicating the set (ED texts repeat), and a million
  distinct texts extrapolated from the time per distinct text.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from benchmarks.privacy_eval.generate import KINDS, bounded, leaked, name_parts, squash
from cardiffmodel.ingest.privacy import scrub_column

ROWS = Path(__file__).resolve().parent / "privacy_eval" / "rows.jsonl"
STREAM = 1_000_000
REPEATS = 3
TARGETS = {
    "nhs_number": 0.99,
    "phone": 0.99,
    "email": 0.99,
    "postcode": 0.99,
    "date_of_birth": 0.99,
    "name": 0.95,
}
MAX_DAMAGED = 0.02
BASELINE_NAME = "regex-only: NHS 10-digit + UK postcode + e-mail"

# The baseline: a plain reference a developer would write first.
_BASELINE_PATTERNS = (
    re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"),  # NHS number, 3-3-4 or 10 digits
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.IGNORECASE),  # UK postcode
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
)


def baseline_scrub(text: str) -> str:
    for pattern in _BASELINE_PATTERNS:
        text = pattern.sub("[REMOVED]", text)
    return text


def baseline_column(texts: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """The baseline with the same shape as ``scrub_column`` (once per distinct text)."""
    codes, uniques = pd.factorize(texts)
    cleaned = pd.Series([baseline_scrub(str(t)) for t in uniques], dtype=object)
    return pd.Series(cleaned.to_numpy()[codes], index=texts.index, dtype=object), {}


def load_rows(path: Path = ROWS) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(rows: list[dict], outputs: list[str | None]) -> dict[str, float | int]:
    """Recall per kind, strict name recall and over-redaction for one scrubber's outputs."""
    planted = dict.fromkeys(KINDS, 0)
    leaks = dict.fromkeys(KINDS, 0)
    strict_name_leaks = 0
    keep_total = keep_damaged = 0
    keep_rows = keep_rows_damaged = 0
    for row, out in zip(rows, outputs, strict=True):
        out = out or ""
        for ident in row["identifiers"]:
            kind, value = ident["kind"], ident["value"]
            planted[kind] += 1
            leaks[kind] += leaked(kind, value, out)
            if kind == "name":
                strict_name_leaks += any(
                    bounded(squash(out), squash(part), case=False) for part in name_parts(value)
                )
        damaged = 0
        for word in row["keep"]:
            keep_total += 1
            if len(bounded(out, word)) < len(bounded(row["text"], word)):
                damaged += 1
        keep_damaged += damaged
        if not row["identifiers"]:
            keep_rows += 1
            keep_rows_damaged += damaged > 0
    result: dict[str, float | int] = {}
    for kind in KINDS:
        result[f"recall_{kind}"] = 1 - leaks[kind] / planted[kind] if planted[kind] else 1.0
        result[f"n_{kind}"] = planted[kind]
        result[f"leaked_{kind}"] = leaks[kind]
    result["recall_name_strict"] = 1 - strict_name_leaks / planted["name"]
    result["leaked_name_strict"] = strict_name_leaks
    result["keep_words"] = keep_total
    result["keep_damaged"] = keep_damaged
    result["damaged_share"] = keep_damaged / keep_total
    result["keep_rows"] = keep_rows
    result["keep_rows_damaged_share"] = keep_rows_damaged / keep_rows
    return result


def _timed(column: Callable, texts: pd.Series) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        column(texts)
        best = min(best, time.perf_counter() - start)
    return best


def _ratio(a: float, b: float) -> float:
    if b == 0:
        return float("inf") if a > 0 else float("nan")
    return round(a / b, 3)


def run() -> list[dict]:
    """Measure and return the rows {target, ours, baseline, ratio, unit}."""
    rows = load_rows()
    texts = pd.Series([row["text"] for row in rows], dtype=object)
    ours_out, removed = scrub_column(texts)
    base_out, _ = baseline_column(texts)
    ours = score(rows, list(ours_out))
    base = score(rows, list(base_out))

    table = []
    for kind in KINDS:
        target = TARGETS.get(kind)
        goal = f">= {target:g}" if target else "no target set"
        table.append(
            {
                "target": f"recall, {kind} ({goal})",
                "ours": round(ours[f"recall_{kind}"], 4),
                "baseline": round(base[f"recall_{kind}"], 4),
                "ratio": _ratio(ours[f"recall_{kind}"], base[f"recall_{kind}"]),
                "unit": f"share of {ours[f'n_{kind}']} planted removed; ours leaked "
                f"{ours[f'leaked_{kind}']}; baseline {BASELINE_NAME}",
            }
        )
    table.append(
        {
            "target": "recall, name strict: no word of the name left (>= 0.95)",
            "ours": round(ours["recall_name_strict"], 4),
            "baseline": round(base["recall_name_strict"], 4),
            "ratio": _ratio(ours["recall_name_strict"], base["recall_name_strict"]),
            "unit": f"share of {ours['n_name']} names; ours leaked a word of "
            f"{ours['leaked_name_strict']}",
        }
    )
    table.append(
        {
            "target": f"must-keep words damaged (<= {MAX_DAMAGED:.0%})",
            "ours": round(ours["damaged_share"], 4),
            "baseline": round(base["damaged_share"], 4),
            "ratio": _ratio(ours["damaged_share"], base["damaged_share"]),
            "unit": f"share of {ours['keep_words']} must-keep words not left verbatim; ours "
            f"damaged {ours['keep_damaged']}",
        }
    )
    table.append(
        {
            "target": "must-keep-only texts with any word damaged",
            "ours": round(ours["keep_rows_damaged_share"], 4),
            "baseline": round(base["keep_rows_damaged_share"], 4),
            "ratio": _ratio(ours["keep_rows_damaged_share"], base["keep_rows_damaged_share"]),
            "unit": f"share of the {ours['keep_rows']} texts that hold no identifier",
        }
    )

    stream = pd.Series(
        (list(texts) * (STREAM // len(texts) + 1))[:STREAM], dtype=object
    )  # ED texts repeat: both sides scrub each distinct text once
    ours_stream = _timed(scrub_column, stream)
    base_stream = _timed(baseline_column, stream)
    table.append(
        {
            "target": f"{STREAM:,} rows (the set replicated), scrub_column",
            "ours": round(ours_stream, 2),
            "baseline": round(base_stream, 2),
            "ratio": _ratio(base_stream, ours_stream),
            "unit": f"seconds, best of {REPEATS}; {len(texts):,} distinct texts; ratio is "
            "baseline / ours",
        }
    )
    ours_distinct = _timed(scrub_column, texts) / len(texts)
    base_distinct = _timed(baseline_column, texts) / len(texts)
    table.append(
        {
            "target": f"{STREAM:,} distinct texts (extrapolated per text)",
            "ours": round(ours_distinct * STREAM, 1),
            "baseline": round(base_distinct * STREAM, 1),
            "ratio": _ratio(base_distinct, ours_distinct),
            "unit": f"seconds; ours {ours_distinct * 1e6:.1f} us per distinct text; counts "
            f"reported by scrub_column: {sum(removed.values())} over {len(removed)} kinds",
        }
    )
    return table


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['target']:<62} ours {row['ours']!s:>9}  baseline {row['baseline']!s:>9}  "
            f"ratio {row['ratio']!s:>7}  {row['unit']}"
        )
