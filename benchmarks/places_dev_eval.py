"""Hand-written development set for a city the matcher was not written on (Newport).

``places_dev/newport_dev.csv`` holds reception-style texts written by hand, each with the
place it names (an FSA id, a police.uk street id or a landmark of
``places_dev/newport_landmarks.csv``) and its failure class; the gazetteer is Newport's
FSA XML, Gwent's police.uk street CSVs (inside a Newport box) and the landmarks CSV.
A match is right when it is the named place or within 100 m of it. Reported per class:
texts, placed, right, precision and recall; the ``none`` class counts texts (homes,
vague words) wrongly placed.
"""

from __future__ import annotations

import csv
import math
import os
from collections import defaultdict
from pathlib import Path

from cardiffmodel.places.gazetteer import build_gazetteer
from cardiffmodel.places.matcher import Matcher

HERE = Path(__file__).resolve().parent / "places_dev"
DATA = Path(
    os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)
NEWPORT_BBOX = (-3.08, 51.53, -2.84, 51.63)
RIGHT_WITHIN_M = 100.0


def newport_places():
    """The development gazetteer: Newport FSA, Gwent police.uk streets, the landmarks CSV."""
    newport = DATA / "newport"
    return build_gazetteer(
        [newport / "fsa_food_hygiene_newport.xml"],
        sorted(newport.glob("*-gwent-street.csv")),
        NEWPORT_BBOX,
        [HERE / "newport_landmarks.csv"],
        address_streets=True,
    )


def _metres(a, b) -> float:
    mean_lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * math.cos(mean_lat), a[1] - b[1]) * 111_195.0


def evaluate(matcher: Matcher | None = None, show: bool = False) -> dict[str, dict[str, float]]:
    """Per-class figures on the development set (and ``all`` over classes naming a place)."""
    places = newport_places()
    by_id = {p.place_id: p for p in places}
    matcher = matcher or Matcher(places)
    with open(HERE / "newport_dev.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = matcher.match_many([r["text"] for r in rows])
    tally: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row, m in zip(rows, found, strict=True):
        truth = by_id.get(row["truth"]) if row["truth"] else None
        right = (
            m.place_id is not None
            and truth is not None
            and (
                m.place_id == truth.place_id
                or _metres((m.lon, m.lat), (truth.lon, truth.lat)) <= RIGHT_WITHIN_M
            )
        )
        for key in (row["class"], "all" if row["truth"] else "none_all"):
            t = tally[key]
            t["texts"] += 1
            t["placed"] += m.place_id is not None
            t["right"] += right
            t["score"] += m.score if m.place_id else 0.0
        if show and not right and (row["truth"] or m.place_id):
            print(
                f"{row['id']} {row['class']:<9} {row['text']!r:<40} -> {m.place_name!r} "
                f"{m.score:.2f} [{m.reason}]"
            )
    out = {}
    for key, t in tally.items():
        out[key] = {
            "texts": t["texts"],
            "placed": t["placed"],
            "precision": t["right"] / t["placed"] if t["placed"] else float("nan"),
            "recall": t["right"] / t["texts"],
            "mean_score": t["score"] / t["placed"] if t["placed"] else float("nan"),
        }
    return out


if __name__ == "__main__":
    for key, f in sorted(evaluate(show=True).items()):
        print(
            f"{key:<10} texts {f['texts']:>4.0f} placed {f['placed']:>4.0f} "
            f"precision {f['precision']:.3f} recall {f['recall']:.3f} "
            f"mean score {f['mean_score']:.3f}"
        )
