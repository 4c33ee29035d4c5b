"""Event commands: import files into a workspace, simulate an event log for a journey."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from journeykit.cli.output import err_console, out_console, warn
from journeykit.engine.workspace import (
    import_files,
    import_rest,
    import_source,
    source_states,
    sync_sources,
)
from journeykit.events.dbsource import DatabaseSource, public_url
from journeykit.events.importer import ImportOptions, ImportReport
from journeykit.events.presets import EXPORTS, describe_presets
from journeykit.events.reader import Progress as ProgressFn
from journeykit.events.rest import rest_target
from journeykit.events.sources import PRESETS, column_map
from journeykit.events.sync import SyncReport
from journeykit.events.timestamps import check_timezone
from journeykit.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

FilePath = click.Path(exists=True, dir_okay=False, path_type=Path)
# A progress bar appears only for work that has already taken this long (seconds).
PROGRESS_AFTER = 1.0


@contextmanager
def progress_bar() -> Iterator[ProgressFn]:
    """A Rich bar on stderr that appears only once work has taken more than a second."""
    started = time.monotonic()
    shown: list[Progress] = []  # made when first needed: a quick command skips the import
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: float) -> None:
        if time.monotonic() - started < PROGRESS_AFTER:
            return
        if not shown:
            shown.append(_bar())
            shown[0].start()
        bar = shown[0]
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=100)
        bar.update(tasks[phase], completed=done)
        bar.refresh()  # draw now: DuckDB is polled ten times a second anyway

    try:
        yield report
    finally:
        if shown:
            shown[0].stop()


def _bar() -> Progress:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err_console, transient=True,
    )  # fmt: skip


@click.command("import")
@click.argument("files", nargs=-1, type=FilePath)
@click.option(
    "--workspace", "workspace_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The workspace folder (journeykit init DIR).",
)  # fmt: skip
@click.option("--customer-id", help="Column with the customer id [customer_id].")
@click.option("--event", help="Column with the event name [event].")
@click.option("--timestamp", help="Column with the time [timestamp].")
@click.option("--value", help="Column with a numeric value [value, if present].")
@click.option(
    "--properties",
    help="Column holding a JSON object; without it the other columns become properties.",
)
@click.option(
    "--preset", type=click.Choice(sorted([*PRESETS, *EXPORTS])),
    help="An export's layout (journeykit sources lists them).",
)  # fmt: skip
@click.option("--delimiter", help="CSV field separator [guessed from the header].")
@click.option(
    "--timezone", default="UTC", show_default=True, help="IANA zone for times without offset."
)
@click.option(
    "--strict", is_flag=True,
    help="Fail the whole import if any row is rejected (also by an earlier import of a file).",
)  # fmt: skip
@click.option(
    "--replace", is_flag=True,
    help="Load a file again, removing its earlier rows; with --from, read the source again "
    "whole (as now defined), replacing what it loaded (also drops rows deleted at the source).",
)  # fmt: skip
@click.option(
    "--from", "from_url", metavar="URL",
    help="A database to import from instead of files (postgresql://, mysql://, sqlite:///, any "
    "ibis URL; env:VARIABLE reads it from the environment), registered for `journeykit sync`; "
    "or a REST API's objects: stripe://charges | invoices | subscriptions (key in "
    "STRIPE_API_KEY).",
)  # fmt: skip
@click.option("--table", help="With --from: the table of events.")
@click.option("--query", help="With --from: a SELECT giving the events (instead of --table).")
@click.option(
    "--cursor", "cursor_column",
    help="With --from: a column that only grows (id, updated-at) [the integer primary key].",
)  # fmt: skip
@click.option("--key", "key_column", help="With --from: the column naming a row [primary key].")
@click.option("--name", "source_name", help="With --from: the source's name [the table's].")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def import_cmd(
    files: tuple[Path, ...],
    workspace_dir: Path,
    customer_id: str | None,
    event: str | None,
    timestamp: str | None,
    value: str | None,
    properties: str | None,
    preset: str | None,
    delimiter: str | None,
    timezone: str,
    strict: bool,
    replace: bool,
    from_url: str | None,
    table: str | None,
    query: str | None,
    cursor_column: str | None,
    key_column: str | None,
    source_name: str | None,
    fmt: str,
) -> None:
    """Import event files (CSV, CSV.gz, Parquet, JSON lines) into a workspace, all or nothing;
    or, with --from, a database table or query (then `journeykit sync` pulls what is new)."""
    mapping = column_map(
        preset=preset, customer_id=customer_id, event=event, timestamp=timestamp,
        value=value, properties=properties,
    )  # fmt: skip
    if from_url is not None and rest_target(from_url) is not None:
        given = [customer_id, event, timestamp, value, properties, preset, table, query,
                 cursor_column, key_column, delimiter, *files]  # fmt: skip
        if any(given):
            raise click.UsageError(f"{from_url} takes no files and no column options")
        if replace:
            raise click.UsageError(f"--replace cannot be used with {from_url}")
        ws = open_workspace(workspace_dir)
        with progress_bar() as progress:
            pulled = import_rest(ws, from_url, progress=progress)
        if pulled is None:
            err_console.print(f"{from_url}: no objects", highlight=False, markup=False)
            return
        _emit(pulled, fmt)
        _check_fit(ws, pulled.loaded)
        return
    if from_url is not None:
        unused = [o for o, v in (("FILES", files), ("--delimiter", delimiter),
                                 ("--strict", strict)) if v]  # fmt: skip
        if unused:
            raise click.UsageError(f"{', '.join(unused)} cannot be used with --from")
        name = source_name or table
        if (table is None) == (query is None) or not name:
            raise click.UsageError(
                "--from needs --table NAME or --query SQL (with --query, also --name)"
            )
        source = DatabaseSource(
            name, from_url, table, query, cursor_column, key_column, mapping,
            check_timezone(timezone),
        )  # fmt: skip
        _warn_password(from_url)
        ws = open_workspace(workspace_dir)
        with progress_bar() as progress:
            synced = import_source(ws, source, progress=progress, replace=replace)
        _emit_sync(synced, fmt)
        _check_fit(ws, synced.loaded + synced.replaced)
        return
    extra = [o for o, v in (("--table", table), ("--query", query), ("--cursor", cursor_column),
                            ("--key", key_column), ("--name", source_name)) if v]  # fmt: skip
    if extra:
        raise click.UsageError(f"{', '.join(extra)} go with --from URL")
    if not files:
        raise click.UsageError("give one or more event files, or --from URL")
    options = ImportOptions(mapping, timezone, delimiter, strict, replace)
    ws = open_workspace(workspace_dir)
    with progress_bar() as progress:
        reports = import_files(ws, files, options, progress=progress)
    for report in reports:
        _emit(report, fmt)
    _check_fit(ws, sum(r.loaded for r in reports))
    if not any(r.loaded or r.already_imported for r in reports):
        sys.exit(1)


def _warn_password(url: str) -> None:
    if public_url(url) != url:
        warn(
            "the password in --from is not stored; `journeykit sync` reads it from the "
            "environment (PGPASSWORD, ~/.pgpass, or the URL given as env:VARIABLE)"
        )


def _emit_sync(report: SyncReport, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(report.to_dict()))
    err_console.print(f"{report.source}: {report.summary()}", highlight=False, markup=False)
    if report.rejected:
        warn(f"{report.source}: {report.rejected:,} row(s) rejected; see {report.rejected_file}")


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--workspace", "workspace_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The workspace folder.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def sync(names: tuple[str, ...], workspace_dir: Path, fmt: str) -> None:
    """Pull what is new from the workspace's database sources (NAMES, or all), all or nothing.

    Rows are known by their key: a row that changed at the source replaces its earlier
    version; running it again when nothing changed changes nothing.
    """
    ws = open_workspace(workspace_dir)
    with progress_bar() as progress:
        reports = sync_sources(ws, names, progress=progress)
    for report in reports:
        _emit_sync(report, fmt)
    _check_fit(ws, sum(r.loaded + r.replaced for r in reports))


def _check_fit(ws: Workspace, changed: int) -> None:
    """After new events: does the workspace's journey match them? (analytics.fit)"""
    if not changed or not ws.journey_file.is_file():
        return
    from journeykit.cli.analytics_cmds import warn_fit
    from journeykit.engine import connect
    from journeykit.engine.workspace import workspace_fit
    from journeykit.errors import JourneykitError
    from journeykit.journey import load_journey

    try:
        journey = load_journey(ws.journey_file)
    except JourneykitError:
        return  # `journeykit validate` says what is wrong with it
    fit = workspace_fit(ws, journey)
    if fit is None:  # no up-to-date stored log of this journey (e.g. no rule to measure)
        warn_fit(connect().events(ws.root), journey)
        return
    for line in fit.lines():
        warn(line)


@click.command()
@click.option(
    "--workspace", "workspace_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also list this workspace's database sources and where each stopped.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def sources(workspace_dir: Path | None, fmt: str) -> None:
    """The export presets (`import --preset NAME`) with what each expects, and the workspace's
    database sources (`import --from`, `sync`)."""
    from rich.table import Table

    from journeykit.discover.surveys import SURVEYS

    presets = describe_presets() + [
        {"preset": name, "export": layout.title, "needs": layout.meta[0],
         "yields": "answers (journeykit discover ... --survey NAME): one per question and "
         "respondent", "doc": ""}
        for name, layout in SURVEYS.items()
    ]  # fmt: skip
    registered = source_states(open_workspace(workspace_dir)) if workspace_dir else []
    if fmt == "json":
        click.echo(json.dumps({"presets": presets, "sources": registered}, indent=2, default=str))
        return
    table = Table("preset", "export", "needs", "gives", "documented at", title="Presets")
    for row in presets:
        table.add_row(row["preset"], row["export"], row["needs"], row["yields"], row["doc"])
    out_console.print(table)
    if workspace_dir is not None:
        listed = Table("source", "reads", "cursor", "at", "synced", title="Database sources")
        for src in registered:
            listed.add_row(src["name"], src["reads"], src["cursor"] or "",
                           str(src["at"] or ""), str(src["synced_at"] or ""))  # fmt: skip
        out_console.print(listed)


@click.command()
@click.argument("map_file", type=FilePath)
@click.option(
    "--workspace", "workspace_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path), help="The workspace folder.",
)  # fmt: skip
def identities(map_file: Path, workspace_dir: Path) -> None:
    """Merge customers several sources name differently: MAP_FILE is a CSV of two columns, a
    name a source uses (an e-mail, a payment system's customer id) and the customer id it
    stands for. Replaces the workspace's map; every analysis reads the merged customers."""
    from journeykit.engine.workspace import load_identities

    report = load_identities(open_workspace(workspace_dir), map_file)
    err_console.print(report.summary(), highlight=False, markup=False)


@click.command()
@click.argument("rates_file", type=FilePath)
@click.option(
    "--workspace", "workspace_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path), help="The workspace folder.",
)  # fmt: skip
@click.option("--base", required=True, help="The currency every value is given in (EUR, USD).")
@click.option(
    "--currency-property", "prop", default="currency", show_default=True,
    help="The event property naming an event's currency.",
)  # fmt: skip
def rates(rates_file: Path, workspace_dir: Path, base: str, prop: str) -> None:
    """Convert values in several currencies: RATES_FILE is a CSV date,currency,rate (one unit
    of the currency in the base currency, from that date on). Never fetched; replaces the
    workspace's rates; every analysis reads values in the base currency."""
    from journeykit.engine.workspace import load_rates

    count = load_rates(open_workspace(workspace_dir), rates_file, base=base, prop=prop)
    err_console.print(f"{rates_file.name}: {count:,} rates; values now in {base.upper()}",
                      highlight=False, markup=False)  # fmt: skip


def _emit(report: ImportReport, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(report.to_dict()))
    name = Path(report.source).name
    err_console.print(f"{name}: {report.summary()}", highlight=False, markup=False)
    if report.rejected and not report.already_imported:
        warn(f"{name}: {report.rejected:,} row(s) rejected; see {report.rejected_file}")
    if report.read and not report.loaded and not report.already_imported:
        warn(f"{name}: nothing loaded")


@click.command()
@click.argument("journey_file", type=FilePath)
@click.option("--customers", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True)
@click.option(
    "--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2024-01-01", show_default=True
)
@click.option("--duplicates", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of rows written twice.")  # fmt: skip
@click.option("--late", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of rows arriving hours late (file order is not time order).")  # fmt: skip
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .csv, .csv.gz, .parquet or .jsonl.",
)  # fmt: skip
@click.option(
    "--effect", "effects", multiple=True, metavar="PLAY=LIFT[,SOONER]",
    help="Plant a known effect of a play: its treatment arm reaches the goal with LIFT extra "
    "probability and/or in SOONER of the time (repeatable; see docs/plays.md).",
)  # fmt: skip
@click.option(
    "--leak", "leaks", multiple=True, metavar="MILESTONE[:PERSONA[:FACTOR]]",
    help="Plant a leak: the odds of reaching MILESTONE from the step before it times FACTOR "
    "(default 0.2) for PERSONA's customers (default everyone); repeatable.",
)  # fmt: skip
def simulate(
    journey_file: Path,
    customers: int,
    seed: int,
    days: int,
    start: date,
    duplicates: float,
    late: float,
    output: Path,
    effects: tuple[str, ...],
    leaks: tuple[str, ...],
) -> None:
    """Write a realistic, deterministic event log for a journey."""
    from journeykit.events.simulate import SimulationOptions, parse_leak, simulate_to_file
    from journeykit.journey import load_journey

    journey = load_journey(journey_file)
    options = SimulationOptions(
        customers=customers, seed=seed, days=days, start=start,
        duplicates=duplicates, late=late, leaks=tuple(parse_leak(x) for x in leaks),
    )  # fmt: skip
    if not effects:
        rows = simulate_to_file(journey, options, output)
        out_console.print(f"wrote {rows:,} events to {output}", highlight=False)
        return
    from journeykit.act.plant import parse_effect, plant_effects
    from journeykit.events.simulate import simulate as run
    from journeykit.events.simulate import write_table

    planted = [parse_effect(e) for e in effects]  # bad input fails before the work
    table, added = plant_effects(run(journey, options), journey, planted, seed=seed)
    write_table(table, output)
    done = ", ".join(f"{play} {n:,}" for play, n in added.items())
    out_console.print(
        f"wrote {table.num_rows:,} events to {output}; goal events planted for the treatment "
        f"arm: {done}",
        highlight=False,
    )


@click.command()
@click.option(
    "--workspace", "workspace_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The workspace folder (journeykit init DIR).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def doctor(workspace_dir: Path, fmt: str) -> None:
    """Check the workspace database: read every table in full (each block's checksum is
    verified); exit 1 when anything is damaged."""
    from journeykit.engine.workspace import check_workspace
    from journeykit.errors import WorkspaceDamaged

    check = check_workspace(open_workspace(workspace_dir))
    if fmt == "json":
        click.echo(json.dumps(check.to_dict()))
    elif not check.exists:
        out_console.print(f"{check.database}: no database yet (nothing imported)", markup=False)
    elif check.problem:
        out_console.print(f"{check.database}: cannot be opened: {check.problem}", markup=False)
    else:
        out_console.print(f"{check.database}:", markup=False)
        for t in check.tables:
            size = "view" if t.view else "" if t.rows is None else f"{t.rows:,} rows"
            state = f"DAMAGED: {t.problem}" if t.problem else "ok"
            out_console.print(f"  {t.name:<18} {size:>16}  {state}", markup=False)
    if not check.damaged:
        err_console.print("ok: every table was read in full")
        return
    if check.sources:
        err_console.print("the event files of the current imports (to import again):")
        for source in check.sources:
            err_console.print(f"  {source}", markup=False)
    err_console.print(f"{check.database} is damaged: {WorkspaceDamaged.REMEDY}", markup=False)
    sys.exit(1)


def register(group: click.Group) -> None:
    for command in (import_cmd, sync, sources, identities, rates, simulate, doctor):
        group.add_command(command)
