"""Location matching on held-out, hand-written ED-style texts for cities the matcher was
never tuned on: Newport (venues, streets, landmarks, homes, vague texts) and Swansea
(venues). The texts and their truth are in ``benchmarks/places_eval/`` (see its README);
the matcher's developers must not read them or tune on them.

Each city's gazetteer is built only from that city's open data in ``../shared/data``:
Newport from its FSA XML plus the four Gwent police.uk months (street sources); Swansea
from its FSA XML alone (no street source exists). The attended hospital is given as the
site (Royal Gwent Hospital; Morriston Hospital), as an ED extract would.

A match is right when its point lies within 100 m of the truth. Precision = right matches
/ all matches (a match on a text whose truth is null is wrong); recall = texts naming one
real place matched right / such texts; false matches = matches on home, vague and
ambiguous texts; calibration gap = mean score of the matches minus their precision.

Baseline (named reference): rapidfuzz ``process.extractOne`` with ``fuzz.token_set_ratio``
over every gazetteer name after lower-casing and stripping punctuation, best match kept
when it scores at least 90. Same gazetteer, same texts.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from cardiffmodel.places.gazetteer import build_gazetteer
from cardiffmodel.places.matcher import Matcher

DATA = Path(
    os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)
EVAL = Path(__file__).resolve().parent / "places_eval"
RADIUS_M = 100.0
BBOXES = {"Newport (ward bbox)": (-3.1242, 51.5018, -2.8030, 51.6495)}
BASELINE_CUTOFF = 90.0
CITIES = {
    # city: (corpus, FSA files, police.uk street files, attended ED site (lon, lat))
    "Newport": (
        "newport.jsonl",
        [DATA / "newport" / "fsa_food_hygiene_newport.xml"],
        sorted((DATA / "newport").glob("*-gwent-street.csv")),
        (-2.998165, 51.579806),  # Royal Gwent Hospital (FSA 710275)
    ),
    # Sensitivity: the same Newport sources kept inside the bounds of Newport's wards
    # (W S E N of newport_wards.geojson), as ``cardiff places match --bbox`` would.
    "Newport (ward bbox)": (
        "newport.jsonl",
        [DATA / "newport" / "fsa_food_hygiene_newport.xml"],
        sorted((DATA / "newport").glob("*-gwent-street.csv")),
        (-2.998165, 51.579806),
    ),
    "Swansea": (
        "swansea.jsonl",
        [DATA / "swansea" / "fsa_food_hygiene_swansea.xml"],
        [],
        (-3.935265, 51.684659),  # Morriston Hospital (FSA 805754)
    ),
}


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance; exact enough within a city."""
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2)) * 111_320
    return math.hypot(x, (lat2 - lat1) * 110_540)


def _clean(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("'", "")).strip()


class Baseline:
    """Best token_set_ratio over every gazetteer name; declines below the cutoff."""

    def __init__(self, places) -> None:
        self.places = places
        self.names = [_clean(p.name) for p in places]

    def match(self, text: str) -> tuple[float, float, float] | None:
        best = process.extractOne(_clean(text), self.names, scorer=fuzz.token_set_ratio)
        if best is None or best[1] < BASELINE_CUTOFF:
            return None
        place = self.places[best[2]]
        return place.lon, place.lat, best[1] / 100.0


def _load(corpus: str) -> list[dict]:
    with (EVAL / corpus).open() as f:
        return [json.loads(line) for line in f if line.strip()]


def _outcomes(rows: list[dict], found: list[tuple[float, float, float] | None]) -> list[dict]:
    out = []
    for row, hit in zip(rows, found, strict=True):
        truth = row["truth"]
        right = (
            hit is not None
            and truth is not None
            and metres(hit[0], hit[1], truth["lon"], truth["lat"]) <= RADIUS_M
        )
        out.append(
            {
                "cls": row["class"],
                "kind": row["kind"],
                "named": truth is not None,
                "matched": hit is not None,
                "right": right,
                "score": hit[2] if hit else float("nan"),
            }
        )
    return out


def summarise(outcomes: list[dict]) -> dict[str, float]:
    matched = [o for o in outcomes if o["matched"]]
    named = [o for o in outcomes if o["named"]]
    null = [o for o in outcomes if not o["named"]]
    precision = float(np.mean([o["right"] for o in matched])) if matched else float("nan")
    mean_score = float(np.mean([o["score"] for o in matched])) if matched else float("nan")
    return {
        "n": len(outcomes),
        "matched": len(matched),
        "precision": precision,
        "recall": float(np.mean([o["right"] for o in named])) if named else float("nan"),
        "n_named": len(named),
        "false_null": sum(o["matched"] for o in null),
        "n_null": len(null),
        "mean_score": mean_score,
        "calibration": mean_score - precision,
    }


def evaluate(city: str) -> tuple[dict, dict]:
    """Per-class and overall figures for ours and the baseline on one city."""
    corpus, fsa, streets, site = CITIES[city]
    rows = _load(corpus)
    places = build_gazetteer(fsa_xml=fsa, police_uk_streets=streets, bbox=BBOXES.get(city))
    texts = [r["text"] for r in rows]
    matches = Matcher(places).match_many(texts, [site] * len(texts))
    ours = _outcomes(
        rows,
        [
            (m.lon, m.lat, m.score) if m.place_id is not None and m.lon == m.lon else None
            for m in matches
        ],
    )
    baseline = Baseline(places)
    base = _outcomes(rows, [baseline.match(t) for t in texts])
    results: dict[str, dict] = {"all": {"ours": summarise(ours), "base": summarise(base)}}
    by_class: dict[str, list[int]] = defaultdict(list)
    for k, o in enumerate(ours):
        by_class[o["cls"]].append(k)
        by_class[f"kind:{o['kind']}"].append(k)
    for cls, idx in sorted(by_class.items()):
        results[cls] = {
            "ours": summarise([ours[k] for k in idx]),
            "base": summarise([base[k] for k in idx]),
        }
    misses = [
        {
            "text": r["text"],
            "class": r["class"],
            "truth": (r["truth"] or {}).get("name"),
            "got": m.place_name,
            "score": round(m.score, 3),
            "status": m.status,
            "reason": m.reason,
        }
        for r, m, o in zip(rows, matches, ours, strict=True)
        if (o["matched"] and not o["right"]) or (o["named"] and not o["right"])
    ]
    return results, {"misses": misses, "gazetteer": len(places)}


def _ratio(ours: float, base: float) -> float:
    return round(ours / base, 3) if base and base == base and ours == ours else float("nan")


def _rows_for(city: str, results: dict, info: dict) -> list[dict]:
    a, b = results["all"]["ours"], results["all"]["base"]
    base_note = f"baseline token_set_ratio >= {BASELINE_CUTOFF:g}"
    rows = [
        {
            "target": f"held-out {city}: precision, within {RADIUS_M:g} m (>= 0.98)",
            "ours": round(a["precision"], 4),
            "baseline": round(b["precision"], 4),
            "ratio": _ratio(a["precision"], b["precision"]),
            "unit": f"share of matches right; ours {a['matched']} matches of {a['n']} texts, "
            f"baseline {b['matched']}; {base_note}; gazetteer {info['gazetteer']:,} places",
        },
        {
            "target": f"held-out {city}: recall, texts naming one real place (>= 0.90)",
            "ours": round(a["recall"], 4),
            "baseline": round(b["recall"], 4),
            "ratio": _ratio(a["recall"], b["recall"]),
            "unit": f"share of {a['n_named']} texts placed within {RADIUS_M:g} m of the truth",
        },
        {
            "target": f"held-out {city}: false matches on home/vague/ambiguous texts (0)",
            "ours": a["false_null"],
            "baseline": b["false_null"],
            "ratio": _ratio(a["false_null"], b["false_null"]),
            "unit": f"texts matched of {a['n_null']} whose truth is null",
        },
        {
            "target": f"held-out {city}: calibration gap, mean score - precision (|.| <= 0.02)",
            "ours": round(a["calibration"], 4),
            "baseline": float("nan"),
            "ratio": float("nan"),
            "unit": f"ours {a['mean_score']:.4f} predicted vs {a['precision']:.4f} observed "
            "(baseline scores are not probabilities)",
        },
    ]
    for cls, res in results.items():
        if cls == "all":
            continue
        o, bb = res["ours"], res["base"]
        if o["n_named"]:
            rows.append(
                {
                    "target": f"  {city} {cls}: recall",
                    "ours": round(o["recall"], 4),
                    "baseline": round(bb["recall"], 4),
                    "ratio": _ratio(o["recall"], bb["recall"]),
                    "unit": f"{o['n']} texts; precision ours {o['precision']:.3f} "
                    f"({o['matched']} matched) vs baseline {bb['precision']:.3f} "
                    f"({bb['matched']}); mean score {o['mean_score']:.3f}",
                }
            )
        else:
            rows.append(
                {
                    "target": f"  {city} {cls}: false matches",
                    "ours": o["false_null"],
                    "baseline": bb["false_null"],
                    "ratio": _ratio(o["false_null"], bb["false_null"]),
                    "unit": f"of {o['n']} texts whose truth is null",
                }
            )
    return rows


def run() -> list[dict]:
    """Measure and return the rows {target, ours, baseline, ratio, unit}."""
    rows = []
    for city in CITIES:
        results, info = evaluate(city)
        city_rows = _rows_for(city, results, info)
        rows += city_rows[:4] if city in BBOXES else city_rows  # sensitivity: headline only
    return rows


if __name__ == "__main__":
    import sys

    for city in CITIES:
        results, info = evaluate(city)
        for row in _rows_for(city, results, info):
            print(
                f"{row['target']:<72} ours {row['ours']!s:>7}  baseline {row['baseline']!s:>7}"
                f"  ratio {row['ratio']!s:>6}  {row['unit']}"
            )
        if "--misses" in sys.argv:
            for miss in info["misses"]:
                print("   MISS", json.dumps(miss, ensure_ascii=False))
