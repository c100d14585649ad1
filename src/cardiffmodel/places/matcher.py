"""Resolve free-text assault locations to gazetteer places, saying how sure we are.

How a text is resolved, in order:

1. Blank or "unknown" texts, and homes ("pts home", "friend's flat"), are settled by their
   words alone: a home is never placed, both for privacy and because the text rarely says
   which home.
2. The text's matching words (``normalise.key_tokens``) are corrected against the
   gazetteer's words and lead, through an inverted index, to candidate places
   (``index.PlaceIndex``); only candidates are scored, never the whole gazetteer.
3. Each candidate is scored by how much of its name the text holds (``recall``) and how
   much of the text its name, its street and its postcode explain (``coverage``). So "o/s
   Walkabout St Marys St" prefers the Walkabout on St Mary Street to the street itself,
   and "McDonalds Queen St" the branch on Queen Street to the other eight.
4. Candidates scoring within ``TIE`` of the best form a group. A group of different names
   is ambiguous. A group of one name in several places (a chain, or two streets called
   Queen Street) is split by a prior share: crimes recorded on the street (police.uk), and,
   when the attended hospital is given, a gravity model (share proportional to
   1 / (distance + 1 km)^2), the assumption the R ``istv`` package makes implicitly when it
   breaks ties by distance. Neither is fitted: both are stated assumptions.
5. ``score`` = P(the text names a place of the group) x the chosen place's share. The
   first factor is a logistic model of the candidate's features whose coefficients were
   fitted on a labelled synthetic set (see ``calibrate.py``, which reproduces them).
   ``min_score`` is the lowest score that kept precision at or above 0.98 there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.index import Name, PlaceIndex
from cardiffmodel.places.normalise import (
    GENERIC,
    extract_postcode,
    key_tokens,
    normalise,
    type_of_normalised,
)

# Short forms ED staff use for well-known places; targets are names (matched to every
# place with that name) or place ids. Deployments add their own through ``aliases``.
DEFAULT_ALIASES: dict[str, str] = {
    "revs": "Revolution",
    "maccies": "McDonalds",
    "maccy ds": "McDonalds",
    "mcds": "McDonalds",
    "mcdees": "McDonalds",
    "spoons": "Wetherspoons",
    "chippy lane": "Caroline Street",
}

TIE = 0.05  # candidates this close to the best raw score are indistinguishable by text
SAME_SPOT_M = 150.0  # places this close are the same spot for a map (FSA lists units apart)
GRAVITY_OFFSET_M = 1000.0

# Logistic model of P(correct group | features); fitted by ``calibrate.fit`` on
# ``messy.labelled_texts(seed=CALIBRATION_SEED)`` (see calibrate.py for the procedure).
FEATURES = (
    "intercept",
    "recall",
    "coverage",
    "similarity",
    "margin",
    "log_weight",
    "street_support",
    "is_street",
)
COEFFICIENTS = (-9.0, 4.0, 5.0, 6.0, 3.0, 0.5, 1.0, 0.0)
MIN_SCORE = 0.9


@dataclass(frozen=True)
class Match:
    """Where a location text resolved to.

    ``score`` is the probability that ``place_id`` is right (0 when there is no place);
    ``status`` is ``matched``, ``unresolved`` or ``home``; ``method`` is one of
    ``schema.MATCH_METHODS``; ``reason`` says why a text is unresolved (or what was
    doubted when it matched).
    """

    place_id: str | None
    place_name: str | None
    lon: float | None
    lat: float | None
    score: float
    status: str
    method: str
    location_type: str
    reason: str


@dataclass(frozen=True)
class _Candidate:
    place: int
    raw: float
    recall: float
    coverage: float
    similarity: float
    used_weight: float
    street_support: bool
    name: tuple[str, ...]
    used: frozenset[int]


@dataclass(frozen=True)
class Diagnosis:
    """A match with the evidence behind it: the calibration features of the best candidate
    (None when no candidate was scored), its place and its prior share."""

    match: Match
    features: tuple[float, ...] | None
    candidate_id: str | None
    share: float


def _unresolved(location_type: str, reason: str) -> Match:
    return Match(None, None, None, None, 0.0, "unresolved", "unresolved", location_type, reason)


def _plain(match: Match) -> Diagnosis:
    return Diagnosis(match, None, None, 0.0)


class Matcher:
    """Resolves location texts against one gazetteer; build once, call many times.

    ``site`` arguments are the attended hospital as (lon, lat).
    """

    def __init__(
        self,
        places: Sequence[Place],
        aliases: Mapping[str, str] | None = None,
        min_score: float = MIN_SCORE,
        coefficients: Sequence[float] = COEFFICIENTS,
    ):
        if len(coefficients) != len(FEATURES):
            raise ValueError(f"coefficients: expected {len(FEATURES)} values for {FEATURES}")
        merged = dict(DEFAULT_ALIASES)
        merged.update(aliases or {})
        self.index = PlaceIndex(places, merged)
        self.min_score = min_score
        self.coefficients = tuple(coefficients)

    # ---- public ----------------------------------------------------------------------

    def match(self, text: str | None, site: tuple[float, float] | None = None) -> Match:
        """Resolve one text (see the module docstring for how)."""
        return self.diagnose(text, site).match

    def match_many(
        self,
        texts: Sequence[str | None],
        sites: Sequence[tuple[float, float] | None] | None = None,
    ) -> list[Match]:
        """Resolve many texts; each distinct (text, site) pair is resolved once, because ED
        location texts repeat heavily ("pts home", "town", the same few streets)."""
        if sites is not None and len(sites) != len(texts):
            raise ValueError(f"sites has {len(sites)} entries but texts has {len(texts)}")
        pairs = list(zip(texts, sites if sites is not None else [None] * len(texts), strict=True))
        resolved: dict[tuple[str | None, tuple[float, float] | None], Match] = {}
        for pair in pairs:
            if pair not in resolved:
                resolved[pair] = self.diagnose(*pair).match
        return [resolved[pair] for pair in pairs]

    def diagnose(self, text: str | None, site: tuple[float, float] | None = None) -> Diagnosis:
        """Resolve one text and keep the evidence (for calibration and for reviewers)."""
        rest, postcode = extract_postcode(text)
        normalised = normalise(rest)
        kind = type_of_normalised(normalise(text))
        if not normalised:
            return _plain(_unresolved("unknown", "blank: no location given"))
        if kind == "unknown":
            return _plain(_unresolved(kind, f"no location given ('{normalised}')"))
        if kind in ("home", "other_home"):
            whose = "the patient's home" if kind == "home" else "someone else's home"
            reason = f"{whose}: homes are not placed"
            return _plain(Match(None, None, None, None, 0.0, "home", "home", kind, reason))
        tokens = self.index.join_split_words(key_tokens(normalised))
        if not tokens:
            return _plain(_unresolved(kind, f"too vague: no place named in '{normalised}'"))
        generic_only = all(t in GENERIC for t in tokens)
        if generic_only and not self._is_street_name(tokens):
            words = " ".join(tokens)
            return _plain(_unresolved(kind, f"too vague: only general words ('{words}')"))
        ranked = self._score(tokens, postcode, generic_only)
        if not ranked:
            return _plain(_unresolved(kind, f"no gazetteer place resembles '{' '.join(tokens)}'"))
        return self._decide(ranked, normalised, kind, site)

    # ---- scoring ---------------------------------------------------------------------

    def _is_street_name(self, tokens: tuple[str, ...]) -> bool:
        return any(self.index.places[i].kind == "street" for i in self.index.exact.get(tokens, ()))

    def _score(
        self, tokens: tuple[str, ...], postcode: str, generic_only: bool
    ) -> list[_Candidate]:
        """Score every candidate place of the words, best first."""
        index = self.index
        best_sim: dict[str, tuple[float, int]] = {}
        weights = []
        for pos, token in enumerate(tokens):
            corrections = index.corrections(token)
            weights.append(index.weight_of(corrections[0][0] if corrections else token))
            for word, sim in corrections:
                if sim > best_sim.get(word, (0.0, -1))[0]:
                    best_sim[word] = (sim, pos)
        total = sum(weights)
        if generic_only:  # "station road", "park place": only a street of exactly that name
            ids = {i for i in index.exact.get(tokens, ()) if index.places[i].kind == "street"}
        else:
            ids = index.candidates(best_sim)
        scored = [
            c
            for i in ids
            if (c := self._score_one(i, best_sim, weights, total, postcode)) is not None
        ]
        scored.sort(key=lambda c: (-c.raw, -index.places[c.place].crimes, c.place))
        return scored

    def _score_one(
        self,
        i: int,
        best_sim: dict[str, tuple[float, int]],
        weights: list[float],
        total: float,
        postcode: str,
    ) -> _Candidate | None:
        """How much of place ``i``'s name the text holds, and how much of the text the
        place's name, street and postcode explain."""
        index = self.index
        best: tuple[float, dict[int, float], tuple[str, ...]] | None = None
        for name in index.names[i]:
            recall, used = _overlap(name, best_sim, {})
            if best is None or recall > best[0]:
                best = (recall, used, name.tokens)
        if best is None or not best[1]:
            return None
        recall, used, name_tokens = best
        support = False
        street = index.street_names[i]
        if street is not None:
            street_recall, street_used = _overlap(street, best_sim, used)
            if street_recall >= 0.75:
                support = True
                used = {**used, **street_used}
        if postcode and index.places[i].postcode == postcode:
            support = True
        used_weight = sum(weights[p] for p in used)
        coverage = used_weight / total if total else 0.0
        similarity = (
            sum(weights[p] * s for p, s in used.items()) / used_weight if used_weight else 0.0
        )
        return _Candidate(
            i,
            recall * coverage,
            recall,
            coverage,
            similarity,
            used_weight,
            support,
            name_tokens,
            frozenset(used),
        )

    # ---- deciding --------------------------------------------------------------------

    def _decide(
        self,
        ranked: list[_Candidate],
        normalised: str,
        kind: str,
        site: tuple[float, float] | None,
    ) -> Diagnosis:
        index = self.index
        best = ranked[0]
        tied = [c for c in ranked if c.raw >= best.raw - TIE]
        spots = self._spots(tied)
        shares = self._shares(spots, site)
        k = max(range(len(spots)), key=lambda j: (shares[j], -j))
        chosen, share = spots[k][0], shares[k]
        place = index.places[chosen.place]
        rival = next((c.raw for c in ranked[len(tied) :] if self._apart(chosen, c)), 0.0)
        features = self.features(chosen, best.raw - rival)
        score = self._probability(features) * share

        def unresolved(reason: str) -> Diagnosis:
            return Diagnosis(_unresolved(kind, reason), features, place.place_id, share)

        names = {spot[0].name for spot in spots}
        if len(names) > 1:
            shown = sorted({index.places[spot[0].place].name for spot in spots})
            more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
            return unresolved(f"ambiguous between {' and '.join(map(repr, shown[:3]))}{more}")
        conflict = self._conflict(chosen, ranked)
        if conflict:
            return unresolved(conflict)
        if score < self.min_score:
            if len(spots) > 1 and share < 0.9:
                nothing = "" if site else " and no hospital site to choose by"
                return unresolved(
                    f"ambiguous: {len(spots)} places named '{place.name}'{nothing}"
                    f" (best share {share:.2f})"
                )
            return unresolved(
                f"best match '{place.name}' ({place.place_id}) too uncertain: "
                f"score {score:.2f} < {self.min_score:.2f}"
            )
        match = Match(
            place.place_id,
            place.name,
            place.lon,
            place.lat,
            round(score, 4),
            "matched",
            self._method(chosen, normalised, place),
            self._refined_type(kind, place),
            "" if len(spots) == 1 else f"chosen among {len(spots)} places named '{place.name}'",
        )
        return Diagnosis(match, features, place.place_id, share)

    def _apart(self, a: _Candidate, b: _Candidate) -> bool:
        index = self.index
        return index.metres(a.place, index.lon[b.place], index.lat[b.place]) > SAME_SPOT_M

    def _conflict(self, chosen: _Candidate, ranked: list[_Candidate]) -> str:
        """A reason when the text also names, in words the chosen place leaves unexplained,
        one distinct venue standing elsewhere ("Revolution on St Mary Street" when the only
        Revolution is on Castle Street); "" when there is no such conflict."""
        index = self.index
        others = [
            c
            for c in ranked
            if c.recall >= 0.9
            and not (c.used & chosen.used)
            and index.places[c.place].kind == "venue"
            and c.used_weight >= 0.5 * index.max_weight
        ]
        if not others or self._apart(others[0], others[-1]) or len({c.name for c in others}) > 1:
            return ""  # nothing, or a chain name the text does not pin down
        venue = others[0]
        if not self._apart(chosen, venue):
            return ""
        distance = index.metres(chosen.place, index.lon[venue.place], index.lat[venue.place])
        named, found = index.places[venue.place], index.places[chosen.place]
        return (
            f"conflict: text names '{found.name}' and '{named.name}' ({named.place_id}, on "
            f"{named.street or 'an unknown street'}), {distance:.0f} m apart"
        )

    def _spots(self, tied: list[_Candidate]) -> list[list[_Candidate]]:
        """Group tied candidates standing within ``SAME_SPOT_M`` of each other."""
        spots: list[list[_Candidate]] = []
        for c in tied:
            for spot in spots:
                if not self._apart(spot[0], c):
                    spot.append(c)
                    break
            else:
                spots.append([c])
        return spots

    def _shares(
        self, spots: list[list[_Candidate]], site: tuple[float, float] | None
    ) -> list[float]:
        """Prior share of each spot: (crimes + 1), times a gravity term when a site is given."""
        index = self.index
        weights = []
        for spot in spots:
            weight = 1.0 + max(index.places[c.place].crimes for c in spot)
            if site is not None:
                distance = index.metres(spot[0].place, site[0], site[1])
                weight /= (distance + GRAVITY_OFFSET_M) ** 2
            weights.append(weight)
        total = sum(weights)
        return [w / total for w in weights]

    def features(self, c: _Candidate, margin: float) -> tuple[float, ...]:
        """The calibration features of a chosen candidate (order of ``FEATURES``)."""
        return (
            1.0,
            c.recall,
            c.coverage,
            c.similarity,
            margin,
            math.log1p(c.used_weight),
            1.0 if c.street_support else 0.0,
            1.0 if self.index.places[c.place].kind == "street" else 0.0,
        )

    def _probability(self, features: tuple[float, ...]) -> float:
        z = sum(b * x for b, x in zip(self.coefficients, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    @staticmethod
    def _method(c: _Candidate, normalised: str, place: Place) -> str:
        if normalised == normalise(place.name):
            return "exact"
        return "normalised" if c.similarity >= 1.0 else "fuzzy"

    @staticmethod
    def _refined_type(kind: str, place: Place) -> str:
        """Words naming a strong kind win; otherwise the matched place says what it is."""
        if kind in ("transport", "school_work", "licensed_premises"):
            return kind
        if place.licensed:
            return "licensed_premises"
        if place.category.startswith("School"):
            return "school_work"
        if place.kind == "street" and kind == "other":
            return "street"
        return kind


def _overlap(
    name: Name, best_sim: dict[str, tuple[float, int]], taken: Mapping[int, float]
) -> tuple[float, dict[int, float]]:
    """Weighted share of a name's words found in the text (each text word used once, and
    not one already in ``taken``), with the text positions used and their similarity."""
    matched = 0.0
    used: dict[int, float] = {}
    for token, weight in zip(name.tokens, name.weights, strict=True):
        hit = best_sim.get(token)
        if hit is not None and hit[1] not in used and hit[1] not in taken:
            matched += weight * hit[0]
            used[hit[1]] = hit[0]
    return (matched / name.total if name.total else 0.0), used
