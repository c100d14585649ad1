"""The ``cardiff`` command: a thin layer that builds arguments for the library.

Every command acts on a project folder: the current directory or ``--project DIR``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardiffmodel.analysis.profiles import PROFILE_FIELDS
from cardiffmodel.config import ConfigError
from cardiffmodel.ingest.pipeline import IngestResult
from cardiffmodel.project import Project

if TYPE_CHECKING:
    from cardiffmodel.analysis.linkage import LinkageResult


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
@click.option(
    "--format",
    "formats",
    default="html",
    show_default=True,
    help="Comma-separated formats: html, pdf or html,pdf.",
)
@click.pass_context
def report(
    ctx: click.Context,
    period: str,
    quarter: bool,
    group_name: str | None,
    all_groups: bool,
    formats: str,
) -> None:
    """Write reports for Local Violence Prevention Groups (HTML and/or PDF)."""
    from cardiffmodel.reports.builder import write_reports

    project = _project(ctx)
    groups = project.settings.groups
    if not all_groups:
        groups = tuple(g for g in groups if g.name == group_name)
        if not groups:
            names = ", ".join(g.name for g in project.settings.groups)
            raise click.ClickException(f"give --all or --group, one of: {names}")
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    try:
        paths = write_reports(project, groups, period, quarter=quarter, formats=chosen)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    for path in paths:
        click.echo(str(path))


@main.group()
def analyse() -> None:
    """Analyses printed as a table, CSV or JSON."""


def _period_options(command):
    """The options every analysis shares: which months, which areas, which output."""
    for option in reversed(
        (
            click.option("--period", required=True, help="Month, e.g. 2019-01."),
            click.option("--months", default=1, show_default=True, help="Months up to --period."),
            click.option("--layer", default="beat", show_default=True),
            click.option("--group", "group_name", default=None),
            click.option(
                "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
            ),
        )
    ):
        command = option(command)
    return command


def _selection(project: Project, period: str, months: int, layer: str, group_name: str | None):
    """The months up to ``period``, on ``layer`` or on a group's layer and areas."""
    from cardiffmodel.analysis.selection import Selection, add_months, month_selection

    if months < 1:
        raise click.ClickException(f"--months {months}: expected at least 1")
    areas = None
    if group_name:
        group = next((g for g in project.settings.groups if g.name == group_name), None)
        if group is None:
            raise click.ClickException(f"no group named {group_name!r}")
        areas, layer = group.areas, group.layer
    try:
        month = month_selection(period, layer=layer, areas=areas)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    return Selection(add_months(month.start, 1 - months), month.end, layer=layer, areas=areas)


@analyse.command("beats")
@_period_options
@click.pass_context
def analyse_beats(
    ctx: click.Context, period: str, months: int, layer: str, group_name: str | None, fmt: str
) -> None:
    """Areas ranked by incidents, with rates per 1,000 residents and change."""
    from cardiffmodel.analysis.counts import rank_areas

    project = _project(ctx)
    selection = _selection(project, period, months, layer, group_name)
    with project.store(read_only=True) as store:
        ranking = rank_areas(store.incidents(), selection, project.layer(selection.layer).lookup())
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


@analyse.command("venues")
@_period_options
@click.option("--limit", default=20, show_default=True, help="How many venues.")
@click.pass_context
def analyse_venues(
    ctx: click.Context,
    period: str,
    months: int,
    layer: str,
    group_name: str | None,
    fmt: str,
    limit: int,
) -> None:
    """The venues with most incidents (homes are never listed)."""
    from cardiffmodel.analysis.counts import rank_venues

    project = _project(ctx)
    selection = _selection(project, period, months, layer, group_name)
    with project.store(read_only=True) as store:
        ranking = rank_venues(store.incidents(), selection, limit=limit)
    _emit([dataclasses.asdict(row) for row in ranking.rows], fmt)


@analyse.command("profile")
@_period_options
@click.option(
    "--field",
    type=click.Choice(["hour", *PROFILE_FIELDS]),
    default="hour",
    show_default=True,
    help="A code list to count by, or 'hour' for the hour x weekday grid.",
)
@click.pass_context
def analyse_profile(
    ctx: click.Context,
    period: str,
    months: int,
    layer: str,
    group_name: str | None,
    fmt: str,
    field: str,
) -> None:
    """Incidents by weekday and hour, or by weapon, location type, age, sex..."""
    from cardiffmodel.analysis.profiles import WEEKDAYS, hour_weekday, profile

    project = _project(ctx)
    selection = _selection(project, period, months, layer, group_name)
    with project.store(read_only=True) as store:
        if field == "hour":
            grid = hour_weekday(store.incidents(), selection)
            rows = [
                {"weekday": day, **{f"{h:02d}": n for h, n in enumerate(counts)}}
                for day, counts in zip(WEEKDAYS, grid.counts, strict=True)
            ]
            click.echo(f"{grid.time_unknown} incidents with no time of day are left out", err=True)
        else:
            found = profile(store.incidents(), selection, field)
            rows = [
                {field: code, "count": n} for code, n in zip(found.codes, found.counts, strict=True)
            ]
    _emit(rows, fmt)


@analyse.command("hotspots")
@_period_options
@click.option("--statistic", type=click.Choice(["gi_star", "local_moran"]), default="gi_star")
@click.option("--permutations", default=9999, show_default=True)
@click.option("--alpha", default=0.05, show_default=True, help="False discovery rate.")
@click.option("--seed", default=0, show_default=True)
@click.pass_context
def analyse_hotspots(
    ctx: click.Context,
    period: str,
    months: int,
    layer: str,
    group_name: str | None,
    fmt: str,
    statistic: str,
    permutations: int,
    alpha: float,
    seed: int,
) -> None:
    """Areas that, with their neighbours, hold more incidents than chance (Gi*, Local Moran)."""
    from cardiffmodel.analysis.hotspots import contiguity, counts_by_area, gi_star, local_moran

    project = _project(ctx)
    selection = _selection(project, period, months, layer, group_name)
    area_layer = project.layer(selection.layer)
    weights = contiguity(area_layer.geometries, area_layer.codes)
    with project.store(read_only=True) as store:
        # Every area is tested, since a group's areas have neighbours outside the group.
        everywhere = dataclasses.replace(selection, areas=None)
        counts = counts_by_area(store.incidents(), everywhere, area_layer.codes)
    test = gi_star if statistic == "gi_star" else local_moran
    result = test(counts, weights, permutations=permutations, seed=seed, alpha=alpha)
    rows = [
        {
            "code": code,
            "name": area_layer.name_of(code),
            "count": int(result.counts[i]),
            "z": float(result.z[i]),
            "p_adjusted": float(result.p_adjusted[i]),
            "class": result.classification[i],
        }
        for i, code in enumerate(result.codes)
        if selection.areas is None or code in selection.areas
    ]
    rows.sort(key=lambda row: (math.isnan(row["z"]), -row["z"], row["code"]))
    _emit(rows, fmt)


@analyse.command("rises")
@_period_options
@click.option("--method", type=click.Choice(["farrington", "ears_c3"]), default="farrington")
@click.option("--weeks", default=4, show_default=True, help="Latest weeks to report.")
@click.option("--all", "all_weeks", is_flag=True, help="Every area-week, not only alarms.")
@click.pass_context
def analyse_rises(
    ctx: click.Context,
    period: str,
    months: int,
    layer: str,
    group_name: str | None,
    fmt: str,
    method: str,
    weeks: int,
    all_weeks: bool,
) -> None:
    """Areas whose weekly count rose above its expected level (Farrington or EARS C3).

    Every week of data up to the end of --period is the history; --months is ignored.
    """
    from cardiffmodel.analysis.rises import detect_rises, weekly_counts

    project = _project(ctx)
    selection = _selection(project, period, 1, layer, group_name)
    with project.store(read_only=True) as store:
        t = store.incidents()
        first = t.filter(t.source.isin(selection.sources)).occurred_date.min().to_pyarrow()
        start = first.as_py() if first.is_valid else selection.start
        history = dataclasses.replace(selection, start=min(start, selection.start))
        series = weekly_counts(t, history)
    result = detect_rises(series, method=method)
    names = project.layer(selection.layer)
    rows = [
        {
            "code": code,
            "name": names.name_of(code) if code in names.codes else code,
            "week": area.weeks[k],
            "observed": area.observed[k],
            "expected": area.expected[k],
            "upper": area.upper[k],
            "alarm": area.alarm[k],
        }
        for code, area in result.areas.items()
        for k in range(max(0, len(area.weeks) - weeks), len(area.weeks))
        if all_weeks or area.alarm[k]
    ]
    _emit(rows, fmt)


@analyse.command("gap")
@_period_options
@click.option(
    "--crime-type", "crime_types", multiple=True, help="Police crime types to count (all if none)."
)
@click.option("--venues", is_flag=True, help="Venues instead of areas.")
@click.option(
    "--link",
    is_flag=True,
    help="Link ED to police records one by one and report the share unknown to the police.",
)
@click.option("--threshold", default=0.5, show_default=True, help="Link match probability.")
@click.option(
    "--train-months",
    default=12,
    show_default=True,
    help="Months up to --period the linkage model learns from.",
)
@click.pass_context
def analyse_gap(
    ctx: click.Context,
    period: str,
    months: int,
    layer: str,
    group_name: str | None,
    fmt: str,
    crime_types: tuple[str, ...],
    venues: bool,
    link: bool,
    threshold: float,
    train_months: int,
) -> None:
    """Hospital-recorded violence against police records, per area or venue, or linked."""
    project = _project(ctx)
    selection = _selection(project, period, months, layer, group_name)
    with project.store(read_only=True) as store:
        if link:
            from cardiffmodel.analysis.linkage import LinkageOptions, link_ed_police

            training = _selection(project, period, max(train_months, months), layer, None)
            try:
                result = link_ed_police(
                    store.incidents(), selection, LinkageOptions(threshold=threshold), training
                )
            except ValueError as err:
                raise click.ClickException(str(err)) from err
            _emit(_linkage_rows(result), fmt)
            return
        from cardiffmodel.analysis.gap import area_gap

        gap = area_gap(
            store.incidents(),
            selection,
            project.layer(selection.layer).lookup(),
            police_crime_types=crime_types or None,
        )
    if venues:
        _emit([dataclasses.asdict(v) for v in gap.venues], fmt)
        return
    rows = [dataclasses.asdict(row) for row in gap.rows]
    if selection.areas is None:  # a group's areas hold no unplaced record
        rows.append(
            {
                "code": "unplaced",
                "name": "not placed in any area",
                "ed": gap.ed_unplaced,
                "police": gap.police_unplaced,
                "ed_per_police": None,
                "excess": None,
            }
        )
    _emit(rows, fmt)


def _linkage_rows(result: LinkageResult) -> list[dict]:
    from cardiffmodel.analysis.linkage import UnknownShare

    groups = (
        ("all", (UnknownShare("all ED attendances", result.ed_records, len(result.links)),)),
        ("area", result.by_area),
        ("sex_age", result.by_sex_age),
        ("relationship", result.by_relationship),
        ("venue", result.by_venue),
    )
    return [
        {
            "group": group,
            "key": share.key,
            "ed": share.ed,
            "linked": share.linked,
            "unknown": share.unknown,
            "unknown_share": share.unknown_share,
        }
        for group, shares in groups
        for share in shares
    ]


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
