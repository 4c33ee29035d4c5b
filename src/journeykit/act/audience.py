"""Who is due for a play now (DESIGN "Play audience"), from the one status rule.

The audience is read off :func:`journeykit.analytics.positions` on the play's path at ``now``:
customers whose status is the play's, at its milestone when it names one; for ``stuck`` with
``after``, only those whose waiting time passes the stuck threshold by more than ``after``; for
``strayed`` with ``stray``, only those with a stray of that kind. ``persona`` and ``when``
narrow it further (the persona by the one persona rule, ``analytics.segments``; ``when``: at
least one event matching the rule at or before ``now``). Customers already in the play are
taken out by the ledger (``act.ledger.already_in``), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from journeykit.act.errors import ActError
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.milestones import Events, milestone_frame
from journeykit.analytics.position import STATUSES, PositionsResult, positions
from journeykit.journey.plays import Play, step_window
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Audience:
    """The customers due for one play, as columns (rows of ``placed``), with their goal."""

    play: Play
    placed: PositionsResult
    rows: np.ndarray  # indices into placed's columns, by customer id
    goals: tuple[str, ...]  # per row: the goal milestone
    windows: tuple[timedelta, ...]  # per row: the time to reach it

    @property
    def customer_ids(self) -> list[str]:
        return [str(c) for c in self.placed.customer_ids[self.rows]]

    def __len__(self) -> int:
        return len(self.rows)


def goal_of(journey: Journey, play: Play, steps: tuple[str, ...], position: int) -> str:
    """The play's goal; by default the next step of the path after the customer's position."""
    if play.goal.milestone is not None:
        return play.goal.milestone
    return steps[min(position + 1, len(steps) - 1)]


def window_of(journey: Journey, play: Play, goal: str) -> timedelta:
    """The play's window; by default the goal step's ``within``, else the goal's
    ``expected_within``, else 14 days."""
    if play.goal.within is not None:
        return play.goal.within
    return step_window(journey, goal, journey.path(play.who.path))


def audience(
    events: Events,
    journey: Journey,
    play: Play,
    *,
    now: datetime | None = None,
    placed: PositionsResult | None = None,
) -> Audience:
    """The customers whose status and position at ``now`` match ``play``'s ``who``.

    ``placed`` may be given when the positions on the play's path at ``now`` are already known
    (several plays on one path share one positions run).
    """
    frame = milestone_frame(events, journey, now=now)
    if placed is None:
        placed = positions(frame, journey, path=play.who.path, now=now)
    mask = _status_mask(placed, play)
    ids = placed.customer_ids
    if play.who.persona is not None or play.who.when is not None:
        if frame.events is None:
            raise ActError(f"play {play.id!r}: who.persona and who.when need the events table")
        candidates = [str(c) for c in ids[mask]]
        keep = _narrowed(frame.events, journey, play, now, frame.now, candidates)
        mask &= np.isin(ids.astype(str), np.array(sorted(keep), dtype=str))
    rows = np.flatnonzero(mask)
    rows = rows[np.argsort(ids[rows].astype(str), kind="stable")]
    steps = placed.steps
    # Goals depend on the position only: one per step, looked up per row.
    goal_at = [goal_of(journey, play, steps, k) for k in range(len(steps))]
    window_at = [window_of(journey, play, g) for g in goal_at]
    pos = placed.position[rows].tolist()
    goals = tuple(goal_at[k] for k in pos)
    windows = tuple(window_at[k] for k in pos)
    return Audience(play, placed, rows, goals, windows)


def _status_mask(placed: PositionsResult, play: Play) -> np.ndarray:
    who = play.who
    mask = placed.status == STATUSES.index(who.status)
    if who.milestone is not None:
        mask &= placed.position == placed.steps.index(who.milestone)
    if who.after is not None:
        limit = np.array([np.nan if t is None else t for t in placed.thresholds])
        passed = placed.waiting_seconds > limit[placed.position] + who.after.total_seconds()
        mask &= passed  # NaN (no threshold) compares False: never stuck, never due
    if who.stray is not None:
        mask &= placed.has_stray(who.stray)
    return np.asarray(mask, dtype=bool)


def _narrowed(
    events: ir.Table,
    journey: Journey,
    play: Play,
    now: datetime | None,
    now_us: int,
    candidates: list[str],
) -> set[str]:
    """Of ``candidates``, those of the play's persona and with an event matching its ``when``
    rule (the events are cut to the candidates first: a persona's rules over every event of
    every customer took 15 s at 10M events)."""
    import ibis
    import pyarrow as pa

    from journeykit.analytics.compile import compile_rule
    from journeykit.analytics.segments import personas_of

    if not candidates:
        return set()
    who = ibis.memtable(pa.table({"customer_id": pa.array(candidates, pa.string())}))
    events = events.filter(events.customer_id.isin(who.customer_id))
    as_of = now if now is not None else _from_us(now_us)
    keep: set[str] | None = None
    if play.who.persona is not None:
        index = [p.id for p in journey.personas].index(play.who.persona)
        tagged = personas_of(events, journey, now=as_of)
        keep = {c for c, i in tagged.items() if i == index}
    if play.who.when is not None:
        t = events.filter(events.timestamp <= as_of)
        hits = t.filter(compile_rule(t, play.who.when)).select("customer_id").distinct()
        found = set(to_arrow(hits).column("customer_id").to_pylist())
        keep = found if keep is None else keep & found
    return keep or set()


def _from_us(us: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=us)
