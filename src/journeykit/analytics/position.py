"""Where each customer is on a path, and who is stuck, strayed, lapsed (DESIGN "Position")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.analytics.columns import from_numpy, group_rows, to_numpy
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.milestones import (
    Events,
    MilestoneFrame,
    _to_us,
    arrow_ids,
    milestone_frame,
    resolve_path,
)
from journeykit.analytics.results import (
    NONE,
    Shared,
    _Tabular,
    exact_floats,
    iso_time,
    iso_times,
    json_times,
    records_json,
    rounded,
)
from journeykit.analytics.status import (
    STATUSES,
    judge,
    status_rows,
    strays_text,
    stuck_thresholds,
)

__all__ = ["STATUSES", "CustomerPosition", "PositionsResult", "Stray", "positions"]
from journeykit.journey.schema import Journey, JourneyPath

if TYPE_CHECKING:
    import ibis.expr.types as ir

T = TypeVar("T")


@dataclass(frozen=True)
class Stray:
    type: str  # skipped | out_of_order | backwards | off_path
    milestones: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "milestones": list(self.milestones)}


@dataclass(frozen=True)
class CustomerPosition:
    customer_id: str
    milestone: str
    reached_at: int  # microseconds since the epoch
    status: str
    strays: tuple[Stray, ...]
    waiting_seconds: float  # now - reached_at
    threshold_seconds: float | None  # how long the next step may take before "stuck"

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "milestone": self.milestone,
            "reached_at": iso_time(self.reached_at),
            "status": self.status,
            "days_waiting": round(self.waiting_seconds / 86400, 2),
            "strays": [s.to_dict() for s in self.strays],
        }


@dataclass(frozen=True)
class _Strays:
    """The stray tests as arrays (one row per placed customer); rows become ``Stray`` on demand."""

    steps: tuple[str, ...]
    others: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    skipped: np.ndarray  # customer x step
    disorder: np.ndarray  # customer x pair of steps
    backwards: np.ndarray  # customer
    latest: np.ndarray  # customer: step of the latest path-milestone event
    position: np.ndarray  # customer: step index of the position
    off: np.ndarray  # customer x milestone of another path

    @cached_property
    def any(self) -> np.ndarray:
        """Per customer: has some stray (most have none, and ``of`` is then free)."""
        found: np.ndarray = np.asarray(self.backwards, dtype=bool).copy()
        for table in (self.skipped, self.disorder, self.off):
            found |= np.asarray(table.any(axis=1), dtype=bool)
        return found

    def sets(self, at: np.ndarray) -> tuple[list[tuple[Stray, ...]], np.ndarray]:
        """The distinct sets of strays among rows ``at`` (the first: none; a few dozen among
        100k rows) and each row's index into them."""
        codes = np.zeros(len(at), dtype=np.int64)
        has = self.any[at]
        rows = at[has]
        if not len(rows):
            return [()], codes
        back = np.asarray(self.backwards[rows], dtype=np.int16)
        table = np.concatenate(
            [
                np.asarray(self.skipped[rows], dtype=np.int16),
                np.asarray(self.disorder[rows], dtype=np.int16),
                np.asarray(self.off[rows], dtype=np.int16),
                (back * (self.latest[rows] + 1))[:, None].astype(np.int16),
                (back * (self.position[rows] + 1))[:, None].astype(np.int16),
            ],
            axis=1,
        )
        group, first = group_rows(table)
        codes[has] = group + 1
        return [(), *(self.of(int(rows[f])) for f in first.tolist())], codes

    def per_set(self, at: np.ndarray, make: Callable[[tuple[Stray, ...]], T], none: T) -> list[T]:
        """``make(self.of(r))`` for each row of ``at`` (``none`` for rows without strays), made
        once per distinct set of strays: rows with the same strays share it."""
        sets, codes = self.sets(at)
        out = [none] * len(at)
        made = [none, *(make(x) for x in sets[1:])]
        strayed = np.flatnonzero(codes)
        for i, c in zip(strayed.tolist(), codes[strayed].tolist(), strict=True):
            out[i] = made[c]
        return out

    def dicts(self, at: np.ndarray) -> list[list[dict[str, Any]]]:
        """``[x.to_dict() for x in self.of(r)]`` for each row of ``at``, each its own."""
        none: list[dict[str, Any]] = []
        lists = self.per_set(at, lambda strays: [x.to_dict() for x in strays], none)
        return [[{**d, "milestones": [*d["milestones"]]} for d in x] for x in lists]

    def of(self, r: int) -> tuple[Stray, ...]:
        if not self.any[r]:
            return ()
        steps = self.steps
        out = [Stray("skipped", (steps[k],)) for k in np.flatnonzero(self.skipped[r]).tolist()]
        out += [
            Stray("out_of_order", (steps[self.pairs[p][0]], steps[self.pairs[p][1]]))
            for p in np.flatnonzero(self.disorder[r]).tolist()
        ]
        if self.backwards[r]:
            out.append(
                Stray("backwards", (steps[int(self.latest[r])], steps[int(self.position[r])]))
            )
        out += [Stray("off_path", (self.others[o],)) for o in np.flatnonzero(self.off[r]).tolist()]
        return tuple(out)


@dataclass(frozen=True)
class PositionsResult(_Tabular):
    """Columns per placed customer; ``customers`` builds the row objects only when asked for
    (at 650k customers, building them all was most of the time of a positions run)."""

    path: str
    now: int
    lapsed_after: timedelta
    steps: tuple[str, ...]
    customer_ids: np.ndarray
    position: np.ndarray  # step index
    reached_at: np.ndarray  # microseconds since the epoch
    status: np.ndarray  # index into STATUSES
    waiting_seconds: np.ndarray
    thresholds: tuple[float | None, ...]  # per step: how long the next step may take
    _strays: _Strays

    def row(self, r: int) -> CustomerPosition:
        k = int(self.position[r])
        return CustomerPosition(
            str(self.customer_ids[r]),
            self.steps[k],
            int(self.reached_at[r]),
            STATUSES[int(self.status[r])],
            self._strays.of(r),
            float(self.waiting_seconds[r]),
            self.thresholds[k],
        )

    @cached_property
    def customers(self) -> tuple[CustomerPosition, ...]:
        return tuple(self.row(r) for r in range(len(self.customer_ids)))

    @property
    def summary(self) -> dict[str, int]:
        counts = np.bincount(self.status, minlength=len(STATUSES))
        return {s: int(n) for s, n in zip(STATUSES, counts, strict=True)}

    def at_step(self) -> dict[str, dict[str, int]]:
        """Customers per position (step id) and status, counted on the columns."""
        n = len(STATUSES)
        cells = np.bincount(self.position * n + self.status, minlength=len(self.steps) * n)
        return {
            step: {s: int(cells[k * n + i]) for i, s in enumerate(STATUSES) if cells[k * n + i]}
            for k, step in enumerate(self.steps)
        }

    def stray_counts(self) -> dict[str, dict[tuple[str, ...], int]]:
        """Strays by type and milestones, as ``customers``' strays would count them, counted on
        the columns (building every row object is most of the time at a million customers)."""
        st = self._strays
        out: dict[str, dict[tuple[str, ...], int]] = {}
        skipped = st.skipped.sum(axis=0)
        out["skipped"] = {(st.steps[k],): int(n) for k, n in enumerate(skipped) if n}
        disorder = st.disorder.sum(axis=0)
        out["out_of_order"] = {
            (st.steps[a], st.steps[b]): int(disorder[p])
            for p, (a, b) in enumerate(st.pairs)
            if disorder[p]
        }
        back = np.flatnonzero(st.backwards)
        pairs, counts = np.unique(
            np.stack([st.latest[back], st.position[back]]).astype(np.int64), axis=1,
            return_counts=True,
        )  # fmt: skip
        out["backwards"] = {
            (st.steps[int(a)], st.steps[int(b)]): int(n)
            for (a, b), n in zip(pairs.T.tolist(), counts.tolist(), strict=True)
        }
        off = st.off.sum(axis=0)
        out["off_path"] = {(st.others[o],): int(n) for o, n in enumerate(off) if n}
        return out

    def has_stray(self, kind: str | None = None) -> np.ndarray:
        """Per placed customer: has a stray of ``kind`` (any kind when None), on the columns."""
        st = self._strays
        masks: dict[str, np.ndarray] = {
            "skipped": np.asarray(st.skipped.any(axis=1)),
            "out_of_order": np.asarray(st.disorder.any(axis=1)),
            "backwards": np.asarray(st.backwards, dtype=bool),
            "off_path": np.asarray(st.off.any(axis=1)),
        }
        if kind is not None:
            return masks[kind]
        out = np.zeros(len(self.customer_ids), dtype=bool)
        for mask in masks.values():
            out |= mask
        return out

    @property
    def n_stuck(self) -> int:
        return int((self.status == STATUSES.index("stuck")).sum())

    def stuck(self, top: int | None = None) -> list[CustomerPosition]:
        """The stuck customers, longest stuck first: the list someone acts on."""
        return self.listed("stuck", top)

    def listed(self, status: str, top: int | None = None) -> list[CustomerPosition]:
        """The customers with ``status`` in the order of ``analytics.status.status_rows``."""
        return [self.row(r) for r in status_rows(self, status, top)]

    def _rows_at(self, rows: np.ndarray | None) -> np.ndarray:
        return np.arange(len(self.customer_ids)) if rows is None else np.asarray(rows, np.int64)

    def customer_dicts(self, rows: np.ndarray | None = None) -> list[dict[str, Any]]:
        """``[self.row(r).to_dict() for r in rows]`` (all rows when None), column by column: at
        100k customers and more, the row objects were most of the time of `positions --format`."""
        return _dicts(*self.columns(self._rows_at(rows)))

    def columns(self, at: np.ndarray, *, strays_as_text: bool = False) -> tuple[list[Any], ...]:
        """The values of ``customer_dicts``' keys for rows ``at``, column by column.
        ``strays_as_text``: as ``rows`` writes them (``strays_text``)."""
        if strays_as_text:
            strays: list[Any] = self._strays.per_set(at, strays_text, "")
        else:
            strays = self._strays.dicts(at)
        return (
            self._ids(at),
            np.asarray(self.steps, dtype=object)[self.position[at]].tolist(),
            iso_times(self.reached_at[at]),
            np.asarray(STATUSES, dtype=object)[self.status[at]].tolist(),
            self._days(at),
            strays,
        )

    def json_fields(self, at: np.ndarray) -> dict[str, list[Any] | Shared]:
        """``customer_dicts``' keys for rows ``at`` as ``results.records_json`` takes them:
        times as datetimes, days through ``exact_floats``."""
        sets, strays = self._strays.sets(at)
        return {
            "customer_id": self._ids(at),
            "milestone": Shared(self.steps, self.position[at]),
            "reached_at": json_times(self.reached_at[at]),
            "status": Shared(STATUSES, self.status[at]),
            "days_waiting": exact_floats(np.asarray(self._days(at))),
            "strays": Shared([[x.to_dict() for x in s] for s in sets], strays),
        }

    def _ids(self, at: np.ndarray) -> list[str]:
        return list(map(str, self.customer_ids[at].tolist()))

    def _days(self, at: np.ndarray) -> list[float]:
        return rounded(self.waiting_seconds[at] / 86400, 2)

    def strays_of(self, r: int) -> tuple[Stray, ...]:
        return self._strays.of(r)

    def rows(self) -> list[dict[str, Any]]:
        return _dicts(*self.columns(self._rows_at(None), strays_as_text=True))

    def _head(self) -> dict[str, Any]:
        return {"path": self.path, "now": iso_time(self.now), "summary": self.summary}

    def to_dict(self) -> dict[str, Any]:
        return {**self._head(), "customers": self.customer_dicts()}

    def json_text(self) -> str:
        """``to_dict()``'s JSON (``results.json_bytes``)."""
        fields = self.json_fields(self._rows_at(None))
        return records_json(self._head(), "customers", fields)


def _dicts(*columns: list[Any]) -> list[dict[str, Any]]:
    """``CustomerPosition.to_dict``'s objects from its columns (a dict display: about half the
    time of ``dict(zip(keys, row))``)."""
    return [
        {"customer_id": c, "milestone": m, "reached_at": t, "status": s, "days_waiting": d,
         "strays": x}
        for c, m, t, s, d, x in zip(*columns, strict=True)
    ]  # fmt: skip


def last_seen(events: ir.Table, now: datetime | None) -> pa.Table:
    """Each customer's latest event of any kind (at or before ``now``): customer_id, last (us)."""
    t = events if now is None else events.filter(events.timestamp <= now)
    table = to_arrow(t.group_by("customer_id").agg(last=t.timestamp.max()))
    stamps = table.column("last").cast(pa.timestamp("us")).cast(pa.int64())
    return pa.table({"customer_id": table.column("customer_id"), "last": stamps})


def positions(
    events: Events,
    journey: Journey,
    *,
    path: str | None = None,
    now: datetime | None = None,
    lapsed_after: timedelta | None = None,
) -> PositionsResult:
    """Every customer's furthest milestone on ``path``, its status and their strays.

    ``lapsed_after`` defaults to the journey's lapse horizon (``Journey.lapse_horizon``).

    ``lapsed`` needs each customer's last event of any kind: read from the events (a fetched
    log's ``events``); a log with no events attached judges by milestone events alone.
    """
    chosen = resolve_path(journey, path)
    if lapsed_after is None:
        lapsed_after = journey.lapse_horizon
    frame = milestone_frame(events, journey, now=now)
    now_us = frame.now if now is None else _to_us(now)
    first = first_reach(frame, len(journey.milestones))
    seen = _last_seen_if_needed(frame, now, now_us, lapsed_after)
    return _place(journey, chosen, frame, first, seen, now_us, lapsed_after)


def _last_seen_if_needed(
    frame: MilestoneFrame, now: datetime | None, now_us: int, lapsed: timedelta
) -> pa.Table | np.ndarray:
    """Last events of the customers who might be lapsed; nobody else's is needed.

    A customer's last milestone event is a lower bound of their last event, so only customers
    whose last milestone event is older than the horizon can be lapsed. Usually few: this spares
    a group-by over every event (2 s at 10M events). Only events inside the horizon can clear
    them (``judge`` compares the idle time with the horizon, nothing else), so older events are
    not read: a customer with none keeps their last milestone event, itself past the horizon.
    On the simulated 11.9M-event log (634k candidates) this read 3.4M events instead of 11.9M.
    """
    last_milestone = frame.ts[frame.offsets[1:] - 1]
    events = frame.events
    if frame.last_seen is not None and now is None:
        return frame.last_seen  # every customer's, in the frame's order
    if events is None:
        ids = pa.array(frame.customer_ids.tolist(), pa.string())
        return pa.table({"customer_id": ids, "last": pa.array(last_milestone, pa.int64())})
    if not frame.customers:
        return last_seen(events.limit(0), now)
    candidates = np.flatnonzero(now_us - last_milestone >= lapsed / timedelta(microseconds=1))
    maybe = arrow_ids(frame).take(from_numpy(candidates))
    if not len(maybe):
        return last_seen(events.limit(0), now)
    import ibis

    who = ibis.memtable(pa.table({"customer_id": maybe}))
    cutoff = _after(now_us, lapsed)
    recent = events if cutoff is None else events.filter(events.timestamp > cutoff)
    return last_seen(recent.filter(recent.customer_id.isin(who.customer_id)), now)


def _after(now_us: int, lapsed: timedelta) -> datetime | None:
    """The start of the horizon (naive UTC): an event after it keeps a customer from lapsing;
    None when the horizon reaches back past year 1."""
    try:
        return datetime(1970, 1, 1) + timedelta(microseconds=now_us) - lapsed
    except OverflowError:
        return None


def first_reach(frame: MilestoneFrame, n_milestones: int) -> np.ndarray:
    """Customers x milestones: when each customer first reached each milestone (us, or NONE)."""
    memo = frame.memo.get(("first_reach", n_milestones))
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    # One pass, not np.unique of the pairs (a sort: 1-2 s at 5M rows, once per path).
    late = np.iinfo(np.int64).max
    first = np.full((frame.customers, n_milestones), late, dtype=np.int64)
    np.minimum.at(first, (frame.cust, frame.milestone.astype(np.int64)), frame.ts)
    first[first == late] = NONE
    first.flags.writeable = False  # shared by every path's positions on this log
    frame.memo[("first_reach", n_milestones)] = first
    return first


def last_reach(frame: MilestoneFrame, n_milestones: int) -> np.ndarray:
    """Customers x milestones: when each customer last reached each milestone (us, or NONE)."""
    memo = frame.memo.get(("last_reach", n_milestones))
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    last = np.full((frame.customers, n_milestones), NONE, dtype=np.int64)
    np.maximum.at(last, (frame.cust, frame.milestone.astype(np.int64)), frame.ts)
    last.flags.writeable = False  # shared by every path's positions on this log
    frame.memo[("last_reach", n_milestones)] = last
    return last


def _latest_step(last: np.ndarray) -> np.ndarray:
    """Per customer, from their last reach of each path step (``last_reach``'s columns in path
    order): the step of their latest path-milestone event (ties: furthest), -1 for none.

    The last reaches are made once per log for every path: a pass over the log's rows per path
    cost 0.35 s at 5M rows, a lexsort 0.9 s.
    """
    latest_ts = last.max(axis=1)
    step = last.shape[1] - 1 - np.argmax((last == latest_ts[:, None])[:, ::-1], axis=1)
    return np.where(latest_ts == NONE, -1, step).astype(np.int64)


def _place(
    journey: Journey,
    chosen: JourneyPath,
    frame: MilestoneFrame,
    first: np.ndarray,
    seen: pa.Table | np.ndarray,
    now: int,
    lapsed_after: timedelta,
) -> PositionsResult:
    """Positions, strays and statuses as whole-array operations; Python only builds the rows.

    A loop testing each customer's strays in Python took 13 s of CPU at 650k customers.
    """
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    steps = chosen.milestone_ids
    n_steps = len(steps)
    cols = np.array([index[m] for m in steps], dtype=np.int64)
    on_path = first[:, cols]
    rows = np.flatnonzero((on_path != NONE).any(axis=1))
    f = on_path[rows]
    reached = f != NONE
    pos = n_steps - 1 - np.argmax(reached[:, ::-1], axis=1)
    at = f[np.arange(len(rows)), pos]
    thresholds = stuck_thresholds(journey, chosen, on_path)
    latest = _latest_step(last_reach(frame, len(journey.milestones))[np.ix_(rows, cols)])
    others = sorted({m for p in journey.paths for m in p.milestone_ids} - set(steps))
    required = ~np.array([s.optional for s in chosen.steps], dtype=bool)
    skipped = (np.arange(n_steps)[None, :] < pos[:, None]) & ~reached & required[None, :]
    pairs = [(i, j) for i in range(n_steps) for j in range(i + 1, n_steps)]
    disorder = np.zeros((len(rows), len(pairs)), dtype=bool)
    for p, (i, j) in enumerate(pairs):
        disorder[:, p] = reached[:, i] & reached[:, j] & (f[:, i] > f[:, j])
    backwards = (latest >= 0) & (latest < pos)
    off = first[np.ix_(rows, np.array([index[m] for m in others], dtype=np.int64))] != NONE
    strayed = skipped.any(axis=1) | disorder.any(axis=1) | backwards | off.any(axis=1)

    ids = frame.customer_ids[rows]
    # Not looked up: a recent milestone event already rules "lapsed" out.
    if isinstance(seen, np.ndarray):
        last = seen[rows]
    else:
        placed = arrow_ids(frame).take(from_numpy(rows))
        last = _lookup_last(seen, placed, frame.ts[frame.offsets[rows + 1] - 1])
    limits = [*thresholds, None]
    waiting = now - at
    status = judge(pos == n_steps - 1, now - last, waiting, limits, pos, strayed, lapsed_after)
    strays = _Strays(
        tuple(steps), tuple(others), tuple(pairs), skipped, disorder, backwards, latest, pos, off
    )
    return PositionsResult(
        path=chosen.id,
        now=now,
        lapsed_after=lapsed_after,
        steps=tuple(steps),
        customer_ids=ids,
        position=pos,
        reached_at=at,
        status=status,
        waiting_seconds=waiting / 1e6,
        thresholds=tuple(limits),
        _strays=strays,
    )


def _lookup_last(seen: pa.Table, ids: pa.Array, fallback: np.ndarray) -> np.ndarray:
    """Each placed customer's last event time, by a hash lookup in Arrow (not a Python dict)."""
    if not len(ids):
        return np.zeros(0, np.int64)
    where = pc.index_in(ids, value_set=seen.column("customer_id"))
    found = to_numpy(pc.take(seen.column("last"), where), fill=0)
    return np.where(to_numpy(pc.is_null(where)), fallback, found).astype(np.int64)
