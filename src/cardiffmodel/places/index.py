"""Search structures over gazetteer names, built once so a text never scans the gazetteer.

A text reaches its candidate places through its rarer words: each word is looked up
exactly, or corrected to gazetteer words within two edits (a symmetric-deletion index, the
SymSpell idea) or with the same Metaphone code, and only places holding those words are
scored. Word weights are inverse document frequencies, so "walkabout" counts for more
than "street".
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import jellyfish
import numpy as np
from rapidfuzz.distance import OSA

from cardiffmodel.places.gazetteer import Place
from cardiffmodel.places.normalise import (
    FILLER,
    GENERIC,
    STREET_TYPES,
    is_number,
    key_tokens,
    normalise,
    stem,
)

# Words dropped from the ends of a business name to get the name people say:
# "Costa Ltd" -> "costa", "Revolution Cardiff" -> "revolution".
NAME_NOISE = frozenset(
    {
        "ltd",
        "limited",
        "plc",
        "llp",
        "uk",
        "cardiff",
        "co",
        "company",
        "restaurant",
        "restaurants",
        "group",
        "the",
    }
)

# Words saying what kind of venue a name is ("Angel Inn", "Talisman Public House"): people
# drop them or say another ("the Angel", "Angel pub"), so each name is also indexed
# without them, and in names and texts they weigh as general words do.
TYPE_WORDS = frozenset(
    {"inn", "tavern", "arms", "lounge", "public", "pub", "bar", "club", "nightclub", "hotel",
     "house", "social", "bistro", "grill", "cafe", "restaurant", "takeaway"}
)  # fmt: skip
LEADING_NOISE = frozenset({"the", "ye", "olde", "old"})
MIN_SPLIT_PART = 3  # "windsorcastle" -> "windsor castle"; shorter parts match too much

# Words held by more places than this never generate candidates (they still score).
MAX_GENERATING_DF = 60
MIN_CORRECTION_SIMILARITY = 0.7
MIN_PHONETIC_SIMILARITY = 0.5  # a word that sounds the same may be spelt further off ("prism")
GENERIC_WEIGHT = 0.25  # share of its idf a generic word ("street", "cardiff") carries
STREET_TYPE_WEIGHT = 5.0  # about the weight of a word held by 1 place in 150
MAX_CORRECTIONS = 6
MAX_NAME_WORDS = 5  # longest run of words looked up as a whole street name
# Longest word corrected for typing slips: the deletion variants of a word grow with the
# square of its length, and no place name has a word this long ("llanfairpwllgwyngyll..."
# is 58 letters), so a longer one (a pasted run of digits or letters) is taken as written.
MAX_TOKEN_CHARS = 60

_PARENTHESES = re.compile(r"\([^)]*\)")


@dataclass(frozen=True)
class Name:
    """One way of writing a place's name, as matching tokens with their weights."""

    tokens: tuple[str, ...]
    pairs: tuple[tuple[str, float], ...]  # (word, weight), the form scoring loops over
    total: float


def _deletions(token: str, depth: int) -> set[str]:
    """All strings reachable by deleting up to ``depth`` characters."""
    found = {token}
    frontier = {token}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _depth(token: str) -> int:
    """Edits tolerated in a word: none below four letters (too many lookalikes), two from
    eight."""
    if len(token) < 4:
        return 0
    return 1 if len(token) < 8 else 2


def name_variants(place: Place) -> list[tuple[str, ...]]:
    """The names a place is written as: the full name and, for venues, the name people say
    (bracketed parts dropped, then company words and "Cardiff" off the ends)."""
    variants = []
    for text in (place.name, _PARENTHESES.sub(" ", place.name)):
        tokens = key_tokens(normalise(text))
        if tokens and tokens not in variants:
            variants.append(tokens)
    if not variants:
        return []
    full = variants[-1]
    core = list(full)
    while core and core[-1] in NAME_NOISE:
        core.pop()
    while core and core[0] in NAME_NOISE:
        core.pop(0)
    if core and tuple(core) not in variants:
        variants.append(tuple(core))
    if place.kind != "street":
        # the name without its type words, front or back ("Ye Olde Murenger House" ->
        # "murenger"), kept when a distinctive word remains
        bare = list(core)
        while len(bare) > 1 and (bare[-1] in TYPE_WORDS or bare[-1] in NAME_NOISE):
            bare.pop()
        while len(bare) > 1 and bare[0] in LEADING_NOISE:
            bare.pop(0)
        telling = any(t not in GENERIC and t not in TYPE_WORDS for t in bare)
        if bare and telling and tuple(bare) not in variants:
            variants.append(tuple(bare))
    return variants


class PlaceIndex:
    """Names, words and corrections of a gazetteer; read-only after construction."""

    def __init__(self, places: Sequence[Place], aliases: Mapping[str, str] | None = None):
        self.places: tuple[Place, ...] = tuple(places)
        self.lon = np.array([p.lon for p in self.places], dtype=float)
        self.lat = np.array([p.lat for p in self.places], dtype=float)
        self.normalised_names = tuple(normalise(p.name) for p in self.places)
        self.postcodes = frozenset(p.postcode for p in self.places if p.postcode)
        token_lists = [name_variants(p) for p in self.places]
        self._add_aliases(token_lists, aliases or {})
        self.df = self._document_frequencies(token_lists)
        n = max(len(self.places), 1)
        self.max_weight = math.log(n + 1)
        self.weight = {t: self._weight_of(t, d, n) for t, d in self.df.items()}
        self.names: tuple[tuple[Name, ...], ...] = tuple(
            tuple(self._name(v, place.kind == "street") for v in variants)
            for place, variants in zip(self.places, token_lists, strict=True)
        )
        self.postings: dict[str, tuple[int, ...]] = self._postings(token_lists)
        self.exact: dict[tuple[str, ...], tuple[int, ...]] = self._exact(token_lists)
        self.street_names: tuple[Name | None, ...] = self._venue_streets()
        self.context: tuple[frozenset[str], ...] = tuple(
            self._context(p, v) for p, v in zip(self.places, token_lists, strict=True)
        )
        self.address_words = frozenset().union(*self.context)
        self.reach = tuple(
            self.context[i]
            | {t for name in self.names[i] for t in name.tokens}
            | frozenset(self.street_names[i].tokens if self.street_names[i] else ())
            for i in range(len(self.places))
        )
        self.name_words = tuple(
            frozenset(t for v in variants for t in v) for variants in token_lists
        )
        self.unseen_namesake = self._unseen_namesake()
        self._deletion_index = self._build_deletions(self.df)
        self._phonetic_index = self._build_phonetic(self.df)
        self._corrections: dict[str, tuple[tuple[str, float], ...]] = {}

    # ---- construction ---------------------------------------------------------------

    def _add_aliases(self, token_lists: list[list[tuple[str, ...]]], aliases: Mapping[str, str]):
        """Give each alias ("revs") to the places its target names: a place id, or a name
        matched against every place's name variants ("Revolution"); and each place its own
        aliases (from a places CSV)."""
        for variants, place in zip(token_lists, self.places, strict=True):
            for alias in place.aliases:
                alias_tokens = key_tokens(normalise(alias))
                if alias_tokens and alias_tokens not in variants:
                    variants.append(alias_tokens)
        by_id = {p.place_id: i for i, p in enumerate(self.places)}
        by_name: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, variants in enumerate(token_lists):
            for v in variants:
                by_name[v].append(i)
        for alias, target in aliases.items():
            alias_tokens = key_tokens(normalise(alias))
            if not alias_tokens:
                continue
            targets = (
                [by_id[target]]
                if target in by_id
                else by_name.get(key_tokens(normalise(target)), [])
            )
            for i in targets:
                if alias_tokens not in token_lists[i]:
                    token_lists[i].append(alias_tokens)

    @staticmethod
    def _document_frequencies(token_lists: Iterable[list[tuple[str, ...]]]) -> dict[str, int]:
        df: dict[str, int] = defaultdict(int)
        for variants in token_lists:
            for token in {t for v in variants for t in v}:
                df[token] += 1
        return dict(df)

    @staticmethod
    def _weight_of(token: str, df: int, n: int) -> float:
        idf = math.log((n + 1) / df)
        return idf * GENERIC_WEIGHT if token in GENERIC or token in TYPE_WORDS else idf

    def _name(self, tokens: tuple[str, ...], street: bool = False) -> Name:
        """A name with its word weights; in a street's own name the street type weighs
        ``STREET_TYPE_WEIGHT``, so "Bishopston" alone is not taken for Bishopston Road."""
        weights = tuple(
            STREET_TYPE_WEIGHT if street and t in STREET_TYPES else self.weight_of(t)
            for t in tokens
        )
        return Name(tokens, tuple(zip(tokens, weights, strict=True)), sum(weights))

    def _postings(self, token_lists: list[list[tuple[str, ...]]]) -> dict[str, tuple[int, ...]]:
        postings: dict[str, list[int]] = defaultdict(list)
        for i, variants in enumerate(token_lists):
            for token in {t for v in variants for t in v}:
                postings[token].append(i)
        return {t: tuple(ids) for t, ids in postings.items()}

    @staticmethod
    def _exact(token_lists: list[list[tuple[str, ...]]]) -> dict[tuple[str, ...], tuple[int, ...]]:
        exact: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, variants in enumerate(token_lists):
            for v in set(variants):
                exact[v].append(i)
        return {k: tuple(v) for k, v in exact.items()}

    def _venue_streets(self) -> tuple[Name | None, ...]:
        """The street each venue stands on, as the longest ending of its address that is a
        known street name (FSA address lines often start with a building or company name:
        "Tesco Express, Parkfield House North Road")."""
        known = {key_tokens(normalise(p.name)) for p in self.places if p.kind == "street"}
        streets: list[Name | None] = []
        for place in self.places:
            if place.kind != "venue":
                streets.append(None)
                continue
            tokens = key_tokens(normalise(place.street))
            found = next((tokens[i:] for i in range(len(tokens)) if tokens[i:] in known), None)
            streets.append(self._name(found) if found else None)
        return tuple(streets)

    def _unseen_namesake(self) -> float:
        """Chance that a street known only from an incomplete list (crime points, venue
        addresses) has a namesake the list missed: (share of street names held by two or
        more streets, as seen) / c x (1 - c), where c, the completeness of the crime-point
        list, is the share of the street names venues' addresses give that crime points
        also give. 0 when every street comes from a complete road list."""
        streets = [p for p in self.places if p.kind == "street"]
        if not streets or all(p.complete for p in streets):
            return 0.0
        crime_names = {p.name.lower() for p in streets if p.crimes}
        address_names = {p.name.lower() for p in streets if p.venues}
        if not crime_names or not address_names:
            return 0.0
        completeness = max(len(crime_names & address_names) / len(address_names), 0.05)
        counts: dict[str, int] = defaultdict(int)
        for p in streets:
            counts[p.name.lower()] += 1
        repeated = sum(1 for n in counts.values() if n > 1) / len(counts)
        return min(1.0, repeated / completeness) * (1.0 - completeness)

    @staticmethod
    def _context(place: Place, variants: list[tuple[str, ...]]) -> frozenset[str]:
        """Words of a venue's address that are not its name (street, district, town): a
        text naming them with the venue agrees with it ("Greyhound Christchurch")."""
        if place.kind != "venue":
            return frozenset()
        named = {t for v in variants for t in v}
        words = key_tokens(normalise(f"{place.address} {place.street}"))
        return frozenset(t for t in words if t not in named and not is_number(t))

    @staticmethod
    def _build_deletions(df: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = defaultdict(list)
        for token in df:
            if len(token) > MAX_TOKEN_CHARS:
                continue
            for variant in _deletions(token, _depth(token)):
                index[variant].append(token)
        return {k: tuple(v) for k, v in index.items()}

    @staticmethod
    def _build_phonetic(df: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = defaultdict(list)
        for token in df:
            if len(token) >= 4 and not token.isdigit():
                index[jellyfish.metaphone(token)].append(token)
        return {k: tuple(v) for k, v in index.items()}

    # ---- queries ---------------------------------------------------------------------

    def query_weight(self, token: str) -> float:
        """A typed word's weight: a street type ("road") weighs as it does in street names,
        so a place that leaves it unexplained ("Cae Gwyn" for "Cae Gwyn Road") loses."""
        return STREET_TYPE_WEIGHT if token in STREET_TYPES else self.weight_of(token)

    def weight_of(self, token: str) -> float:
        """A word's weight; a word no place uses weighs as much as the rarest, because it
        may name a place the gazetteer lacks (house numbers excepted)."""
        found = self.weight.get(token)
        if found is not None:
            return found
        if is_number(token):
            return 0.0  # a house number no name uses
        return GENERIC_WEIGHT if token in GENERIC else self.max_weight

    def corrections(self, token: str) -> tuple[tuple[str, float], ...]:
        """Gazetteer words a typed word may stand for, with similarity 0-1, best first.

        A word the gazetteer uses is taken as written; otherwise candidates within the
        edit budget of ``_depth`` or sounding the same (Metaphone) are kept when their
        optimal-string-alignment similarity is at least ``MIN_CORRECTION_SIMILARITY``.
        """
        if len(token) > MAX_TOKEN_CHARS:
            return ((token, 1.0),) if token in self.df else ()
        cached = self._corrections.get(token)
        if cached is not None:
            return cached
        if token in self.df:
            found: tuple[tuple[str, float], ...] = ((token, 1.0),)
        else:
            pool: set[str] = set()
            for variant in _deletions(token, _depth(token)):
                pool.update(self._deletion_index.get(variant, ()))
            sounds = (
                set(self._phonetic_index.get(jellyfish.metaphone(token), ()))
                if len(token) >= 4
                else set()
            )
            scored = [(c, OSA.normalized_similarity(token, c)) for c in pool | sounds]
            scored = [
                (c, s)
                for c, s in scored
                if s >= MIN_CORRECTION_SIMILARITY or (c in sounds and s >= MIN_PHONETIC_SIMILARITY)
            ]
            scored.sort(key=lambda cs: (-cs[1], -self.df[cs[0]], cs[0]))
            found = tuple(scored[:MAX_CORRECTIONS])
        self._corrections[token] = found
        return found

    def join_split_words(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Mend word boundaries typed in the wrong place: join neighbours the gazetteer
        writes as one word ("mc donalds", "walk about"), split a word it writes as two
        ("windsorcastle"), and move a space ("elysiu mbar", "pena nd wig"), only where a
        word is unknown and every resulting word is known (or filler)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if i + 1 < len(tokens):
                after = tokens[i + 1]
                unknown = token not in self.df or after not in self.df
                joined = stem(token + after)
                if unknown and joined in self.df:
                    out.append(joined)
                    i += 2
                    continue
                # a district or street word no name holds is not a typo to be moved
                movable = unknown and not {token, after} & self.address_words
                moved = self._split(token + after) if movable else None
                if moved is not None and moved != (token, after):
                    out.extend(moved)
                    i += 2
                    continue
            known = token in self.df or token in self.address_words
            split = self._split(token) if not known else None
            out.extend(split if split is not None else (token,))
            i += 1
        return tuple(t for t in out if t not in FILLER)

    def _split(self, word: str) -> tuple[str, str] | None:
        """Two known words (or a known word and filler) that ``word`` is the join of."""
        if is_number(word) or len(word) < 2 * MIN_SPLIT_PART:
            return None
        found = None
        for cut in range(MIN_SPLIT_PART, len(word) - MIN_SPLIT_PART + 1):
            left, right = word[:cut], stem(word[cut:])
            known = [t in self.df or t in FILLER for t in (left, right)]
            if all(known) and (left in self.df or right in self.df):
                pair = (left, right)
                # prefer the cut leaving the rarer (more telling) words
                if found is None or self._rarity(pair) > self._rarity(found):
                    found = pair
        return found

    def _rarity(self, pair: tuple[str, str]) -> float:
        return sum(self.weight.get(t, 0.0) for t in pair)

    def candidates(self, words: Iterable[str]) -> set[int]:
        """Places holding any of the given gazetteer words, using only words rare enough to
        narrow the search; the commonest words are used only when nothing rarer is there."""
        ordered = sorted(set(words), key=lambda w: self.df.get(w, 0))
        found: set[int] = set()
        for word in ordered:
            postings = self.postings.get(word, ())
            if (
                postings
                and (len(postings) <= MAX_GENERATING_DF or not found)
                and (word not in GENERIC)
            ):
                found.update(postings)
        return found

    def streets_in(self, tokens: Sequence[str]) -> set[int]:
        """Streets whose whole name is a run of the words: the only way to reach streets
        named in common words alone ("Park Road", "City Road") without scanning."""
        found: set[int] = set()
        for start in range(len(tokens)):
            for end in range(start + 2, min(start + MAX_NAME_WORDS, len(tokens)) + 1):
                for i in self.exact.get(tuple(tokens[start:end]), ()):
                    if self.places[i].kind == "street":
                        found.add(i)
        return found

    def metres(self, i: int, lon: float, lat: float) -> float:
        """Distance from place ``i`` to a point (equirectangular; exact enough in a city)."""
        mean_lat = math.radians((self.lat[i] + lat) / 2)
        return math.hypot((self.lon[i] - lon) * math.cos(mean_lat), self.lat[i] - lat) * 111_195.0
