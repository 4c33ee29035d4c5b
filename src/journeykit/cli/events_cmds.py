"""Event commands: import files into a workspace, simulate an event log for a journey."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from journeykit.cli.output import err_console, out_console, warn
from journeykit.engine.workspace import import_files
from journeykit.events.importer import ImportOptions, ImportReport
from journeykit.events.reader import Progress as ProgressFn
from journeykit.events.sources import PRESETS, column_map
from journeykit.workspace import open_workspace

FilePath = click.Path(exists=True, dir_okay=False, path_type=Path)
# A progress bar appears only for work that has already taken this long (seconds).
PROGRESS_AFTER = 1.0


@contextmanager
def progress_bar() -> Iterator[ProgressFn]:
    """A Rich bar on stderr that appears only once work has taken more than a second."""
    started = time.monotonic()
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err_console, transient=True,
    )  # fmt: skip
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: float) -> None:
        if time.monotonic() - started < PROGRESS_AFTER:
            return
        if not tasks:
            bar.start()
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=100)
        bar.update(tasks[phase], completed=done)
        bar.refresh()  # draw now: DuckDB is polled ten times a second anyway

    try:
        yield report
    finally:
        if tasks:
            bar.stop()


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=FilePath)
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
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="Column names of an export.")
@click.option("--delimiter", help="CSV field separator [guessed from the header].")
@click.option(
    "--timezone", default="UTC", show_default=True, help="IANA zone for times without offset."
)
@click.option(
    "--strict", is_flag=True,
    help="Fail the whole import if any row is rejected (also by an earlier import of a file).",
)  # fmt: skip
@click.option("--replace", is_flag=True, help="Load a file again, removing its earlier rows.")
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
    fmt: str,
) -> None:
    """Import event files (CSV, CSV.gz, Parquet, JSON lines) into a workspace, all or nothing."""
    mapping = column_map(
        preset=preset, customer_id=customer_id, event=event, timestamp=timestamp,
        value=value, properties=properties,
    )  # fmt: skip
    options = ImportOptions(mapping, timezone, delimiter, strict, replace)
    with progress_bar() as progress:
        reports = import_files(open_workspace(workspace_dir), files, options, progress=progress)
    for report in reports:
        _emit(report, fmt)
    if not any(r.loaded or r.already_imported for r in reports):
        sys.exit(1)


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
    for command in (import_cmd, simulate, doctor):
        group.add_command(command)
