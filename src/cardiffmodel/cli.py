"""The ``cardiff`` command: a thin layer that builds arguments for the library.

Every command acts on a project folder: the current directory or ``--project DIR``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardiffmodel.analysis.profiles import PROFILE_FIELDS
from cardiffmodel.config import ConfigError
from cardiffmodel.ingest.pipeline import IngestResult
from cardiffmodel.ingest.readers import FileRejected
from cardiffmodel.places.areas import AreaError
from cardiffmodel.project import Project
from cardiffmodel.store.duckdb_store import StoreError

if TYPE_CHECKING:
    from datetime import date

    from cardiffmodel.analysis.evaluation import Evaluation
    from cardiffmodel.analysis.linkage import LinkageResult
    from cardiffmodel.analysis.quality import PlacementQuality
    from cardiffmodel.analysis.selection import Selection


# A user's mistake (a bad option value, a missing layer, no store yet) raises one of these
# with a message that says what to do; the command prints it as one line and exits 1.
# ValueError is how the analysis layer rejects its inputs. CARDIFF_DEBUG=1 shows tracebacks.
DOMAIN_ERRORS = (ConfigError, StoreError, FileRejected, AreaError, ValueError)


class _ErrorBoundary(click.Group):
    """The one place where domain errors become a clear line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DOMAIN_ERRORS as err:
            if os.environ.get("CARDIFF_DEBUG"):
                raise
            raise click.ClickException(str(err)) from err


@click.group(cls=_ErrorBoundary)
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
    # The store, web.sqlite, uploads and reports hold health records or password hashes:
    # whatever this command creates is its owner's only (see store/private.py). The
    # caller's umask comes back at the end, for a command run inside another program.
    previous = os.umask(0o077)
    ctx.call_on_close(lambda: os.umask(previous))
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
    why = ", ".join(f"{k} {v}" for k, v in result.filtered_reasons.items())
    line = (
        f"{result.file}: batch {result.batch_id}: {result.rows_in} rows, "
        f"{result.accepted} accepted ({result.new} new, {result.duplicates} already stored, "
        f"{result.updated} updated), {result.quarantined} quarantined, "
        f"{result.filtered} filtered out{f' ({why})' if why else ''}"
    )
    if result.unlocatable:
        line += (
            f", {result.unlocatable} unlocatable (no map point or area code, so not known "
            "to be in the area: not stored)"
        )
    line += f"; identifiers removed: {removed}"
    if result.outside_area:
        line += f"; {result.outside_area} accepted records are located outside the area (no area)"
    if result.codes_checked:
        line += (
            f"; official area codes used: point-in-polygon would differ for "
            f"{result.codes_differ} of {result.codes_checked}"
        )
    for layer in result.codes_ignored:
        line += f"; the file's {layer} codes are none of the {layer} layer's: placed by point"
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
        "filtered_reasons",
        "unlocatable",
        "outside_area",
        "codes_checked",
        "codes_differ",
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
    """Data quality per source and month: completeness, placement, timeliness, volume;
    then, per source, rows that could not be located and how often official area codes
    and point-in-polygon disagree."""
    from cardiffmodel.analysis.quality import monthly_quality, placement_quality
    from cardiffmodel.analysis.selection import add_months, month_selection

    try:
        start = month_selection(first).start if first else None
        end = add_months(month_selection(last).start, 1) if last else None
        with _project(ctx).store(read_only=True) as store:
            result = monthly_quality(
                store.incidents(), store.batches_table(), start, end, baseline, drop
            )
            placement = placement_quality(store.batches_table(), start, end)
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
    if fmt == "table":
        for p in placement:
            click.echo(_placement_line(p))


def _placement_line(p: PlacementQuality) -> str:
    line = f"{p.source}: {p.unlocatable} rows unlocatable (no map point or area code; not stored)"
    if p.codes_checked:
        line += (
            f"; official area codes and point-in-polygon differ for {p.codes_differ} of "
            f"{p.codes_checked} records ({p.differ_share:.1%}): the official codes are stored"
        )
    return line


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
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Write a report (marked as holding no data) even when no source holds the period.",
)
@click.pass_context
def report(
    ctx: click.Context,
    period: str,
    quarter: bool,
    group_name: str | None,
    all_groups: bool,
    formats: str,
    allow_empty: bool,
) -> None:
    """Write reports for Local Violence Prevention Groups (HTML and/or PDF).

    Only the sources that hold the period are counted; a period that no source holds is
    refused, and nothing is written, unless --allow-empty.
    """
    from cardiffmodel.reports.analyses import NotHeld
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
        paths = write_reports(
            project, groups, period, quarter=quarter, formats=chosen, allow_empty=allow_empty
        )
    except NotHeld as err:
        raise click.ClickException(f"{err}; nothing written") from err
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    for path in paths:
        click.echo(str(path))


@main.group()
def analyse() -> None:
    """Analyses printed as a table, CSV or JSON."""


SHARED_OPTIONS = (
    click.option("--period", required=True, help="Month, e.g. 2019-01."),
    click.option("--months", default=1, show_default=True, help="Months up to --period."),
    click.option("--layer", default="beat", show_default=True),
    click.option("--group", "group_name", default=None),
    click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"),
)


def _analysis(name: str):
    """Register an ``analyse`` command that turns a project and a selection into rows.

    The command's own options stay on it; the options every analysis shares (period,
    months, layer, group, format) are added here and become the ``Selection`` it gets.
    """

    def register(command: Callable[..., list[dict]]):
        def run(
            ctx: click.Context,
            period: str,
            months: int,
            layer: str,
            group_name: str | None,
            fmt: str,
            **options,
        ) -> None:
            project = _project(ctx)
            selection = _held(project, _selection(project, period, months, layer, group_name))
            _emit(command(project, selection, **options), fmt)

        run.__doc__ = command.__doc__
        run.__click_params__ = list(getattr(command, "__click_params__", []))
        for option in reversed(SHARED_OPTIONS):
            run = option(run)
        return analyse.command(name)(click.pass_context(run))

    return register


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


@_analysis("beats")
def analyse_beats(project: Project, selection: Selection) -> list[dict]:
    """Areas ranked by incidents, with rates per 1,000 residents, the change from the
    previous period (exact Poisson p-value) and the same period last year. A comparison
    period that the same sources do not hold is shown as not held, never as 0."""
    from cardiffmodel.analysis.counts import rank_areas

    lookup = project.layer(selection.layer).lookup()
    with project.store(read_only=True) as store:
        ranking = rank_areas(store.incidents(), selection, lookup, store.coverage())
    _note_comparisons(ranking.previous_held, ranking.last_year_held)
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "count": r.count,
            "rate_per_1000": r.rate_per_1000,
            "previous": _held_value(r.previous_count),
            "change": _held_value(r.change),
            "change_p": _held_value(r.change_p_value),
            "last_year": _held_value(r.last_year_count),
        }
        for r in ranking.rows
    ]
    if selection.areas is None:
        rows.append(
            {
                "code": "(unplaced)",
                "name": f"no {selection.layer} (location not resolved)",
                "count": ranking.unplaced,
                "rate_per_1000": None,
                "previous": _held_value(ranking.previous_unplaced),
                "change": _held_value(
                    None
                    if ranking.previous_unplaced is None
                    else ranking.unplaced - ranking.previous_unplaced
                ),
                "change_p": None,
                "last_year": _held_value(ranking.last_year_unplaced),
            }
        )
    return rows


NOT_HELD = "not held"


def _held_value(value: object) -> object:
    """None from the analysis layer means the period is not held: say so."""
    return NOT_HELD if value is None else value


def _held(project: Project, selection: Selection) -> Selection:
    """The selection narrowed to the sources that hold its whole period (said on stderr,
    so CSV and JSON stay clean), or a clear refusal when none does."""
    from cardiffmodel.analysis.selection import held_part

    with project.store(read_only=True) as store:
        coverage = store.coverage()
    held = held_part(selection, coverage)
    last = selection.end - timedelta(days=1)
    if held is None:
        raise click.ClickException(
            f"no source holds {selection.start} to {last} in full; held:\n" + coverage.describe()
        )
    click.echo(f"sources holding {selection.start} to {last}: {', '.join(held.sources)}", err=True)
    return held


def _note_comparisons(previous: bool, last_year: bool) -> None:
    """Say on stderr which comparison periods are not held by the same sources."""
    if not previous:
        click.echo("previous period: not held by the same sources", err=True)
    if not last_year:
        click.echo("same period last year: not held by the same sources", err=True)


@_analysis("venues")
@click.option("--limit", default=20, show_default=True, help="How many venues.")
def analyse_venues(project: Project, selection: Selection, limit: int) -> list[dict]:
    """The venues with most incidents (homes are never listed)."""
    from cardiffmodel.analysis.counts import rank_venues

    with project.store(read_only=True) as store:
        ranking = rank_venues(store.incidents(), selection, limit, store.coverage())
    return [
        {**dataclasses.asdict(row), "previous_count": _held_value(row.previous_count)}
        for row in ranking.rows
    ]


@_analysis("profile")
@click.option(
    "--field",
    type=click.Choice(["hour", *PROFILE_FIELDS]),
    default="hour",
    show_default=True,
    help="A code list to count by, or 'hour' for the hour x weekday grid.",
)
def analyse_profile(project: Project, selection: Selection, field: str) -> list[dict]:
    """Incidents by weekday and hour, or by weapon, location type, age, sex..."""
    from cardiffmodel.analysis.profiles import WEEKDAYS, hour_weekday, profile

    with project.store(read_only=True) as store:
        if field != "hour":
            found = profile(store.incidents(), selection, field)
            return [{field: c, "count": n} for c, n in zip(found.codes, found.counts, strict=True)]
        grid = hour_weekday(store.incidents(), selection)
    click.echo(f"{grid.time_unknown} incidents with no time of day are left out", err=True)
    return [
        {"weekday": day, **{f"{h:02d}": n for h, n in enumerate(counts)}}
        for day, counts in zip(WEEKDAYS, grid.counts, strict=True)
    ]


@_analysis("hotspots")
@click.option(
    "--statistic",
    type=click.Choice(["gi_star", "local_moran", "excess"]),
    default="gi_star",
    show_default=True,
    help="gi_star: is the area part of a cluster of high counts? local_moran: clusters and "
    "outliers. excess: does the area alone hold more than its population (or its past) "
    "predicts?",
)
@click.option(
    "--permutations",
    type=click.IntRange(min=99),
    default=9999,
    show_default=True,
    help="Conditional permutations (gi_star, local_moran).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="False discovery rate.",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--basis",
    type=click.Choice(["population", "history"]),
    help="excess: expected counts from the population at the region's rate (the default "
    "when every area has a population) or from the previous periods.",
)
@click.option(
    "--history",
    "periods",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="excess against history: previous periods of the same length.",
)
def analyse_hotspots(
    project: Project,
    selection: Selection,
    statistic: str,
    permutations: int,
    alpha: float,
    seed: int,
    basis: str | None,
    periods: int,
) -> list[dict]:
    """Hot spots: clusters of high counts (Gi*, Local Moran) or areas above expectation.

    Every area of the layer is tested, since a group's areas have neighbours outside the
    group and the region's rate comes from all of them; a group's areas are shown.
    """
    try:
        if statistic == "excess":
            rows = _excess_rows(project, selection, basis, periods, alpha)
            return sorted(rows, key=lambda r: (math.isnan(r["ratio"]), -r["ratio"], r["code"]))
        rows = _cluster_rows(project, selection, statistic, permutations, seed, alpha)
        return sorted(rows, key=lambda r: (math.isnan(r["z"]), -r["z"], r["code"]))
    except ValueError as err:
        raise click.ClickException(str(err)) from err


def _cluster_rows(
    project: Project, selection: Selection, statistic: str, permutations: int, seed: int, alpha
) -> list[dict]:
    from cardiffmodel.analysis.hotspots import contiguity, counts_by_area, gi_star, local_moran

    area_layer = project.layer(selection.layer)
    weights = contiguity(area_layer.geometries, area_layer.codes)
    with project.store(read_only=True) as store:
        everywhere = dataclasses.replace(selection, areas=None)
        counts = counts_by_area(store.incidents(), everywhere, area_layer.codes)
    test = gi_star if statistic == "gi_star" else local_moran
    result = test(counts, weights, permutations=permutations, seed=seed, alpha=alpha)
    return [
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


def _excess_rows(
    project: Project, selection: Selection, basis: str | None, periods: int, alpha: float
) -> list[dict]:
    from cardiffmodel.analysis.excess import excess_by_area

    area_layer = project.layer(selection.layer)
    with project.store(read_only=True) as store:
        found = excess_by_area(
            store.incidents(),
            selection,
            area_layer.codes,
            area_layer.population,
            basis=basis,
            periods=periods,
            alpha=alpha,
        )
    against = (
        "the population at the region's rate"
        if found.basis == "population"
        else f"the mean of {found.periods} previous period{'s' * (found.periods != 1)}"
    )
    click.echo(f"expected counts: {against}", err=True)
    return [
        {
            "code": code,
            "name": area_layer.name_of(code),
            "count": int(found.observed[i]),
            "expected": float(found.expected[i]),
            "ratio": float(found.ratio[i]),
            "p_adjusted": float(found.p_adjusted[i]),
            "class": found.classification[i],
        }
        for i, code in enumerate(found.codes)
        if selection.areas is None or code in selection.areas
    ]


@_analysis("rises")
@click.option(
    "--method",
    type=click.Choice(["auto", "farrington", "ears_c3"]),
    default="auto",
    show_default=True,
    help="auto: Farrington with the longest baseline the store holds (up to 5 years), "
    "else EARS C3.",
)
@click.option("--weeks", default=4, show_default=True, help="Latest weeks to report.")
@click.option("--all", "all_weeks", is_flag=True, help="Every area-week, not only alarms.")
def analyse_rises(
    project: Project, selection: Selection, method: str, weeks: int, all_weeks: bool
) -> list[dict]:
    """Areas whose weekly count rose above its expected level (Farrington or EARS C3).

    The methods learn from the weeks the store holds before the latest --weeks whole
    weeks up to the end of --period; which method ran, and on what history, is said first.
    """
    from datetime import timedelta

    from cardiffmodel.analysis.rise_check import check_rises

    if weeks < 1:
        raise click.ClickException(f"--weeks {weeks}: expected at least 1")
    last = selection.end - timedelta(days=selection.end.weekday())
    judged = dataclasses.replace(selection, start=last - timedelta(weeks=weeks))
    with project.store(read_only=True) as store:
        check = check_rises(store.incidents(), judged, store.coverage(), method)
    if check.result is None:
        raise click.ClickException(check.note)
    click.echo(check.note, err=True)
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
        for code, area in check.result.areas.items()
        for k, week in enumerate(area.weeks)
        if week in check.weeks and (all_weeks or area.alarm[k])
    ]
    if not rows:
        first, end = check.weeks[0], check.weeks[-1] + timedelta(days=6)
        areas = len(check.result.areas)
        click.echo(f"No area of {areas} rose above its threshold from {first} to {end}.", err=True)
    return rows


@_analysis("gap")
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
def analyse_gap(
    project: Project,
    selection: Selection,
    crime_types: tuple[str, ...],
    venues: bool,
    link: bool,
    threshold: float,
    train_months: int,
) -> list[dict]:
    """Hospital-recorded violence against police records, per area or venue, or linked.
    Both Emergency Department and police data must hold the whole period."""
    if not {"ed", "police"} <= set(selection.sources):
        raise click.ClickException(
            "the hospital-police gap needs Emergency Department and police data for the "
            f"whole period; the sources holding it are: {', '.join(selection.sources)}"
        )
    if link:
        return _linked(project, selection, threshold, train_months)
    from cardiffmodel.analysis.gap import area_gap

    with project.store(read_only=True) as store:
        gap = area_gap(
            store.incidents(),
            selection,
            project.layer(selection.layer).lookup(),
            police_crime_types=crime_types or None,
        )
    if venues:
        return [dataclasses.asdict(v) for v in gap.venues]
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
    return rows


def _linked(
    project: Project, selection: Selection, threshold: float, train_months: int
) -> list[dict]:
    from cardiffmodel.analysis.linkage import LinkageOptions, link_ed_police
    from cardiffmodel.analysis.selection import Selection, add_months

    start = min(selection.start, add_months(selection.end, -train_months))
    training = Selection(start, selection.end, layer=selection.layer)
    with project.store(read_only=True) as store:
        try:
            result = link_ed_police(
                store.incidents(), selection, LinkageOptions(threshold=threshold), training
            )
        except ValueError as err:
            raise click.ClickException(str(err)) from err
    return _linkage_rows(result)


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
        return f"{value:.2g}" if 0 < abs(value) < 0.01 else f"{value:.2f}"
    return "" if value is None else str(value)


@main.group()
def places() -> None:
    """Resolve location texts to places; review the texts the matcher could not place."""


@places.command("match")
@click.option(
    "--input",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with columns id,text and optionally site_lon,site_lat.",
)
@click.option(
    "--output",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV written with id,place_id,place_name,lon,lat,location_type,score,status,reason "
    "(why a text is unresolved: no candidate, ambiguous between which places, or below "
    "the threshold with the best candidate).",
)
@click.option(
    "--gazetteer",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="FSA XML or CSV, police.uk street CSV, OS Open Names CSV, NaPTAN Stops.csv, "
    "OpenStreetMap GeoJSON or .osm XML, or places CSV (repeat for more); "
    "without it, the project's gazetteer and review decisions are used.",
)
@click.option(
    "--postcodes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="Postcode lookup CSV (ONSPD or Code-Point Open style).",
)
@click.option(
    "--beats",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Beat polygons: postcode sectors lying in one beat become places.",
)
@click.option("--beat-field", default=None, help="The field of --beats holding beat codes.")
@click.option(
    "--bbox",
    type=float,
    nargs=4,
    default=None,
    help="W S E N: keep FSA and police.uk places inside.",
)
@click.option("--workers", default=1, show_default=True, help="Processes to share the texts.")
@click.pass_context
def places_match(
    ctx: click.Context,
    source: Path,
    target: Path,
    gazetteer: tuple[Path, ...],
    postcodes: tuple[Path, ...],
    beats: Path | None,
    beat_field: str | None,
    bbox: tuple[float, float, float, float] | None,
    workers: int,
) -> None:
    """Match the texts of a CSV to places and write the results as a CSV."""
    from cardiffmodel.places.batch import BatchError, match_csv, matcher_from_files
    from cardiffmodel.places.gazetteer import GazetteerError

    try:
        if gazetteer:
            resolver = matcher_from_files(gazetteer, postcodes, beats, beat_field, bbox)
        else:
            resolver = _project(ctx).matcher
        counts = match_csv(resolver, source, target, workers=workers)
    except (BatchError, GazetteerError, ConfigError) as err:
        raise click.ClickException(str(err)) from err
    summary = ", ".join(f"{counts[s]} {s}" for s in ("matched", "home", "unresolved"))
    click.echo(f"wrote {target}: {sum(counts.values())} texts, {summary}")


@places.command("review")
@click.option("--below", default=0.9, show_default=True, help="Also list matches scoring below.")
@click.option("--limit", default=30, show_default=True, help="Most frequent texts shown.")
@click.option("--vague", is_flag=True, help="Include texts naming no particular place ('town').")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def places_review(ctx: click.Context, below: float, limit: int, vague: bool, fmt: str) -> None:
    """Texts of stored incidents the matcher could not place (or barely), most frequent first."""
    from cardiffmodel.places.review import review_queue

    project = _project(ctx)
    matcher = project.matcher.matcher  # built before the store is opened
    sites = {s.site: s.site_location for s in project.settings.sources if s.site_location}
    with project.store() as store:
        items = review_queue(store.con, matcher, below=below, sites=sites, vague=vague)[:limit]
    rows = [
        {
            "incidents": item.incidents,
            "text": item.example,
            "spellings": item.spellings,
            "status": item.status,
            "score": item.score,
            "suggestions": " ".join(item.suggestions),
            "reason": item.reason,
        }
        for item in items
    ]
    _emit(rows, fmt)


@places.command("decide")
@click.argument("text")
@click.option("--place", "place_id", default=None, help="The gazetteer place id it means.")
@click.option("--not-a-place", is_flag=True, help="The text names no place.")
@click.option("--by", "decided_by", required=True, help="Who decided (kept with the decision).")
@click.option("--note", default="", help="Why, for whoever reads the decision later.")
@click.pass_context
def places_decide(
    ctx: click.Context,
    text: str,
    place_id: str | None,
    not_a_place: bool,
    decided_by: str,
    note: str,
) -> None:
    """Decide what TEXT means; stored incidents with that text are re-placed now, and later
    records with it are placed the same way."""
    from cardiffmodel.places.review import ReviewError, apply_to_stored, decide

    if (place_id is None) == (not not_a_place):
        raise click.ClickException("give either --place PLACE_ID or --not-a-place")
    project = _project(ctx)
    place = None
    if place_id is not None:
        place = next((p for p in project.gazetteer if p.place_id == place_id), None)
        if place is None:
            raise click.ClickException(f"no gazetteer place has the id {place_id!r}")
    territory = project.territory
    with project.store() as store:
        try:
            decision = decide(store.con, text, place, decided_by, note)
        except ReviewError as err:
            raise click.ClickException(str(err)) from err
        changed = apply_to_stored(store.con, decision, territory)
    meaning = f"{place.name} ({place.place_id})" if place else "no place"
    click.echo(
        f"decided: {decision.text_key!r} means {meaning}; {changed} stored incidents updated"
    )


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
@click.option("--password", hidden=True, help="Deprecated: lands in shell history.")
@click.pass_context
def users_add(
    ctx: click.Context,
    username: str,
    role: str,
    organisation: str,
    sites: tuple[str, ...],
    password: str | None,
) -> None:
    """Add USERNAME to the dashboard; the password is asked for twice (at least 12
    characters, not blank, repeated or a common password)."""
    from cardiffmodel.web.accounts import AccountError

    project, accounts = _accounts(ctx)
    known = {s.site for s in project.settings.sources}
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        click.echo(
            "warning: a password given on the command line stays in the shell's history "
            "and the process list; leave --password out to be asked for it",
            err=True,
        )
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
@click.option(
    "--weeks-before",
    default=104,
    show_default=True,
    help="Weeks of data before the start (fewer when the store holds fewer).",
)
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
                store.incidents(),
                intervention,
                options,
                through.date() if through else None,
                store.coverage(),
            )
            rows = result.what_works(datetime.now().replace(microsecond=0))
            save_results(store.con, rows)
    except (InterventionError, EvaluationError) as err:
        raise click.ClickException(str(err)) from err
    for line in _shortened_windows(result):
        click.echo(line, err=True)
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


def _shortened_windows(result: Evaluation) -> list[str]:
    """One line per window that holds fewer weeks before the start than were asked for."""
    sources: dict[tuple[int, date], list[str]] = {}
    for source, w in result.shortened():
        sources.setdefault((w.weeks_before, w.first_week), []).append(source)
    start, asked = result.intervention.start, result.weeks_before_asked
    return [
        f"{', '.join(names)}: {before} weeks before {start} are held (from {first}), "
        f"not the {asked} asked for"
        for (before, first), names in sources.items()
    ]


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
