"""Scoring candidate places against a text's matching words.

Each candidate gets ``recall`` (how much of its name the text holds) and ``coverage`` (how
much of the text its name, its street, its postcode and its kind explain); ``raw`` is their
product and ranks candidates. Word weights come from ``index.PlaceIndex``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.index import Name, PlaceIndex
from cardiffmodel.places.normalise import STREET_TYPES

# Words naming a kind of venue, and whether a venue is of that kind.
KIND_WORDS: dict[str, Callable[[Place], bool]] = {
    **dict.fromkeys(("pub", "bar", "club", "nightclub", "inn"), lambda p: p.licensed),
    **dict.fromkeys(("school", "college"), lambda p: p.category.startswith("School")),
    "hotel": lambda p: p.category.startswith("Hotel"),
    **dict.fromkeys(("shop", "store"), lambda p: p.category.startswith("Retailers")),
    **dict.fromkeys(("cafe", "restaurant"), lambda p: p.category.startswith("Restaurant")),
    "takeaway": lambda p: p.category.startswith("Takeaway"),
}
MIN_STREET_RECALL = 0.6  # "Cowbridge Rd" names Cowbridge Road East; "Tyla" is not Tyla Gwyn
POSTCODE_WEIGHT = 5.0  # a full postcode a venue has: about one uncommon word
OUT_OF_ORDER = 0.9  # recall kept by a name whose words the text gives in another order


@dataclass(frozen=True)
class Candidate:
    """One place scored against one text; ``used`` holds the text positions it explains."""

    place: int
    raw: float
    recall: float
    coverage: float
    similarity: float
    used_weight: float
    unexplained: float
    street_support: bool
    name: tuple[str, ...]
    used: frozenset[int]


def score_candidates(
    index: PlaceIndex, tokens: tuple[str, ...], postcode: str, generic_only: bool
) -> list[Candidate]:
    """Score every candidate place of the text's matching words, best first.

    ``generic_only`` texts ("station road") reach only streets named by a run of their
    words; others reach, besides, every place holding one of their rarer words.
    """
    hits: dict[str, list[tuple[float, int]]] = {}
    weights = []
    for pos, token in enumerate(tokens):
        corrections = index.corrections(token)
        weights.append(index.query_weight(corrections[0][0] if corrections else token))
        for word, sim in corrections:
            hits.setdefault(word, []).append((sim, pos))
    for found in hits.values():
        found.sort(key=lambda sp: (-sp[0], sp[1]))
    at = {(word, pos): sim for word, found in hits.items() for sim, pos in found}
    total = sum(weights)
    if postcode not in index.postcodes:
        postcode = ""  # a postcode no venue has (a home's?) is neither evidence nor noise
    total += POSTCODE_WEIGHT if postcode else 0.0
    kinds = [(pos, token) for pos, token in enumerate(tokens) if token in KIND_WORDS]
    ids = index.streets_in(tokens)  # "station road", "park place": common words only
    if not generic_only:
        ids |= index.candidates(hits)
    scored = [
        c
        for i in ids
        if (c := _score_one(index, i, kinds, hits, at, weights, total, postcode)) is not None
    ]
    scored.sort(key=lambda c: (-c.raw, -index.places[c.place].crimes, c.place))
    return scored


def _score_one(
    index: PlaceIndex,
    i: int,
    kinds: list[tuple[int, str]],
    hits: dict[str, list[tuple[float, int]]],
    at: dict[tuple[str, int], float],
    weights: list[float],
    total: float,
    postcode: str,
) -> Candidate | None:
    """How much of place ``i``'s name the text holds, and how much of the text the
    place's name, street and postcode explain.

    A street's name must appear as a run of words in order and with its type word
    ("Bishopston" alone names no street, and "Ty Coch / Station Road" not Ty-Coch Road);
    a venue's words may come in any order (at a small cost) and with gaps.
    """
    place = index.places[i]
    is_street = place.kind == "street"
    best: tuple[float, dict[int, float], tuple[str, ...]] | None = None
    for name in index.names[i]:
        if is_street:
            recall, used = _run_overlap(name, hits, at, {})
            if recall < MIN_STREET_RECALL or not _type_given(name, at, used):
                continue
        else:
            recall, used = _overlap(name, hits)
        if best is None or recall > best[0]:
            best = (recall, used, name.tokens)
    if best is None or not best[1]:
        return None
    recall, used, name_tokens = best
    support = False
    street = index.street_names[i]
    if street is not None:
        street_recall, street_used = _run_overlap(street, hits, at, used)
        if street_recall >= 0.75:
            support = True
            used = {**used, **street_used}
    postcode_weight = 0.0
    if postcode and place.postcode == postcode:
        support = True
        postcode_weight = POSTCODE_WEIGHT
    if kinds and place.kind == "venue":
        used = {**used, **_kind_words(place, kinds, used)}
    used_weight = sum(weights[p] for p in used) + postcode_weight
    coverage = used_weight / total if total else 0.0
    similarity = (
        (sum(weights[p] * s for p, s in used.items()) + postcode_weight) / used_weight
        if used_weight
        else 0.0
    )
    return Candidate(
        i,
        recall * coverage,
        recall,
        coverage,
        similarity,
        used_weight,
        total - used_weight,
        support,
        name_tokens,
        frozenset(used),
    )


def _kind_words(
    place: Place, kinds: list[tuple[int, str]], used: Mapping[int, float]
) -> dict[int, float]:
    """Text words saying what kind of place it is ("pub", "school") that this venue is:
    they are explained by it ("Kings Castle pub")."""
    return {pos: 1.0 for pos, token in kinds if pos not in used and KIND_WORDS[token](place)}


def _overlap(
    name: Name, hits: dict[str, list[tuple[float, int]]]
) -> tuple[float, dict[int, float]]:
    """Weighted share of a name's words found in the text (each text word used once; less
    when out of order), with the text positions used and their similarity."""
    matched = 0.0
    used: dict[int, float] = {}
    last = -1
    in_order = True
    for token, weight in name.pairs:
        found = hits.get(token)
        if found is None:
            continue
        # keep the name's order where the text allows ("Waterloo Gardens Teahouse on
        # Waterloo Gardens" uses the first "Waterloo Gardens" for the name): the best
        # free word after the last one used, else the best free word
        choice = None
        for sim, pos in found:
            if pos in used:
                continue
            if pos > last:
                choice = (sim, pos)
                break
            if choice is None:
                choice = (sim, pos)
        if choice is None:
            continue
        sim, pos = choice
        in_order = in_order and pos > last
        matched += weight * sim
        used[pos] = sim
        last = pos
    recall = matched / name.total if name.total else 0.0
    if not in_order:
        recall *= OUT_OF_ORDER  # "Pant Glas" is not "Glas-y-Pant"
    return recall, used


def _run_overlap(
    name: Name,
    hits: dict[str, list[tuple[float, int]]],
    at: dict[tuple[str, int], float],
    taken: Mapping[int, float],
) -> tuple[float, dict[int, float]]:
    """Like ``_overlap`` but only over runs of consecutive text words in the name's order
    (the name may overhang either end of the text: "Cowbridge Rd" for Cowbridge Road East).
    Only runs that align some word of the name with the text are tried."""
    best, best_used = 0.0, {}
    starts = {pos - k for k, (token, _) in enumerate(name.pairs) for _, pos in hits.get(token, ())}
    for start in starts:
        matched = 0.0
        used: dict[int, float] = {}
        for k, (token, weight) in enumerate(name.pairs):
            pos = start + k
            sim = at.get((token, pos)) if pos not in taken else None
            if sim:
                matched += weight * sim
                used[pos] = sim
        if matched > best:
            best, best_used = matched, used
    return (best / name.total if name.total else 0.0), best_used


def _type_given(name: Name, at: dict[tuple[str, int], float], used: Mapping[int, float]) -> bool:
    """Whether the text gives a street's type word ("Road", or "Rd") where its name has one."""
    types = {t for t in name.tokens if t in STREET_TYPES}
    return not types or any((t, pos) in at for t in types for pos in used)
