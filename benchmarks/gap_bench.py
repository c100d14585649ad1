"""The gap: how well linkage finds ED attendances unknown to the police, against the truth.

Builds the synthetic city at full scale (two years: about 8,000 ED attendances and
24,000 police records, with about 59% of attendances never reported, as Gray et al.
2017 measured in South Wales), ingests it, links every ED record to the police records
with :func:`cardiffmodel.analysis.linkage.link_ed_police`, and compares the links and
the estimated unknown-to-police share with the city's ground truth. The baseline is the
rule an analyst might write by hand: an ED record is the police record of the same day,
same beat and same sex (every such pair is a link).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path

import ibis
import pandas as pd

from benchmarks import row
from cardiffmodel.analysis.linkage import Link, known_links, link_ed_police, link_quality
from cardiffmodel.analysis.selection import Selection
from cardiffmodel.demo import build_demo_store

DATA = Path(os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
START, END = date(2018, 1, 1), date(2020, 1, 1)
GROUPS = {"sex_age": ("male 18-24", "male 25-34", "female 25-34"), "relationship": ("stranger",)}


def naive_links(t: ibis.Table) -> tuple[Link, ...]:
    """Every ED-police pair of the same day, beat and sex (both placed, sex known)."""
    in_period = (t.occurred_date >= START) & (t.occurred_date < END)
    placed = t.filter(in_period, t.beat.notnull(), t.sex != "unknown")
    ed = placed.filter(placed.source == "ed").select(
        ed_id="incident_id", day="occurred_date", area="beat", who="sex"
    )
    police = placed.filter(placed.source == "police").select(
        police_id="incident_id", day="occurred_date", area="beat", who="sex"
    )
    pairs = ed.join(police, ["day", "area", "who"]).select("ed_id", "police_id").to_pyarrow()
    return tuple(
        Link(e, p, 1.0)
        for e, p in zip(pairs["ed_id"].to_pylist(), pairs["police_id"].to_pylist(), strict=True)
    )


def true_unknown(ed: pd.DataFrame, truly_linked: set[str], keys: pd.Series) -> dict[str, float]:
    """The true unknown-to-police share of the ED records, overall and per key."""
    unknown = ~ed["incident_id"].isin(truly_linked)
    return {"all": float(unknown.mean()), **unknown.groupby(keys).mean().to_dict()}


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        build_demo_store(Path(folder), DATA, seed=1, months=24, scale=1.0)
        truth = pd.read_parquet(Path(folder) / "extracts" / "truth.parquet")
        con = ibis.duckdb.connect(Path(folder) / "cardiff.duckdb", read_only=True)
        t = con.table("incidents")
        ed = t.filter(t.source == "ed").select("incident_id", "sex", "age_band", "relationship")
        ed = ed.to_pandas()
        started = time.perf_counter()
        result = link_ed_police(t, Selection(START, END))
        seconds = time.perf_counter() - started
        naive = naive_links(t)
        con.disconnect()
    stored = set(ed["incident_id"])
    true = {(e, p) for e, p in known_links(truth) if e in stored}
    truly_linked = {e for e, _ in true}
    ours, base = link_quality(result.links, true), link_quality(naive, true)
    naive_share = 1 - len({link.ed_id for link in naive}) / len(ed)
    truth_share = true_unknown(ed, truly_linked, ed["sex"] + " " + ed["age_band"])
    truth_share |= true_unknown(ed, truly_linked, ed["relationship"])
    rows = [
        _row("gap: link precision, Splink vs same day+beat+sex", ours.precision, base.precision),
        _row("gap: link recall, Splink vs same day+beat+sex", ours.recall, base.recall),
        _row(
            "gap: |unknown share - truth|, Splink vs same day+beat+sex",
            abs(result.unknown_share - truth_share["all"]),
            abs(naive_share - truth_share["all"]),
        ),
        _row(
            "gap: ED unknown to police, Splink estimate vs truth",
            result.unknown_share,
            truth_share["all"],
        ),
        _row(
            "gap: ED unknown to police, probability-weighted vs truth",
            result.expected_unknown_share,
            truth_share["all"],
        ),
    ]
    for field, keys in GROUPS.items():
        shares = {s.key: s.unknown_share for s in getattr(result, f"by_{field}")}
        rows.extend(
            _row(f"gap: unknown share of {key}, Splink vs truth", shares[key], truth_share[key])
            for key in keys
        )
    rows.append(
        _row(
            f"gap: linking {result.ed_records} ED to {result.police_records} police vs 60 s",
            seconds,
            60.0,
            unit="s",
        )
    )
    return rows


def _row(target: str, ours: float, baseline: float, unit: str = "share") -> dict:
    return row(target, ours, baseline, unit)


if __name__ == "__main__":
    for row in run():
        print(row)
