"""Write the place names the privacy scrubber keeps (ingest/privacy_data/places*.txt).

The scrubber runs before any project gazetteer is loaded (and ingest may not depend on the
places layer), so it ships its own list: every business name in the FSA food hygiene open
data for Cardiff, Newport and Swansea and every street name in the data.police.uk files
for South Wales and Gwent (Open Government Licence v3; see privacy_data/README.md).

    .venv/bin/python tools/build_privacy_places.py ../shared/data
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from cardiffmodel.places.gazetteer import LICENSED_TYPES, _is_bar_brand, load_police_uk_streets

DATA_DIR = Path(__file__).resolve().parents[1] / "src/cardiffmodel/ingest/privacy_data"


def main(data: Path) -> None:
    xml = [
        data / "venues/fsa_food_hygiene_cardiff_2020-11.xml",
        data / "newport/fsa_food_hygiene_newport.xml",
        data / "swansea/fsa_food_hygiene_swansea.xml",
    ]
    police = sorted((data / "police_uk").glob("*.csv")) + sorted((data / "newport").glob("*.csv"))
    # Pubs and streets are kept even when every word of their name is a person's name
    # ("Ivor Davies", "Eli Jenkins", "Pen Onnen"); other businesses ("A & S Griffiths")
    # only when some word is not a name.
    trusted: set[str] = set()
    others: set[str] = set()
    for path in xml:  # every entry, with or without a map point
        for item in ET.parse(path).getroot().iter("EstablishmentDetail"):
            name = (item.findtext("BusinessName") or "").strip()
            licensed = item.findtext("BusinessType") in LICENSED_TYPES or _is_bar_brand(name)
            (trusted if licensed else others).add(name)
    trusted.update(p.name.strip() for p in load_police_uk_streets(police))
    for name, found in (("places_trusted.txt", trusted), ("places.txt", others - trusted)):
        lines = sorted(n for n in found if n and len(n) <= 80)
        (DATA_DIR / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines)} place names -> {DATA_DIR / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
