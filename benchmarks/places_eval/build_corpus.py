"""Build ``newport.jsonl`` and ``swansea.jsonl`` from the hand-written ``*_texts.txt``.

The texts are written by hand (never generated); this script only attaches the truth:

- ``v:FHRSID``: the FSA record's Geocode Longitude/Latitude, name its BusinessName;
- ``s:Street``: the median longitude and latitude of the data.police.uk points "On or
  near Street" in Newport LSOAs (the four Gwent months); ``s:Street@lon,lat`` keeps only
  the points of that name within 1 km of lon,lat (two streets of one name in Newport);
- ``l:key``: the landmark table below (each with its source);
- ``-``: no place (homes, vague texts, chains with nothing to tell the branches apart).

Run from the repository root: ``python -m benchmarks.places_eval.build_corpus``.
It never imports the matcher or the generator.
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(
    os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")
)
NEWPORT = DATA / "newport"
POLICE = sorted(NEWPORT.glob("*-gwent-street.csv"))

# Landmarks: (name, lon, lat, source). FSA = the FSA Newport record named; police.uk = the
# snapped point of that Location; estimates are stated as such (expected error < 60 m).
LANDMARKS = {
    "station": (
        "Newport railway station",
        -2.997882,
        51.589933,
        "FSA 1064497 (At Seat Catering, Newport Railway Station, Queensway)",
    ),
    "bus_station": (
        "Newport bus station (Market Square)",
        -2.9955,
        51.5893,
        "estimate: Market Square behind the Provisions Market (BBC News "
        "2013-12-23); the police.uk 'Bus/Coach Station' points are the bus "
        "depot on Corporation Road, 800 m east, and are not used",
    ),
    "rgh": (
        "Royal Gwent Hospital",
        -2.998165,
        51.579806,
        "FSA 710275 (Costa Coffee @ The Royal Gwent Hospital); police.uk 'Hospital' "
        "point -2.998152,51.579789 agrees",
    ),
    "castle": (
        "Newport Castle",
        -2.9943,
        51.5896,
        "estimate: west bank of the Usk between Newport Bridge and the railway "
        "bridge at the Old Green interchange (Cadw / Wikipedia description)",
    ),
    "transporter": (
        "Newport Transporter Bridge",
        -2.98583,
        51.57056,
        "Wikipedia infobox 51.57056 N 2.98583 W",
    ),
    "gsb": (
        "George Street Bridge",
        -2.981236,
        51.586379,
        "police.uk 'On or near George Street Bridge' (10 records, one point)",
    ),
    "jfs": (
        "John Frost Square",
        -2.994024,
        51.58583,
        "FSA 9205 (Bar Piazza, 15 John Frost Square)",
    ),
    "friars_walk": (
        "Friars Walk shopping centre",
        -2.9925,
        51.5867,
        "estimate: the FSA Friars Walk records have no geocode; between "
        "John Frost Square (FSA 9205) and Usk Way",
    ),
    "kingsway_centre": (
        "Kingsway Centre",
        -2.993009,
        51.58493,
        "FSA 799727 (Wilko, Unit 20 Kingsway Centre)",
    ),
    "market": (
        "Newport Provisions Market",
        -2.996258,
        51.588976,
        "FSA 9067 (stall in Newport Provisions Market, High Street)",
    ),
    "arcade": ("Newport Arcade", -2.997563, 51.588852, "FSA 1228316 (9 Newport Arcade)"),
    "westgate": (
        "Westgate Hotel / Westgate Buildings",
        -2.99673,
        51.587425,
        "FSA 1111948 (Kettle Cafe, 7A Westgate Buildings, Commercial Street)",
    ),
    "newport_centre": (
        "Newport Centre (leisure centre)",
        -2.99128,
        51.585736,
        "FSA 779824 (Newport Centre, Kingsway)",
    ),
    "riverfront": ("The Riverfront theatre", -2.992937, 51.58761, "FSA 773457"),
    "rodney": (
        "Rodney Parade",
        -2.991263,
        51.589585,
        "FSA 536394 (WRU Gwent Stadium, Newport Rugby Football Ground)",
    ),
    "sports_village": (
        "Newport International Sports Village",
        -2.96112,
        51.570989,
        "FSA 773456 (South East Wales Regional Pool, Spytty Boulevard)",
    ),
    "uni": (
        "University of South Wales, Newport City Campus",
        -2.986663,
        51.583842,
        "FSA 48394 (Food Court @ University of Wales Newport City Campus, Usk Way)",
    ),
    "coleg": (
        "Coleg Gwent Newport campus",
        -2.952623,
        51.573855,
        "FSA 1014117; police.uk 'Further/Higher Educational Building' agrees",
    ),
    "bellevue": (
        "Belle Vue Park",
        -3.002806,
        51.579083,
        "Wikipedia 51.579083 N 3.002806 W (the FSA tea room has no geocode)",
    ),
    "tredegar_house": (
        "Tredegar House and Park",
        -3.023998,
        51.560557,
        "FSA 854854 (Tredegar House Park Cafe)",
    ),
    "beechwood": (
        "Beechwood Park",
        -2.964898,
        51.5927,
        "FSA 1111953 (The Cafe At Beechwood, Beechwood House)",
    ),
    "fourteen_locks": ("Fourteen Locks", -3.033997, 51.598163, "FSA 910790"),
    "celtic_manor": ("Celtic Manor Resort", -2.9314, 51.602214, "FSA 189752"),
    "icc": ("International Convention Centre Wales", -2.93287, 51.603535, "FSA 1193858"),
    "civic": ("Newport Civic Centre", -3.005822, 51.588661, "FSA 1135026 (The Pod Cafe)"),
    "police": (
        "Newport Central Police Station",
        -2.994892,
        51.579968,
        "FSA 502604 (Custody Unit, Newport Central Police Station, Cardiff Road)",
    ),
    "crown_court": ("Newport Crown Court", -3.004949, 51.588389, "FSA 1171744"),
    "wetlands": ("Newport Wetlands", -2.955679, 51.54664, "FSA 25787 (RSPB Newport Wetlands)"),
    "st_woolos_hosp": (
        "St Woolos Hospital",
        -3.00291,
        51.582185,
        "police.uk 'On or near Hospital' point on Stow Hill (1 record)",
    ),
    "asda_pill": ("Asda, Lower Dock Street", -2.990236, 51.580881, "FSA 30622"),
    "spytty_tesco": ("Tesco Extra, Spytty", -2.950772, 51.575704, "FSA 216262"),
}
NULL_KINDS = {"home": "home", "vague": "vague", "ambiguous": "venue"}


def fsa_records(path: Path) -> dict[str, dict]:
    out = {}
    for e in ET.parse(path).getroot().iter("EstablishmentDetail"):
        lon, lat = e.findtext("Geocode/Longitude"), e.findtext("Geocode/Latitude")
        out[e.findtext("FHRSID")] = {
            "name": e.findtext("BusinessName"),
            "lon": float(lon) if lon else None,
            "lat": float(lat) if lat else None,
        }
    return out


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2)) * 111_320
    return math.hypot(x, (lat2 - lat1) * 110_540)


def police_points() -> dict[str, list[tuple[float, float]]]:
    points: dict[str, list[tuple[float, float]]] = {}
    for path in POLICE:
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                loc = row["Location"]
                if row["LSOA name"].startswith("Newport") and loc.startswith("On or near "):
                    points.setdefault(loc[11:], []).append(
                        (float(row["Longitude"]), float(row["Latitude"]))
                    )
    return points


def street_truth(ref: str, points) -> dict:
    name, _, near = ref.partition("@")
    pts = points[name]
    if near:
        lon0, lat0 = (float(v) for v in near.split(","))
        pts = [p for p in pts if metres(lon0, lat0, *p) < 1000]
    return {
        "name": name,
        "lon": round(statistics.median(p[0] for p in pts), 6),
        "lat": round(statistics.median(p[1] for p in pts), 6),
        "records": len(pts),
    }


def build(texts: Path, venues: dict[str, dict], points) -> list[dict]:
    rows = []
    for line in texts.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ref, cls, text = (part.strip() for part in line.split("|", 2))
        kind_of_ref = {"v": "venue", "s": "street", "l": "landmark"}
        if ref == "-":
            kind, truth = NULL_KINDS[cls.split("_")[0]], None
        else:
            tag, _, key = ref.partition(":")
            kind = kind_of_ref[tag]
            if tag == "v":
                rec = venues[key]
                if rec["lon"] is None:
                    raise ValueError(f"{key} has no geocode: {line}")
                truth = {
                    "name": rec["name"],
                    "lon": rec["lon"],
                    "lat": rec["lat"],
                    "source": f"FSA {key}",
                }
            elif tag == "s":
                truth = street_truth(key, points)
                truth["source"] = f"police.uk median of {truth.pop('records')} records"
            else:
                name, lon, lat, source = LANDMARKS[key]
                truth = {"name": name, "lon": lon, "lat": lat, "source": source}
        rows.append({"text": text, "kind": kind, "class": cls, "truth": truth})
    return rows


def main() -> None:
    points = police_points()
    newport = build(
        HERE / "newport_texts.txt", fsa_records(NEWPORT / "fsa_food_hygiene_newport.xml"), points
    )
    swansea = build(
        HERE / "swansea_texts.txt",
        fsa_records(DATA / "swansea" / "fsa_food_hygiene_swansea.xml"),
        {},
    )
    for name, rows in (("newport", newport), ("swansea", swansea)):
        with (HERE / f"{name}.jsonl").open("w") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(name, len(rows))


if __name__ == "__main__":
    main()
