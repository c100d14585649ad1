"""Fit the matcher's confidence model and threshold; reproduces ``matcher.COEFFICIENTS``.

Procedure (run ``python -m cardiffmodel.places.calibrate`` to repeat it):

1. Build the gazetteer from the real open data (FSA venues, police.uk streets, Cardiff
   box); hold out ``HELD_OUT_SHARE`` of venues with ``CALIBRATION_SEED``.
2. Generate ``N_TEXTS`` labelled messy texts (``messy.labelled_texts``) from the kept and
   held-out places, resolve each with the attended site set for half of them, and keep
   every text the matcher would place if ``min_score`` were 0.
3. Label each kept text 1 when one of the places its best score could be (its group) is
   right: the true place, an accepted street, or any place within ``RIGHT_WITHIN_M``.
4. Fit a ridge-penalised logistic regression of that label on ``matcher.FEATURES`` by
   iteratively reweighted least squares.
5. Score = P(group right) x prior share of the chosen place; ``min_score`` is the lowest
   score at which precision (chosen place right) over all texts scoring at least that
   stays >= ``TARGET_PRECISION``.

The benchmark then measures precision on a different seed and different held-out venues.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardiffmodel.places.gazetteer import Place, build_gazetteer
from cardiffmodel.places.matcher import FEATURES, Diagnosis, Matcher
from cardiffmodel.places.messy import UHW_SITE, LabelledText, labelled_texts, split_gazetteer

CALIBRATION_SEED = 20201113
HELD_OUT_SHARE = 0.1
N_TEXTS = 30_000
RIGHT_WITHIN_M = 100.0
TARGET_PRECISION = 0.985  # above the 0.98 promised, to leave room for sampling error
RIDGE = 1.0
CARDIFF_BBOX = (-3.35, 51.38, -3.05, 51.57)


@dataclass(frozen=True)
class Calibration:
    """Fitted coefficients (order of ``matcher.FEATURES``), threshold and fit summary."""

    coefficients: tuple[float, ...]
    min_score: float
    precision: float
    placed_share: float
    n_rows: int


def cardiff_gazetteer(data: Path) -> list[Place]:
    """The gazetteer of the shared open data folder (``/work/shared/data`` layout)."""
    return build_gazetteer(
        [data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml"],
        sorted((data / "police_uk").glob("*.csv")),
        CARDIFF_BBOX,
        address_streets=True,
    )


def _metres(lon: float, lat: float, place: Place) -> float:
    mean_lat = math.radians((lat + place.lat) / 2)
    return math.hypot((lon - place.lon) * math.cos(mean_lat), lat - place.lat) * 111_195.0


def is_right(place_id: str | None, item: LabelledText, by_id: dict[str, Place]) -> bool:
    """Whether a resolved place is right for a labelled text: the true place, an accepted
    one, or any place within ``RIGHT_WITHIN_M`` of the true point."""
    if place_id is None:
        return False
    if place_id == item.truth or place_id in item.accept:
        return True
    if item.lon is None or item.lat is None:
        return False
    return _metres(item.lon, item.lat, by_id[place_id]) <= RIGHT_WITHIN_M


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Ridge logistic regression by IRLS; column 0 is the (unpenalised) intercept."""
    beta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        w = np.clip(p * (1 - p), 1e-9, None)
        gradient = x.T @ (y - p) - penalty * beta
        hessian = (x.T * w) @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def threshold_for(scores: np.ndarray, right: np.ndarray, target: float) -> tuple[float, float]:
    """Lowest score whose at-or-above set has precision >= target, and that precision."""
    order = np.argsort(-scores, kind="stable")
    cumulative = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(cumulative >= target)[0]
    if len(ok) == 0:
        return 1.0, float("nan")
    last = ok[-1]
    return float(scores[order][last]), float(cumulative[last])


def diagnose_all(
    matcher: Matcher, items: Sequence[LabelledText], with_site_every: int = 2
) -> list[Diagnosis]:
    """Resolve every text, giving every ``with_site_every``-th one the hospital site."""
    return [
        matcher.diagnose(item.text, UHW_SITE if k % with_site_every == 0 else None)
        for k, item in enumerate(items)
    ]


def fit(places: Sequence[Place], n: int = N_TEXTS, seed: int = CALIBRATION_SEED) -> Calibration:
    """Run the procedure in the module docstring."""
    kept, held_out = split_gazetteer(places, HELD_OUT_SHARE, seed)
    items = labelled_texts(kept, held_out, n, seed + 1)
    matcher = Matcher(kept, min_score=0.0)
    by_id = {p.place_id: p for p in places}
    rows, group_right, chosen_right, shares = [], [], [], []
    for item, found in zip(items, diagnose_all(matcher, items), strict=True):
        if found.match.status != "matched" or found.features is None:
            continue
        rows.append(found.features)
        group_right.append(any(is_right(pid, item, by_id) for pid in found.group))
        chosen_right.append(is_right(found.candidate_id, item, by_id))
        shares.append(found.share)
    x = np.array(rows)
    beta = fit_logistic(x, np.array(group_right, dtype=float))
    scores = np.array(shares) / (1.0 + np.exp(-(x @ beta)))
    min_score, precision = threshold_for(
        scores, np.array(chosen_right, dtype=float), TARGET_PRECISION
    )
    return Calibration(
        tuple(round(float(b), 3) for b in beta),
        round(min_score, 3),
        precision,
        float(np.mean(scores >= min_score)),
        len(rows),
    )


def main() -> None:
    """Print the fitted constants to paste into matcher.py. The data folder is the first
    argument, else ``$CARDIFF_DATA``, else ``../shared/data`` beside the project."""
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    data = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARDIFF_DATA", default))
    result = fit(cardiff_gazetteer(data))
    print(
        f"rows={result.n_rows} placed_share={result.placed_share:.3f} "
        f"precision={result.precision:.4f}"
    )
    print("FEATURES =", FEATURES)
    print("COEFFICIENTS =", result.coefficients)
    print("MIN_SCORE =", result.min_score)


if __name__ == "__main__":
    main()
