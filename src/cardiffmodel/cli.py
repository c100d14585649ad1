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
from cardiffmodel.store.duckdb_store import StoreError


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
    except (ConfigError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    for result in results:
        click.echo(_ingest_line(result))
    if any(r.skipped and r.skipped.startswith("rejected") for r in results):
        sys.exit(1)


def _ingest_line(result: IngestResult) -> str:
    if result.skipped:
        return f"{result.file}: {result.skipped}"
    removed = ", ".join(f"{k} {v}" for k, v in result.identifiers_removed.items()) or "none"
    line = (
        f"{result.file}: batch {result.batch_id}: {result.rows_in} rows, "
        f"{result.accepted} accepted ({result.new} new, {result.duplicates} already stored, "
        f"{result.updated} updated), {result.quarantined} quarantined, "
        f"{result.filtered} filtered out; identifiers removed: {removed}"
    )
    if result.resolved:
        line += f"; {result.resolved} earlier quarantined rows resolved"
    if result.columns_not_read:
        line += f"; columns not read: {', '.join(result.columns_not_read)}"
    return line


@main.command()
@click.option("--source", default=None, help="Only this source.")
@click.option("--all", "everything", is_flag=True, help="Also resolved and withdrawn rows.")
@click.option(
    "--export",
    "export_to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the open rows of --source to this file, in the source's layout, to correct "
    "and ingest again.",
)
@click.pass_context
def quarantine(
    ctx: click.Context, source: str | None, everything: bool, export_to: Path | None
) -> None:
    """List quarantined rows with the file, row, column, value and reason."""
    from cardiffmodel.ingest.corrections import ExportError, export_quarantine
    from cardiffmodel.store.duckdb_store import QUARANTINE_STATES

    project = _project(ctx)
    try:
        if export_to is not None:
            if source is None:
                raise click.ClickException("--export needs --source: each source has its layout")
            with project.store() as store:
                count = export_quarantine(project.settings, store, source, export_to)
            click.echo(f"{count} rows written to {export_to}; correct them, then run:")
            click.echo(f"  cardiff ingest {source} {export_to}")
            return
        states = QUARANTINE_STATES if everything else ("open",)
        with project.store(read_only=True) as store:
            rows = store.quarantine(source, states)
    except (ConfigError, StoreError, ExportError) as err:
        raise click.ClickException(str(err)) from err
    for row in rows:
        state = "" if row["status"] == "open" else f" [{row['status']}]"
        click.echo(
            f"#{row['quarantine_id']}{state} {row['file']} row {row['row_number']} column "
            f"{row['column_name']} value {row['value']!r}: {row['reason']}"
        )
    click.echo(f"{len(rows)} quarantined rows")


@main.group(invoke_without_command=True)
@click.pass_context
def batches(ctx: click.Context) -> None:
    """List ingested batches (one per file) with their counts; see also withdraw."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        with _project(ctx).store(read_only=True) as store:
            rows = store.batches()
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    writer = csv.writer(sys.stdout)
    columns = [
        "batch_id",
        "source",
        "file",
        "sha256",
        "rows_in",
        "accepted",
        "new",
        "duplicates",
        "updated",
        "quarantined",
        "filtered",
        "identifiers_removed",
        "started_at",
        "status",
    ]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])


@batches.command("withdraw")
@click.argument("batch_id")
@click.pass_context
def batches_withdraw(ctx: click.Context, batch_id: str) -> None:
    """Take back a batch: its records leave the store (unless another batch also sent
    them) and its file may be ingested again."""
    try:
        with _project(ctx).store() as store:
            outcome = store.withdraw(batch_id)
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"{batch_id} withdrawn: {outcome.removed} records removed, {outcome.kept} kept "
        f"(also sent in another batch), {outcome.restored} restored to an earlier version, "
        f"{outcome.reopened} quarantined rows reopened"
    )


@main.command()
@click.option("--from", "first", default=None, help="First month, e.g. 2019-01.")
@click.option("--to", "last", default=None, help="Last month, e.g. 2019-12.")
@click.option("--baseline", default=3, show_default=True, help="Months a volume is compared with.")
@click.option("--drop", default=0.5, show_default=True, help="Flag months below this share.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def quality(
    ctx: click.Context,
    first: str | None,
    last: str | None,
    baseline: int,
    drop: float,
    fmt: str,
) -> None:
    """Data quality per source and month: completeness, placement, timeliness, volume."""
    from cardiffmodel.analysis.quality import monthly_quality
    from cardiffmodel.analysis.selection import add_months, month_selection

    try:
        start = month_selection(first).start if first else None
        end = add_months(month_selection(last).start, 1) if last else None
        with _project(ctx).store(read_only=True) as store:
            result = monthly_quality(
                store.incidents(), store.batches_table(), start, end, baseline, drop
            )
    except (ValueError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    rows = [
        {
            "source": r.source,
            "month": f"{r.month:%Y-%m}",
            "records": r.records,
            "vs_previous": r.volume_ratio,
            "flag": "DROP" if r.drop else "",
            "location_given": r.location_given,
            "time_known": r.time_known,
            "weapon_known": r.weapon_known,
            "located": r.located,
            "median_days_to_receipt": r.median_days,
        }
        for r in result.rows
    ]
    _emit(rows, fmt)
    if fmt == "table" and result.drops:
        months = ", ".join(f"{r.source} {r.month:%Y-%m}" for r in result.drops)
        click.echo(f"Volume fell below {drop:.0%} of the previous {baseline} months: {months}")


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
