"""Plant a known effect of a play in simulated events, so a proof can be checked against it.

``journeykit simulate --effect PLAY=LIFT[,SOONER]``: the simulator's log is replayed as a daily
``act`` would see it (each play's audience judged every ``every``, default one day, on the
events up to then); a customer's first day in the audience is their entry and their arm is the
one ``act`` gives (the same keyed hash). Then, for the *treatment* arm only:

- ``lift``: a customer who would not reach the goal within the window reaches it with this
  extra probability, at a uniform time inside the window;
- ``sooner``: a customer who reaches the goal within the window anyway reaches it after this
  fraction of the time (an extra goal event earlier; 1 = no change).

The holdout is left as simulated, so the true effect on the goal rate is about ``lift`` times
the treated share that would not have reached the goal. Events after the log's end are not
added (right-censoring, as the simulator does).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.act.arms import TREATMENT, arm_of
from journeykit.act.audience import audience
from journeykit.act.errors import ActError
from journeykit.act.run import select_plays
from journeykit.analytics.milestones import MilestoneFrame, fetch_milestones
from journeykit.events.rulesample import sample_rule
from journeykit.journey.schema import Journey


@dataclass(frozen=True)
class PlantedEffect:
    play: str
    lift: float = 0.0
    sooner: float = 1.0


def parse_effect(text: str) -> PlantedEffect:
    """``PLAY=LIFT`` or ``PLAY=LIFT,SOONER``, e.g. ``first_board_nudge=0.15,0.5``."""
    play, _, spec = text.partition("=")
    parts = spec.split(",")
    try:
        lift = float(parts[0])
        sooner = float(parts[1]) if len(parts) > 1 else 1.0
    except ValueError:
        lift, sooner = -1.0, -1.0
    if not play or len(parts) > 2 or not 0 <= lift <= 1 or not 0 < sooner <= 1:
        raise ActError(
            f"--effect: expected PLAY=LIFT[,SOONER] with LIFT from 0 to 1 and SOONER above 0 "
            f"up to 1, such as first_board_nudge=0.15,0.5; got {text!r}"
        )
    return PlantedEffect(play, lift, sooner)


def plant_effects(
    table: pa.Table,
    journey: Journey,
    effects: list[PlantedEffect],
    *,
    seed: int = 0,
    every: timedelta = timedelta(days=1),
) -> tuple[pa.Table, dict[str, int]]:
    """The log with each play's effect planted; per play, how many goal events were added."""
    added: dict[str, int] = {}
    for effect in effects:
        (play,) = select_plays(journey, effect.play)
        table, added[play.id] = _plant(table, journey, play.id, effect, seed, every)
    return table, added


def _entries(
    table: pa.Table, journey: Journey, play_id: str, every: timedelta
) -> dict[str, tuple[datetime, str, timedelta]]:
    """Per customer: first time due, goal, window, as a daily act would have entered them."""
    import ibis

    (play,) = select_plays(journey, play_id)
    events = ibis.duckdb.connect().create_table("events", table, temp=True)
    stamps = table.column("timestamp")
    first = _dt(pc.min(stamps).as_py())
    last = _dt(pc.max(stamps).as_py())
    out: dict[str, tuple[datetime, str, timedelta]] = {}
    t = first + every
    while t <= last + every:
        now = min(t, last)
        due = audience(events, journey, play, now=now)
        for k, cid in enumerate(due.customer_ids):
            out.setdefault(cid, (now, due.goals[k], due.windows[k]))
        t += every
    return out


def _plant(
    table: pa.Table, journey: Journey, play_id: str, effect: PlantedEffect, seed: int,
    every: timedelta,
) -> tuple[pa.Table, int]:  # fmt: skip
    import ibis

    (play,) = select_plays(journey, play_id)
    entered = _entries(table, journey, play_id, every)
    frame = fetch_milestones(ibis.memtable(table), journey)
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    ids = {str(c): i for i, c in enumerate(frame.customer_ids)}
    end = _dt(pc.max(table.column("timestamp")).as_py())
    rng = random.Random(f"{seed}:{play_id}")
    rows: list[dict[str, object]] = []
    for cid in sorted(entered):
        due, goal, window = entered[cid]
        if arm_of(journey.id, play_id, cid, play.holdout) != TREATMENT:
            continue
        reached = _first_after(frame, ids.get(cid), index[goal], due)
        draw = rng.random()
        if reached is not None and reached - due <= window:
            when = due + (reached - due) * effect.sooner
            if effect.sooner == 1.0:
                continue
        elif draw < effect.lift:
            when = due + window * rng.random()
        else:
            continue
        rule = journey.milestone(goal).when
        if rule is None or when > end:
            continue
        sample = sample_rule(rule, rng)
        rows.append({
            "customer_id": cid, "event": sample.event, "timestamp": when,
            "value": sample.value, "properties": json.dumps(sample.properties, sort_keys=True),
        })  # fmt: skip
    if not rows:
        return table, 0
    extra = pa.Table.from_pylist(rows, schema=table.schema)
    return pa.concat_tables([table, extra]), len(rows)


def _first_after(
    frame: MilestoneFrame, cust: int | None, milestone: int, after: datetime
) -> datetime | None:
    if cust is None:
        return None
    lo, hi = frame.offsets[cust], frame.offsets[cust + 1]
    ts = frame.ts[lo:hi][frame.milestone[lo:hi] == milestone]
    after_us = int(np.datetime64(after, "us").astype(np.int64))
    later = ts[ts >= after_us]
    if not len(later):
        return None
    return datetime(1970, 1, 1) + timedelta(microseconds=int(later.min()))


def _dt(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    raise ActError(f"expected timestamps in the simulated log, got {value!r}")
