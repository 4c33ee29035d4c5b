"""``journeykit demo``: the main job end to end on the embedded default, growing as parts land."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
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
    from journeykit.prove import ProveResult

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
    proof = _prove(journey, ws)
    from journeykit.cli.community_cmds import print_demo_community

    print_demo_community(journey, ws.root)
    from journeykit.cli.discover_cmds import print_demo_themes

    discovered = print_demo_themes(out_console)
    results = _write_map_and_report(journey, ws, discovered, proof)
    if results is not None and results.decisions is not None:
        from journeykit.cli.demo_decide import print_decisions

        print_decisions(results.decisions, journey, out_console)


def _write_map_and_report(
    journey: Journey,
    ws: Workspace,
    discovered: tuple[Answers, ThemeResult] | None,
    proof: ProveResult | None,
) -> JourneyResults | None:
    """The living map and the report, from the same imported events (core install is enough),
    with the demo answers' themes and stories, and the plays' proof."""
    from journeykit.engine import connect
    from journeykit.errors import JourneykitError
    from journeykit.measure import measure
    from journeykit.report.pages import map_page, report_page

    answers, themes = discovered if discovered else (None, None)
    try:
        proofs = None if proof is None else proof.verdicts()
        results = measure(
            connect().events(ws.root), journey, themes=themes, answers=answers, proofs=proofs
        )
        map_file, report_file = ws.root / "map.html", ws.root / "report.html"
        map_file.write_text(map_page(journey, results), encoding="utf-8")
        report_file.write_text(report_page(results, proof=proof), encoding="utf-8")
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


DEMO_LIFT = 0.4  # planted in the first play: the share of its treatment arm helped to the goal
EVERY = timedelta(days=2)  # the replayed cron: act every two days over the simulated months


def _time_span(ws: Workspace) -> tuple[datetime, datetime]:
    """The first and last event's times, in one scan. The workspace's database is let go on
    return: act attaches it again."""
    from journeykit.analytics.fetch import to_arrow
    from journeykit.engine import connect

    events = connect().events(ws.root)
    span = to_arrow(events.aggregate(first=events.timestamp.min(), last=events.timestamp.max()))
    return span.column("first")[0].as_py(), span.column("last")[0].as_py()


def _act(journey: Journey, ws: Workspace) -> None:
    """The plays run over the simulated months as a cron would, then today's run, delivered."""
    if not journey.plays:
        return
    from journeykit.act import act
    from journeykit.cli.act_cmds import act_table

    first, last = _time_span(ws)
    day = first + EVERY
    while day < last:
        act(ws, journey, now=day)  # history: entered and kept; the treatment stays pending
        day += EVERY
    out = ws.root / "plays-today.csv"
    result = act(ws, journey, output=out)
    out_console.print()
    out_console.print(act_table(result))
    line = (
        f"  (replayed every {EVERY.days} days over the simulated log) the treatment arm's "
        f"messages: {out}; the holdout gets nothing, so the next step can prove what worked"
    )
    out_console.print(line, markup=False, highlight=False)


def _prove(journey: Journey, ws: Workspace) -> ProveResult | None:
    """What each play changed, with the planted effect named so the reader can check it."""
    if not journey.plays:
        return None
    from journeykit.cli.prove_cmds import proof_table
    from journeykit.engine import connect
    from journeykit.prove import prove

    result = prove(connect().events(ws.root), journey, workspace=ws)
    out_console.print()
    out_console.print(proof_table(result))
    planted = result.get(journey.plays[0].id)
    base, est = planted.holdout.share, planted.absolute
    if base is None or est is None:
        return result
    truth = DEMO_LIFT * (1 - base)
    found = "inside" if est.ci_low <= truth <= est.ci_high else "outside"
    out_console.print(
        f"  planted in the simulation: {planted.id} helps {DEMO_LIFT:.0%} of its treatment arm "
        f"who would not have reached {planted.goal}, about {truth * 100:+.1f} points; measured "
        f"{est.estimate * 100:+.1f} [{est.ci_low * 100:+.1f}, {est.ci_high * 100:+.1f}], the "
        f"planted effect {found} the interval (journeykit prove ...; docs/proof.md)",
        markup=False,
        highlight=False,
    )
    return result


def _simulate_and_import(journey: Journey, ws: Workspace) -> None:
    """Simulated customers for the template, imported as a user would import their export; the
    first play's effect is planted so the proof at the end has something true to find."""
    from journeykit.act.plant import PlantedEffect, plant_effects
    from journeykit.engine.workspace import import_files
    from journeykit.events.simulate import SimulationOptions, simulate, write_table

    events_file = ws.root / "events.csv"
    options = SimulationOptions(customers=4_000, seed=7, duplicates=0.005, late=0.01)
    table = simulate(journey, options)
    if journey.plays:
        effect = PlantedEffect(journey.plays[0].id, lift=DEMO_LIFT)
        table, _ = plant_effects(table, journey, [effect], seed=7, every=EVERY)
    write_table(table, events_file)
    (report,) = import_files(ws, [events_file])
    out_console.print(
        f"\n  events: simulated {options.customers:,} customers into {events_file.name}; "
        f"{report.summary()}",
        highlight=False,
        markup=False,
    )


def register(group: click.Group) -> None:
    group.add_command(demo)
