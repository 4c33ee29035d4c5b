"""``journeykit demo``: the main job end to end on the embedded default, growing as parts land."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from journeykit.cli.output import out_console
from journeykit.journey import Journey, lint, load_journey
from journeykit.journey.durations import format_duration
from journeykit.journey.templates import template_names
from journeykit.workspace import Workspace, create_workspace

if TYPE_CHECKING:
    from journeykit.discover import ThemeResult
    from journeykit.discover.answers import Answers
    from journeykit.measure import JourneyResults

PHASE_LABELS = {"pre": "before the core offer", "core": "the core offer", "post": "after it"}
MOMENT_MARKS = {"celebrate": "+", "breakdown": "-", "neutral": " "}


def print_outline(journey: Journey, console: Console, *, source: str | None = None) -> None:
    t = journey.transformation
    console.print(f"[bold]{journey.title}[/bold]", markup=True, highlight=False)
    console.print(f"  FROM {t.from_}\n  TO   {t.to}", markup=False, highlight=False)
    for phase, milestones in journey.milestones_by_phase().items():
        console.print(f"\n  {phase.upper()} ({PHASE_LABELS[phase]})", markup=False)
        for m in milestones:
            within = f"  (within {format_duration(m.expected_within)})" if m.expected_within else ""
            line = f"   {MOMENT_MARKS[m.moment]} {m.title} [{m.kind}]{within}"
            console.print(line, markup=False, highlight=False)
    paths = ", ".join(f"{p.id} ({len(p.steps)} steps)" for p in journey.paths) or "main"
    console.print(f"\n  paths: {paths}", markup=False, highlight=False)
    warnings = lint(journey)
    if warnings:
        console.print("\n  lint warnings:", markup=False)
        for w in warnings:
            console.print(f"   - {w.render(source)}", markup=False, highlight=False)


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("journeykit-demo"),
    show_default=True,
    help="Where to write the demo.",
)
@click.option(
    "--template",
    default="saas-trial",
    show_default=True,
    type=click.Choice(template_names()),
    help="The example journey to demonstrate.",
)
def demo(directory: Path, template: str) -> None:
    """Write a template workspace and walk through what journeykit does with it."""
    if directory.exists():
        shutil.rmtree(directory)  # the demo folder is ours: start clean every time
    ws = create_workspace(directory, template=template)
    out_console.print(f"workspace: {ws.root}\n", highlight=False)
    journey = load_journey(ws.journey_file)
    print_outline(journey, out_console, source=ws.journey_file.name)
    _simulate_and_import(journey, ws)
    _measure(journey, ws)
    _act(journey, ws)
    from journeykit.cli.community_cmds import print_demo_community

    print_demo_community(journey, ws.root)
    from journeykit.cli.discover_cmds import print_demo_themes

    discovered = print_demo_themes(out_console)
    results = _write_map_and_report(journey, ws, discovered)
    if results is not None and results.decisions is not None:
        from journeykit.cli.demo_decide import print_decisions

        print_decisions(results.decisions, journey, out_console)


def _write_map_and_report(
    journey: Journey, ws: Workspace, discovered: tuple[Answers, ThemeResult] | None
) -> JourneyResults | None:
    """The living map and the report, from the same imported events (core install is enough),
    with the demo answers' themes and stories."""
    from journeykit.engine import connect
    from journeykit.errors import JourneykitError
    from journeykit.measure import measure
    from journeykit.report.pages import map_page, report_page

    answers, themes = discovered if discovered else (None, None)
    try:
        results = measure(connect().events(ws.root), journey, themes=themes, answers=answers)
        map_file, report_file = ws.root / "map.html", ws.root / "report.html"
        map_file.write_text(map_page(journey, results), encoding="utf-8")
        report_file.write_text(report_page(results), encoding="utf-8")
    except JourneykitError as exc:  # e.g. Graphviz missing: say so, keep the demo's output
        out_console.print(f"\n  map and report skipped: {exc}", markup=False, highlight=False)
        return None
    out_console.print(
        f"\n  map:    {map_file}\n  report: {report_file}", markup=False, highlight=False
    )
    return results


def _measure(journey: Journey, ws: Workspace) -> None:
    """The funnel of the first path and the stuck list, from the imported events."""
    from journeykit.analytics import fetch_milestones, funnel, positions
    from journeykit.cli.analytics_cmds import funnel_table
    from journeykit.engine import connect

    events = connect().events(ws.root)
    frame = fetch_milestones(events, journey)  # one scan serves both analyses
    result = funnel(frame, journey)  # the designed window, as the map and report
    out_console.print()
    out_console.print(funnel_table(result))
    placed = positions(frame, journey)
    summary = ", ".join(f"{k} {v:,}" for k, v in placed.summary.items())
    horizon = format_duration(journey.lapse_horizon)
    out_console.print(f"\n  positions on path {placed.path}: {summary}", highlight=False)
    out_console.print(
        f"  (lapsed: no event of any kind for {horizon}, the journey's lapse horizon; "
        "stuck: still active, but past the step's designed window)",
        highlight=False,
    )
    out_console.print("  longest stuck (journeykit stuck ... for the full list):", highlight=False)
    for c in placed.stuck(5):
        line = f"   {c.customer_id}: at {c.milestone!r} for {c.waiting_seconds / 86400:.0f} days"
        out_console.print(line, highlight=False, markup=False)
    from journeykit.cli.clv_cmds import print_demo_clv

    print_demo_clv(events, journey, out_console)


def _act(journey: Journey, ws: Workspace) -> None:
    """The plays due today, entered with their arms; the treatment's messages to a file."""
    if not journey.plays:
        return
    from journeykit.act import act
    from journeykit.cli.act_cmds import act_table

    out = ws.root / "plays-today.csv"
    result = act(ws, journey, output=out)
    out_console.print()
    out_console.print(act_table(result))
    line = (
        f"  the treatment arm's messages: {out} (journeykit act ... every day; "
        "the holdout gets nothing, so the next step can prove what worked)"
    )
    out_console.print(line, markup=False, highlight=False)


def _simulate_and_import(journey: Journey, ws: Workspace) -> None:
    """Simulated customers for the template, imported as a user would import their export."""
    from journeykit.engine.workspace import import_files
    from journeykit.events.simulate import SimulationOptions, simulate_to_file

    events_file = ws.root / "events.csv"
    options = SimulationOptions(customers=2_000, seed=7, duplicates=0.005, late=0.01)
    simulate_to_file(journey, options, events_file)
    (report,) = import_files(ws, [events_file])
    out_console.print(
        f"\n  events: simulated {options.customers:,} customers into {events_file.name}; "
        f"{report.summary()}",
        highlight=False,
        markup=False,
    )


def register(group: click.Group) -> None:
    group.add_command(demo)
