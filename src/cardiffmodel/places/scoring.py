"""Scoring candidate places against a text's matching words.

Each candidate gets ``recall`` (how much of its name the text holds) and ``coverage`` (how
much of the text its name, its street, its postcode and its kind explain); ``raw`` is their
product and ranks candidates. Word weights come from ``index.PlaceIndex``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.index import TYPE_WORDS, Name, PlaceIndex
from cardiffmodel.places.normalise import GENERIC, STREET_TYPES

# Words naming a kind of venue, and whether a venue is of that kind.
KIND_WORDS: dict[str, Callable[[Place], bool]] = {
    **dict.fromkeys(("pub", "bar", "club", "nightclub", "inn"), lambda p: p.licensed),
    **dict.fromkeys(("school", "college"), lambda p: p.category.startswith("School")),
    "hotel": lambda p: p.category.startswith("Hotel"),
    **dict.fromkeys(("shop", "store"), lambda p: p.category.startswith("Retailers")),
    **dict.fromkeys(("cafe", "restaurant"), lambda p: p.category.startswith("Restaurant")),
    "takeaway": lambda p: p.category.startswith("Takeaway"),
}
# Type words ("pub", "inn", "hotel") a venue of another kind explains only in part: a pub
# filed by the FSA as a restaurant is still called a pub, a takeaway is not.
TYPE_CREDIT = 0.5
OTHER_KINDS = ("Takeaway", "Retailers", "School", "Hospitals", "Mobile", "Manufacturers",
               "Distributors", "Farmers", "Importers", "Caring")  # fmt: skip
MIN_CHAR_SIMILARITY = 0.85  # a name read letter by letter ("mardy nin" for Mardy Inn)
MIN_CHAR_LENGTH = 6
PRUNE_SHARE = 0.5  # candidates whose bound is below this share of the best are not scored
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
        if token not in index.df and token in index.address_words:
            hits.setdefault(token, []).append((1.0, pos))  # a district no name holds
    for found in hits.values():
        found.sort(key=lambda sp: (-sp[0], sp[1]))
    at = {(word, pos): sim for word, found in hits.items() for sim, pos in found}
    total = sum(weights)
    if postcode not in index.postcodes:
        postcode = ""  # a postcode no venue has (a home's?) is neither evidence nor noise
    total += POSTCODE_WEIGHT if postcode else 0.0
    kinds = [
        (pos, token)
        for pos, token in enumerate(tokens)
        if token in KIND_WORDS or token in TYPE_WORDS
    ]
    chars = _Chars(tokens)
    ids = index.streets_in(tokens)  # "station road", "park place": common words only
    if not generic_only:
        ids |= index.candidates(hits)
    # Score candidates in order of an upper bound of their raw score, and stop where the
    # bound falls below half the best found: those left could neither tie with the best
    # nor change what is decided, and skipping them is most of the speed.
    positions: dict[str, set[int]] = {w: {pos for _, pos in found} for w, found in hits.items()}
    kind_weight = sum(weights[pos] for pos, _ in kinds)
    extra = kind_weight + (POSTCODE_WEIGHT if postcode else 0.0)
    exact = {pos for found in hits.values() for sim, pos in found if sim >= 1.0}
    loose = len(exact) < len(tokens)  # a word mistyped: a name may be read letter by letter
    bounds = sorted(
        ((_bound(index, i, positions, weights, total, extra, loose), i) for i in ids),
        reverse=True,
    )
    scored: list[Candidate] = []
    best = 0.0
    for bound, i in bounds:
        if bound < best * PRUNE_SHARE:
            break
        c = _score_one(index, i, kinds, hits, at, weights, total, postcode, chars)
        if c is not None:
            scored.append(c)
            best = max(best, c.raw)
    scored.sort(key=lambda c: (-c.raw, -index.places[c.place].crimes, c.place))
    return scored


def _bound(
    index: PlaceIndex,
    i: int,
    positions: dict[str, set[int]],
    weights: list[float],
    total: float,
    extra: float,
    loose: bool,
) -> float:
    """An upper bound of a candidate's raw score: the best share of a name's weight among
    the text's words, times the share of the text any of its words could explain."""
    reach = index.reach[i]
    covered: set[int] = set()
    for word, found in positions.items():
        if word in reach:
            covered |= found
    venue = index.places[i].kind == "venue"
    if not covered:
        return 1.0 if venue else 0.0
    coverage = min(1.0, (sum(weights[p] for p in covered) + extra) / total) if total else 0.0
    if loose and venue:
        return coverage
    recall = max(
        (sum(w for t, w in name.pairs if t in positions) / name.total if name.total else 0.0)
        for name in index.names[i]
    )
    return min(1.0, recall) * coverage


class _Chars:
    """A text's matching words run together, for reading a name letter by letter when the
    spaces are in the wrong place ("elysiu mbar", "mardy nin")."""

    def __init__(self, tokens: tuple[str, ...]):
        self.text = "".join(tokens)
        self.owner: list[int] = [pos for pos, t in enumerate(tokens) for _ in t]
        self.length = [len(t) for t in tokens]

    def overlap(self, name: Name) -> tuple[float, dict[int, float]]:
        """Similarity of the name's letters to the best-matching stretch of the text's, and
        the text positions that stretch covers."""
        letters = "".join(name.tokens)
        if len(letters) < MIN_CHAR_LENGTH or len(letters) > len(self.text) + 1:
            return 0.0, {}  # a name longer than the text is not read in it
        found = fuzz.partial_ratio_alignment(letters, self.text)
        if found is None or found.score < 100 * MIN_CHAR_SIMILARITY:
            return 0.0, {}
        similarity = found.score / 100
        overlap: dict[int, int] = {}
        for k in range(found.dest_start, found.dest_end):
            overlap[self.owner[k]] = overlap.get(self.owner[k], 0) + 1
        # a word the stretch barely touches ("q" of "queen") is not read as the name's
        covered = [pos for pos, n in overlap.items() if n >= 0.6 * self.length[pos]]
        return similarity, dict.fromkeys(covered, similarity)


def _score_one(
    index: PlaceIndex,
    i: int,
    kinds: list[tuple[int, str]],
    hits: dict[str, list[tuple[float, int]]],
    at: dict[tuple[str, int], float],
    weights: list[float],
    total: float,
    postcode: str,
    chars: _Chars,
) -> Candidate | None:
    """How much of place ``i``'s name the text holds, and how much of the text the
    place's name, street, address words (district, town), postcode and kind explain.

    A street's name must appear as a run of words in order and with its type word
    ("Bishopston" alone names no street, and "Ty Coch / Station Road" not Ty-Coch Road);
    a venue's words may come in any order (at a small cost) and with gaps, or be read
    letter by letter when the typist's spaces fell in the wrong place.
    """
    place = index.places[i]
    is_street = place.kind == "street"
    best: tuple[float, dict[int, float], tuple[str, ...], float] | None = None
    for name in index.names[i]:
        if is_street:
            recall, used = _run_overlap(name, hits, at, {})
            if recall < MIN_STREET_RECALL or not _type_given(name, at, used):
                continue
        else:
            recall, used = _overlap(name, hits)
            if recall < 0.9:
                letters, covered = chars.overlap(name)
                if letters > recall and len(covered) >= len(used):
                    recall, used = letters, covered
        # the way of writing the name that explains most of the text at its recall
        # ("Ye Olde Bull Inn" over "Bull" for "ye olde bull")
        merit = recall * sum(weights[p] for p in used)
        if best is None or merit > best[3]:
            best = (recall, used, name.tokens, merit)
    if best is None or not best[1]:
        return None
    recall, used, name_tokens, _ = best
    credit = dict.fromkeys(used, 1.0)
    support = False
    street = index.street_names[i]
    if street is not None:
        street_recall, street_used = _run_overlap(street, hits, at, used)
        if street_recall >= 0.75:
            support = True
            used = {**used, **street_used}
            credit.update(dict.fromkeys(street_used, 1.0))
    context = index.context[i]
    if context:
        found = _context_words(context, hits, used, chars)
        support = support or bool(found)
        used = {**used, **dict.fromkeys(found, 1.0)}
        credit.update(dict.fromkeys(found, 1.0))
    postcode_weight = 0.0
    if postcode and place.postcode == postcode:
        support = True
        postcode_weight = POSTCODE_WEIGHT
    if kinds and place.kind == "venue":
        for pos, share in _kind_words(place, kinds, used, index.name_words[i]).items():
            used[pos] = 1.0
            credit[pos] = share
    used_weight = sum(weights[p] * credit[p] for p in used) + postcode_weight
    coverage = used_weight / total if total else 0.0
    similarity = (
        (sum(weights[p] * credit[p] * s for p, s in used.items()) + postcode_weight) / used_weight
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


def _context_words(
    context: frozenset[str],
    hits: dict[str, list[tuple[float, int]]],
    used: Mapping[int, float],
    chars: _Chars,
) -> dict[int, str]:
    """Text positions (not yet used) whose word, as typed or corrected, is one of a
    venue's address words, with that word."""
    found: dict[int, str] = {}
    for word, places in hits.items():
        if word in context:
            for _, pos in places:
                if pos not in used:
                    found[pos] = word
    if all(w in GENERIC or w in STREET_TYPES for w in found.values()):
        return {}  # "road" alone does not say which road
    return found


def _kind_words(
    place: Place,
    kinds: list[tuple[int, str]],
    used: Mapping[int, float],
    own: frozenset[str],
) -> dict[int, float]:
    """Text words saying what kind of place it is ("pub", "school") that this venue is:
    they are explained by it ("Kings Castle pub"); a venue whose kind is not known to be
    another explains them in part (the FSA files many pubs as restaurants or hotels)."""
    found = {}
    for pos, token in kinds:
        if pos in used:
            continue
        fits = KIND_WORDS.get(token)
        if token in own or (fits is not None and fits(place)):
            found[pos] = 1.0
        elif not place.category.startswith(OTHER_KINDS):
            found[pos] = TYPE_CREDIT
    return found


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
