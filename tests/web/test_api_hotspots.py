"""/api/map/hotspots: Gi* clusters and the excess test, with no more than classes and
Gi*'s adjusted p-value to two significant figures (issue 11, item 7)."""

from __future__ import annotations

import re

CATHAYS = "W05000857"


def test_hotspots_name_each_test_and_publish_no_exact_figures(clients):
    found = clients["analyst"].get("/api/map/hotspots?months=3").json()
    assert len(found["areas"]) == 29
    assert found["excess"].startswith("Excess test: count against population")
    by_code = {a["code"]: a for a in found["areas"]}
    # Gi* holds Cathays' own count; the excess test flags the city's busiest beat.
    assert by_code[CATHAYS]["excess"] == "high"
    for area in found["areas"]:
        assert set(area) == {"code", "class", "p_adjusted", "excess"}
        assert area["excess"] in ("high", "low", "not_significant", "untested")
        p = area["p_adjusted"]
        digits = re.sub(r"^0\.0*|e.*$|\.", "", repr(p)).lstrip("0")
        assert p is None or len(digits) <= 2, p
