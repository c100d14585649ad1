"""The canonical incident table and its code lists: the single source of truth.

Every record from every source (Emergency Department, ambulance, police) becomes one row
of this table. Code lists follow the ISTV data standard (ISB/DCB 1594) where it has one,
with the local additions the Cardiff TIIG data set made common (age, sex, relationship).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SOURCES = ("ed", "ambulance", "police")

# ISTV "assault method": weapon or body part.
WEAPONS = (
    "body",  # fist, feet, head: no weapon
    "knife_sharp",
    "bottle_glass",
    "blunt_object",
    "firearm",
    "other",
    "unknown",
)

# ISTV "assault location type", with transport split out because night buses and
# stations are their own interventions.
LOCATION_TYPES = (
    "home",  # the patient's own home
    "other_home",  # someone else's home
    "street",  # street or other public place
    "licensed_premises",
    "transport",
    "school_work",
    "other",
    "unknown",
)

SEXES = ("male", "female", "other", "unknown")

RELATIONSHIPS = ("stranger", "acquaintance", "partner", "family", "other", "unknown")

# Bands used in TIIG/ISTV reporting; 18-24 and 25-34 separate the peak risk group.
AGE_BANDS = ("0-10", "11-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown")

MATCH_METHODS = ("coordinates", "exact", "normalised", "fuzzy", "review", "home", "unresolved")

# Area layers an incident can be placed in; each configured layer fills one column.
AREA_LAYERS = ("beat", "lsoa", "ward", "la")


@dataclass(frozen=True)
class Column:
    """One column of the canonical table: name, Arrow type and what it means."""

    name: str
    type: pa.DataType
    description: str
    codes: tuple[str, ...] | None = None


INCIDENT_COLUMNS: tuple[Column, ...] = (
    Column("incident_id", pa.string(), "Stable hash of source, site and source record id."),
    Column("source", pa.string(), "Which kind of organisation recorded it.", SOURCES),
    Column("site", pa.string(), "Hospital, police force or ambulance service code."),
    Column("batch_id", pa.string(), "The ingest batch (one file) that brought it in."),
    Column("occurred_at", pa.timestamp("us"), "When the assault happened (time may be unknown)."),
    Column("occurred_date", pa.date32(), "Date of the assault; always set."),
    Column("time_known", pa.bool_(), "False when only the date (or month) was recorded."),
    Column("arrived_at", pa.timestamp("us"), "Arrival at the Emergency Department (ED only)."),
    Column("location_text", pa.string(), "Free-text location, cleaned of identifiers."),
    Column("location_type", pa.string(), "Kind of place.", LOCATION_TYPES),
    Column("place_id", pa.string(), "Gazetteer place the location resolved to."),
    Column("place_name", pa.string(), "Name of that place."),
    Column("match_score", pa.float64(), "Confidence of the location match, 0 to 1."),
    Column("match_method", pa.string(), "How the location was resolved.", MATCH_METHODS),
    Column("lon", pa.float64(), "Longitude (WGS84)."),
    Column("lat", pa.float64(), "Latitude (WGS84)."),
    Column("beat", pa.string(), "Police beat code."),
    Column("lsoa", pa.string(), "Lower Layer Super Output Area code."),
    Column("ward", pa.string(), "Electoral ward code."),
    Column("la", pa.string(), "Local authority code."),
    Column("weapon", pa.string(), "Assault method.", WEAPONS),
    Column("assailants", pa.int32(), "Number of assailants, where recorded."),
    Column("relationship", pa.string(), "Relationship to the assailant.", RELATIONSHIPS),
    Column("age_band", pa.string(), "Age band of the injured person.", AGE_BANDS),
    Column("sex", pa.string(), "Sex of the injured person.", SEXES),
    Column("crime_type", pa.string(), "Police crime classification (police only)."),
    Column("admitted", pa.bool_(), "Admitted to hospital (ED only)."),
)

INCIDENT_SCHEMA = pa.schema([pa.field(c.name, c.type) for c in INCIDENT_COLUMNS])
COLUMN_NAMES = tuple(c.name for c in INCIDENT_COLUMNS)
CODE_LISTS = {c.name: c.codes for c in INCIDENT_COLUMNS if c.codes is not None}

# Columns a source mapping may fill from its own file (the rest are derived at ingest).
MAPPABLE_FIELDS = (
    "source_record_id",
    "occurred_at",
    "occurred_date",
    "occurred_time",
    "arrived_at",
    "location_text",
    "location_type",
    "lon",
    "lat",
    "weapon",
    "assailants",
    "relationship",
    "age",
    "date_of_birth",  # read only to band the age at the assault; never stored
    "age_band",
    "sex",
    "crime_type",
    "admitted",
    *AREA_LAYERS,  # an official area code the record carries (police.uk "LSOA code")
)


def age_band(age: int | None) -> str:
    """Band an age in years; ages outside 0-120 are treated as unknown."""
    if age is None or age < 0 or age > 120:
        return "unknown"
    for band in AGE_BANDS[:-2]:
        low, high = (int(x) for x in band.split("-"))
        if low <= age <= high:
            return band
    return "65+"
