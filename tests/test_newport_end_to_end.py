"""A real police-only deployment for a city the tool was not built on, end to end through
the commands an analyst types: Newport's wards and LSOAs, Gwent's data.police.uk files with
one month never sent, Newport's FSA venues. Every figure is checked against police.uk's
own coding, read here straight from the published files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.config import write_settings

VIOLENCE = "Violence and sexual offences"
SENT = ("2018-10", "2018-11", "2019-01")  # December 2018 never arrived


def _cardiff(folder: Path, *args: str):
    return CliRunner().invoke(main, ["--project", str(folder), *args])


def _police_uk_counts(data: Path, month: str, lsoas: set[str]) -> Counter:
    """Violent crimes per LSOA as police.uk coded them, for the deployment's LSOAs."""
    with open(data / f"newport/{month}-gwent-street.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return Counter(
        r["LSOA code"] for r in rows if r["Crime type"] == VIOLENCE and r["LSOA code"] in lsoas
    )


@pytest.fixture(scope="module")
def newport(tmp_path_factory, shared_data) -> Path:
    folder = tmp_path_factory.mktemp("newport")
    newport_data = shared_data / "newport"
    wards = json.loads((newport_data / "newport_wards.geojson").read_text(encoding="utf-8"))
    raw = {
        "project": {"name": "Newport"},
        "areas": [
            {
                "layer": "beat",
                "path": str(newport_data / "newport_wards.geojson"),
                "code_field": "WD13CD",
                "name_field": "WD13NM",
            },
            {
                "layer": "lsoa",
                "path": str(newport_data / "newport_lsoa2011.geojson"),
                "code_field": "LSOA11CD",
                "name_field": "LSOA11NM",
            },
        ],
        "places": {"fsa_xml": [str(newport_data / "fsa_food_hygiene_newport.xml")]},
        "sources": [{"name": "gwent", "kind": "police", "site": "gwent", "format": "police_uk"}],
        "groups": [
            {
                "name": "Newport",
                "layer": "beat",
                "areas": sorted(f["properties"]["WD13CD"] for f in wards["features"]),
                "audience": "police",
            }
        ],
    }
    write_settings(raw, folder)
    files = [str(newport_data / f"{month}-gwent-street.csv") for month in SENT]
    result = _cardiff(folder, "ingest", "gwent", *files)
    assert result.exit_code == 0, result.output
    return folder


def test_lsoa_counts_are_police_uk_own_and_nothing_outside_is_stored(newport, shared_data):
    lsoas = json.loads(
        (shared_data / "newport/newport_lsoa2011.geojson").read_text(encoding="utf-8")
    )
    codes = {f["properties"]["LSOA11CD"] for f in lsoas["features"]}
    for month in SENT:
        result = _cardiff(newport, "analyse", "beats", "--period", month, "--layer", "lsoa",
                          "--format", "json")  # fmt: skip
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        ours = {r["code"]: r["count"] for r in rows if r["count"] and r["code"] != "(unplaced)"}
        assert ours == dict(_police_uk_counts(shared_data, month, codes))
        assert rows[-1]["code"] == "(unplaced)" and rows[-1]["count"] == 0


def test_a_month_not_sent_is_not_held_never_zero(newport):
    after_gap = json.loads(
        _cardiff(newport, "analyse", "beats", "--period", "2019-01", "--format", "json").stdout
    )
    assert {r["previous"] for r in after_gap} == {"not held"}
    assert {r["change_p"] for r in after_gap[:-1]} == {"not held"}  # then the unplaced row
    held = json.loads(
        _cardiff(newport, "analyse", "beats", "--period", "2018-11", "--format", "json").stdout
    )
    assert all(isinstance(r["previous"], int) for r in held)
    assert sum(r["previous"] for r in held) > 0
    gap = _cardiff(newport, "analyse", "beats", "--period", "2018-12")
    assert gap.exit_code == 1
    assert "no source holds 2018-12-01 to 2018-12-31" in gap.output
    assert "gwent (police): 2018-10 to 2018-11, 2019-01" in gap.output


def test_the_report_is_a_police_report_and_an_empty_month_is_refused(newport):
    written = _cardiff(newport, "report", "--all", "--period", "2019-01", "--format", "html")
    assert written.exit_code == 0, written.output
    html = (newport / "reports/2019-01/newport.html").read_text(encoding="utf-8")
    assert "Police" in html
    assert "Emergency Department" not in html and "Ambulance" not in html
    assert "not held" in html
    refused = _cardiff(newport, "report", "--all", "--period", "2018-12")
    assert refused.exit_code == 1
    assert "no source holds 2018-12" in refused.output
    assert not (newport / "reports/2018-12").exists()


def test_weekly_rises_refuse_dates_known_to_the_month_only(newport):
    """police.uk puts every crime on the first of its month: a weekly series of it would
    be one busy week and three empty ones, and no rise could show."""
    result = _cardiff(newport, "analyse", "rises", "--period", "2019-01")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "gwent gives dates to the month only" in result.output
    assert len(result.stderr.strip().splitlines()) <= 2
