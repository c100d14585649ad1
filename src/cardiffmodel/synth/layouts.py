"""The five extract layouts: file format, columns and each source's own code spellings.

A layout is the single definition of a source: the writers spell values only from its
``codes`` tables and the ``[[sources]]`` entry for cardiff.toml is made from the same
tables, so every value written (apart from deliberately planted bad codes) is translated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

AGE_BANDS = ("0-10", "11-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


@dataclass(frozen=True)
class Layout:
    """How one organisation's monthly extract looks."""

    name: str
    kind: str  # ed | ambulance | police
    site: str
    folder: str  # under the output folder, e.g. "ed/uhw"
    format: str  # csv | xlsx
    header: tuple[str, ...]
    columns: dict[str, str]  # canonical field -> file column
    codes: dict[str, dict[str, str]]  # canonical field -> {raw spelling -> canonical code}
    formats: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"
    sheet: str | None = None
    crime_types: tuple[str, ...] = ()
    unknown_code: tuple[str, str] = ("weapon", "??")  # (canonical field, a planted bad code)
    codes_change: bool = False  # weapon spellings switch from the first to the second mid-way

    @property
    def suffix(self) -> str:
        return ".xlsx" if self.format == "xlsx" else ".csv"

    def spell(
        self, rng: np.random.Generator, canonical_field: str, code: str, variant: int | None = None
    ) -> str:
        """A raw spelling of a canonical code: mostly the usual one, sometimes another;
        ``variant`` picks one exactly (for a department that changed its codes)."""
        options = [
            raw for raw, canonical in self.codes[canonical_field].items() if canonical == code
        ]
        if not options:
            raise KeyError(f"layout {self.name}: no spelling of {canonical_field}={code!r}")
        if variant is not None:
            return options[min(variant, len(options) - 1)]
        if len(options) == 1 or rng.random() < 0.8:
            return options[0]
        return options[int(rng.integers(1, len(options)))]

    def column(self, canonical_field: str) -> str:
        return self.columns[canonical_field]

    def source_entry(self) -> dict[str, Any]:
        """The ``[[sources]]`` table for cardiff.toml, as ``config.settings_from_dict`` reads it."""
        entry: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "site": self.site,
            "format": self.format,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "columns": dict(self.columns),
            "formats": dict(self.formats),
            "codes": {f: dict(table) for f, table in self.codes.items()},
        }
        if self.sheet is not None:
            entry["sheet"] = self.sheet
        if self.crime_types:
            entry["crime_types"] = list(self.crime_types)
        return entry


def _table(**spellings: tuple[str, ...]) -> dict[str, str]:
    """{canonical: (raw, raw, ...)} written as keyword arguments -> {raw: canonical}."""
    return {raw: canonical for canonical, raws in spellings.items() for raw in raws}


UHW = Layout(
    name="uhw",
    kind="ed",
    site="7A4BV",
    folder="ed/uhw",
    format="csv",
    encoding="utf-8-sig",
    header=(
        "AttendanceNo",
        "ArrivalDateTime",
        "IncidentDate",
        "IncidentTime",
        "PatientName",
        "NHSNumber",
        "DOB",
        "Age",
        "Gender",
        "IncidentLocation",
        "LocationType",
        "AssaultMethod",
        "Relationship",
        "NoOfAssailants",
        "Disposal",
    ),
    columns={
        "source_record_id": "AttendanceNo",
        "arrived_at": "ArrivalDateTime",
        "occurred_date": "IncidentDate",
        "occurred_time": "IncidentTime",
        "age": "Age",
        "sex": "Gender",
        "location_text": "IncidentLocation",
        "location_type": "LocationType",
        "weapon": "AssaultMethod",
        "relationship": "Relationship",
        "assailants": "NoOfAssailants",
        "admitted": "Disposal",
    },
    formats={"arrived_at": "%d/%m/%Y %H:%M", "occurred_date": "%d/%m/%Y", "occurred_time": "%H:%M"},
    codes={
        "sex": _table(male=("Male", "M"), female=("Female", "F"), unknown=("Not known",)),
        "location_type": _table(
            home=("Home", "Own home"),
            other_home=("Other's home", "Someone else's home"),
            street=("Street/Public place", "Street"),
            licensed_premises=("Licensed premises (pub/club)", "Pub/Club"),
            transport=("Public transport",),
            school_work=("School/Work",),
            other=("Other",),
            unknown=("Not known",),
        ),
        "weapon": _table(
            body=("Fist/Feet", "Punched/Kicked", "Body part"),
            knife_sharp=("Knife/Sharp object", "Knife"),
            bottle_glass=("Bottle/Glass", "Glass"),
            blunt_object=("Blunt object",),
            firearm=("Firearm",),
            other=("Other",),
            unknown=("Not known",),
        ),
        "relationship": _table(
            stranger=("Stranger",),
            acquaintance=("Friend/acquaintance",),
            partner=("Partner/ex-partner",),
            family=("Family member",),
            other=("Other",),
            unknown=("Not known",),
        ),
        "admitted": _table(
            true=("Admitted", "Transferred"),
            false=("Discharged", "Referred to GP", "Left before treatment"),
        ),
    },
    unknown_code=("weapon", "Code 99"),
)

LLANDOUGH = Layout(
    name="llandough",
    kind="ed",
    site="7A4C1",
    folder="ed/llandough",
    format="csv",
    delimiter=";",
    encoding="cp1252",
    header=(
        "Ref",
        "Arrived",
        "Assault Date/Time",
        "Where",
        "Place Type",
        "Weapon",
        "Assailant",
        "Sex",
        "Age (yrs)",
        "Admitted?",
        "Pt Postcode",
    ),
    columns={
        "source_record_id": "Ref",
        "arrived_at": "Arrived",
        "occurred_at": "Assault Date/Time",
        "location_text": "Where",
        "location_type": "Place Type",
        "weapon": "Weapon",
        "relationship": "Assailant",
        "sex": "Sex",
        "age": "Age (yrs)",
        "admitted": "Admitted?",
    },
    formats={"arrived_at": "%Y-%m-%d %H:%M", "occurred_at": "%Y-%m-%d %H:%M"},
    codes={
        # Two-letter codes until the department's system changed, words after.
        "weapon": _table(
            body=("FI", "Kicked/Punched"),
            knife_sharp=("KN", "knife"),
            bottle_glass=("GL", "glass"),
            blunt_object=("BL", "blunt instrument"),
            firearm=("FA", "gun"),
            other=("OT", "other"),
            unknown=("NK", "not known"),
        ),
        "location_type": _table(
            home=("HOME", "OWN HOME"),
            other_home=("OTHER HOME", "OTHER PERSONS HOME"),
            street=("STREET", "PUBLIC PLACE"),
            licensed_premises=("PUB/CLUB", "LICENSED"),
            transport=("TRANSPORT",),
            school_work=("WORK/SCHOOL",),
            other=("OTHER",),
            unknown=("NK",),
        ),
        "relationship": _table(
            stranger=("STRANGER",),
            acquaintance=("KNOWN",),
            partner=("PARTNER",),
            family=("FAMILY",),
            other=("OTHER",),
            unknown=("NK",),
        ),
        "sex": _table(male=("M",), female=("F",), unknown=("U",)),
        "admitted": _table(true=("Y", "Yes"), false=("N", "No")),
    },
    unknown_code=("weapon", "ZZ"),
    codes_change=True,
)

CRI = Layout(
    name="cri",
    kind="ed",
    site="7A4CR",
    folder="ed/cri",
    format="xlsx",
    sheet="MIU assaults",
    header=(
        "Case ID",
        "Arrival",
        "Assault date",
        "Assault time",
        "Location description",
        "Location category",
        "Mechanism",
        "Victim-assailant relationship",
        "Assailants",
        "Sex",
        "Age band",
        "Outcome",
    ),
    columns={
        "source_record_id": "Case ID",
        "arrived_at": "Arrival",
        "occurred_date": "Assault date",
        "occurred_time": "Assault time",
        "location_text": "Location description",
        "location_type": "Location category",
        "weapon": "Mechanism",
        "relationship": "Victim-assailant relationship",
        "assailants": "Assailants",
        "sex": "Sex",
        "age_band": "Age band",
        "admitted": "Outcome",
    },
    # Cells hold Excel dates and times; these formats read their text form
    # (str(datetime), str(time)) for a reader that turns cells into strings.
    formats={
        "arrived_at": "%Y-%m-%d %H:%M:%S",
        "occurred_date": "%Y-%m-%d %H:%M:%S",
        "occurred_time": "%H:%M:%S",
    },
    codes={
        "weapon": _table(
            body=("Punch/kick", "Assault - fists"),
            bottle_glass=("Glass/bottle",),
            knife_sharp=("Knife/blade", "Stabbing"),
            blunt_object=("Blunt instrument",),
            firearm=("Gun",),
            other=("Other",),
            unknown=("Unknown",),
        ),
        "location_type": _table(
            home=("Own home",),
            other_home=("Another home",),
            street=("Street",),
            licensed_premises=("Pub/club/bar",),
            transport=("Bus/train",),
            school_work=("Workplace/school",),
            other=("Other",),
            unknown=("Unknown",),
        ),
        "relationship": _table(
            stranger=("Stranger",),
            acquaintance=("Known to patient",),
            partner=("Partner",),
            family=("Relative",),
            other=("Other",),
            unknown=("Unknown",),
        ),
        "sex": _table(male=("Male",), female=("Female",), unknown=("Unknown",)),
        "age_band": {
            **{band.replace("-", " - "): band for band in AGE_BANDS[:-1]},
            "65 and over": "65+",
            "Not recorded": "unknown",
        },
        "admitted": _table(
            true=("Transferred to UHW",), false=("Discharged home", "Self discharged", "Discharged")
        ),
    },
    unknown_code=("weapon", "See notes"),
)

WAS = Layout(
    name="was",
    kind="ambulance",
    site="RT4",
    folder="ambulance/was",
    format="csv",
    header=(
        "IncidentNumber",
        "CallDateTime",
        "Longitude",
        "Latitude",
        "IncidentAddress",
        "PropertyType",
        "ChiefComplaint",
        "PatientAge",
        "PatientGender",
        "Outcome",
    ),
    columns={
        "source_record_id": "IncidentNumber",
        "occurred_at": "CallDateTime",
        "lon": "Longitude",
        "lat": "Latitude",
        "location_type": "PropertyType",
        "weapon": "ChiefComplaint",
        "age": "PatientAge",
        "sex": "PatientGender",
    },
    formats={"occurred_at": "%d/%m/%Y %H:%M:%S"},
    codes={
        # Dispatch codes say how badly, not with what: only penetrating injury names a weapon.
        "weapon": _table(
            knife_sharp=("Stab/Gunshot/Penetrating Trauma",),
            unknown=(
                "Assault/Sexual Assault/Stun Gun",
                "Haemorrhage/Lacerations",
                "Unconscious/Fainting",
            ),
        ),
        "location_type": _table(
            home=("Residential",),
            street=("Street/Road", "Open space"),
            licensed_premises=("Public house/club",),
            transport=("Transport hub",),
            school_work=("Workplace", "School"),
            other=("Other premises",),
            unknown=("Not recorded",),
        ),
        "sex": _table(male=("Male",), female=("Female",), unknown=("Unknown",)),
    },
    unknown_code=("weapon", "99Z01"),
)

SWP = Layout(
    name="swp",
    kind="police",
    site="62",
    folder="police/swp",
    format="csv",
    header=(
        "CrimeReference",
        "OffenceDate",
        "OffenceTime",
        "CrimeType",
        "Location",
        "Longitude",
        "Latitude",
        "LocationCategory",
        "VictimAgeBand",
        "VictimSex",
        "VictimOffenderRelationship",
        "WeaponUsed",
    ),
    columns={
        "source_record_id": "CrimeReference",
        "occurred_date": "OffenceDate",
        "occurred_time": "OffenceTime",
        "crime_type": "CrimeType",
        "lon": "Longitude",
        "lat": "Latitude",
        "location_type": "LocationCategory",
        "age_band": "VictimAgeBand",
        "sex": "VictimSex",
        "relationship": "VictimOffenderRelationship",
        "weapon": "WeaponUsed",
    },
    formats={"occurred_date": "%d/%m/%Y", "occurred_time": "%H%M"},
    codes={
        "weapon": _table(
            body=("None", "No weapon"),
            knife_sharp=("Knife/Sharp Instrument",),
            bottle_glass=("Bottle/Glass",),
            blunt_object=("Blunt Instrument",),
            firearm=("Firearm",),
            other=("Other Weapon",),
            unknown=("Not Recorded",),
        ),
        # Police record a dwelling without saying whose.
        "location_type": _table(
            home=("Dwelling",),
            street=("Street/Highway", "Public Place"),
            licensed_premises=("Licensed Premises",),
            transport=("Public Transport",),
            school_work=("Commercial/Workplace", "Education Establishment"),
            other=("Other",),
            unknown=("Not Recorded",),
        ),
        "age_band": {
            "Under 11": "0-10",
            **{band: band for band in AGE_BANDS[1:-1]},
            "65+": "65+",
            "Not Stated": "unknown",
        },
        "sex": _table(male=("Male",), female=("Female",), unknown=("Unknown",)),
        "relationship": _table(
            stranger=("Stranger",),
            acquaintance=("Acquaintance",),
            partner=("Partner/Ex-Partner",),
            family=("Family Member",),
            other=("Other",),
            unknown=("Not Recorded",),
        ),
    },
    crime_types=("Violence with injury", "Violence without injury", "Robbery of personal property"),
    unknown_code=("weapon", "WPN-UNK"),
)

LAYOUTS = (UHW, LLANDOUGH, CRI, WAS, SWP)
