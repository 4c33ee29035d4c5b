"""``journeykit map`` and ``journeykit report``: the design and the data on one page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from journeykit.analytics.windows import DEFAULT_WINDOW, parse_window
from journeykit.cli.analytics_cmds import (
    FilePath,
    InputError,
    event_source_options,
    open_events,
    parse_now,
)
from journeykit.cli.discover_cmds import answer_options, run_themes
from journeykit.cli.output import err_console
from journeykit.journey import Journey, load_journey
from journeykit.journey.durations import parse_duration

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.discover import ThemeResult
    from journeykit.discover.answers import Answers
    from journeykit.measure import JourneyResults
    from journeykit.prove import ProveResult

_OUT = click.Path(dir_okay=False, path_type=Path)


def view_source_options(func: Any) -> Any:
    options = [
        *event_source_options(),
        click.option(
            "--path",
            "path_id",
            default=None,
            help="The path whose numbers lead (default: the first).",
        ),
        click.option(
            "--now", default=None, help="Results as of this time (default: latest event)."
        ),
        click.option(
            "--window",
            default=DEFAULT_WINDOW,
            show_default=True,
            help="Funnel window: a duration, 'none', or 'designed' (each path's "
            "expected_within summed).",
        ),
        click.option(
            "--lapsed-after",
            default=None,
            help="No event of any kind for this long: lapsed. Default: the journey's lapse "
            "horizon.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def answers_option(func: Any) -> Any:
    """``--answers FILE`` with the discover command's column and theme options."""
    func = answer_options(func)
    return click.option(
        "--answers",
        type=FilePath,
        default=None,
        help="Members' answers (CSV, XLSX, JSON lines): the emotion curve comes from their "
        "themes (celebrations and breakdowns at the stage they were said), and the report "
        "shows the themes with quotes.",
    )(func)


def story_options(func: Any) -> Any:
    """Where testimonial and review events keep their text and the author's consent."""
    func = click.option(
        "--consent-property",
        default="consent",
        show_default=True,
        help="Event property saying whether the author agreed to be quoted (yes/no).",
    )(func)
    return click.option(
        "--text-property",
        default="text",
        show_default=True,
        help="Event property holding the text of testimonial and review milestones.",
    )(func)


def _themes(journey: Journey, answers: Path | None, opts: dict[str, Any]) -> ThemeResult | None:
    return discovery(journey, answers, opts)[1]


def discovery(
    journey: Journey, answers: Path | None, opts: dict[str, Any]
) -> tuple[Answers | None, ThemeResult | None]:
    """The answers and their themes, as ``journeykit discover themes`` reads them."""
    if answers is None:
        return None, None
    return run_themes(answers, opts, journey)


def measure_results(
    journey: Journey,
    events: ir.Table,
    opts: dict[str, Any],
    *,
    full: bool,
    themes: ThemeResult | None = None,
    answers: Answers | None = None,
    proof: ProveResult | None = None,
) -> JourneyResults:
    """``measure`` with the view options; in full mode with opportunities, stories and heroes
    (with ``proof``, each play's verdict on the opportunities it is aimed at)."""
    from journeykit.decide import StoryOptions
    from journeykit.measure import measure

    stories = StoryOptions(
        opts.get("text_property") or "text", opts.get("consent_property") or "consent"
    )
    return measure(
        events,
        journey,
        path=opts["path_id"],
        now=parse_now(opts["now"]),
        window=parse_window(opts["window"]),
        lapsed_after=parse_duration(opts["lapsed_after"]) if opts["lapsed_after"] else None,
        full=full,
        themes=themes,
        answers=answers,
        stories=stories,
        proofs=None if proof is None else proof.verdicts(),
    )


def proof_of(
    journey: Journey, events: ir.Table, workspace: Path | None, opts: dict[str, Any]
) -> ProveResult | None:
    """The plays' proof, when the workspace has plays designed (entries come from its ledger)."""
    if workspace is None or not journey.plays:
        return None
    from journeykit.prove import prove
    from journeykit.workspace import open_workspace

    ws = open_workspace(workspace)
    return prove(events, journey, workspace=ws, now=parse_now(opts["now"]))


def write_map(
    journey: Journey,
    results: JourneyResults | None,
    output: Path,
    themes: ThemeResult | None = None,
    scale: float = 1.0,
) -> None:
    """The map as .html, .svg, .png or .pdf (PNG and PDF through headless Chromium)."""
    from journeykit.report import export, pages

    kind = export.format_of(output)
    if kind == ".svg":
        output.write_text(pages.map_svg(journey, results, themes), encoding="utf-8")
        return
    html = pages.map_page(journey, results, themes)
    if kind == ".html":
        output.write_text(html, encoding="utf-8")
    else:
        export.render_in_browser(
            html, output, kind=kind[1:], selector="svg.journey-map", scale=scale
        )


@click.command("map")
@view_source_options
@click.option("-o", "--output", type=_OUT, required=True, help="map.html, .svg, .png or .pdf")
@click.option(
    "--scale",
    type=click.FloatRange(0.5, 4),
    default=1.0,
    show_default=True,
    help="PNG pixels per CSS pixel (2: sharp on slides and high-DPI screens).",
)
@answers_option
def map_command(
    journey_file: Path,
    events_path: Path | None,
    workspace: Path | None,
    table: str | None,
    engine_url: str,
    output: Path,
    scale: float,
    answers: Path | None,
    **opts: Any,
) -> None:
    """Draw the journey map; with events, every card carries live numbers and health."""
    from journeykit.report.export import format_of

    format_of(output)  # a wrong suffix fails before any work
    journey = load_journey(journey_file)
    events = open_events(events_path, workspace, table, engine_url, required=False)
    themes = _themes(journey, answers, opts)
    results = None if events is None else measure_results(journey, events, opts, full=False)
    write_map(journey, results, output, themes, scale)
    err_console.print(f"wrote {output}", highlight=False, markup=False)


@click.command()
@view_source_options
@click.option("-o", "--output", type=_OUT, required=True, help="report.html")
@click.option("--pdf", "pdf_path", type=_OUT, default=None, help="Also print the report to PDF.")
@answers_option
@story_options
@click.option("--top", type=int, default=20, show_default=True, help="Rows in the stuck list.")
def report(
    journey_file: Path,
    events_path: Path | None,
    workspace: Path | None,
    table: str | None,
    engine_url: str,
    output: Path,
    pdf_path: Path | None,
    answers: Path | None,
    top: int,
    **opts: Any,
) -> None:
    """One self-contained HTML report: map, funnel, timing, paths, positions, stuck, where to act
    first (opportunities and their tree), CLV, community, themes, the proof library and each
    persona's hero's journey."""
    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{output}: the report is an HTML file (use --pdf for a PDF)")
    journey = load_journey(journey_file)
    events = open_events(events_path, workspace, table, engine_url, required=False)
    if events is None:
        raise InputError("the report needs events: give --events FILE, --workspace DIR or --table")
    found, themes = discovery(journey, answers, opts)
    proof = proof_of(journey, events, workspace, opts)
    results = measure_results(
        journey, events, opts, full=True, themes=themes, answers=found, proof=proof
    )
    from journeykit.report.pages import report_page

    source = str(events_path or workspace or table)
    html = report_page(results, top_stuck=top, source=f"events: {Path(source).name}", proof=proof)
    output.write_text(html, encoding="utf-8")
    err_console.print(f"wrote {output}", highlight=False, markup=False)
    if pdf_path is not None:
        from journeykit.report.export import render_in_browser

        render_in_browser(html, pdf_path, kind="pdf")
        err_console.print(f"wrote {pdf_path}", highlight=False, markup=False)


def register(group: click.Group) -> None:
    for command in (map_command, report):
        group.add_command(command)
