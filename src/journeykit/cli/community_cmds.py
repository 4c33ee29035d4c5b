"""``journeykit community impact|northstar|levels``: what the community does, measured."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from journeykit.cli.analytics_cmds import InputError, Measure, emit, source_options
from journeykit.cli.output import err_console, out_console
from journeykit.journey.durations import parse_duration

if TYPE_CHECKING:
    from journeykit.analytics.impact import ImpactResult
    from journeykit.analytics.levels import LevelsResult
    from journeykit.journey import Journey


def _role(text: str | None) -> int | str | None:
    """``--role 2`` is the second role; ``--role support`` the role with that objective."""
    if text is None:
        return None
    if text.isdigit():
        if int(text) < 1:
            raise InputError(f"--role: roles count from 1, got {text}")
        return int(text) - 1
    return text


_ROLE = click.option(
    "--role", default=None, help="Which role: its number (1, 2, ...) or objective (default: first)."
)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _num(x: float | None, metric: str) -> str:
    if x is None:
        return "-"
    return _pct(x) if metric in ("share_reaching", "repeat_rate") else f"{x:.2f}"


def impact_table(result: ImpactResult) -> Table:
    grid = Table(title=f"community impact on {result.title}", show_edge=False)
    grid.add_column("group", min_width=12)
    for name in ("customers", "outcome", "95% CI"):
        grid.add_column(name, justify="right", no_wrap=True)
    metric = result.metric
    for name, g in (("members", result.members), ("non-members", result.non_members)):
        ci = f"{_num(g.ci95[0], metric)} to {_num(g.ci95[1], metric)}" if g.ci95 else ""
        grid.add_row(name, f"{g.customers:,}", _num(g.rate, metric), ci)
    diffs = [("difference", result.difference)]
    if result.adjusted is not None:
        diffs.append((f"adjusted ({', '.join(result.adjusted_by)})", result.adjusted))
    for name, d in diffs:
        ci = f"{_num(d.low, metric)} to {_num(d.high, metric)}"
        grid.add_row(name, "", _num(d.estimate, metric), ci)
    return grid


def levels_table(result: LevelsResult) -> Table:
    grid = Table(title=f"engagement levels by {result.by}, per {result.period}", show_edge=False)
    grid.add_column("period", no_wrap=True)
    grid.add_column("level", no_wrap=True)
    for name in ("members", "up", "held", "down"):
        grid.add_column(name, justify="right", no_wrap=True)
    for mv in result.movements:
        if not mv.members:
            continue
        grid.add_row(mv.period, mv.level, f"{mv.members:,}", _share(mv.up, mv.members),
                     _share(mv.held, mv.members), _share(mv.down, mv.members))  # fmt: skip
    return grid


def _share(k: int, n: int) -> str:
    return f"{k:,} ({k / n:.0%})"


@click.group()
def community() -> None:
    """The community's role measured: impact, north star over time, engagement levels."""


@community.command()
@source_options
@_ROLE
@click.option(
    "--landmark",
    default="14d",
    show_default=True,
    help="Members are those who reached a community milestone by this long after entry.",
)
@click.option(
    "--horizon",
    default=None,
    help="Count the outcome this long after the landmark (default: the north star's within).",
)
@click.option(
    "--adjust",
    type=click.Choice(["cohort", "persona", "none"]),
    multiple=True,
    default=("cohort", "persona"),
    show_default=True,
    help="Stratify by entry month and/or persona (repeatable; 'none' for raw only).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
def impact(
    m: Measure,
    role: str | None,
    landmark: str,
    horizon: str | None,
    adjust: tuple[str, ...],
    seed: int,
) -> None:
    """North-star outcome for community members vs the rest, with a 95% interval."""
    from journeykit.analytics.impact import impact as run

    result = run(
        m.events,
        m.journey,
        role=_role(role),
        landmark=parse_duration(landmark),
        horizon=parse_duration(horizon) if horizon else None,
        adjust=[a for a in adjust if a != "none"],  # type: ignore[misc]
        path=m.path,
        now=m.now,
        seed=seed,
    )
    excluded = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.excluded.items())
    err_console.print(f"left out: {excluded}", highlight=False)
    emit(result, m.fmt, lambda: impact_table(result))
    if m.fmt == "table":
        err_console.print(result.caveat, highlight=False)


@community.command()
@source_options
@_ROLE
@click.option("--period", type=click.Choice(["week", "month"]), default="month", show_default=True)
def northstar(m: Measure, role: str | None, period: str) -> None:
    """The north star per entry week or month, against its target."""
    from journeykit.analytics.community import north_star

    result = north_star(
        m.events,
        m.journey,
        role=_role(role),
        period="week" if period == "week" else "month",
        path=m.path,
        now=m.now,
    )
    value = _num(result.value, result.metric)
    err_console.print(
        f"{result.title}: {value} over {result.customers:,} customers "
        f"(target {_num(result.target, result.metric)}, {result.direction})",
        highlight=False,
    )
    emit(result, m.fmt)


@community.command()
@source_options
@click.option("--period", type=click.Choice(["week", "month"]), default=None,
              help="Default: the journey's community.levels.period (month).")  # fmt: skip
@click.option("--top", type=int, default=10, show_default=True, help="List length in the table.")
def levels(m: Measure, period: str | None, top: int) -> None:
    """Engagement levels (Orbit): who moved up, held or moved down; who drifts away."""
    from journeykit.analytics.levels import engagement_levels

    chosen: Any = period
    result = engagement_levels(m.events, m.journey, period=chosen, now=m.now)
    counts = ", ".join(f"{k} {v:,}" for k, v in result.counts.items())
    err_console.print(f"levels now: {counts}", highlight=False)
    emit(result, m.fmt, lambda: levels_table(result))
    if m.fmt == "table":
        for name, people in (("drifting away", result.drifting_away),
                             ("new and promising", result.new_and_promising)):  # fmt: skip
            shown = ", ".join(f"{p.customer_id} ({p.level}, love {p.love:.1f})"
                              for p in people[:top])  # fmt: skip
            err_console.print(f"{name} ({len(people):,}): {shown or '-'}", highlight=False)


def print_demo_community(journey: Journey, workspace: Path) -> None:
    """The demo's community section: purpose apart from roles, impact, north star, levels."""
    from journeykit.analytics.community import north_star
    from journeykit.analytics.impact import impact as run_impact
    from journeykit.analytics.levels import engagement_levels
    from journeykit.engine import connect

    c = journey.community
    if c is None:
        return
    out = out_console
    out.print(f"\n  COMMUNITY\n  purpose (why members belong): {c.purpose}", highlight=False)
    for r in c.all_roles:
        ns = f"; north star: {r.north_star.title or r.north_star.milestone}" if r.north_star else ""
        out.print(f"  role ({r.objective or 'role'}): {r.description}{ns}", highlight=False)
    if not c.north_stars:
        return
    events = connect().events(str(workspace))
    result = run_impact(events, journey)
    out.print()
    out.print(impact_table(result))
    out.print(f"  {result.caveat}", highlight=False, markup=False)
    star = north_star(events, journey)
    series = ", ".join(f"{p.period:%b} {_num(p.value, star.metric)}" for p in star.points)
    out.print(
        f"\n  north star {star.title}: {_num(star.value, star.metric)} "
        f"(target {_num(star.target, star.metric)}); by entry month: {series}",
        highlight=False,
    )
    if c.activity_milestones:
        lv = engagement_levels(events, journey)
        counts = ", ".join(f"{k} {v:,}" for k, v in lv.counts.items())
        out.print(f"  engagement levels now: {counts}; drifting away {len(lv.drifting_away):,}, "
                  f"new and promising {len(lv.new_and_promising):,}", highlight=False)  # fmt: skip


def register(group: click.Group) -> None:
    group.add_command(community)
