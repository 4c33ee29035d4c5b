"""``journeykit act``: enter who is due for each play, keep the holdout, deliver the treatment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from journeykit.cli.analytics_cmds import FilePath, emit, parse_now
from journeykit.cli.output import err_console, warn

if TYPE_CHECKING:
    from journeykit.act import ActResult

SHOWN = 10  # entrants listed per play in the table of a dry run


def act_table(result: ActResult) -> RenderableType:
    verb = "would enter" if result.dry_run else "entered"
    grid = Table(
        title=f"plays as of {result.to_dict()['now']}", show_edge=False, pad_edge=False,
        box=box.SIMPLE_HEAD,
    )  # fmt: skip
    grid.add_column("play", no_wrap=True, min_width=17)
    for name in ("due", "already", verb.split()[-1], "treat.", "hold.", "sent", "pending"):
        grid.add_column(name, justify="right", no_wrap=True)
    for p in result.plays:
        grid.add_row(
            p.play.id, *(f"{n:,}" for n in (p.due, p.already_in, len(p.entered), p.treatment,
                                              p.holdout, p.delivered, p.pending)),
        )  # fmt: skip
    parts: list[RenderableType] = [grid]
    if result.dry_run:
        for p in result.plays:
            if not p.entered:
                continue
            lines = [f"  {p.play.id}: {verb} {len(p.entered):,}"]
            for e in p.entered[:SHOWN]:
                lines.append(
                    f"    {e.customer_id} ({e.arm}): at {e.milestone} for "
                    f"{e.days_waiting:.0f} days, goal {e.goal}"
                )
            if len(p.entered) > SHOWN:
                lines.append(f"    ... and {len(p.entered) - SHOWN:,} more (--format csv)")
            parts.append(Text("\n".join(lines)))
    return Group(*parts)


@click.command()
@click.argument("journey_file", type=FilePath)
@click.option(
    "--workspace",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The workspace whose events are judged and whose ledger records the entries.",
)
@click.option("--play", "play_id", default=None, help="Only this play (default: every play).")
@click.option("--now", default=None, help="Judge as of this time (default: latest event).")
@click.option("--dry-run", is_flag=True, help="Show who would enter; change and send nothing.")
@click.option(
    "--webhook",
    default=None,
    help="POST the treatment arm here as signed JSON batches (secret: "
    "JOURNEYKIT_WEBHOOK_SECRET or [act] webhook_secret in journeykit.toml).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the treatment arm with rendered messages to a .csv or .json file.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option(
    "--wait",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait while another process holds the workspace database.",
)
def act(
    journey_file: Path,
    workspace: Path,
    play_id: str | None,
    now: str | None,
    dry_run: bool,
    webhook: str | None,
    output: Path | None,
    fmt: str,
    wait: float,
) -> None:
    """Enter the customers due for each play, keep a holdout, deliver the treatment arm.

    Running it again on the same data enters nobody; a delivery that fails stays pending and
    is sent by the next run.
    """
    from journeykit.act import act as run
    from journeykit.journey import load_journey
    from journeykit.workspace import open_workspace

    journey = load_journey(journey_file)
    ws = open_workspace(workspace)
    result = run(
        ws, journey, play=play_id, now=parse_now(now), dry_run=dry_run, output=output,
        webhook=webhook, wait=wait,
    )  # fmt: skip
    for note in result.notes:
        warn(note)
    if result.target:
        sent = len(result.messages)
        err_console.print(f"delivered {sent:,} treatment entries to {result.target}")
    emit(result, fmt, lambda: act_table(result))


def register(group: click.Group) -> None:
    group.add_command(act)
