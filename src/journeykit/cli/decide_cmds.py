"""``journeykit opportunities``, ``proof`` and ``hero``: where to act first and the stories that
prove it. Thin adapters over ``measure`` (full mode), which runs ``decide`` once: the numbers
here are the report's and the web app's."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from journeykit.cli.analytics_cmds import InputError, open_events
from journeykit.cli.output import err_console, out_console
from journeykit.cli.report_cmds import (
    answers_option,
    discovery,
    measure_results,
    proof_of,
    story_options,
    view_source_options,
)
from journeykit.journey import Journey, load_journey

if TYPE_CHECKING:
    from journeykit.analytics.opportunities import OpportunitiesResult
    from journeykit.decide import Decisions
    from journeykit.discover.stories import ProofLibrary


def _decisions(journey: Journey, source: dict[str, Any], opts: dict[str, Any]) -> Decisions:
    events = open_events(
        source["events_path"], source["workspace"], source["table"], source["engine_url"],
        required=True,
    )  # fmt: skip
    answers, themes = discovery(journey, source["answers"], opts)
    proof = proof_of(journey, events, source["workspace"], opts)
    results = measure_results(
        journey, events, opts, full=True, themes=themes, answers=answers, proof=proof
    )
    assert results.decisions is not None  # full mode
    return results.decisions


_SOURCE = ("events_path", "workspace", "table", "engine_url", "answers")


def _split(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in _SOURCE}


def opportunities_table(
    result: OpportunitiesResult, journey: Journey, persona: str | None, top: int
) -> Table:
    from journeykit.analytics.opportunities import opportunity_title
    from journeykit.report.decisions import value_text

    who = "everyone" if persona is None else f"persona {persona}"
    grid = Table(title=f"where to act first ({who}; {result.value_source or 'no CLV'})",
                 show_edge=False)  # fmt: skip
    for name in ("#", "where", "customers", "value at stake (95%)", "pain", "being done"):
        grid.add_column(name, justify="right" if name in ("#", "customers") else "left")
    for k, o in enumerate(result.top(top, persona), start=1):
        pain = "; ".join(f"{p.label} ({p.raised})" for p in o.pains) or "-"
        grid.add_row(str(k), opportunity_title(o, journey), f"{o.affected:,}", value_text(o),
                     pain, o.doing)  # fmt: skip
    return grid


@click.command()
@view_source_options
@answers_option
@story_options
@click.option("--persona", default=None, help="The ranking of one persona's customers.")
@click.option("--top", type=click.IntRange(1), default=10, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv", "mermaid"]), default="table",
    show_default=True, help="mermaid: the opportunity tree as Mermaid flowchart text.",
)  # fmt: skip
def opportunities(
    journey_file: Path, persona: str | None, top: int, fmt: str, **kwargs: Any
) -> None:
    """Every place the journey leaks, ranked by value at stake, with the pain behind it and what
    is being done; and each path's early win."""
    journey = load_journey(journey_file)
    if persona is not None and persona not in {p.id for p in journey.personas}:
        known = ", ".join(p.id for p in journey.personas) or "(none)"
        raise InputError(f"--persona {persona!r}: expected one of {known}")
    result = _decisions(journey, _split(kwargs), kwargs).opportunities
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        rows = [r for r in result.rows() if persona is None or r["persona"] == persona]
        _write_csv(rows)
    elif fmt == "mermaid":
        from journeykit.report.tree import opportunity_tree, tree_mermaid

        click.echo(tree_mermaid(opportunity_tree(result, journey, top)), nl=False)
    else:
        out_console.print(opportunities_table(result, journey, persona, top))
        for line in early_win_lines(result, journey):
            out_console.print(line, markup=False, highlight=False)


def early_win_lines(result: OpportunitiesResult, journey: Journey) -> list[str]:
    titles = {m.id: m.title for m in journey.milestones}
    out = []
    for w in result.early_wins:
        if w.milestone is None:
            out.append(f"  early win, path {w.path}: none designed before the core offer")
            continue
        if w.ratio is None or w.early is None or w.not_early is None:
            out.append(f"  early win, path {w.path}: “{titles[w.milestone]}” (too few to compare)")
            continue
        took = "" if w.time_to_win is None else f", median {w.time_to_win.median / 86400:.1f}d"
        out.append(
            f"  early win, path {w.path}: “{titles[w.milestone]}” ({w.reached:,} of "
            f"{w.entrants:,}{took}); early ones reach the core offer {w.early.share:.0%} vs "
            f"{w.not_early.share:.0%}, ×{w.ratio:.1f} ({w.ratio_low:.1f} to {w.ratio_high:.1f})"
        )
    return out


def _write_csv(rows: list[dict[str, Any]], path: Path | None = None) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
    writer.writeheader()
    from journeykit.report.export import csv_safe

    writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in rows)
    if path is None:
        click.echo(out.getvalue(), nl=False)
    else:
        path.write_text(out.getvalue(), encoding="utf-8")


def export_library(library: ProofLibrary, output: Path) -> None:
    """CSV or JSON by the file's suffix; only the stories whose authors consented."""
    if output.suffix.lower() == ".json":
        output.write_text(json.dumps(library.to_dict(), indent=2, ensure_ascii=False), "utf-8")
    elif output.suffix.lower() == ".csv":
        _write_csv(library.rows(), output)
    else:
        raise InputError(f"{output}: export stories to a .csv or .json file")


def write_walls(library: ProofLibrary, journey: Journey, folder: Path) -> list[Path]:
    from journeykit.report.wall import wall_page, wall_personas

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for persona in wall_personas(library, journey):
        path = folder / f"wall-{persona}.html"
        path.write_text(wall_page(library, journey, persona), encoding="utf-8")
        written.append(path)
    return written


def proof_table(library: ProofLibrary) -> Table:
    grid = Table(title="proof library (the team's view: stories without consent are marked and "
                 "never exported)", show_edge=False)  # fmt: skip
    for name in ("consent", "persona", "before", "after", "show at"):
        grid.add_column(name)
    for r in library.team_rows():
        grid.add_row("yes" if r["consent"] else "NO", f"{r['persona'] or '-'} ({r['score']:.2f})",
                     r["before"] or "-", r["after"], r["show_at"] or "-")  # fmt: skip
    return grid


@click.command()
@view_source_options
@answers_option
@story_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
    show_default=True, help="json and csv hold only stories whose authors consented.",
)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Export the consented stories to a .csv or .json file.")  # fmt: skip
@click.option("--wall", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one HTML story wall per persona into this folder.")  # fmt: skip
def proof(
    journey_file: Path, fmt: str, output: Path | None, wall: Path | None, **kwargs: Any
) -> None:
    """The proof library: pain-to-pleasure stories from answers and testimonial events, each
    matched to a persona and to where to show it. Stories without consent never leave."""
    journey = load_journey(journey_file)
    if output is not None and output.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"{output}: export stories to a .csv or .json file")
    library = _decisions(journey, _split(kwargs), kwargs).proof
    if output is not None:
        export_library(library, output)
        err_console.print(f"wrote {len(library.shareable):,} stories to {output} "
                          f"({library.withheld:,} without consent left out)")  # fmt: skip
    if wall is not None:
        for path in write_walls(library, journey, wall):
            err_console.print(f"wrote {path}", highlight=False, markup=False)
    if fmt == "json":
        click.echo(json.dumps(library.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        _write_csv(library.rows())
    elif output is None and wall is None:
        out_console.print(proof_table(library))


@click.command()
@view_source_options
@answers_option
@story_options
@click.option("--persona", default=None, help="One persona (default: every persona).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)  # fmt: skip
def hero(journey_file: Path, persona: str | None, fmt: str, **kwargs: Any) -> None:
    """Each persona's hero's journey: the chapters with live numbers and members' words, and a
    plain story to reuse."""
    journey = load_journey(journey_file)
    heroes = _decisions(journey, _split(kwargs), kwargs).heroes
    chosen = [h for h in heroes if persona is None or h.persona == persona]
    if persona is not None and not chosen:
        known = ", ".join(h.persona for h in heroes) or "(none)"
        raise InputError(f"--persona {persona!r}: expected one of {known}")
    if fmt == "json":
        click.echo(json.dumps([h.to_dict() for h in chosen], indent=2, ensure_ascii=False))
        return
    for h in chosen:
        out_console.print(f"\n{h.name}", markup=False, highlight=False)
        for c in h.chapters:
            out_console.print(f"  {c.title}: {c.text}", markup=False, highlight=False)
            for line in (*c.numbers, *(f"“{q}”" for q in c.quotes)):
                if line:
                    out_console.print(f"     {line}", markup=False, highlight=False)
        out_console.print(f"\n  {h.story}", markup=False, highlight=False)


def register(group: click.Group) -> None:
    for command in (opportunities, proof, hero):
        group.add_command(command)
