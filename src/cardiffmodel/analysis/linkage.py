"""Which Emergency Department attendances are unknown to the police? Record linkage.

No shared identifier joins a hospital record to a police record of the same assault, so
links are found by probabilistic record linkage (Fellegi and Sunter 1969) with Splink
(Linacre et al. 2022), on what both record: the day and time of the assault, the place,
the injured person's age band and sex, the kind of place, the weapon and the relationship
to the assailant. Each candidate
pair gets a match probability; pairs above a threshold are kept, at most one police
record per ED record and one ED record per police record. The share of ED attendances
left without a link estimates how much hospital-recorded violence the police never hear
of (59% in South Wales, Gray et al. 2017).

Model (all choices are in :class:`LinkageOptions`):

* Candidate pairs: an ED and a police record whose assault dates are the same or one
  day apart (an assault just before midnight may be dated either side).
* Comparisons: clock time (minutes apart around the clock, 0, 15, 60, 180 or more),
  assault date (same day or a day apart), distance between the two points (0.1, 0.3, 1
  or 3 km), and agreement of age band, sex, location type, weapon and relationship,
  weighed by how common the shared value is (term-frequency adjustment: two records
  agreeing on "firearm" say more than two agreeing on "fists and feet"). A missing
  value (time not recorded, place not resolved, ``unknown``) is neutral: it neither
  supports nor counts against a link.
* Training: ``u`` (how often non-matching records agree) from random pairs;
  ``m`` (how often matching records agree) and the share of same-day pairs that match
  by expectation maximisation on every same-day pair. The date comparison cannot be
  learnt from same-day pairs, so its ``m`` is set: 95% of matches share the date, 4.9%
  are a day apart. Clock time is compared rather than elapsed time, since within a
  day any two times are close in elapsed terms and would look alike to the model.
  Every ``m`` is then floored (``min_m``), so no single disagreement rules a link out.
  The model may learn from a longer period than the one linked (a year for a month).

Records are fetched with Ibis (so the incidents may live in DuckDB or Spark) and linked
in an in-memory DuckDB by Splink; Splink's Spark backend serves national volumes.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pandas as pd
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from cardiffmodel.analysis.counts import at_a_venue
from cardiffmodel.analysis.selection import Selection, filter_incidents
from cardiffmodel.ingest.pipeline import incident_ids

MINUTES_PER_DAY = 1440
# Best links below this probability are not looked for: together they could move the
# expected unknown share by less than this, and leaving them out makes the one-to-one
# step ten times faster.
BEST_LINK_FLOOR = 0.01
# Columns where the code "unknown" means "not recorded" and must not count as agreement.
CODED = ("age_band", "sex", "location_type", "weapon", "relationship")
MODEL_COLUMNS = ("unique_id", "occurred_date", "next_date", "minute_of_day", "lon", "lat", *CODED)


@dataclass(frozen=True)
class LinkageOptions:
    """Settings of the linkage model.

    Attributes
    ----------
    threshold : float
        Pairs with a match probability at or above it are links: 0.5 keeps a link when
        it is more likely than not to be the same assault, which balances missed and
        false links and so estimates the unknown share with least bias.
    clock_minutes : tuple of int
        Clock-time agreement levels, in minutes apart (0 is the same minute).
    km : tuple of float
        Distance agreement levels, in kilometres.
    date_m : tuple of float
        Share of true matches whose dates are the same, a day apart and further apart.
    u_pairs : float
        Random pairs drawn to estimate ``u``.
    seed : int
        Seed of that draw.
    max_iterations : int
        Limit on expectation-maximisation iterations: the parameters settle within a
        few; later iterations mostly drive the ``m`` of disagreements never seen among
        matches towards zero.
    min_m : float
        Floor on every level's ``m`` after training, so that no disagreement rules a link
        out: a link with one wrong field is weakened, not impossible.
    """

    threshold: float = 0.5
    clock_minutes: tuple[int, ...] = (0, 15, 60, 180)
    km: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
    date_m: tuple[float, float, float] = (0.95, 0.049, 0.001)
    u_pairs: float = 2e6
    seed: int = 0
    max_iterations: int = 10
    min_m: float = 1e-3

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError(f"linkage threshold {self.threshold}: expected between 0 and 1")
        if not 0 < self.min_m < 0.1:
            raise ValueError(f"linkage min_m {self.min_m}: expected between 0 and 0.1")
        if abs(sum(self.date_m) - 1) > 1e-9 or min(self.date_m) <= 0:
            raise ValueError(f"linkage date_m {self.date_m}: expected positive shares summing to 1")


@dataclass(frozen=True)
class Link:
    """An ED record and the police record linked to it, with the match probability."""

    ed_id: str
    police_id: str
    probability: float


@dataclass(frozen=True)
class UnknownShare:
    """ED records of one group and how many of them were linked to a police record.

    Attributes
    ----------
    key : str
        The group: an area code, ``"male 18-24"``, a relationship or a venue's name.
    ed : int
        ED records in the group.
    linked : int
        Of those, linked to a police record.
    """

    key: str
    ed: int
    linked: int

    @property
    def unknown(self) -> int:
        """ED records with no police link."""
        return self.ed - self.linked

    @property
    def unknown_share(self) -> float:
        """``unknown / ed``: the share of the group's attendances unknown to the police."""
        return self.unknown / self.ed if self.ed else float("nan")


@dataclass(frozen=True)
class LevelWeight:
    """One comparison level of the trained model.

    Attributes
    ----------
    comparison, level : str
        The comparison (e.g. ``minute_of_day``) and the level's label.
    m, u : float
        Probability of this level among true matches and among non-matches.
    """

    comparison: str
    level: str
    m: float
    u: float


@dataclass(frozen=True)
class LinkageResult:
    """ED records linked to police records, and the share left unknown to the police.

    Attributes
    ----------
    selection : Selection
        The ED records linked: those that occurred in its period (every area: an
        attendance with no resolved place may still match). Police records of the
        period widened by a day either side are the candidates. Its ``layer`` gives
        ``by_area``; its ``areas``, when given, restrict ``by_area``.
    options : LinkageOptions
        The model's settings.
    ed_records, police_records : int
        Records of each source taken into the linkage.
    candidate_pairs : int
        Pairs scored (same day or a day apart).
    same_day_match_rate : float
        Share of same-day pairs that match, estimated by expectation maximisation.
    links : tuple of Link
        Links at or above the threshold, one to one, by ED id.
    unknown_share : float
        Share of ED records with no link: the headline estimate.
    expected_unknown_share : float
        One minus the sum of the match probabilities of the one-to-one best links (of
        probability at least ``BEST_LINK_FLOOR``) over the ED records: an estimate that
        weighs uncertain links by their probability instead of cutting at the threshold.
    by_area : tuple of UnknownShare
        Per area of the selection's layer holding ED records (ED's own placement; ED
        records not placed are left out), by unknown count descending then code.
    by_sex_age : tuple of UnknownShare
        Per sex and age band of the injured person, e.g. ``"male 18-24"``, by key.
    by_relationship : tuple of UnknownShare
        Per relationship to the assailant, by key.
    by_venue : tuple of UnknownShare
        Per venue (non-street gazetteer place, never a home) the ED record names, keyed
        by the venue's name, by unknown count descending then name.
    weights : tuple of LevelWeight
        The trained model, for review.
    """

    selection: Selection
    options: LinkageOptions
    ed_records: int
    police_records: int
    candidate_pairs: int
    same_day_match_rate: float
    links: tuple[Link, ...]
    unknown_share: float
    expected_unknown_share: float
    by_area: tuple[UnknownShare, ...]
    by_sex_age: tuple[UnknownShare, ...]
    by_relationship: tuple[UnknownShare, ...]
    by_venue: tuple[UnknownShare, ...]
    weights: tuple[LevelWeight, ...]


@dataclass(frozen=True)
class LinkQuality:
    """Links found against known true links.

    Attributes
    ----------
    found, true, correct : int
        Links found, true links, and found links that are true.
    precision, recall : float
        ``correct / found`` and ``correct / true`` (NaN when the denominator is 0).
    """

    found: int
    true: int
    correct: int
    precision: float
    recall: float


def link_ed_police(
    t: ibis.Table,
    sel: Selection,
    options: LinkageOptions | None = None,
    training: Selection | None = None,
) -> LinkageResult:
    """Link the ED records of the selection's period to police records (see the module).

    The model is trained on the records of ``training``'s period (default: the
    selection's): a year or more gives steadier estimates than a single month.
    """
    options = options or LinkageOptions()
    ed, police = _ed_and_police(t, sel)
    model, same_day_rate = _trained_model(*_ed_and_police(t, training or sel), options)
    db = DuckDBAPI()
    linker = Linker(
        [
            db.register(ed.select(MODEL_COLUMNS), table_name="ed"),
            db.register(police.select(MODEL_COLUMNS), table_name="police"),
        ],
        model,
        log_level=logging.WARNING,
    )
    predictions = linker.inference.predict()
    pairs = _ed_first(predictions.as_pandas_dataframe())
    clusters = linker.clustering.cluster_using_single_best_links(
        predictions,
        duplicate_free_datasets=["ed", "police"],
        threshold_match_probability=BEST_LINK_FLOOR,
    ).as_pandas_dataframe()
    best_links = _links(clusters, pairs)
    links = tuple(link for link in best_links if link.probability >= options.threshold)
    ed_frame = ed.to_pandas()
    linked_ids = {link.ed_id for link in links}
    return LinkageResult(
        selection=sel,
        options=options,
        ed_records=ed.num_rows,
        police_records=police.num_rows,
        candidate_pairs=len(pairs),
        same_day_match_rate=same_day_rate,
        links=links,
        unknown_share=1 - len(linked_ids) / ed.num_rows,
        expected_unknown_share=1 - sum(link.probability for link in best_links) / ed.num_rows,
        by_area=_by_area(ed_frame, linked_ids, sel.areas),
        by_sex_age=_shares(ed_frame, linked_ids, ed_frame["sex_age"]),
        by_relationship=_shares(ed_frame, linked_ids, ed_frame["relationship_group"]),
        by_venue=_by_count(_shares(ed_frame, linked_ids, ed_frame["place"])),
        weights=_weights(model),
    )


def link_quality(links: Iterable[Link], true_links: Iterable[tuple[str, str]]) -> LinkQuality:
    """Precision and recall of ``links`` against true ``(ed_id, police_id)`` pairs."""
    found = {(link.ed_id, link.police_id) for link in links}
    true = set(true_links)
    correct = len(found & true)
    return LinkQuality(
        found=len(found),
        true=len(true),
        correct=correct,
        precision=correct / len(found) if found else float("nan"),
        recall=correct / len(true) if true else float("nan"),
    )


def known_links(records: pd.DataFrame) -> frozenset[tuple[str, str]]:
    """True ``(ed_id, police_id)`` pairs from records known to describe the same assault.

    ``records`` has, per source record, ``kind`` (ed, police...), ``site``,
    ``source_record_id`` and ``event_id`` (shared by records of one assault): a
    clerically reviewed sample, or the synthetic city's ground truth. Ids are the
    store's incident ids, so the pairs compare directly with :attr:`LinkageResult.links`.
    Records without a source record id are left out (they were never stored).
    """
    kept = records[records["source_record_id"].notna()]
    ids = {
        kind: part.assign(
            incident_id=[
                incident_ids(kind, site, [rid])[0]
                for site, rid in zip(part["site"], part["source_record_id"], strict=True)
            ]
        )[["event_id", "incident_id"]]
        for kind, part in kept.groupby("kind")
        if kind in ("ed", "police")
    }
    if len(ids) < 2:
        return frozenset()
    pairs = ids["ed"].merge(ids["police"], on="event_id", suffixes=("_ed", "_police"))
    return frozenset(zip(pairs["incident_id_ed"], pairs["incident_id_police"], strict=True))


def _ed_and_police(t: ibis.Table, sel: Selection) -> tuple[pa.Table, pa.Table]:
    """ED records of the period, and police records of the period widened by a day."""
    ed = _records(t, sel, "ed", sel.start, sel.end)
    police = _records(t, sel, "police", sel.start - timedelta(days=1), sel.end + timedelta(days=1))
    if ed.num_rows == 0 or police.num_rows == 0:
        raise ValueError(
            f"linkage {sel.start} to {sel.end}: {ed.num_rows} ED and {police.num_rows} police "
            "records; both are needed"
        )
    return ed, police


def _trained_model(ed: pa.Table, police: pa.Table, options: LinkageOptions) -> tuple[dict, float]:
    """The trained model (Splink settings) and the share of same-day pairs that match."""
    db = DuckDBAPI()
    linker = Linker(
        [
            db.register(ed.select(MODEL_COLUMNS), table_name="ed"),
            db.register(police.select(MODEL_COLUMNS), table_name="police"),
        ],
        _settings(options),
        log_level=logging.WARNING,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=options.u_pairs, seed=options.seed)
    session = linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("occurred_date"),
        populate_probability_two_random_records_match_from_trained_values=True,
    )
    model = linker.misc.save_model_to_json()
    return _floor_m(
        model, options.min_m
    ), session.core_model_settings.probability_two_random_records_match


def _floor_m(model: dict, floor: float) -> dict:
    """The model with every level's ``m`` at least ``floor`` (each comparison's m summing to 1).

    EM on clean records drives ``m`` of a disagreement never seen among matches towards
    zero, which would make one recording error (a wrong age band) rule a link out.
    """
    floored = copy.deepcopy(model)
    for comparison in floored["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        m = [max(_probability(lv["m_probability"]), floor) for lv in levels]
        for level, value in zip(levels, m, strict=True):
            level["m_probability"] = value / sum(m)
    return floored


def _probability(value: float | str) -> float:
    """Splink writes "level not observed" for a level no pair reached."""
    return float(value) if isinstance(value, int | float) else 0.0


def _records(t: ibis.Table, sel: Selection, source: str, start: date, end: date) -> pa.Table:
    """One source's records as the model sees them, plus the fields the shares group by."""
    rows = filter_incidents(
        t, dataclasses.replace(sel, start=start, end=end, sources=(source,), areas=None)
    )
    known_time = rows.time_known.fill_null(False) & rows.occurred_at.notnull()
    minute = rows.occurred_at.hour() * 60 + rows.occurred_at.minute()
    query = rows.select(
        unique_id=rows.incident_id,
        occurred_date=rows.occurred_date,
        next_date=rows.occurred_date + ibis.interval(days=1),
        minute_of_day=known_time.ifelse(minute, ibis.null("int64")),
        lon=rows.lon,
        lat=rows.lat,
        **{c: rows[c].nullif("unknown") for c in CODED},
        sex_age=rows.sex.fill_null("unknown").concat(" ", rows.age_band.fill_null("unknown")),
        relationship_group=rows.relationship.fill_null("unknown"),
        area=rows[sel.layer],
        place=at_a_venue(rows).ifelse(rows.place_name, ibis.null("string")),
    ).order_by("unique_id")
    return query.to_pyarrow()


def _settings(options: LinkageOptions) -> SettingsCreator:
    apart = (
        "least(abs(minute_of_day_l - minute_of_day_r), "
        f"{MINUTES_PER_DAY} - abs(minute_of_day_l - minute_of_day_r))"
    )
    clock = cl.CustomComparison(
        output_column_name="minute_of_day",
        comparison_levels=[
            cll.NullLevel("minute_of_day"),
            *(
                cll.CustomLevel(f"{apart} <= {m}", label_for_charts=_minutes_label(m))
                for m in options.clock_minutes
            ),
            cll.ElseLevel(),
        ],
    )
    day = cl.AbsoluteDateDifferenceAtThresholds(
        "occurred_date", input_is_string=False, metrics=["day"], thresholds=[1]
    ).configure(m_probabilities=list(options.date_m))
    return SettingsCreator(
        link_type="link_only",
        comparisons=[
            clock,
            day,
            cl.DistanceInKMAtThresholds("lat", "lon", list(options.km)),
            *(cl.ExactMatch(c).configure(term_frequency_adjustments=True) for c in CODED),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("occurred_date"),
            "l.occurred_date = r.next_date",
            "l.next_date = r.occurred_date",
        ],
        max_iterations=options.max_iterations,
        retain_matching_columns=False,
    )


def _minutes_label(minutes: int) -> str:
    return f"within {minutes} min" if minutes else "same minute"


def _ed_first(pairs: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs as ``ed_id``, ``police_id``, ``match_probability``, whichever side is ED."""
    ed_left = pairs["source_dataset_l"] == "ed"
    return pd.DataFrame(
        {
            "ed_id": pairs["unique_id_l"].where(ed_left, pairs["unique_id_r"]),
            "police_id": pairs["unique_id_r"].where(ed_left, pairs["unique_id_l"]),
            "match_probability": pairs["match_probability"],
        }
    )


def _links(clusters: pd.DataFrame, pairs: pd.DataFrame) -> tuple[Link, ...]:
    members = clusters.pivot_table(
        index="cluster_id", columns="source_dataset", values="unique_id", aggfunc="first"
    )
    if "ed" not in members or "police" not in members:
        return ()
    linked = members.dropna(subset=["ed", "police"]).rename(
        columns={"ed": "ed_id", "police": "police_id"}
    )
    scored = linked.merge(pairs, on=["ed_id", "police_id"], how="left").sort_values("ed_id")
    return tuple(
        Link(ed_id, police_id, float(p))
        for ed_id, police_id, p in zip(
            scored["ed_id"], scored["police_id"], scored["match_probability"], strict=True
        )
    )


def _shares(ed: pd.DataFrame, linked: set[str], keys: pd.Series) -> tuple[UnknownShare, ...]:
    """ED records and linked ones per key, by key; records with no key are left out."""
    frame = pd.DataFrame({"key": keys, "linked": ed["unique_id"].isin(linked)})
    grouped = frame.dropna(subset=["key"]).groupby("key", sort=True)["linked"]
    return tuple(
        UnknownShare(str(key), int(n), int(k))
        for key, n, k in zip(grouped.size().index, grouped.size(), grouped.sum(), strict=True)
    )


def _by_count(shares: tuple[UnknownShare, ...]) -> tuple[UnknownShare, ...]:
    return tuple(sorted(shares, key=lambda s: (-s.unknown, s.key)))


def _by_area(
    ed: pd.DataFrame, linked: set[str], areas: tuple[str, ...] | None
) -> tuple[UnknownShare, ...]:
    shares = _shares(ed, linked, ed["area"])
    if areas is not None:
        shares = tuple(s for s in shares if s.key in areas)
    return _by_count(shares)


def _weights(model: dict) -> tuple[LevelWeight, ...]:
    """Every non-null level's m and u, for review."""
    return tuple(
        LevelWeight(
            comparison=comparison["output_column_name"],
            level=level.get("label_for_charts", level["sql_condition"]),
            m=_probability(level["m_probability"]),
            u=_probability(level["u_probability"]),
        )
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if not level.get("is_null_level")
    )
