"""``journeykit prove``: what each play changed; ``journeykit sample-size``: how many it needs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from journeykit.cli.analytics_cmds import Measure, emit, journey_source_options
from journeykit.cli.output import out_console
from journeykit.journey.durations import parse_duration

if TYPE_CHECKING:
    from journeykit.prove import Estimate, PlayProof, ProveResult

READING = (
    "verdicts use the sequential interval, valid however often you look; the fixed-horizon one "
    "is narrower but right only for one look at a size set in advance (docs/proof.md)"
)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def proof_table(result: ProveResult) -> RenderableType:
    grid = Table(
        title=f"proof as of {result.to_dict()['now']}", show_edge=False, pad_edge=False,
        box=box.SIMPLE_HEAD,
    )  # fmt: skip
    grid.add_column("play", no_wrap=True, min_width=17)
    for name in ("treatment", "holdout", "sequential 95%"):
        grid.add_column(name, justify="right", no_wrap=True)
    grid.add_column("verdict")
    for r in result.results:
        t, h = r.treatment, r.holdout
        seq = "-" if r.sequential is None else _interval(r.sequential)
        grid.add_row(
            r.id, f"{_pct(t.share)} of {t.entered:,}", f"{_pct(h.share)} of {h.entered:,}",
            seq, r.verdict or "no verdict",
        )  # fmt: skip
    lines = [_detail(r) for r in result.results]
    lines += [f"  {n}" for n in result.notes]
    for a in result.touchpoints:
        d = a.to_dict()
        diff_d = d["adjusted"] or d["difference"]
        if diff_d and diff_d["estimate"] is not None:
            lines.append(
                f"  touchpoint {a.touchpoint.from_} -> {a.touchpoint.to} ({a.touchpoint.action}): "
                f"{diff_d['estimate'] * 100:+.1f} points [{diff_d['ci_low'] * 100:+.1f}, "
                f"{diff_d['ci_high'] * 100:+.1f}] for those who got it (association, not proof: "
                "add a play with a holdout to prove it)"
            )
    lines.append(f"  ({READING})")
    return Group(grid, Text("\n".join(lines)))


def _interval(e: Estimate) -> str:
    return f"[{e.ci_low * 100:+.1f}, {e.ci_high * 100:+.1f}]"


def _detail(r: PlayProof) -> str:
    open_ = r.treatment.pending + r.holdout.pending
    goal = f"{r.goal} within {r.within}" if r.within != "per goal" else f"{r.goal}"
    fixed = ""
    if r.absolute is not None and r.absolute.p_value is not None:
        a = r.absolute
        fixed = f"; difference {a.estimate * 100:+.1f} points, fixed-horizon {_interval(a)}"
        fixed += f", p = {a.p_value:.2g}"
    pending = f", {open_:,} still open" if open_ else ""
    return f"  {r.id} (goal {goal}{pending}): {r.reason}{fixed}{_value_line(r)}"


def _value_line(r: PlayProof) -> str:
    v = r.value_at_stake
    if v is None or v.value is None or r.verdict != "worked":
        return ""
    return (
        f"; about {v.extra_goals.estimate:,.0f} extra goals, worth about {v.value.estimate:,.0f} "
        f"[{v.value.ci_low:,.0f}, {v.value.ci_high:,.0f}] in 12-month CLV"
    )


@click.command()
@journey_source_options
@click.option("--play", "play_id", default=None, help="Only this play (default: every play).")
@click.option(
    "--assignments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="An experiment run elsewhere: CSV/Parquet with customer_id, experiment, arm, entered_at.",
)
@click.option("--goal", default=None, help="With --assignments: the goal milestone.")
@click.option("--within", default=None, help="With --assignments: the window, e.g. 14d.")
@click.option(
    "--holdout-share", type=float, default=None, help="With --assignments: the designed split."
)
@click.option(
    "--lift",
    type=float,
    default=0.05,
    show_default=True,
    help="The absolute lift the sample-size guidance is given for.",
)
def prove(
    m: Measure,
    play_id: str | None,
    assignments: Path | None,
    goal: str | None,
    within: str | None,
    holdout_share: float | None,
    lift: float,
) -> None:
    """What each play changed: goal reached per arm, the difference with its intervals, a verdict.

    The plays' entries come from the workspace's ledger (journeykit act); with --assignments,
    from an experiment run elsewhere, measured against --goal within --within.
    """
    from journeykit.prove import prove as run
    from journeykit.workspace import open_workspace

    ctx = click.get_current_context()
    folder = ctx.params.get("workspace")
    ws = open_workspace(folder) if folder is not None else None
    result = run(
        m.events, m.journey, workspace=ws, play=play_id, assignments=assignments, goal=goal,
        within=None if within is None else parse_duration(within),
        holdout_share=holdout_share, now=m.now, lift=lift,
    )  # fmt: skip
    emit(result, m.fmt, lambda: proof_table(result))


@click.command("sample-size")
@click.option("--base-rate", type=float, required=True, help="The holdout's goal rate, e.g. 0.2.")
@click.option("--lift", type=float, required=True, help="Absolute lift to detect, e.g. 0.05.")
@click.option("--holdout-share", type=float, default=0.1, show_default=True)
@click.option("--power", type=float, default=0.8, show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True)
def sample_size_cmd(
    base_rate: float, lift: float, holdout_share: float, power: float, alpha: float
) -> None:
    """How many decided entries a play needs to detect a lift at its base rate."""
    from journeykit.prove import ProveError, sample_size

    try:
        s = sample_size(base_rate, lift, holdout_share=holdout_share, power=power, alpha=alpha)
    except ValueError as exc:
        raise ProveError(str(exc)) from None
    out_console.print(
        f"to detect {lift * 100:+.1f} points on a base rate of {base_rate * 100:.1f}% with "
        f"{power:.0%} power (two-sided, alpha {alpha:g}) and a {holdout_share:.0%} holdout: "
        f"{s.entries:,} decided entries ({s.treatment:,} treatment, {s.holdout:,} holdout)",
        highlight=False,
    )


def register(group: click.Group) -> None:
    group.add_command(prove)
    group.add_command(sample_size_cmd)
