"""``act``: who is due for each play now, their arms, the entries recorded once, the treatment
delivered, as one typed result for the CLI, the web app and notebooks.

One scan of the events builds the milestone log; each play's audience comes from the positions
on its path at ``now`` (one positions run per path); the customers already in a play are taken
out by the ledger; the rest are entered, every play's entries in one transaction. Then the
treatment entries not yet delivered (this run's and any left pending) go to the file or webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.act.arms import HOLDOUT, TREATMENT, arms
from journeykit.act.audience import Audience, audience
from journeykit.act.deliver import (
    Message,
    WebhookOptions,
    context_of,
    post_batches,
    render,
    webhook_secret,
    write_file,
)
from journeykit.act.errors import ActError, DeliveryError, UnknownPlayError
from journeykit.act.ledger import (
    Entered,
    Entry,
    Latest,
    already_in,
    entry_ids,
    latest,
    mark_delivered,
    open_ledger,
    pending,
    record,
    revision,
)
from journeykit.analytics.milestones import fetch_milestones
from journeykit.analytics.position import PositionsResult, positions
from journeykit.analytics.results import _Tabular, iso_time
from journeykit.engine.duckdb import storage_errors
from journeykit.errors import did_you_mean
from journeykit.journey.plays import Play
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.workspace import Workspace


@dataclass(frozen=True)
class PlayRun:
    """One play in one run: how many are due, already in, entered (by arm), delivered, pending."""

    play: Play
    due: int
    already_in: int
    entered: Entered
    delivered: int = 0
    pending: int = 0

    @property
    def treatment(self) -> int:
        return self.entered.count(TREATMENT)

    @property
    def holdout(self) -> int:
        return self.entered.count(HOLDOUT)

    def to_dict(self, *, with_entries: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.play.id,
            "title": self.play.title,
            "status": self.play.who.status,
            "channel": self.play.channel,
            "holdout_share": self.play.holdout,
            "due": self.due,
            "entered": len(self.entered),
            "treatment": self.treatment,
            "holdout": self.holdout,
            "already_in": self.already_in,
            "delivered": self.delivered,
            "pending": self.pending,
        }
        if with_entries:
            out["entries"] = [e.to_dict() for e in self.entered]
        return out


@dataclass(frozen=True)
class ActResult(_Tabular):
    """What ``journeykit act`` did (or, with ``dry_run``, would do) at ``now``."""

    journey: str
    now: int  # microseconds since the epoch
    dry_run: bool
    plays: tuple[PlayRun, ...]
    target: str | None = None  # where the treatment went: a file or a URL
    messages: tuple[Message, ...] = ()  # delivered in this run
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": iso_time(self.now),
            "journey": self.journey,
            "dry_run": self.dry_run,
            "target": self.target,
            "plays": [p.to_dict() for p in self.plays],
            "notes": list(self.notes),
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per entry made (or that would be made) in this run."""
        return [e.to_dict() for p in self.plays for e in p.entered]


def select_plays(journey: Journey, play_id: str | None) -> tuple[Play, ...]:
    if not journey.plays:
        raise ActError(
            f"journey {journey.id!r} designs no plays: add a 'plays:' section (see docs/plays.md)"
        )
    if play_id is None:
        return journey.plays
    for p in journey.plays:
        if p.id == play_id:
            return (p,)
    known = [p.id for p in journey.plays]
    raise UnknownPlayError(
        f"--play: unknown play {play_id!r}{did_you_mean(play_id, known)}; known: {', '.join(known)}"
    )


def act(
    ws: Workspace,
    journey: Journey,
    *,
    play: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    output: Path | None = None,
    webhook: str | WebhookOptions | None = None,
    wait: float = 30.0,
) -> ActResult:
    """Enter everyone due for the journey's plays (or ``play``) at ``now`` and deliver the
    treatment arm to ``output`` (a .csv or .json file) and/or ``webhook`` (a URL).

    ``now`` defaults to the latest event in the workspace, so running it again on the same
    data enters nobody. With ``dry_run`` nothing is recorded nor delivered. ``wait``: seconds
    to wait for another process's lock on the workspace database.
    """
    chosen = select_plays(journey, play)
    if dry_run and (output is not None or webhook is not None):
        raise ActError("--dry-run delivers nothing: leave out -o and --webhook")
    hook = _webhook_options(webhook, ws)
    with storage_errors(ws.database):
        engine = open_ledger(ws, read_only=dry_run, wait=wait)
        try:
            return _act(engine, ws, journey, chosen, now, dry_run, output, hook)
        finally:
            engine.close()


def _webhook_options(webhook: str | WebhookOptions | None, ws: Workspace) -> WebhookOptions | None:
    if webhook is None or isinstance(webhook, WebhookOptions):
        return webhook
    if not webhook.startswith(("http://", "https://")):
        raise DeliveryError(f"--webhook: expected an http:// or https:// URL, got {webhook!r}")
    return WebhookOptions(url=webhook, secret=webhook_secret(ws))


def _act(
    engine: DuckDBEngine,
    ws: Workspace,
    journey: Journey,
    plays: tuple[Play, ...],
    now: datetime | None,
    dry_run: bool,
    output: Path | None,
    hook: WebhookOptions | None,
) -> ActResult:
    from journeykit.events.schema import EVENT_COLUMNS

    events = engine.con.table("events").select(*EVENT_COLUMNS)
    frame = fetch_milestones(events, journey, now=now)
    as_of = datetime(1970, 1, 1) + timedelta(microseconds=frame.now)
    placed: dict[str, PositionsResult] = {}
    runs: list[PlayRun] = []
    rev = revision(journey)
    recorded_at = datetime.now(UTC).replace(tzinfo=None)
    for p in plays:
        path = journey.path(p.who.path).id  # a play naming the first path shares its run
        if path not in placed:
            placed[path] = positions(frame, journey, path=path, now=as_of)
        due = audience(frame, journey, p, now=as_of, placed=placed[path])
        last = latest(engine, journey.id, p.id)
        inside = already_in(last, frame, journey, as_of)
        ids = due.customer_ids
        keep = [k for k, cid in enumerate(ids) if cid not in inside]
        new = _entered(journey, due, keep, last, as_of, recorded_at, rev)
        runs.append(PlayRun(p, len(ids), len(ids) - len(new), new))
    if dry_run:
        waiting = pending(engine, journey.id, [p.id for p in plays])
        runs = [_with_counts(r, [], waiting) for r in runs]
        return ActResult(journey.id, frame.now, True, tuple(runs))
    record(engine, [r.entered for r in runs])
    return _deliver(engine, ws, journey, events, plays, runs, frame.now, output, hook)


def _entered(
    journey: Journey,
    due: Audience,
    keep: list[int],
    last: Latest,
    as_of: datetime,
    at: datetime,
    rev: str,
) -> Entered:
    """The entries of the customers ``keep`` (indices into ``due``), as columns."""
    p, placed = due.play, due.placed
    rows = due.rows[keep]
    cids = [str(c) for c in placed.customer_ids[rows]]
    seqs = [last.seq_after(c) for c in cids]
    n = len(cids)
    steps = np.array(placed.steps, dtype=object)
    return Entered(
        {
            "entry_id": entry_ids(journey.id, p.id, cids, seqs),
            "journey_id": [journey.id] * n,
            "play_id": [p.id] * n,
            "customer_id": cids,
            "seq": seqs,
            "arm": arms(journey.id, p.id, cids, p.holdout),
            "entered_at": [as_of] * n,
            "recorded_at": [at] * n,
            "path": [placed.path] * n,
            "milestone": steps[placed.position[rows]].tolist(),
            "status": [p.who.status] * n,
            "days_waiting": (placed.waiting_seconds[rows] / 86400).tolist(),
            "goal": [due.goals[k] for k in keep],
            "window_seconds": [due.windows[k].total_seconds() for k in keep],
            "cooldown_seconds": [p.cooldown.total_seconds()] * n,
            "journey_revision": [rev] * n,
        }
    )


def _with_counts(run: PlayRun, delivered: Sequence[str], waiting: Sequence[Entry]) -> PlayRun:
    mine = {e.entry_id for e in waiting if e.play_id == run.play.id}
    done = len(mine & set(delivered))
    return PlayRun(run.play, run.due, run.already_in, run.entered, done, len(mine) - done)


def _deliver(
    engine: DuckDBEngine,
    ws: Workspace,
    journey: Journey,
    events: ir.Table,
    plays: tuple[Play, ...],
    runs: list[PlayRun],
    now_us: int,
    output: Path | None,
    hook: WebhookOptions | None,
) -> ActResult:
    waiting = pending(engine, journey.id, [p.id for p in plays])
    if output is not None and not waiting:
        write_file([], output)  # an old file must not be imported again as if new
    if not waiting or (output is None and hook is None):
        runs = [_with_counts(r, [], waiting) for r in runs]
        return ActResult(journey.id, now_us, False, tuple(runs))
    messages = messages_for(journey, events, waiting)
    sent_at = datetime.now(UTC).replace(tzinfo=None)
    delivered: list[str] = []
    targets: list[str] = []
    notes: list[str] = []
    if output is not None:
        write_file(messages, output)
        delivered = [m.entry_id for m in messages]
        mark_delivered(engine, delivered, f"file:{output}", sent_at)
        targets.append(str(output))
    if hook is not None:
        todo = [m for m in messages if m.entry_id not in set(delivered)]
        sent = post_batches(
            journey.id, todo, hook, lambda ids: mark_delivered(engine, ids, hook.url, sent_at)
        )
        delivered += sent.delivered
        targets.append(hook.url)
        if sent.failed:
            left = sorted({m.play for m in todo if m.entry_id not in set(sent.delivered)})
            text = (
                f"play {left[0]!r}{f' and {len(left) - 1} more' if len(left) > 1 else ''}: "
                f"--webhook {hook.url}: {sent.reason}; {sent.failed} treatment entries are "
                "recorded and pending: the next act sends them"
            )
            if not sent.reachable:
                raise DeliveryError(text)
            notes.append(text)
    runs = [_with_counts(r, delivered, waiting) for r in runs]
    done = tuple(m for m in messages if m.entry_id in set(delivered))
    return ActResult(journey.id, now_us, False, tuple(runs), ", ".join(targets), done, tuple(notes))


def messages_for(journey: Journey, events: ir.Table, waiting: Sequence[Entry]) -> list[Message]:
    """Each entry's message rendered from the customer's data, persona and the design."""
    import ibis
    import pyarrow as pa

    from journeykit.analytics.segments import NONE_LABEL, breakdowns, personas_of

    ids = sorted({e.customer_id for e in waiting})
    who = ibis.memtable(pa.table({"customer_id": pa.array(ids, pa.string())}))
    mine = events.filter(events.customer_id.isin(who.customer_id))
    persona = personas_of(mine, journey)
    plays = {p.id: p for p in journey.plays}
    names: dict[str, dict[str, str]] = {}
    for key in {plays[e.play_id].name_property for e in waiting if e.play_id in plays}:
        groups = breakdowns(mine, journey, f"property:{key}")
        names[key] = {c: label for label, cs in groups.items() if label != NONE_LABEL for c in cs}
    out = []
    for e in waiting:
        p = plays.get(e.play_id)
        if p is None:
            continue  # a play since removed from the journey: its entries stay pending
        name = names[p.name_property].get(e.customer_id)
        values = context_of(
            journey, p, e.customer_id, name, persona.get(e.customer_id), e.milestone, e.goal,
            e.days_waiting,
        )  # fmt: skip
        text = render(p, values)
        out.append(
            Message(
                entry_id=e.entry_id,
                play=p.id,
                customer_id=e.customer_id,
                name=values["name"],
                channel=p.channel,
                owner=p.owner,
                message=text,
                milestone=e.milestone,
                goal=e.goal,
                days_waiting=e.days_waiting,
                entered_at=e.entered_at.isoformat(),
            )
        )
    return out
