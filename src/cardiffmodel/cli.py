"""The ``cardiff`` command: a thin layer that builds arguments for the library.

Every command acts on a project folder: the current directory or ``--project DIR``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from cardiffmodel.config import ConfigError
from cardiffmodel.ingest.pipeline import IngestResult
from cardiffmodel.project import Project


@click.group()
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The deployment folder holding cardiff.toml.",
)
@click.pass_context
def main(ctx: click.Context, project_dir: Path) -> None:
    """cardiffmodel: the Cardiff Model of violence prevention."""
    ctx.obj = project_dir


def _project(ctx: click.Context) -> Project:
    try:
        return Project.open(ctx.obj)
    except ConfigError as err:
        raise click.ClickException(str(err)) from err


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented cardiff.toml to start a deployment in the project folder."""
    from cardiffmodel.config import init_project

    try:
        click.echo(f"wrote {init_project(ctx.obj)}: edit its sources, areas and groups")
    except ConfigError as err:
        raise click.ClickException(str(err)) from err


@main.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="The open data folder (boundaries, venues, police_uk).",
)
@click.option("--seed", default=1, show_default=True, help="Seed of the synthetic city.")
@click.option("--months", default=24, show_default=True, help="Months of synthetic data.")
@click.option("--scale", default=1.0, show_default=True, help="Volume relative to Cardiff.")
@click.pass_context
def demo(ctx: click.Context, data_dir: Path, seed: int, months: int, scale: float) -> None:
    """Build a complete demo project: synthetic city, ingested store, reports."""
    from cardiffmodel.demo import DemoError, run_demo

    try:
        summary = run_demo(ctx.obj, data_dir, seed=seed, months=months, scale=scale)
    except DemoError as err:
        raise click.ClickException(str(err)) from err
    click.echo(summary.render())


@main.command()
@click.argument("source")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, source: str, files: tuple[Path, ...]) -> None:
    """Ingest extract FILES from SOURCE (a [[sources]] name in cardiff.toml)."""
    project = _project(ctx)
    try:
        results = project.ingest(source, files)
    except ConfigError as err:
        raise click.ClickException(str(err)) from err
    for result in results:
        click.echo(_ingest_line(result))
    if any(r.skipped and r.skipped.startswith("rejected") for r in results):
        sys.exit(1)


def _ingest_line(result: IngestResult) -> str:
    if result.skipped:
        return f"{result.file}: {result.skipped}"
    removed = ", ".join(f"{k} {v}" for k, v in result.identifiers_removed.items()) or "none"
    return (
        f"{result.file}: {result.rows_in} rows, {result.accepted} accepted "
        f"({result.new} new, {result.duplicates} already stored), "
        f"{result.quarantined} quarantined, {result.filtered} not violence; "
        f"identifiers removed: {removed}"
    )


@main.command()
@click.option("--source", default=None, help="Only this source.")
@click.pass_context
def quarantine(ctx: click.Context, source: str | None) -> None:
    """List quarantined rows with the file, row, column, value and reason."""
    with _project(ctx).store(read_only=True) as store:
        rows = store.quarantine(source)
    for row in rows:
        click.echo(
            f"{row['file']} row {row['row_number']} column {row['column_name']} "
            f"value {row['value']!r}: {row['reason']}"
        )
    click.echo(f"{len(rows)} quarantined rows")


@main.command()
@click.pass_context
def batches(ctx: click.Context) -> None:
    """List ingested batches with their counts."""
    with _project(ctx).store(read_only=True) as store:
        rows = store.batches()
    writer = csv.writer(sys.stdout)
    columns = [
        "batch_id",
        "source",
        "file",
        "rows_in",
        "accepted",
        "duplicates",
        "quarantined",
        "identifiers_removed",
        "status",
    ]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])


@main.command()
@click.option("--period", required=True, help="Month, e.g. 2019-01.")
@click.option("--quarter", is_flag=True, help="The quarter starting at --period.")
@click.option("--group", "group_name", default=None, help="One Local Violence Prevention Group.")
@click.option("--all", "all_groups", is_flag=True, help="Every group in cardiff.toml.")
@click.pass_context
def report(
    ctx: click.Context, period: str, quarter: bool, group_name: str | None, all_groups: bool
) -> None:
    """Write HTML reports for Local Violence Prevention Groups."""
    from cardiffmodel.reports.builder import write_reports

    project = _project(ctx)
    groups = project.settings.groups
    if not all_groups:
        groups = tuple(g for g in groups if g.name == group_name)
        if not groups:
            names = ", ".join(g.name for g in project.settings.groups)
            raise click.ClickException(f"give --all or --group, one of: {names}")
    for path in write_reports(project, groups, period, quarter=quarter):
        click.echo(str(path))


@main.group()
def analyse() -> None:
    """Analyses printed as a table, CSV or JSON."""


@analyse.command("beats")
@click.option("--period", required=True, help="Month, e.g. 2019-01.")
@click.option("--layer", default="beat", show_default=True)
@click.option("--group", "group_name", default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def analyse_beats(
    ctx: click.Context, period: str, layer: str, group_name: str | None, fmt: str
) -> None:
    """Areas ranked by incidents, with rates per 1,000 residents and change."""
    from cardiffmodel.analysis.counts import rank_areas
    from cardiffmodel.analysis.selection import month_selection

    project = _project(ctx)
    areas = None
    if group_name:
        group = next((g for g in project.settings.groups if g.name == group_name), None)
        if group is None:
            raise click.ClickException(f"no group named {group_name!r}")
        areas, layer = group.areas, group.layer
    area_layer = project.layer(layer)
    selection = month_selection(period, layer=layer, areas=areas)
    with project.store(read_only=True) as store:
        ranking = rank_areas(store.incidents(), selection, area_layer.lookup())
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "count": r.count,
            "rate_per_1000": r.rate_per_1000,
            "previous": r.previous_count,
            "change": r.change,
        }
        for r in ranking.rows
    ]
    _emit(rows, fmt)


def _emit(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no rows")
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return
    widths = {k: max(len(k), *(len(_cell(r[k])) for r in rows)) for k in rows[0]}
    click.echo("  ".join(k.ljust(w) for k, w in widths.items()))
    for row in rows:
        click.echo("  ".join(_cell(row[k]).ljust(w) for k, w in widths.items()))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


@main.group()
def interventions() -> None:
    """The interventions register: what was done, where and when."""


@interventions.command("add")
@click.argument("name")
@click.option("--type", "kind", required=True, help="patrols, licensing, cctv, glassware, …")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Day after the last day.")
@click.option("--layer", default="beat", show_default=True)
@click.option("--area", "areas", multiple=True, help="Treated area code or name (repeat).")
@click.option("--venue", "venues", multiple=True, help="Treated venue place id (repeat).")
@click.option("--compare", "comparison", multiple=True, help="Comparison area (repeat).")
@click.option("--description", default="", help="What was done, by whom.")
@click.pass_context
def interventions_add(
    ctx: click.Context,
    name: str,
    kind: str,
    start,
    end,
    layer: str,
    areas: tuple[str, ...],
    venues: tuple[str, ...],
    comparison: tuple[str, ...],
    description: str,
) -> None:
    """Register intervention NAME."""
    from cardiffmodel.store.interventions import (
        Intervention,
        InterventionError,
        add_intervention,
        resolve_areas,
        venue_areas,
    )

    project = _project(ctx)
    try:
        area_layer = project.layer(layer)
        treated = resolve_areas(area_layer, areas)
        if venues:
            treated += venue_areas(project.gazetteer, area_layer, venues)
        intervention = Intervention(
            name=name,
            kind=kind,
            layer=layer,
            areas=tuple(dict.fromkeys(treated)),
            start=start.date(),
            end=end.date() if end else None,
            venues=venues,
            comparison=resolve_areas(area_layer, comparison) if comparison else None,
            description=description,
        )
        with project.store() as store:
            add_intervention(store.con, intervention)
    except (InterventionError, ConfigError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"registered {name!r}: {', '.join(intervention.areas)} from {intervention.start}")


@interventions.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def interventions_list(ctx: click.Context, fmt: str) -> None:
    """List registered interventions."""
    from cardiffmodel.store.interventions import list_interventions

    with _project(ctx).store(read_only=True) as store:
        rows = [i.as_dict() for i in list_interventions(store.con)]
    if fmt != "json":
        rows = [{k: ",".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]
    _emit(rows, fmt)


@main.command()
@click.argument("name")
@click.option(
    "--method",
    "methods",
    multiple=True,
    type=click.Choice(["its", "did", "synthetic_control"]),
    help="Method (repeat; default all three).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(["all", "ed", "ambulance", "police"]),
    help="Source (repeat; default all together and each alone).",
)
@click.option("--weeks-before", default=104, show_default=True, help="Weeks of data before.")
@click.option("--through", type=click.DateTime(["%Y-%m-%d"]), help="End of data if ongoing.")
@click.option("--charts", type=click.Path(file_okay=False, path_type=Path), help="Chart folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def evaluate(
    ctx: click.Context,
    name: str,
    methods: tuple[str, ...],
    sources: tuple[str, ...],
    weeks_before: int,
    through,
    charts: Path | None,
    fmt: str,
) -> None:
    """Estimate intervention NAME's effect on incidents, store the verdicts for the "what
    works" table, and write event-study charts."""
    from datetime import datetime

    from cardiffmodel.analysis.charts import event_study_svg
    from cardiffmodel.analysis.did import DidResult
    from cardiffmodel.analysis.effect import EvaluationError
    from cardiffmodel.analysis.evaluation import EvaluationOptions
    from cardiffmodel.analysis.evaluation import evaluate as run_evaluation
    from cardiffmodel.store.interventions import (
        InterventionError,
        get_intervention,
        save_results,
    )

    project = _project(ctx)
    options = EvaluationOptions(
        **({"methods": methods} if methods else {}),
        **({"sources": sources} if sources else {}),
        weeks_before=weeks_before,
    )
    try:
        with project.store() as store:
            intervention = get_intervention(store.con, name)
            result = run_evaluation(
                store.incidents(), intervention, options, through.date() if through else None
            )
            rows = result.what_works(datetime.now().replace(microsecond=0))
            save_results(store.con, rows)
    except (InterventionError, EvaluationError) as err:
        raise click.ClickException(str(err)) from err
    folder = charts or project.settings.reports_dir / "evaluations"
    for r in result.results:
        if isinstance(r.detail, DidResult) and r.detail.event_study:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{_slug(name)}-{r.source}-event-study.svg"
            path.write_text(event_study_svg(r.detail, f"{name}: {r.source} incidents"))
            click.echo(f"chart: {path}", err=True)
    table = [
        {
            "source": r.source,
            "method": r.method,
            "rate_ratio": r.rate_ratio,
            "low": r.low,
            "high": r.high,
            "pre_check": r.pre_check_passed,
            "verdict": r.verdict,
            "explanation": r.explanation,
        }
        for r in rows
    ]
    _emit(table, fmt)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


@main.command()
@click.option("--survey", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--summary", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weight", default=None, help="Survey weight column.")
@click.option("--bootstrap", default=500, show_default=True, help="Bootstrap resamples.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.pass_context
def aces(
    ctx: click.Context,
    survey: Path | None,
    summary: Path | None,
    weight: str | None,
    bootstrap: int,
    seed: int,
    out: Path | None,
) -> None:
    """ACE prevalence, adjusted odds ratios and the share of outcomes attributable to
    ACEs, from a survey file or published summary figures: a CSV table and an SVG chart."""
    from cardiffmodel.analysis import aces as ace_survey
    from cardiffmodel.analysis import aces_summary
    from cardiffmodel.analysis.charts import summary_infographic_svg, survey_infographic_svg

    if (survey is None) == (summary is None):
        raise click.ClickException("give either --survey FILE or --summary FILE")
    folder = out or ctx.obj / "aces"
    folder.mkdir(parents=True, exist_ok=True)
    title = "Adverse childhood experiences and adult outcomes"
    try:
        if survey is not None:
            frame, spec = ace_survey.read_survey(survey, weight=weight)
            result = ace_survey.analyse_survey(frame, spec, bootstrap=bootstrap, seed=seed)
            _write_csv(folder / "aces_prevalence.csv", ace_survey.prevalence_table(result))
            rows = ace_survey.survey_table(result)
            chart = survey_infographic_svg(result, title)
        else:
            fractions = aces_summary.attributable_fractions(
                aces_summary.read_summary(summary), seed=seed
            )
            rows = aces_summary.summary_table(fractions)
            chart = summary_infographic_svg(fractions, title)
    except (ace_survey.SurveyError, aces_summary.SummaryError) as err:
        raise click.ClickException(str(err)) from err
    _write_csv(folder / "aces.csv", rows)
    (folder / "aces.svg").write_text(chart)
    _emit(rows, "table")
    click.echo(f"written: {folder / 'aces.csv'}, {folder / 'aces.svg'}", err=True)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
