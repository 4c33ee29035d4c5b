"""Design commands: validate, schema, init, mermaid."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from journeykit.cli.output import err_console, warn
from journeykit.errors import JourneyFileError
from journeykit.journey import lint, load_journey
from journeykit.journey.jsonschema import journey_json_schema_text
from journeykit.journey.templates import template_names
from journeykit.report.mermaid import mermaid_journey
from journeykit.workspace import create_workspace

FilePath = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("files", nargs=-1, required=True, type=FilePath)
@click.option("--strict", is_flag=True, help="Treat lint warnings as errors.")
def validate(files: tuple[Path, ...], strict: bool) -> None:
    """Check journey files: errors make the exit code 1, lints are warnings on stderr."""
    failed = False
    for path in files:
        try:
            journey = load_journey(path)
        except JourneyFileError as exc:
            failed = True
            for line in str(exc).splitlines():
                err_console.print(f"[red]error:[/red] {line}", markup=True, highlight=False)
            continue
        warnings = lint(journey)
        for problem in warnings:
            warn(problem.render(path))
        failed |= strict and bool(warnings)
        note = f" ({len(warnings)} warning(s))" if warnings else ""
        err_console.print(f"{path}: valid{note}", highlight=False)
    if failed:
        sys.exit(1)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the journey file (for editor completion)."""
    text = journey_json_schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--template",
    "template",
    default="saas-trial",
    show_default=True,
    type=click.Choice(template_names()),
    help="The example journey to start from.",
)
@click.option("--force", is_flag=True, help="Write into a folder that already has files.")
def init(directory: Path, template: str, force: bool) -> None:
    """Create a new workspace folder from a template journey."""
    ws = create_workspace(directory, template=template, force=force)
    err_console.print(
        f"created workspace {ws.root} with journey {ws.journey_file.name}", highlight=False
    )


@click.command()
@click.argument("file", type=FilePath)
@click.option(
    "--by",
    type=click.Choice(["phase", "stage"]),
    default="phase",
    show_default=True,
    help="Sections of the diagram.",
)
@click.option("--path", "path_id", default=None, help="Only the milestones of this path.")
@click.option("--plays", is_flag=True, help="Add a section with the journey's plays.")
def mermaid(file: Path, by: str, path_id: str | None, plays: bool) -> None:
    """Print a Mermaid `journey` diagram of the journey."""
    journey = load_journey(file)
    click.echo(mermaid_journey(journey, by=by, path_id=path_id, plays=plays))


def register(group: click.Group) -> None:
    for command in (validate, schema, init, mermaid):
        group.add_command(command)
