"""The interventions register in a real DuckDB store, the evaluation of stored incidents,
and the ``cardiff interventions`` / ``cardiff evaluate`` commands on a small project."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import duckdb
import pytest
from click.testing import CliRunner

from cardiffmodel.analysis.did import difference_in_differences
from cardiffmodel.analysis.evaluation import EvaluationOptions, evaluate
from cardiffmodel.analysis.evaluation_sim import simulate_panel
from cardiffmodel.cli import main
from cardiffmodel.config import AreaConfig, write_settings
from cardiffmodel.places.areas import load_area_layer
from cardiffmodel.places.gazetteer import load_fsa_xml
from cardiffmodel.project import Project
from cardiffmodel.store.duckdb_store import Store
from cardiffmodel.store.interventions import (
    Intervention,
    InterventionError,
    WhatWorksRow,
    add_intervention,
    get_intervention,
    list_interventions,
    resolve_areas,
    save_results,
    venue_areas,
    what_works,
)
from cardiffmodel.testing import incident, open_incidents, store_batch, write_incidents

WARDS = "boundaries/cardiff_wards_2013.geojson"


def _wards(shared_data):
    return load_area_layer(AreaConfig("beat", shared_data / WARDS, "WD13CD", "WD13NM"))


@pytest.fixture(scope="module")
def panel():
    """A simulated panel with a planted 0.58 effect on the first three of 12 beats."""
    return simulate_panel(21, 0.58, beats=12, treated=3, weeks_before=64, weeks_after=32)


def _rows(panel, codes):
    """One ED incident row per simulated count, spread over the days of its week."""
    rename = dict(zip(panel.series.counts, codes, strict=False))
    rows = []
    for code, counts in panel.series.counts.items():
        for monday, count in zip(panel.series.weeks, counts, strict=True):
            rows += [
                incident(monday + timedelta(days=i % 7), beat=rename[code]) for i in range(count)
            ]
    return rows


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, panel):
    path = tmp_path_factory.mktemp("evaluation") / "cardiff.duckdb"
    write_incidents(path, _rows(panel, list(panel.series.counts)))
    return path


def test_register_round_trips_and_refuses_duplicates(tmp_path):
    with duckdb.connect(str(tmp_path / "store.duckdb")) as con:
        assert list_interventions(con) == ()
        first = Intervention(
            "Glassware", "glassware", "beat", ("B02", "B01"), date(2019, 3, 1),
            end=date(2019, 9, 1), venues=("fsa-1",), comparison=("B05",), description="Poly",
        )  # fmt: skip
        add_intervention(con, first)
        add_intervention(
            con, Intervention("Patrols", "patrols", "beat", ("B03",), date(2018, 6, 1))
        )
        assert [i.name for i in list_interventions(con)] == ["Patrols", "Glassware"]
        assert get_intervention(con, "Glassware") == first
        with pytest.raises(InterventionError, match="already registered"):
            add_intervention(con, first)
        with pytest.raises(InterventionError, match="expected one of: Patrols, Glassware"):
            get_intervention(con, "CCTV")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "spaceships"}, "type 'spaceships'"),
        ({"areas": ()}, "treats no area"),
        ({"end": date(2019, 1, 1)}, "expected a date after"),
        ({"comparison": ("B01",)}, "compares against its own areas"),
        ({"layer": "galaxy"}, "layer 'galaxy'"),
    ],
)
def test_register_rejects_bad_interventions(fields, message):
    values = {"name": "X", "kind": "cctv", "layer": "beat", "areas": ("B01",)}
    values["start"] = date(2019, 2, 1)
    with pytest.raises(InterventionError, match=message):
        Intervention(**(values | fields))


def test_areas_resolve_from_names_and_venues(shared_data):
    layer = _wards(shared_data)
    cathays = layer.codes[layer.names.index("Cathays")]
    assert resolve_areas(layer, ["cathays", cathays, "Butetown"])[0] == cathays
    with pytest.raises(InterventionError, match="no area 'Atlantis'"):
        resolve_areas(layer, ["Atlantis"])
    venues = load_fsa_xml(shared_data / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml")
    pub = next(p for p in venues if p.licensed)
    (area,) = venue_areas(venues, layer, [pub.place_id])
    assert area == layer.assign([pub.lon], [pub.lat])[0]


def test_evaluate_a_store_agrees_with_the_methods_on_the_same_counts(store_path, panel):
    t = open_incidents(store_path)
    intervention = Intervention("Patrols", "patrols", "beat", panel.treated, panel.start)
    options = EvaluationOptions(sources=("all", "police"), weeks_before=64)
    result = evaluate(t, intervention, options)
    assert result.first_week == panel.series.weeks[0]
    assert result.last_week == panel.series.weeks[-1]
    by = {(r.source, r.method): r for r in result.results}
    direct = difference_in_differences(panel.series, panel.treated, panel.start)
    assert by["all", "did"].effect.rate_ratio == pytest.approx(direct.effect.rate_ratio)
    for method in ("its", "did", "synthetic_control"):
        effect = by["all", method].effect
        assert effect.low < 0.58 < effect.high, method
        # No police incidents at all: every method says why it cannot judge.
        police = by["police", method]
        assert police.effect is None and police.verdict.code == "too_weak"
    assert result.combined("all").code == "reduced"
    assert result.combined("police").text == "Too weak to say: no method could run."
    only_its = dataclasses.replace(
        result, results=tuple(r for r in result.results if r.method == "its")
        + tuple(dataclasses.replace(r, effect=None, verdict=police.verdict)
                for r in result.results if r.method == "did" and r.source == "all"),
    )  # fmt: skip
    assert only_its.combined("all").code == "reduced"  # a method that could not run is no vote
    rows = result.what_works(datetime(2020, 1, 1))
    assert [(r.source, r.method) for r in rows][:4] == [
        ("all", "its"), ("all", "did"), ("all", "synthetic_control"), ("all", "combined"),
    ]  # fmt: skip


def test_the_window_starts_at_the_first_held_week_not_weeks_before_asked(tmp_path, panel):
    # The store holds the panel's 64 weeks before the start; 104 are asked for. Counting
    # the 40 weeks before the first extract as weeks without incidents would make the
    # weeks after the start look like a fall (the bug of issue 11, item 2).
    path = tmp_path / "cardiff.duckdb"
    weeks = panel.series.weeks
    store_batch(
        path,
        _rows(panel, list(panel.series.counts)),
        "uhw",
        "ed",
        (weeks[0], weeks[-1] + timedelta(6)),
    )
    intervention = Intervention("Patrols", "patrols", "beat", panel.treated, panel.start)
    options = EvaluationOptions(sources=("all", "ed", "police"), methods=("its", "did"))
    with Store(path, read_only=True) as store:
        result = evaluate(store.incidents(), intervention, options, coverage=store.coverage())
    assert result.first_week == weeks[0] and result.last_week == weeks[-1]
    window = result.windows["all"]
    assert (window.weeks_before, window.held_by) == (64, ("uhw",))
    assert [source for source, _ in result.shortened()] == ["all", "ed"]
    by = {(r.source, r.method): r for r in result.results}
    direct = difference_in_differences(panel.series, panel.treated, panel.start)
    assert by["all", "did"].effect.rate_ratio == pytest.approx(direct.effect.rate_ratio)
    assert by["all", "its"].effect.weeks_before == 64
    # The store holds no police period at all: no window, and the verdict says why.
    assert "police" not in result.windows
    assert "the store holds no week" in by["police", "its"].verdict.text


def test_what_works_rows_are_stored_and_replaced(tmp_path):
    with duckdb.connect(str(tmp_path / "store.duckdb")) as con:
        add_intervention(
            con, Intervention("Help point", "help_point", "beat", ("B1",), date(2019, 1, 1))
        )
        row = WhatWorksRow(
            "Help point", "help_point", "all", "did", 0.6, 0.5, 0.7, True, "reduced", "fell",
            datetime(2020, 1, 1),
        )  # fmt: skip
        save_results(con, (row,))
        save_results(con, (row.__class__(**{**row.__dict__, "rate_ratio": 0.65}),))
        (stored,) = what_works(con)
    assert stored.rate_ratio == 0.65 and stored.kind == "help_point"


def _project(folder, shared_data, store_rows, covers):
    raw = {
        "project": {"name": "Evaluation test"},
        "areas": [
            {
                "layer": "beat",
                "path": str(shared_data / WARDS),
                "code_field": "WD13CD",
                "name_field": "WD13NM",
            }
        ],
    }
    write_settings(raw, folder)
    store_batch(folder / "cardiff.duckdb", store_rows, "uhw", "ed", covers)
    return Project.open(folder)


def test_cli_registers_evaluates_and_stores_the_verdicts(tmp_path, shared_data, panel):
    layer = _wards(shared_data)
    codes = list(layer.codes[: len(panel.series.counts)])
    weeks = panel.series.weeks
    _project(tmp_path, shared_data, _rows(panel, codes), (weeks[0], weeks[-1] + timedelta(6)))
    run = CliRunner().invoke
    names = [layer.name_of(c) for c in codes[:3]]
    args = ["--project", str(tmp_path), "interventions", "add", "Night patrols"]
    args += ["--type", "patrols", "--start", panel.start.isoformat()]
    for name in names:
        args += ["--area", name]
    done = run(main, args)
    assert done.exit_code == 0, done.output
    listed = run(main, ["--project", str(tmp_path), "interventions", "list", "--format", "csv"])
    assert "Night patrols,patrols,beat," + ",".join(codes[:3]) in listed.output.replace('"', "")
    done = run(
        main,
        ["--project", str(tmp_path), "evaluate", "Night patrols", "--source", "all",
         "--method", "did", "--weeks-before", "64", "--format", "json"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert '"verdict": "reduced"' in done.output
    chart = tmp_path / "reports" / "evaluations" / "night-patrols-all-event-study.svg"
    assert chart.read_text().startswith("<?xml")
    with duckdb.connect(str(tmp_path / "cardiff.duckdb"), read_only=True) as con:
        assert {(r.method, r.verdict) for r in what_works(con)} == {
            ("did", "reduced"),
            ("combined", "reduced"),
        }
    missing = run(main, ["--project", str(tmp_path), "evaluate", "Nothing"])
    assert missing.exit_code != 0 and "no intervention named 'Nothing'" in missing.output
