"""The entries ledger: an append-only table of who entered which play, when, in which arm.

``play_entries`` gets one row per entry and is never updated or deleted from; deliveries are a
second append-only table, ``play_deliveries``, one row per delivered entry. Each ``act`` writes
its entries in one transaction, so a failure or a killed process leaves the ledger as before
(DuckDB's write-ahead log replays committed transactions only).

An entry's id is a hash of (journey, play, customer, seq), where ``seq`` counts the customer's
earlier entries into the play. Two ``act`` running at once compute the same ids for the same
customers, so the primary key lets one commit and makes the other fail as a whole: the loser
changes nothing and says so (:class:`ConcurrentActError`). The id is also the delivery's
idempotency key, so a receiver can drop a repeat.

A customer is *already in* a play (DESIGN "Play audience") while their latest entry is within
its cool-down, or within its window without the goal reached since entering.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from journeykit.act.errors import ConcurrentActError
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.engine.workspace import ensure_tables

if TYPE_CHECKING:
    from journeykit.analytics.milestones import MilestoneFrame
    from journeykit.journey.schema import Journey
    from journeykit.workspace import Workspace

_ENTRIES = (
    "CREATE TABLE IF NOT EXISTS play_entries (entry_id VARCHAR PRIMARY KEY, "
    "journey_id VARCHAR NOT NULL, play_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, "
    "seq INTEGER NOT NULL, arm VARCHAR NOT NULL, entered_at TIMESTAMP NOT NULL, "
    "recorded_at TIMESTAMP NOT NULL, path VARCHAR NOT NULL, milestone VARCHAR NOT NULL, "
    "status VARCHAR NOT NULL, days_waiting DOUBLE NOT NULL, goal VARCHAR NOT NULL, "
    "window_seconds DOUBLE NOT NULL, cooldown_seconds DOUBLE NOT NULL, "
    "journey_revision VARCHAR NOT NULL, UNIQUE (journey_id, play_id, customer_id, seq))"
)
_DELIVERIES = (
    "CREATE TABLE IF NOT EXISTS play_deliveries (entry_id VARCHAR PRIMARY KEY, "
    "target VARCHAR NOT NULL, delivered_at TIMESTAMP NOT NULL)"
)
COLUMNS = (
    "entry_id", "journey_id", "play_id", "customer_id", "seq", "arm", "entered_at",
    "recorded_at", "path", "milestone", "status", "days_waiting", "goal", "window_seconds",
    "cooldown_seconds", "journey_revision",
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One customer entering one play at one time (DESIGN "entry"); recorded once."""

    entry_id: str
    journey_id: str
    play_id: str
    customer_id: str
    seq: int
    arm: str
    entered_at: datetime
    recorded_at: datetime
    path: str
    milestone: str
    status: str
    days_waiting: float
    goal: str
    window_seconds: float
    cooldown_seconds: float
    journey_revision: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "play": self.play_id,
            "customer_id": self.customer_id,
            "arm": self.arm,
            "entered_at": self.entered_at.isoformat(),
            "milestone": self.milestone,
            "status": self.status,
            "days_waiting": round(self.days_waiting, 2),
            "goal": self.goal,
            "window_days": round(self.window_seconds / 86400, 2),
        }


def entry_id(journey_id: str, play_id: str, customer_id: str, seq: int) -> str:
    """The entry's id and idempotency key: the same customer, play and seq give the same id."""
    return entry_ids(journey_id, play_id, [customer_id], [seq])[0]


def entry_ids(
    journey_id: str, play_id: str, customer_ids: Sequence[str], seqs: Sequence[int]
) -> list[str]:
    base = hashlib.sha256(f"{journey_id}\x1f{play_id}\x1f".encode())
    out = []
    for c, n in zip(customer_ids, seqs, strict=True):
        h = base.copy()
        h.update(f"{c}\x1f{n}".encode())
        out.append(h.hexdigest()[:32])
    return out


@dataclass(frozen=True)
class Entered:
    """The entries one play makes in one run, as columns; ``Entry`` rows are built on demand
    (building a million of them took most of a run at 10M events)."""

    columns: dict[str, Any]  # COLUMNS -> list or array of equal length

    def __len__(self) -> int:
        return len(self.columns["entry_id"])

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        cols = [self.columns[c] for c in COLUMNS]
        return tuple(Entry(*(_plain(v) for v in row)) for row in zip(*cols, strict=True))

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __getitem__(self, k: slice) -> tuple[Entry, ...]:
        return tuple(self._row(i) for i in range(len(self))[k])

    def _row(self, i: int) -> Entry:
        return Entry(*(_plain(self.columns[c][i]) for c in COLUMNS))

    def count(self, arm: str) -> int:
        return int(np.count_nonzero(np.asarray(self.columns["arm"]) == arm)) if len(self) else 0

    def to_arrow(self) -> pa.Table:
        return pa.table({c: self.columns[c] for c in COLUMNS})


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def revision(journey: Journey) -> str:
    """The journey as designed when the entry was made: a hash of what it says."""
    return hashlib.sha256(journey.model_dump_json(by_alias=True).encode()).hexdigest()[:12]


def open_ledger(ws: Workspace, *, read_only: bool = False, wait: float = 30.0) -> DuckDBEngine:
    """The workspace database with the ledger's tables (created when writing)."""
    if not ws.database.exists():
        ensure_tables(ws)
    engine = DuckDBEngine(ws.database, read_only=read_only, wait=wait)
    if not read_only:
        _create_tables(engine)
    return engine


def _create_tables(engine: DuckDBEngine) -> None:
    # Two first runs at once may both create the tables; the loser retries and finds them.
    for attempt in range(5):
        try:
            engine.execute(_ENTRIES)
            engine.execute(_DELIVERIES)
            return
        except Exception as exc:
            if not DuckDBEngine.is_write_conflict(exc) or attempt == 4:
                raise
            time.sleep(0.1)


def _has_ledger(engine: DuckDBEngine) -> bool:
    names = {r[0] for r in engine.fetchall("SELECT table_name FROM duckdb_tables()")}
    return "play_entries" in names


def entries(
    engine: DuckDBEngine, journey_id: str, play_ids: Sequence[str] | None = None
) -> list[Entry]:
    """The journey's entries (of some plays), oldest first."""
    if not _has_ledger(engine):
        return []
    sql = f"SELECT {', '.join(COLUMNS)} FROM play_entries WHERE journey_id = $journey"
    params: dict[str, Any] = {"journey": journey_id}
    if play_ids is not None:
        sql += " AND list_contains($plays, play_id)"
        params["plays"] = list(play_ids)
    rows = engine.fetchall(sql + " ORDER BY entered_at, play_id, customer_id, seq", params)
    return [Entry(*row) for row in rows]


def entry_table(
    engine: DuckDBEngine,
    journey_id: str,
    play_ids: Sequence[str] | None = None,
    columns: Sequence[str] = COLUMNS,
    order_by: Sequence[str] = ("play_id", "customer_id", "seq"),
) -> pa.Table:
    """The journey's entries as columns (a million ``Entry`` objects would cost seconds); only
    ``columns`` (all by default) are read, in ``order_by`` order (sorting a million entries by
    their text ids costs more than reading them)."""
    unknown = sorted(set(columns) - set(COLUMNS)) + sorted(set(order_by) - set(COLUMNS))
    if unknown:
        raise ValueError(f"not ledger columns: {', '.join(unknown)}")
    if not _has_ledger(engine):
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    sql = f"SELECT {', '.join(columns)} FROM play_entries WHERE journey_id = $journey"
    params: dict[str, Any] = {"journey": journey_id}
    if play_ids is not None:
        sql += " AND list_contains($plays, play_id)"
        params["plays"] = list(play_ids)
    return engine.arrow(sql + f" ORDER BY {', '.join(order_by)}", params)


def pending(engine: DuckDBEngine, journey_id: str, play_ids: Sequence[str]) -> list[Entry]:
    """Treatment entries not yet delivered: never lost, retried by the next run."""
    if not _has_ledger(engine):
        return []
    rows = engine.fetchall(
        f"SELECT {', '.join(COLUMNS)} FROM play_entries e WHERE journey_id = $journey "
        "AND list_contains($plays, play_id) AND arm = 'treatment' AND NOT EXISTS "
        "(SELECT 1 FROM play_deliveries d WHERE d.entry_id = e.entry_id) "
        "ORDER BY entered_at, play_id, customer_id, seq",
        {"journey": journey_id, "plays": list(play_ids)},
    )
    return [Entry(*row) for row in rows]


@dataclass(frozen=True)
class Latest:
    """Per customer, their latest entry into one play."""

    by_customer: dict[str, Entry]

    def seq_after(self, customer_id: str) -> int:
        e = self.by_customer.get(customer_id)
        return 0 if e is None else e.seq + 1


def latest(engine: DuckDBEngine, journey_id: str, play_id: str) -> Latest:
    """Each customer's latest entry into the play (chosen by the database, not in Python)."""
    if not _has_ledger(engine):
        return Latest({})
    rows = engine.fetchall(
        f"SELECT {', '.join(COLUMNS)} FROM play_entries WHERE journey_id = $journey "
        "AND play_id = $play QUALIFY row_number() OVER (PARTITION BY customer_id "
        "ORDER BY seq DESC) = 1",
        {"journey": journey_id, "play": play_id},
    )
    return Latest({row[3]: Entry(*row) for row in rows})


def already_in(
    latest_entries: Latest, frame: MilestoneFrame, journey: Journey, now: datetime
) -> set[str]:
    """Customers still in the play at ``now``: within the cool-down of their latest entry, or
    within its window and not at the goal since entering (a goal event at or after entry)."""
    out: set[str] = set()
    reached = _goal_times(frame, journey, {e.goal for e in latest_entries.by_customer.values()})
    for cid, e in latest_entries.by_customer.items():
        since = now - e.entered_at
        if since < timedelta(seconds=e.cooldown_seconds):
            out.add(cid)
            continue
        goal_at = reached.get(e.goal, {}).get(cid)
        done = goal_at is not None and goal_at >= _us(e.entered_at)
        if not done and since < timedelta(seconds=e.window_seconds):
            out.add(cid)
    return out


def _goal_times(
    frame: MilestoneFrame, journey: Journey, goals: set[str]
) -> dict[str, dict[str, int]]:
    """Per goal milestone, each customer's latest time at it (microseconds), as of the frame."""
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    out: dict[str, dict[str, int]] = {}
    for goal in goals:
        rows = np.flatnonzero(frame.milestone == index[goal])
        cust, ts = frame.cust[rows], frame.ts[rows]
        last = np.full(frame.customers, -1, dtype=np.int64)
        np.maximum.at(last, cust, ts)
        hit = np.flatnonzero(last >= 0)
        ids = frame.customer_ids[hit]
        out[goal] = {str(c): int(t) for c, t in zip(ids, last[hit], strict=True)}
    return out


def _us(moment: datetime) -> int:
    return int(np.datetime64(moment, "us").astype(np.int64))


@contextmanager
def _one_transaction(
    engine: DuckDBEngine, what: str, outcome: str = "nothing was changed"
) -> Iterator[None]:
    try:
        with engine.transaction(outcome):
            yield
    except Exception as exc:
        if DuckDBEngine.is_write_conflict(exc):
            raise ConcurrentActError(
                f"{what}: another act entered the same customers at the same time; this run "
                "changed nothing (run act again: those customers are in the play now)"
            ) from None
        raise


def record(engine: DuckDBEngine, new: Sequence[Entered]) -> None:
    """Append ``new`` in one transaction: all of them or, on any failure, none."""
    if not sum(len(n) for n in new):
        return
    table = pa.concat_tables([n.to_arrow() for n in new if len(n)])
    engine.raw.register("jk_new_entries", table)
    try:
        with _one_transaction(engine, "recording entries"):
            engine.execute(
                f"INSERT INTO play_entries ({', '.join(COLUMNS)}) "
                f"SELECT {', '.join(COLUMNS)} FROM jk_new_entries"
            )
    finally:
        engine.raw.unregister("jk_new_entries")


def mark_delivered(engine: DuckDBEngine, ids: Sequence[str], target: str, at: datetime) -> None:
    """Record deliveries (append-only); an entry delivered already keeps its first row."""
    if not ids:
        return
    table = pa.table({"entry_id": list(ids)})
    engine.raw.register("jk_delivered", table)
    try:
        # Delivered already: a failure here leaves the entries pending, sent again next run.
        unrecorded = "the deliveries were not recorded, so the next act sends them again"
        with _one_transaction(engine, "recording deliveries", unrecorded):
            engine.execute(
                "INSERT INTO play_deliveries SELECT d.entry_id, $target, $at FROM jk_delivered d "
                "WHERE d.entry_id NOT IN (SELECT entry_id FROM play_deliveries)",
                {"target": target, "at": at},
            )
    finally:
        engine.raw.unregister("jk_delivered")


@dataclass(frozen=True)
class PlayLedger:
    """What the ledger holds for one play: entries per day and arm, deliveries, pending."""

    play_id: str
    treatment: int
    holdout: int
    delivered: int
    pending: int
    per_day: tuple[tuple[str, int, int], ...]  # (day, treatment, holdout), latest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "play": self.play_id,
            "treatment": self.treatment,
            "holdout": self.holdout,
            "delivered": self.delivered,
            "pending": self.pending,
            "per_day": [{"day": d, "treatment": t, "holdout": h} for d, t, h in self.per_day],
        }


def ledger_stats(
    engine: DuckDBEngine, journey_id: str, play_ids: Sequence[str], days: int = 14
) -> dict[str, PlayLedger]:
    """Per play, counted by the database (not by building every entry)."""
    empty = {p: PlayLedger(p, 0, 0, 0, 0, ()) for p in play_ids}
    if not _has_ledger(engine):
        return empty
    totals = engine.fetchall(
        "SELECT e.play_id, count(*) FILTER (WHERE e.arm = 'treatment'), "
        "count(*) FILTER (WHERE e.arm = 'holdout'), count(d.entry_id), "
        "count(*) FILTER (WHERE e.arm = 'treatment' AND d.entry_id IS NULL) "
        "FROM play_entries e LEFT JOIN play_deliveries d USING (entry_id) "
        "WHERE e.journey_id = $journey GROUP BY 1",
        {"journey": journey_id},
    )
    daily = engine.fetchall(
        "SELECT play_id, strftime(entered_at, '%Y-%m-%d') AS day, "
        "count(*) FILTER (WHERE arm = 'treatment'), count(*) FILTER (WHERE arm = 'holdout') "
        "FROM play_entries WHERE journey_id = $journey GROUP BY 1, 2 ORDER BY 1, 2 DESC",
        {"journey": journey_id},
    )
    out = dict(empty)
    for play, treated, held, delivered, waiting in totals:
        if play not in out:
            continue
        days_of = tuple((d, t, h) for p, d, t, h in daily if p == play)[:days]
        out[play] = PlayLedger(play, treated, held, delivered, waiting, days_of)
    return out
