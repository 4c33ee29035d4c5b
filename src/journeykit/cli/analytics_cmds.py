"""Measure commands: funnel, positions, stuck, paths, cohorts. Thin adapters over analytics."""

from __future__ import annotations

import csv
import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from journeykit.analytics.funnel_names import CLICKHOUSE_MODES, INTERVALS, SEMANTICS
from journeykit.analytics.windows import DEFAULT_WINDOW, parse_window
from journeykit.cli import output
from journeykit.cli.output import warn
from journeykit.errors import JourneykitError
from journeykit.journey import Journey, load_journey
from journeykit.journey.durations import parse_duration

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from rich.console import RenderableType
    from rich.table import Table

    from journeykit.analytics import FunnelResult, MilestoneFrame, PositionsResult
    from journeykit.analytics.results import Result
    from journeykit.engine.duckdb import DuckDBEngine

FilePath = click.Path(exists=True, dir_okay=False, path_type=Path)


class InputError(JourneykitError):
    """The command line names no events, or several sources at once."""


def parse_now(text: str | None, option: str = "--now", end_of_day: bool = False) -> datetime | None:
    """An ISO date or time as UTC without a zone; a bare date with ``end_of_day`` is its last
    microsecond (so ``--to 2024-03-31`` includes that day)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{option}: expected an ISO date or time such as 2024-03-31, got {text!r}"
        raise InputError(msg) from None
    if end_of_day and len(text) == 10:
        moment += timedelta(days=1, microseconds=-1)
    # Stored times are UTC without a zone: convert an offset, never just drop it.
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class Sources:
    """The event source a command was given (exactly one of the first three)."""

    events_path: Path | None
    workspace: Path | None
    table: str | None
    engine_url: str


class Measure:
    """What every measure command shares: the journey, its events, the path, "as of" and format.

    The events are opened on first use: a question the workspace's stored milestone log answers
    (``log``) never opens them, and so never imports Ibis and pandas.
    """

    def __init__(
        self, journey: Journey, sources: Sources, path: str | None, now: datetime | None, fmt: str
    ) -> None:
        self.journey, self.sources, self.path, self.now, self.fmt = journey, sources, path, now, fmt
        self._staged: tuple[DuckDBEngine, str] | None = None  # an events file read by ``log``

    @functools.cached_property
    def events(self) -> ir.Table:
        if self._staged is not None:  # the file as ``log`` read it, not read again
            from journeykit.events.reader import staged_table
            from journeykit.events.schema import EVENT_COLUMNS

            return staged_table(*self._staged).select(*EVENT_COLUMNS)
        s = self.sources
        return open_events(s.events_path, s.workspace, s.table, s.engine_url, required=True)

    def log(self, fits: bool = True) -> MilestoneFrame | ir.Table:
        """The journey's milestone log as the workspace stores it (``engine.maplog``) when
        ``fits`` (the command's options need nothing else) and it is up to date, else the
        events. Only for the default engine and no "as of": the stored log is of all events,
        with each customer's last event of any kind. An events file gives the same log, read
        and tagged without Ibis (``maplog.file_log``)."""
        s = self.sources
        if not fits or s.engine_url != "duckdb://" or self.now is not None:
            return self.events
        from journeykit.engine import maplog

        if s.workspace is not None:
            stored = maplog.workspace_log(s.workspace, self.journey)
            if stored is not None:
                return stored
        elif s.events_path is not None and "events" not in self.__dict__:  # not yet read
            from journeykit.engine.duckdb import DuckDBEngine

            engine = DuckDBEngine()
            try:
                tagged = maplog.file_log(engine, s.events_path, self.journey)
            except BaseException:
                engine.close()
                raise
            if tagged is not None:
                frame, view = tagged
                self._staged = engine, view
                return frame
            engine.close()
        return self.events


def _measure(
    journey_file: Path,
    events_path: Path | None,
    workspace: Path | None,
    table: str | None,
    engine_url: str,
    path_id: str | None,
    now: str | None,
    fmt: str,
) -> Measure:
    moment = parse_now(now)
    journey = load_journey(journey_file)
    sources = Sources(events_path, workspace, table, engine_url)
    _one_source(sources, required=True)
    return Measure(journey, sources, path_id, moment, fmt)


def _one_source(s: Sources, *, required: bool) -> Path | str | None:
    """The one source given (None when none is and ``required`` is false)."""
    given = [x for x in (s.events_path, s.workspace, s.table) if x is not None]
    if len(given) > 1 or (required and not given):
        some = "exactly" if required else "at most"
        raise InputError(f"give {some} one of --events FILE, --workspace DIR or --table NAME")
    return given[0] if given else None


def open_events(
    events_path: Path | None,
    workspace: Path | None,
    table: str | None,
    engine_url: str,
    *,
    required: bool,
) -> Any:
    """The events from the one source given (None when none is and ``required`` is false)."""
    given = _one_source(Sources(events_path, workspace, table, engine_url), required=required)
    if given is None:
        return None
    from journeykit.engine import connect

    return connect(engine_url).events(str(given))


def event_source_options() -> list[Callable[[Any], Any]]:
    """The journey argument and the event-source options every measuring command takes."""
    return [
        click.argument("journey_file", type=FilePath),
        click.option(
            "--events",
            "events_path",
            type=FilePath,
            help="Event log: CSV, Parquet or JSON lines (canonical columns).",
        ),
        click.option(
            "--workspace",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="A workspace folder with imported events.",
        ),
        click.option("--table", help="A table of events on the engine (with --engine)."),
        click.option(
            "--engine",
            "engine_url",
            default="duckdb://",
            show_default=True,
            envvar="JOURNEYKIT_ENGINE",
            help="Where queries run: duckdb://, spark://local, or any Ibis backend URL.",
        ),
    ]


_SOURCE_KEYS = ("journey_file", "events_path", "workspace", "table", "engine_url", "path_id",
                "now", "fmt")  # fmt: skip


def source_options(func: Callable[..., None]) -> Callable[..., None]:
    """The options every measure command shares, handed to it as one ``Measure``."""
    return _with_sources(func, with_path=True)


def journey_source_options(func: Callable[..., None]) -> Callable[..., None]:
    """As ``source_options`` without ``--path``, for analyses of the whole journey (CLV)."""
    return _with_sources(func, with_path=False)


def _with_sources(func: Callable[..., None], *, with_path: bool) -> Callable[..., None]:
    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        kwargs.setdefault("path_id", None)
        measure = _measure(**{k: kwargs.pop(k) for k in _SOURCE_KEYS})
        func(measure, **kwargs)

    options = [
        *event_source_options(),
        click.option(
            "--now", default=None, help="Results as of this time (default: latest event)."
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["table", "json", "csv"]),
            default="table",
            show_default=True,
        ),
    ]
    if with_path:
        path = click.option("--path", "path_id", default=None, help="Path id (default: the first).")
        options.insert(5, path)
    wrapped: Callable[..., None] = command
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def emit(result: Result, fmt: str, table: Callable[[], RenderableType] | None = None) -> None:
    """Data to stdout: a table for people, JSON or CSV for tools."""
    if fmt == "json":
        from journeykit.analytics.results import json_bytes

        click.echo(json_bytes(result))
    elif fmt == "csv":
        write_csv(result.rows())
    else:
        output.out_console.print(table() if table else _generic_table(result.rows()))


def write_csv(rows: Sequence[dict[str, Any]]) -> None:
    """``csv.DictWriter``'s text, the header from the first row. Rows whose keys are the
    header's, in its order (rows from one builder), are written as their values: the writer's
    per-field look-ups cost 0.3 s per 100k customers (issue 22)."""
    fields = list(rows[0]) if rows else []
    header = tuple(fields)
    if all(tuple(row) == header for row in rows):
        writer = csv.writer(sys.stdout)
        writer.writerow(fields)
        writer.writerows(map(dict.values, rows))
        return
    dicts = csv.DictWriter(sys.stdout, fieldnames=fields)
    dicts.writeheader()
    dicts.writerows(rows)


def _generic_table(rows: Sequence[dict[str, Any]]) -> Table:
    from rich.table import Table

    grid = Table(show_edge=False)
    for key in rows[0] if rows else ["(no rows)"]:
        grid.add_column(str(key))
    for row in rows:
        grid.add_row(*(_cell(v) for v in row.values()))
    return grid


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _days(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 86400:.1f}d"


def _how(result: FunnelResult) -> str:
    if result.semantics == "journeykit":
        return result.mode
    return f"{result.mode}, {result.semantics} semantics"


def funnel_table(result: FunnelResult) -> Table:
    from rich.table import Table

    grid = Table(
        title=f"funnel: path {result.path} ({_how(result)}, window: {result.window_text})"
        + (f" where {', '.join(result.filters)}" if result.filters else "")
        + (f", counting {result.aggregate_by}" if result.aggregate_by else ""),
        show_edge=False,
    )
    # Titles may wrap; numbers never are cut.
    grid.add_column("step", min_width=14)
    for name in ("customers", "of start", "of prev", "dropped", "in prog.", "median"):
        grid.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for s in result.steps:
        grid.add_row(
            s.title,
            f"{s.customers:,}",
            f"{s.share_of_start:.1%}",
            f"{s.share_of_previous:.1%}",
            f"{s.dropped:,}",
            f"{s.in_progress:,}",
            _days(s.time_from_previous.median if s.time_from_previous else None),
        )
    return grid


def breakdown_table(result: FunnelResult) -> Table:
    """Customers per step for each group, with the share of the group's start."""
    from rich.table import Table

    grid = Table(title=f"by {result.breakdown_by}", show_edge=False)
    grid.add_column("group", min_width=10)
    for s in result.steps:
        grid.add_column(s.title, justify="right")
    for group, steps in (result.breakdown or {}).items():
        cells = [f"{s.customers:,} ({s.share_of_start:.0%})" for s in steps]
        grid.add_row(group, *cells)
    return grid


@click.command()
@source_options
@click.option(
    "--window",
    default=DEFAULT_WINDOW,
    show_default=True,
    help="Conversion window from the first step: a duration (14d, 2w), calendar months (1mo: "
    "until the same day next month), 'none', or 'designed' "
    "(the sum of the path's expected_within, 30 days for an undesigned step).",
)
@click.option(
    "--mode", type=click.Choice(["ordered", "strict", "any"]), default="ordered", show_default=True
)
@click.option(
    "--exclude",
    multiple=True,
    help="A milestone that breaks an attempt (repeatable); MILESTONE:FROM-TO scopes it to path "
    "steps FROM..TO (PostHog semantics).",
)
@click.option(
    "--by",
    default=None,
    help="Break down by persona | property:KEY (first value a customer has) | first:KEY (on "
    "their first event) | last:KEY (on their last) | all:KEY (every value they have) | "
    "step:N:KEY (on the event that served step N), or several of the first four joined by "
    "commas.",
)
@click.option(
    "--by-limit",
    type=click.IntRange(min=1),
    default=None,
    help="With --by: keep the largest N groups, the rest as (other).",
)
@click.option(
    "--semantics",
    type=click.Choice(SEMANTICS),
    default="journeykit",
    show_default=True,
    help="Count as journeykit, PostHog or ClickHouse windowFunnel does (docs/metrics.md).",
)
@click.option(
    "--clickhouse-mode",
    "clickhouse",
    type=click.Choice(CLICKHOUSE_MODES),
    multiple=True,
    help="A windowFunnel mode, with --semantics clickhouse (repeatable).",
)
@click.option(
    "--people",
    "people_at",
    default=None,
    metavar="STEP",
    help="List the customers who converted at STEP (number or milestone id) instead.",
)
@click.option("--dropped", is_flag=True, help="With --people: those who dropped at STEP.")
@click.option("--from", "date_from", default=None, help="Only events from this date or time on.")
@click.option(
    "--to", "date_to", default=None, help="Only events up to this date (inclusive) or time: --now."
)
@click.option(
    "--where",
    multiple=True,
    metavar="BY=LABEL",
    help="Only customers in that --by group (persona=team, property:plan=pro; repeatable: all).",
)
@click.option(
    "--cohort",
    default=None,
    metavar="PERIOD",
    help="Only customers who first reached step 1 in that month (2024-03) or ISO week (2024-W10).",
)
@click.option(
    "--aggregate-by",
    default=None,
    metavar="property:KEY",
    help="Count the ids KEY names (a company, a session) instead of customers.",
)
@click.option(
    "--correlation",
    is_flag=True,
    help="Which events go with converting vs dropping at the last step (odds ratio, p-value).",
)
@click.option(
    "--correlation-property",
    "correlation_prop",
    default=None,
    metavar="KEY",
    help="With --correlation: by event and its KEY value instead of the event alone.",
)
@click.option(
    "--trends",
    type=click.Choice(INTERVALS),
    default=None,
    help="Conversion per entry day, week or month instead of the steps.",
)
def funnel(
    m: Measure,
    window: str,
    mode: str,
    exclude: tuple[str, ...],
    by: str | None,
    by_limit: int | None,
    semantics: str,
    clickhouse: tuple[str, ...],
    people_at: str | None,
    dropped: bool,
    date_from: str | None,
    date_to: str | None,
    where: tuple[str, ...],
    cohort: str | None,
    aggregate_by: str | None,
    correlation: bool,
    correlation_prop: str | None,
    trends: str | None,
) -> None:
    """How many customers reached each milestone of a path, and how long it took."""
    from journeykit.analytics import funnel as run
    from journeykit.analytics.funnel_views import funnel_people, funnel_trends

    if dropped and people_at is None:
        raise click.UsageError("--dropped goes with --people STEP")
    if date_to is not None and m.now is not None:
        raise click.UsageError("--to and --now both set the end: give one")
    now = m.now if date_to is None else parse_now(date_to, "--to", end_of_day=True)

    # The stored log holds every milestone's events and nothing else: options that read other
    # events (a breakdown, --where, --aggregate-by, a peer's strict funnel) or a date range
    # (the log's "as of" is the latest event) take the events.
    fits = not (by or where or aggregate_by or date_from or date_to or semantics != "journeykit")
    result = run(
        m.log(fits),
        m.journey,
        path=m.path,
        mode=mode,  # type: ignore[arg-type]
        window=parse_window(window),
        now=now,
        exclude=exclude,
        by=by,
        semantics=semantics,  # type: ignore[arg-type]
        clickhouse=clickhouse,
        date_from=parse_now(date_from, "--from"),
        breakdown_limit=by_limit,
        where=where,
        cohort=cohort,
        aggregate_by=aggregate_by,
    )
    if people_at is not None:
        emit(funnel_people(result, people_at, dropped=dropped), m.fmt)
        return
    if correlation or correlation_prop is not None:
        from journeykit.analytics.correlation import funnel_correlation

        emit(funnel_correlation(result, m.events, m.journey, prop=correlation_prop), m.fmt)
        return
    if trends is not None:
        emit(funnel_trends(result, trends), m.fmt)  # type: ignore[arg-type]
        return

    def tables() -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        if by is None:
            return funnel_table(result)
        return Group(funnel_table(result), Text(""), breakdown_table(result))

    emit(result, m.fmt, tables)
    if result.steps and result.steps[0].customers == 0:  # zeros: say why, on stderr
        warn_fit(m.events, m.journey)


def warn_fit(events: Any, journey: Journey) -> None:
    """Milestones that match no event and the events no milestone uses (analytics.fit)."""
    from journeykit.analytics.fit import journey_fit

    for line in journey_fit(events, journey).lines():
        warn(line)


def _positions(m: Measure, lapsed_after: str | None) -> PositionsResult:
    from journeykit.analytics import positions as run

    horizon = parse_duration(lapsed_after) if lapsed_after else None
    return run(m.log(), m.journey, path=m.path, now=m.now, lapsed_after=horizon)


LAPSED_HELP = (
    "No event of any kind for this long: lapsed. Default: the journey's lapse horizon "
    "(its lapsed_after, else derived from the designed windows)."
)
_LAPSED = click.option("--lapsed-after", default=None, help=LAPSED_HELP)


@click.command()
@source_options
@_LAPSED
def positions(m: Measure, lapsed_after: str | None) -> None:
    """Where every customer is on the path, with status and strays."""
    result = _positions(m, lapsed_after)
    summary = ", ".join(f"{k} {v:,}" for k, v in result.summary.items())
    click.echo(f"{len(result.customer_ids):,} customers: {summary}", err=True)
    emit(result, m.fmt)


@click.command()
@source_options
@_LAPSED
@click.option("--top", type=int, default=None, help="Only the N longest stuck.")
def stuck(m: Measure, lapsed_after: str | None, top: int | None) -> None:
    """Customers stuck at a milestone, longest stuck first: the list someone acts on."""
    from journeykit.analytics.status import status_list

    emit(status_list(_positions(m, lapsed_after), m.journey, "stuck", top), m.fmt)


@click.command()
@source_options
@click.option("--top", type=int, default=20, show_default=True, help="How many variants.")
@click.option("--raw", is_flag=True, help="Raw event names instead of milestones (Sankey data).")
@click.option("--only", multiple=True, help="With --raw: keep only this event (repeatable).")
@click.option("--skip", multiple=True, help="With --raw: leave out this event (repeatable).")
def paths(m: Measure, top: int, raw: bool, only: tuple[str, ...], skip: tuple[str, ...]) -> None:
    """The routes customers really take between milestones (or raw events), and the transitions."""
    from journeykit.analytics import event_paths
    from journeykit.analytics import paths as run

    if (only or skip) and not raw:
        raise InputError("--only and --skip filter raw events: add --raw")
    if raw:
        emit(event_paths(m.events, only=only, skip=skip, top=top, now=m.now), m.fmt)
    else:
        emit(run(m.log(), m.journey, top=top, now=m.now), m.fmt)


@click.command()
@source_options
@click.option(
    "--days",
    type=int,
    default=30,
    show_default=True,
    help="Count a milestone reached within this many days of entry.",
)
def cohorts(m: Measure, days: int) -> None:
    """Weekly entry cohorts and the share reaching each milestone within N days."""
    from journeykit.analytics import cohorts as run

    emit(run(m.log(), m.journey, path=m.path, days=days, now=m.now), m.fmt)


def register(group: click.Group) -> None:
    for command in (funnel, positions, stuck, paths, cohorts):
        group.add_command(command)
