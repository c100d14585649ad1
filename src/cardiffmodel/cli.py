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
    from cardiffmodel.demo import run_demo

    summary = run_demo(ctx.obj, data_dir, seed=seed, months=months, scale=scale)
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web dashboard and API on the project's store (behind HTTPS in production)."""
    from cardiffmodel.web.app import MissingAssets
    from cardiffmodel.web.app import serve as run_server

    project = _project(ctx)
    try:
        run_server(project.settings.root, host=host, port=port)
    except MissingAssets as err:
        raise click.ClickException(str(err)) from err


@main.group()
def users() -> None:
    """Dashboard users: add, list and disable."""


def _accounts(ctx: click.Context):
    from cardiffmodel.web.accounts import Accounts
    from cardiffmodel.web.database import Database

    project = _project(ctx)
    return project, Accounts(Database.in_project(project.settings.root))


@users.command("add")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["health", "police", "council", "analyst", "admin"])
)
@click.option("--organisation", required=True, help="The user's organisation (created if new).")
@click.option(
    "--site", "sites", multiple=True, help="A site a new health organisation owns; repeat."
)
@click.password_option(help="At least 12 characters; asked for when not given.")
@click.pass_context
def users_add(
    ctx: click.Context,
    username: str,
    role: str,
    organisation: str,
    sites: tuple[str, ...],
    password: str,
) -> None:
    """Add USERNAME to the dashboard."""
    from cardiffmodel.web.accounts import AccountError

    project, accounts = _accounts(ctx)
    known = {s.site for s in project.settings.sources}
    try:
        user = accounts.add_user(username, password, role, organisation, sites, known_sites=known)
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"added {user.username} ({user.role}, {user.organisation})")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users with their role, organisation, sites and status."""
    _, accounts = _accounts(ctx)
    rows = [
        {
            "username": u.username,
            "role": u.role,
            "organisation": u.organisation,
            "sites": " ".join(sorted(u.sites)),
            "active": "yes" if u.active else "no",
        }
        for u in accounts.users()
    ]
    _emit(rows, "table")


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Stop USERNAME signing in and end their sessions now."""
    from cardiffmodel.web.accounts import AccountError

    _, accounts = _accounts(ctx)
    try:
        accounts.disable(username)
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"disabled {username}")
