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
        return idf * GENERIC_WEIGHT if token in GENERIC else idf

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
        """Join neighbours the gazetteer writes as one word ("mc donalds", "walk about")."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens):
                joined = stem(tokens[i] + tokens[i + 1])
                unknown = tokens[i] not in self.df or tokens[i + 1] not in self.df
                if joined in self.df and unknown:
                    out.append(joined)
                    i += 2
                    continue
            out.append(tokens[i])
            i += 1
        return tuple(out)

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
