"""Layouts fixed by a publisher or a standard, so a source only names its format.

``format = "police_uk"`` reads data.police.uk street-level crime files as published;
``format = "istv"`` reads Emergency Department extracts laid out with the data element
names of the Information Sharing to Tackle Violence minimum data set (ISB 1594). A
source's own ``columns`` and ``codes`` in cardiff.toml are applied on top of a preset, so a
site that adds local fields (age, sex) or spells a code its own way only lists those.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from cardiffmodel.config import SourceConfig
from cardiffmodel.ingest.readers import FileRejected

# data.police.uk publishes month, map point, the LSOA it coded and crime type only.
POLICE_UK_COLUMNS = {
    "source_record_id": "Crime ID",
    "occurred_date": "Month",
    "lon": "Longitude",
    "lat": "Latitude",
    "location_text": "Location",
    "lsoa": "LSOA code",
    "crime_type": "Crime type",
}
POLICE_UK_VIOLENCE = ("Violence and sexual offences",)

# ISB 1594 submission header, then one row per assault attendance.
ISTV_PERIOD_START = "REPORTING PERIOD START DATE"
ISTV_PERIOD_END = "REPORTING PERIOD END DATE"
ISTV_SITE = "SITE CODE (OF TREATMENT)"
ISTV_HEADER = (ISTV_PERIOD_START, ISTV_PERIOD_END, ISTV_SITE)
ISTV_COLUMNS = {
    "arrived_at": "ARRIVAL DATE AND TIME AT ACCIDENT AND EMERGENCY DEPARTMENT",
    "occurred_at": "ASSAULT DATE AND TIME",
    "weapon": "ASSAULT METHOD",
    "location_type": "ASSAULT LOCATION TYPE",
    "location_text": "ASSAULT LOCATION DESCRIPTION",
}
# "ASSAULT METHOD OTHER DESCRIPTION" is free text that no analysis needs: never read.
ISTV_CODES = {
    "weapon": {
        "body part": "body",
        "fist/feet": "body",
        "fist": "body",
        "feet": "body",
        "head": "body",
        "knife/sharp object": "knife_sharp",
        "knife": "knife_sharp",
        "sharp object": "knife_sharp",
        "bottle/glass": "bottle_glass",
        "bottle": "bottle_glass",
        "glass": "bottle_glass",
        "blunt object": "blunt_object",
        "firearm": "firearm",
        "other": "other",
        "not known": "unknown",
    },
    "location_type": {
        "home": "home",
        "own home": "home",
        "someone else's home": "other_home",
        "other home": "other_home",
        "street/public place": "street",
        "street": "street",
        "public place": "street",
        "licensed premises": "licensed_premises",
        "public transport": "transport",
        "school/work": "school_work",
        "school": "school_work",
        "work": "school_work",
        "other": "other",
        "not known": "unknown",
    },
}


@dataclass(frozen=True)
class Preset:
    """A source with its preset applied, and what the file itself must carry."""

    source: SourceConfig
    preamble: tuple[str, ...] = ()
    published: bool = False  # a force-wide public file: rows with no location are unlocatable


def apply_preset(source: SourceConfig) -> Preset:
    """The effective mapping of a source (its own settings over its format's preset)."""
    if source.format == "police_uk":
        return Preset(
            replace(
                source,
                format="csv",
                columns={**POLICE_UK_COLUMNS, **source.columns},
                formats={"occurred_date": "%Y-%m", **source.formats},
                crime_types=source.crime_types or POLICE_UK_VIOLENCE,
            ),
            published=True,
        )
    if source.format == "istv":
        codes = {f: {**ISTV_CODES.get(f, {}), **source.codes.get(f, {})} for f in ISTV_CODES}
        return Preset(
            replace(
                source,
                format="csv",
                columns={**ISTV_COLUMNS, **source.columns},
                codes={**source.codes, **codes},
            ),
            preamble=ISTV_HEADER,
        )
    return Preset(source)


def istv_period(file: str, preamble: dict[str, str], site: str) -> tuple[date, date]:
    """Check an ISTV submission header against the source; return its reporting period."""
    if preamble[ISTV_SITE].strip().upper() != site.strip().upper():
        raise FileRejected(
            f"{file}: {ISTV_SITE} is {preamble[ISTV_SITE]!r} but this source is site "
            f"{site!r}: is the file from another hospital?"
        )
    start = _header_date(file, ISTV_PERIOD_START, preamble[ISTV_PERIOD_START])
    end = _header_date(file, ISTV_PERIOD_END, preamble[ISTV_PERIOD_END])
    if end < start:
        raise FileRejected(f"{file}: {ISTV_PERIOD_END} {end} is before {ISTV_PERIOD_START} {start}")
    return start, end


def _header_date(file: str, key: str, value: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise FileRejected(f"{file}: {key} {value!r} is not a date like 2019-01-31 or 31/01/2019")
