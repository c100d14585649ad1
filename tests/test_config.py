"""cardiff.toml: the starting template loads, and mistakes are named precisely."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.config import ConfigError, load_settings, settings_from_dict


def test_init_writes_a_template_that_loads(tmp_path):
    result = CliRunner().invoke(main, ["--project", str(tmp_path), "init"])
    assert result.exit_code == 0, result.output
    settings = load_settings(tmp_path)
    assert settings.source("uhw").codes["weapon"]["gl"] == "bottle_glass"
    assert settings.groups[0].areas == ("W05000857", "W05000854")
    again = CliRunner().invoke(main, ["--project", str(tmp_path), "init"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_missing_config_says_how_to_start(tmp_path):
    with pytest.raises(ConfigError, match="cardiff init"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sources": [{"kind": "ed", "site": "x"}]}, "missing required key 'name'"),
        (
            {
                "sources": [
                    {
                        "name": "a",
                        "kind": "hospital",
                        "site": "x",
                        "columns": {"source_record_id": "id"},
                    }
                ]
            },
            "'hospital' is not one of",
        ),
        (
            {"sources": [{"name": "a", "kind": "ed", "site": "x", "columns": {}}]},
            "source_record_id must be mapped",
        ),
        (
            {
                "sources": [
                    {
                        "name": "a",
                        "kind": "ed",
                        "site": "x",
                        "columns": {"source_record_id": "id", "nhs_number": "NHS"},
                    }
                ]
            },
            "'nhs_number' is not one of",
        ),
        ({"groups": [{"name": "g", "layer": "beat", "areas": []}]}, "not among"),
        ({"project": {"region_bbox": [1, 2, 3]}}, "expected 4 numbers"),
    ],
)
def test_config_mistakes_are_named(tmp_path, raw, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_dict(raw, tmp_path)
