"""``journeykit demo``: the main job end to end on the embedded default, growing as parts land."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from rich.console import Console

from journeykit.cli.output import out_console
from journeykit.journey import Journey, lint, load_journey
from journeykit.journey.durations import format_duration
from journeykit.journey.templates import template_names
from journeykit.workspace import create_workspace

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
    print_outline(load_journey(ws.journey_file), out_console, source=ws.journey_file.name)
    from journeykit.cli.discover_cmds import print_demo_themes

    print_demo_themes(out_console)


def register(group: click.Group) -> None:
    group.add_command(demo)
