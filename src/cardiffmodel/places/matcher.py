"""Resolve free-text assault locations to gazetteer places, saying how sure we are.

How a text is resolved, in order:

1. Blank or "unknown" texts, and homes ("pts home", "friend's flat"), are settled by their
   words alone: a home is not placed, both for privacy and because the text rarely says
   which home, unless the text gives its postcode sector ("pts home CF24 3") and that
   sector lies within one beat (step 6).
2. The text's matching words (``normalise.key_tokens``), with word boundaries mended
   ("windsorcastle", "angeli nn"), are corrected against the gazetteer's words and lead,
   through an inverted index, to candidate places (``index.PlaceIndex``); only
   candidates are scored, never the whole gazetteer, in order of an upper bound of
   their score until the bound falls below half the best.
3. Each candidate is scored by how much of its name the text holds (``recall``) and how
   much of the text its name, its street, the other words of its address (district,
   town), its postcode and its kind ("pub", "school") explain (``coverage``); a name
   is also read letter by letter when a word is mistyped. A street must be named as a
   run of words with its type ("Queen St"); a venue's words may be scattered. So "o/s
   Walkabout St Marys St" prefers the Walkabout on St Mary Street to the street itself,
   "McDonalds Queen St" the branch on Queen Street to the other eight, and "Coffee
   House, Cowbridge Rd East" (a venue the gazetteer lacks) falls back to the street,
   saying which words it could not place.
4. Candidates scoring within ``TIE`` of the best form a group. A group of different names
   is ambiguous; so is a text naming a venue that stands elsewhere than the street it
   names ("conflict"). A group of one name in several places (a chain, or two streets
   called Queen Street) is split by a prior share: crimes recorded on the street
   (police.uk) and venues standing on it, an unseen namesake for a street known only
   from incomplete lists, and, when the attended hospital is given, a gravity model (share
   proportional to 1 / (distance + 1 km)^2), the assumption the R ``istv`` package makes
   implicitly when it breaks ties by distance. Neither is fitted: both are stated
   assumptions.
5. ``score`` = P(the text names a place of the group) x the chosen place's share. The
   first factor is a logistic model of the candidate's features whose coefficients were
   fitted on a labelled synthetic set (see ``calibrate.py``, which reproduces them).
   ``min_score`` is the lowest score that kept precision at or above 0.985 there.
6. A text its words leave unresolved, or a home, that carries a postcode is placed at the
   postcode's gazetteer place (``postcodes.py``): the full postcode's point, or the
   sector's, which exists only when the sector lies within one beat. Such a match scores
   ``POSTCODE_SCORE``, an assumption (no labelled texts with postcodes exist to fit it).
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.index import PlaceIndex
from cardiffmodel.places.normalise import (
    GENERIC,
    extract_postcode,
    extract_sector,
    is_number,
    key_tokens,
    normalise,
    type_of_normalised,
)
from cardiffmodel.places.postcodes import POSTCODE_KINDS, PostcodeIndex, sector_of
from cardiffmodel.places.scoring import Candidate, score_candidates

# Short forms ED staff use for well-known places; targets are names (matched to every
# place with that name) or place ids. Deployments add their own through ``aliases``.
DEFAULT_ALIASES: dict[str, str] = {
    "revs": "Revolution",
    "maccies": "McDonalds",
    "maccy ds": "McDonalds",
    "mcds": "McDonalds",
    "mcdees": "McDonalds",
    "chippy lane": "Caroline Street",
}

TIE = 0.05  # candidates this close to the best raw score are indistinguishable by text
PARALLEL_MIN = 20_000  # distinct texts worth sharing among processes
DECISION_CACHE_SIZE = 200_000  # distinct word sets remembered; cleared when full
SAME_SPOT_M = 150.0  # places this close are the same spot for a map (FSA lists units apart)
GRAVITY_OFFSET_M = 1000.0
VAGUE = "too vague"  # how the reason of a text naming no particular place starts
POSTCODE_SCORE = 0.95  # a typed postcode is believed unless mistyped: assumed, not fitted

# Logistic model of P(a place of the chosen group is right | features), and the threshold
# keeping precision >= 0.985 on the calibration set: printed by
# ``python -m cardiffmodel.places.calibrate`` (30,000 generated texts, seed 20201113, 10% of
# venues held out; procedure in calibrate.py). Refit whenever scoring or features change.
FEATURES = (
    "intercept",
    "recall",  # weighted share of the name's words in the text
    "coverage",  # weighted share of the text's words explained
    "log_unexplained",  # log(1 + weight of the text's words left unexplained)
    "similarity",  # weighted mean spelling similarity of the words used
    "margin",  # raw score lead over the best candidate elsewhere
    "log_weight",  # log(1 + weight of the words used): long rare names are safer
    "street_support",  # a venue whose street (or postcode) the text also gives
    "is_street",
)
COEFFICIENTS = (-11.02, 3.133, 2.524, -0.703, 3.654, 1.62, 1.453, 1.226, 3.483)
MIN_SCORE = 0.875


@dataclass(frozen=True)
class Match:
    """Where a location text resolved to.

    ``score`` is the probability that ``place_id`` is right (0 when there is no place);
    ``status`` is ``matched``, ``unresolved`` or ``home``; ``method`` is one of
    ``schema.MATCH_METHODS`` (``exact``: the text is the place's name; ``normalised``: its
    words after cleaning; ``fuzzy``: after spelling corrections); ``reason`` says why a
    text is unresolved, or for a match what was doubted (namesakes chosen between, words
    left unplaced); it is "" for a clean match.
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
class Diagnosis:
    """A match with the evidence behind it: the calibration features of the chosen
    candidate (None when no candidate was scored), its place id, its prior share among the
    places its name could be, and those places."""

    match: Match
    features: tuple[float, ...] | None
    candidate_id: str | None
    share: float
    group: tuple[str, ...] = ()  # one place id per spot the text's best score could be


@dataclass(frozen=True)
class _Decision:
    """The outcome for one set of matching words, before the text's own words (location
    type, exact spelling) are applied."""

    place: int
    matched: bool
    score: float
    reason: str
    features: tuple[float, ...]
    share: float
    group: tuple[str, ...]
    spelled_right: bool


_NOTHING = _Decision(-1, False, 0.0, "", (), 0.0, (), False)


def _unresolved(location_type: str, reason: str) -> Match:
    return Match(None, None, None, None, 0.0, "unresolved", "unresolved", location_type, reason)


def _whose(kind: str) -> str:
    return "the patient's home" if kind == "home" else "someone else's home"


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
        self.index = PlaceIndex([p for p in places if p.kind not in POSTCODE_KINDS], merged)
        self.postcodes = PostcodeIndex(places)
        self.min_score = min_score
        self.coefficients = tuple(coefficients)
        # Decisions by matching words: many texts differ only in case, prefix or filler.
        self._decisions: dict[tuple, _Decision] = {}

    # ---- public ----------------------------------------------------------------------

    def match(self, text: str | None, site: tuple[float, float] | None = None) -> Match:
        """Resolve one text (see the module docstring for how)."""
        return self.diagnose(text, site).match

    def match_many(
        self,
        texts: Sequence[str | None],
        sites: Sequence[tuple[float, float] | None] | None = None,
        workers: int = 1,
    ) -> list[Match]:
        """Resolve many texts; each distinct (text, site) pair is resolved once, because ED
        location texts repeat heavily ("pts home", "town", the same few streets).

        With ``workers`` > 1 the distinct pairs are shared among that many processes once
        there are at least ``PARALLEL_MIN`` of them (forking costs about a tenth of a
        second; below that one process is faster).
        """
        if sites is not None and len(sites) != len(texts):
            raise ValueError(f"sites has {len(sites)} entries but texts has {len(texts)}")
        pairs = list(zip(texts, sites if sites is not None else [None] * len(texts), strict=True))
        distinct = list(dict.fromkeys(pairs))
        if workers > 1 and len(distinct) >= PARALLEL_MIN:
            # Forked workers inherit the matcher (set by the initializer, whose arguments
            # a fork does not pickle); only the texts and the matches cross processes.
            chunks = [distinct[k::workers] for k in range(workers)]
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_adopt,
                initargs=(self,),
            ) as pool:
                parts = list(pool.map(_resolve_chunk, chunks))
            resolved = {
                pair: match
                for chunk, part in zip(chunks, parts, strict=True)
                for pair, match in zip(chunk, part, strict=True)
            }
        else:
            resolved = {pair: self.diagnose(*pair).match for pair in distinct}
        return [resolved[pair] for pair in pairs]

    def diagnose(self, text: str | None, site: tuple[float, float] | None = None) -> Diagnosis:
        """Resolve one text and keep the evidence (for calibration and for reviewers)."""
        rest, postcode = extract_postcode(text)
        sector = sector_of(postcode) if postcode else ""
        if not postcode:
            rest, sector = extract_sector(rest, self.postcodes.districts)
        found = self._by_words(rest, postcode, site)
        if found.match.status == "matched" or not sector:
            return found
        return self._by_postcode(found, postcode, sector)

    def _by_words(self, rest: str, postcode: str, site: tuple[float, float] | None) -> Diagnosis:
        """Resolve the words of a text (its postcode already taken out)."""
        normalised = normalise(rest)
        kind = type_of_normalised(normalised)
        if not normalised:
            return _plain(_unresolved("unknown", "blank: no location given"))
        if kind == "unknown":
            return _plain(_unresolved(kind, f"no location given ('{normalised}')"))
        if kind in ("home", "other_home"):
            reason = f"{_whose(kind)}: homes are not placed"
            return _plain(Match(None, None, None, None, 0.0, "home", "home", kind, reason))
        tokens = self.index.join_split_words(key_tokens(normalised))
        if not tokens:
            return _plain(_unresolved(kind, f"{VAGUE}: no place named in '{normalised}'"))
        generic_only = all(t in GENERIC for t in tokens)
        if generic_only and not self.index.streets_in(tokens):
            words = " ".join(tokens)
            return _plain(_unresolved(kind, f"{VAGUE}: only general words ('{words}')"))
        key = (tokens, postcode, site)
        decision = self._decisions.get(key)
        if decision is None:
            ranked = score_candidates(self.index, tokens, postcode, generic_only)
            decision = self._decide(ranked, tokens, site) if ranked else _NOTHING
            if len(self._decisions) >= DECISION_CACHE_SIZE:
                self._decisions.clear()
            self._decisions[key] = decision
        if decision is _NOTHING:
            return _plain(_unresolved(kind, f"no gazetteer place resembles '{' '.join(tokens)}'"))
        return self._diagnosis(decision, normalised, kind)

    def _by_postcode(self, found: Diagnosis, postcode: str, sector: str) -> Diagnosis:
        """Place an unresolved text, or a home, at its postcode (step 6), saying so."""
        match = found.match
        home = match.status == "home"
        place = self.postcodes.locate(postcode, sector, home)
        if place is None:
            why = f"postcode sector {sector} is not a place (it straddles beats or is unknown)"
            return replace(found, match=replace(match, reason=f"{match.reason}; {why}"))
        where = f"placed at postcode {place.name}"
        if place.kind == "sector":
            within = place.category.removeprefix("postcode sector ")
            where = f"placed at postcode sector {place.name} ({within})"
        if home:
            reason = f"{_whose(match.location_type)}: {where}"
        else:
            reason = where + (f"; words: {match.reason}" if match.reason else "")
        placed = Match(
            place.place_id,
            place.name,
            place.lon,
            place.lat,
            POSTCODE_SCORE,
            "home" if home else "matched",
            "home" if home else "exact",
            match.location_type,
            reason,
        )
        return Diagnosis(placed, None, place.place_id, 1.0, (place.place_id,))

    # ---- deciding --------------------------------------------------------------------

    def _decide(
        self,
        ranked: list[Candidate],
        tokens: tuple[str, ...],
        site: tuple[float, float] | None,
    ) -> _Decision:
        """Choose among the ranked candidates, or say why not (independent of the words'
        location type, so one decision serves every text with the same matching words)."""
        index = self.index
        best = ranked[0]
        tied = [c for c in ranked if c.raw >= best.raw - TIE]
        spots = self._spots(tied)
        shares = self._shares(spots, site)
        k = max(range(len(spots)), key=lambda j: (shares[j], -j))
        chosen, share = spots[k][0], shares[k]
        place = index.places[chosen.place]
        if place.kind == "street" and not any(index.places[c.place].complete for c in spots[k]):
            # a namesake the street list missed would join the shares with the prior
            # weight of a street with no crime and no venue (1), times the chance it exists
            seen = 1.0 + max(
                index.places[c.place].crimes + index.places[c.place].venues for c in spots[k]
            )
            share *= seen / (seen + index.unseen_namesake)
        rival = next((c.raw for c in ranked[len(tied) :] if self._apart(chosen, c)), 0.0)
        features = self.features(chosen, best.raw - rival)
        score = self._probability(features) * share
        group = tuple(index.places[spot[0].place].place_id for spot in spots)

        def decision(matched: bool, reason: str) -> _Decision:
            return _Decision(
                chosen.place,
                matched,
                score,
                reason,
                features,
                share,
                group,
                chosen.similarity >= 1.0,
            )

        names = {spot[0].name for spot in spots}
        if len(names) > 1:
            first = {}
            for spot in spots:
                p = index.places[spot[0].place]
                first.setdefault(p.name, p.place_id)
            shown = [f"{name!r} ({pid})" for name, pid in sorted(first.items())]
            more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
            return decision(False, f"ambiguous between {' and '.join(shown[:3])}{more}")
        conflict = self._conflict(chosen, ranked)
        if conflict:
            return decision(False, conflict)
        if score < self.min_score:
            if len(spots) > 1 and share < 0.9:
                nothing = "" if site else " and no hospital site to choose by"
                ids = ", ".join(index.places[spot[0].place].place_id for spot in spots[:3])
                more = ", ..." if len(spots) > 3 else ""
                return decision(
                    False,
                    f"ambiguous: {len(spots)} places named '{place.name}'{nothing}"
                    f" (best share {share:.2f}; {ids}{more})",
                )
            return decision(
                False,
                f"best match '{place.name}' ({place.place_id}) too uncertain: "
                f"score {score:.2f} < {self.min_score:.2f}",
            )
        notes = []
        if len(spots) > 1:
            notes.append(f"chosen among {len(spots)} places named '{place.name}'")
        left = [
            t
            for p, t in enumerate(tokens)
            if p not in chosen.used and t not in GENERIC and not is_number(t)
        ]
        if left:
            notes.append(f"words not placed: '{' '.join(left)}'")
        return decision(True, "; ".join(notes))

    def _diagnosis(self, decision: _Decision, normalised: str, kind: str) -> Diagnosis:
        place = self.index.places[decision.place]
        if not decision.matched:
            match = _unresolved(kind, decision.reason)
        else:
            if normalised == self.index.normalised_names[decision.place]:
                method = "exact"
            else:
                method = "normalised" if decision.spelled_right else "fuzzy"
            match = Match(
                place.place_id,
                place.name,
                place.lon,
                place.lat,
                round(decision.score, 4),
                "matched",
                method,
                self._refined_type(kind, place),
                decision.reason,
            )
        return Diagnosis(match, decision.features, place.place_id, decision.share, decision.group)

    def _apart(self, a: Candidate, b: Candidate) -> bool:
        index = self.index
        return index.metres(a.place, index.lon[b.place], index.lat[b.place]) > SAME_SPOT_M

    def _conflict(self, chosen: Candidate, ranked: list[Candidate]) -> str:
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

    def _spots(self, tied: list[Candidate]) -> list[list[Candidate]]:
        """Group tied candidates standing within ``SAME_SPOT_M`` of each other."""
        spots: list[list[Candidate]] = []
        for c in tied:
            for spot in spots:
                if not self._apart(spot[0], c):
                    spot.append(c)
                    break
            else:
                spots.append([c])
        return spots

    def _shares(
        self, spots: list[list[Candidate]], site: tuple[float, float] | None
    ) -> list[float]:
        """Prior share of each spot: (crimes + venues on it + 1), times a gravity term when a
        site is given."""
        index = self.index
        weights = []
        for spot in spots:
            weight = 1.0 + max(
                index.places[c.place].crimes + index.places[c.place].venues for c in spot
            )
            if site is not None:
                distance = index.metres(spot[0].place, site[0], site[1])
                weight /= (distance + GRAVITY_OFFSET_M) ** 2
            weights.append(weight)
        total = sum(weights)
        return [w / total for w in weights]

    def features(self, c: Candidate, margin: float) -> tuple[float, ...]:
        """The calibration features of a chosen candidate (order of ``FEATURES``)."""
        return (
            1.0,
            c.recall,
            c.coverage,
            math.log1p(c.unexplained),
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


_WORKER: dict[str, Matcher] = {}  # the matcher a forked worker process serves


def _adopt(matcher: Matcher) -> None:
    """Worker-process initializer of ``Matcher.match_many``."""
    _WORKER["matcher"] = matcher


def _resolve_chunk(
    pairs: Sequence[tuple[str | None, tuple[float, float] | None]],
) -> list[Match]:
    """Worker-process entry point of ``Matcher.match_many``."""
    matcher = _WORKER["matcher"]
    return [matcher.diagnose(text, site).match for text, site in pairs]
