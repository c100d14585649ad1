"""Turn true events into the rows each organisation would have written about them.

Each builder returns, per record, the row (file column -> cell value) and what the truth
table needs about the record itself: the gazetteer place its text names, the noise applied
and the identifiers planted. Recorded values are imperfect copies of the truth: weapons and
places not known, times left blank or rounded, ambulance pick-ups a few metres off, police
points snapped to the published police.uk map points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from cardiffmodel.schema import age_band
from cardiffmodel.synth import identity
from cardiffmodel.synth.layouts import Layout
from cardiffmodel.synth.texts import Scene, Style, location_text
from cardiffmodel.synth.world import Geography, from_metres, to_metres

STYLES = {
    "uhw": Style(upper=0.08, lower=0.25, blank=0.15),
    "llandough": Style(upper=0.45, lower=0.10, blank=0.17),
    "cri": Style(upper=0.05, lower=0.15, blank=0.12),
}
AMBULANCE_JITTER_M = 30.0
AMBULANCE_PROPERTY = {
    "home": "home",
    "other_home": "home",
    "street": "street",
    "licensed_premises": "licensed_premises",
    "transport": "transport",
    "school_work": "school_work",
    "other": "other",
}


@dataclass(frozen=True)
class Record:
    """One row of one extract and what the truth table says about it."""

    event_id: str
    when: datetime  # the date that decides the monthly file
    cells: dict[str, Any]
    text_place_id: str | None
    noise: tuple[str, ...]
    identifiers: tuple[str, ...]


def cell(layout: Layout, canonical_field: str, value: datetime) -> Any:
    """A date/time cell as this source writes it: Excel values in XLSX, text in CSV."""
    if layout.format == "xlsx":
        if canonical_field == "occurred_time":
            return value.time()
        return value.date() if canonical_field == "occurred_date" else value
    return value.strftime(layout.formats[canonical_field])


def occurred_cells(layout: Layout, when: datetime, time_known: bool) -> dict[str, Any]:
    """The assault date and time in this source's columns (one datetime or date + time)."""
    if "occurred_at" in layout.columns:
        return {layout.column("occurred_at"): cell(layout, "occurred_at", when)}
    return {
        layout.column("occurred_date"): cell(
            layout, "occurred_date", datetime.combine(when.date(), time())
        ),
        layout.column("occurred_time"): cell(layout, "occurred_time", when) if time_known else None,
    }


class Streets:
    """Nearest gazetteer street to any point: for home addresses and 'bus stop on X'."""

    def __init__(self, geo: Geography):
        self.index = np.array([i for i, p in enumerate(geo.places) if p.kind == "street"])
        xy = to_metres(
            [geo.places[i].lon for i in self.index], [geo.places[i].lat for i in self.index]
        )
        self.tree = STRtree(shapely.points(xy))

    def nearest(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        found = self.tree.query_nearest(shapely.points(to_metres(lon, lat)), all_matches=False)
        return self.index[found[1]]


def ed_records(
    layout: Layout,
    events: pd.DataFrame,
    geo: Geography,
    streets: Streets,
    code_change: date,
    rng: np.random.Generator,
) -> list[Record]:
    """Emergency Department rows: arrival, assault time, free-text place, codes, patient."""
    style = STYLES[layout.name]
    near_street = streets.nearest(events["lon"].to_numpy(), events["lat"].to_numpy())
    records = []
    for row, nearest in zip(events.itertuples(index=False), near_street, strict=True):
        scene = _scene(row, geo, int(nearest))
        text = location_text(rng, scene, style)
        noise = list(text.noise)
        observed = _observe(row, rng, noise)
        arrived = row.arrived_at.to_pydatetime()
        occurred = row.occurred_at.to_pydatetime()
        # A single date-time column always gets a time; split columns leave some blank.
        time_known = "occurred_at" in layout.columns or rng.random() >= 0.06
        if not time_known:
            noise.append("time_blank")
        cells = {
            layout.column("source_record_id"): None,  # numbered once rows are in order
            layout.column("arrived_at"): cell(layout, "arrived_at", arrived),
            **occurred_cells(layout, occurred, time_known),
            layout.column("location_text"): text.text,
            layout.column("location_type"): layout.spell(
                rng, "location_type", observed["location_type"]
            ),
            layout.column("sex"): layout.spell(rng, "sex", observed["sex"]),
            layout.column("admitted"): layout.spell(rng, "admitted", str(row.admitted).lower()),
            layout.column("relationship"): layout.spell(
                rng, "relationship", observed["relationship"]
            ),
        }
        variant = int(occurred.date() >= code_change) if layout.codes_change else None
        cells[layout.column("weapon")] = layout.spell(rng, "weapon", observed["weapon"], variant)
        if "assailants" in layout.columns:
            cells[layout.column("assailants")] = observed["assailants"]
        cells.update(_patient(layout, row, arrived, geo, rng))
        if layout.encoding == "cp1252":
            cells = _cp1252(layout, cells, noise)
        records.append(
            Record(row.event_id, arrived, cells, text.place_id, tuple(noise), text.identifiers)
        )
    return records


def _scene(row, geo: Geography, nearest_street: int) -> Scene:
    place = geo.places[row.place_index] if row.place_index >= 0 else None
    street_index = geo.place_street[row.place_index] if row.place_index >= 0 else nearest_street
    nearby = geo.nearest_venue[row.place_index] if row.place_index >= 0 else -1
    home = row.home_index >= 0
    return Scene(
        setting=row.setting,
        location_type=row.location_type,
        place=place,
        street=geo.places[street_index] if street_index >= 0 else None,
        nearby=geo.places[nearby] if nearby >= 0 else None,
        area_name=geo.layer.name_of(row.beat) if isinstance(row.beat, str) else None,
        sector=geo.homes.sector[row.home_index] if home else "",
    )


def _observe(row, rng: np.random.Generator, noise: list[str]) -> dict[str, Any]:
    """What reception recorded: mostly the truth, with the gaps real extracts have."""
    observed = {
        "weapon": row.weapon,
        "location_type": row.location_type,
        "sex": row.sex,
        "relationship": row.relationship,
        "assailants": row.assailants,
    }
    for field, p, missing in (
        ("weapon", 0.08, "unknown"),
        ("location_type", 0.06, "unknown"),
        ("relationship", 0.15, "unknown"),
        ("sex", 0.01, "unknown"),
        ("assailants", 0.10, None),
    ):
        if rng.random() < p:
            observed[field] = missing
            noise.append(f"{field}_missing")
    return observed


def _patient(
    layout: Layout, row, arrived: datetime, geo: Geography, rng: np.random.Generator
) -> dict[str, Any]:
    """Age and the identifying columns each department's system exports."""
    if layout.name == "uhw":
        return {
            "PatientName": identity.full_name(rng, row.sex),
            "NHSNumber": identity.nhs_number(rng),
            "DOB": identity.date_of_birth(rng, int(row.age), arrived.date()).strftime("%d/%m/%Y"),
            "Age": str(row.age),
        }
    if layout.name == "llandough":
        sector = (
            geo.homes.sector[row.home_index]
            if row.home_index >= 0
            else geo.homes.sector[int(rng.integers(len(geo.homes.sector)))]
        )
        return {"Age (yrs)": str(row.age), "Pt Postcode": identity.postcode(rng, sector)}
    return {layout.column("age_band"): layout.spell(rng, "age_band", age_band(int(row.age)))}


def _cp1252(layout: Layout, cells: dict[str, Any], noise: list[str]) -> dict[str, Any]:
    """Characters the department's system cannot store become '?', as they do."""
    column = layout.column("location_text")
    text = cells[column]
    stored = text.encode("cp1252", errors="replace").decode("cp1252")
    if stored == text:
        return cells
    noise.append("encoding_loss")
    return {**cells, column: stored}


def ambulance_records(
    layout: Layout, events: pd.DataFrame, streets: Streets, geo: Geography, rng: np.random.Generator
) -> list[Record]:
    """Ambulance calls: when the call came, where the crew picked the patient up."""
    n = len(events)
    xy = to_metres(events["lon"].to_numpy(), events["lat"].to_numpy())
    lon, lat = from_metres(xy + rng.normal(0, AMBULANCE_JITTER_M / 1.4, (n, 2)))
    near = streets.nearest(events["lon"].to_numpy(), events["lat"].to_numpy())
    draws = rng.random((n, 4))
    records = []
    for i, row in enumerate(events.itertuples(index=False)):
        noise = ["jitter"]
        called = row.call_at.to_pydatetime()
        street = geo.places[int(near[i])].name
        if row.setting == "home":
            address = (
                f"{rng.integers(1, 180)} {street}, Cardiff "
                f"{identity.postcode(rng, geo.homes.sector[row.home_index])}"
            )
            identifiers = ("address", "postcode")
        else:
            address, identifiers = f"{street}, Cardiff", ()
        weapon = "knife_sharp" if row.weapon in ("knife_sharp", "firearm") else "unknown"
        age = "" if draws[i, 0] < 0.05 else str(row.age)
        sex = "unknown" if draws[i, 1] < 0.03 else row.sex
        if age == "" or sex == "unknown":
            noise.append("patient_missing")
        cells = {
            "IncidentNumber": None,
            "CallDateTime": cell(layout, "occurred_at", called),
            "Longitude": f"{lon[i]:.6f}",
            "Latitude": f"{lat[i]:.6f}",
            "IncidentAddress": address,
            "PropertyType": layout.spell(
                rng, "location_type", AMBULANCE_PROPERTY[row.location_type]
            ),
            "ChiefComplaint": layout.spell(rng, "weapon", weapon),
            "PatientAge": age,
            "PatientGender": layout.spell(rng, "sex", sex),
            "Outcome": f"Conveyed to {row.ed_site.upper()}" if row.in_ed else "Not conveyed",
        }
        records.append(Record(row.event_id, called, cells, None, tuple(noise), identifiers))
    return records


def police_records(
    layout: Layout, events: pd.DataFrame, geo: Geography, street_ids: dict, rng: np.random.Generator
) -> list[Record]:
    """Police crimes: offence date and time, crime type, point snapped to the police.uk map."""
    n = len(events)
    snapped = geo.snap.nearest(events["lon"].to_numpy(), events["lat"].to_numpy())
    draws = rng.random((n, 6))
    records = []
    for i, row in enumerate(events.itertuples(index=False)):
        noise = ["snapped"]
        occurred = row.occurred_at.to_pydatetime()
        time_known = draws[i, 0] >= 0.05
        if not time_known:
            noise.append("time_blank")
        elif draws[i, 1] < 0.2:
            occurred = occurred.replace(minute=0)
            noise.append("time_rounded")
        location = geo.snap.location[snapped[i]]
        has_point = draws[i, 2] >= 0.02
        if not has_point:
            noise.append("no_coordinates")
        cells = {
            "CrimeReference": None,
            **occurred_cells(layout, occurred, time_known),
            "CrimeType": _crime_type(row, draws[i, 3]),
            "Location": location if has_point else "",
            "Longitude": f"{geo.snap.lon[snapped[i]]:.6f}" if has_point else "",
            "Latitude": f"{geo.snap.lat[snapped[i]]:.6f}" if has_point else "",
            "LocationCategory": layout.spell(
                rng, "location_type", AMBULANCE_PROPERTY[row.location_type]
            ),
            "VictimAgeBand": layout.spell(rng, "age_band", age_band(int(row.age))),
            "VictimSex": layout.spell(rng, "sex", row.sex),
            "VictimOffenderRelationship": layout.spell(
                rng, "relationship", "unknown" if draws[i, 4] < 0.2 else row.relationship
            ),
            "WeaponUsed": layout.spell(
                rng, "weapon", "unknown" if draws[i, 5] < 0.1 else row.weapon
            ),
        }
        place_id = street_ids.get(location.removeprefix("On or near ")) if has_point else None
        records.append(
            Record(row.event_id, row.occurred_at.to_pydatetime(), cells, place_id, tuple(noise), ())
        )
    return records


def _crime_type(row, draw: float) -> str:
    if row.relationship == "stranger" and row.setting in ("street", "nte_street") and draw < 0.08:
        return "Robbery of personal property"
    return "Violence without injury" if row.injury == "none" else "Violence with injury"
