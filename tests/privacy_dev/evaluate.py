"""Score a scrubber on the development set: recall per identifier kind, damage to places.

An identifier counts as removed when none of it survives: for names and house numbers no
word of it is left (any case, any accents); for the other kinds its letters and digits do
not appear in the cleaned text's letters and digits. A must-keep word counts as damaged
when the cleaned text no longer holds it as a word.

    .venv/bin/python -m tests.privacy_dev.evaluate
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DEV = Path(__file__).with_name("dev.tsv")
WORD_KINDS = ("name", "house_number")


@dataclass(frozen=True)
class Score:
    recall: dict[str, float]
    found: dict[str, int]
    planted: dict[str, int]
    keep_words: int
    damaged_words: int
    damaged_texts: int
    keep_texts: int
    leaks: list[tuple[str, str, str]]  # kind, text, cleaned
    damage: list[tuple[str, str]]  # text, cleaned

    @property
    def over_redaction(self) -> float:
        return self.damaged_words / self.keep_words if self.keep_words else 0.0


def load() -> list[dict[str, str]]:
    with open(DEV, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", _fold(text))


def _words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+(?:['’][a-z]+)?", _fold(text))


def leaked(kind: str, secret: str, cleaned: str) -> bool:
    if kind in WORD_KINDS:
        left = set(_words(cleaned))
        return any(w in left for w in _words(secret))
    return _alnum(secret) in _alnum(cleaned)


def evaluate(scrub_column: Callable[[pd.Series], tuple[pd.Series, dict]]) -> Score:
    rows = load()
    cleaned, _ = scrub_column(pd.Series([r["text"] for r in rows], dtype=object))
    planted: Counter[str] = Counter()
    found: Counter[str] = Counter()
    keep_words = damaged_words = damaged_texts = keep_texts = 0
    leaks, damage = [], []
    for row, out in zip(rows, cleaned.tolist(), strict=True):
        out = out or ""
        if row["secrets"]:
            secrets = row["secrets"].split("|")
            planted[row["kind"]] += len(secrets)
            gone = [s for s in secrets if not leaked(row["kind"], s, out)]
            found[row["kind"]] += len(gone)
            if len(gone) < len(secrets):
                leaks.append((row["kind"], row["text"], out))
        if row["keep"]:
            wanted = Counter(_words(row["keep"]))
            have = Counter(_words(out))
            lost = sum((wanted - have).values())
            keep_words += sum(wanted.values())
            damaged_words += lost
            keep_texts += 1
            if lost:
                damaged_texts += 1
                damage.append((row["text"], out))
    recall = {k: found[k] / planted[k] for k in sorted(planted)}
    return Score(
        recall,
        dict(found),
        dict(planted),
        keep_words,
        damaged_words,
        damaged_texts,
        keep_texts,
        leaks,
        damage,
    )


def report(score: Score) -> str:
    lines = [f"{'kind':<15}{'found':>7}{'planted':>9}{'recall':>9}"]
    for kind, value in score.recall.items():
        lines.append(f"{kind:<15}{score.found[kind]:>7}{score.planted[kind]:>9}{value:>9.3f}")
    lines.append(
        f"must-keep words damaged: {score.damaged_words}/{score.keep_words} "
        f"({score.over_redaction:.1%}); texts damaged {score.damaged_texts}/{score.keep_texts}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    from cardiffmodel.ingest.privacy import scrub_column

    result = evaluate(scrub_column)
    print(report(result))
    if "-v" in sys.argv:
        for kind, text, out in result.leaks:
            print(f"LEAK {kind:<14} {text!r} -> {out!r}")
        for text, out in result.damage:
            print(f"DAMAGE {text!r} -> {out!r}")
