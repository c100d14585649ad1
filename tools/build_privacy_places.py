"""Write the place names the privacy scrubber never redacts (ingest/privacy_data/places.txt).

The scrubber runs before any project gazetteer is loaded (and ingest may not depend on the
places layer), so it ships its own list: every business name in the FSA food hygiene open
data for Cardiff, Newport and Swansea and every street name in the data.police.uk files
for South Wales and Gwent (Open Government Licence v3; see privacy_data/README.md).

    .venv/bin/python tools/build_privacy_places.py ../shared/data
"""

from __future__ import annotations

import sys
from pathlib import Path

from cardiffmodel.places.gazetteer import load_fsa_xml, load_police_uk_streets

OUT = Path(__file__).resolve().parents[1] / "src/cardiffmodel/ingest/privacy_data/places.txt"


def main(data: Path) -> None:
    xml = [
        data / "venues/fsa_food_hygiene_cardiff_2020-11.xml",
        data / "newport/fsa_food_hygiene_newport.xml",
        data / "swansea/fsa_food_hygiene_swansea.xml",
    ]
    police = sorted((data / "police_uk").glob("*.csv")) + sorted((data / "newport").glob("*.csv"))
    names: set[str] = set()
    for path in xml:
        names.update(p.name.strip() for p in load_fsa_xml(path))
    names.update(p.name.strip() for p in load_police_uk_streets(police))
    lines = sorted(n for n in names if n and len(n) <= 80)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} place names -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
