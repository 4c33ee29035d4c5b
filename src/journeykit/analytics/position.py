"""Where each customer is on a path, and who is stuck, strayed, lapsed (DESIGN "Position")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.analytics._kernels import NONE
from journeykit.analytics.milestones import MilestoneFrame, _to_us, fetch_milestones, resolve_path
from journeykit.analytics.results import _iso, _Tabular
from journeykit.journey.schema import Journey, JourneyPath

if TYPE_CHECKING:
    import ibis.expr.types as ir

STATUSES = ("completed", "lapsed", "stuck", "strayed", "on_track")


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
            "reached_at": _iso(self.reached_at),
            "status": self.status,
            "days_waiting": round(self.waiting_seconds / 86400, 2),
            "strays": [s.to_dict() for s in self.strays],
        }


@dataclass(frozen=True)
class PositionsResult(_Tabular):
    path: str
    now: int
    lapsed_after: timedelta
    customers: tuple[CustomerPosition, ...]

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(c.status for c in self.customers)
        return {s: counts.get(s, 0) for s in STATUSES}

    def stuck(self) -> list[CustomerPosition]:
        """The stuck customers, longest stuck first: the list someone acts on."""
        rows = [c for c in self.customers if c.status == "stuck"]
        return sorted(rows, key=lambda c: (-c.waiting_seconds, c.customer_id))

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                **c.to_dict(),
                "strays": "; ".join(f"{s.type}:{'>'.join(s.milestones)}" for s in c.strays),
            }
            for c in self.customers
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "now": _iso(self.now),
            "summary": self.summary,
            "customers": [c.to_dict() for c in self.customers],
        }


def last_seen(events: ir.Table, now: datetime | None) -> dict[str, int]:
    """Each customer's latest event of any kind (at or before ``now``), in microseconds."""
    t = events if now is None else events.filter(events.timestamp <= now)
    table = t.group_by("customer_id").agg(last=t.timestamp.max()).to_pyarrow()
    stamps = table.column("last").cast("timestamp[us]").cast("int64").to_numpy()
    return dict(zip(table.column("customer_id").to_pylist(), stamps.tolist(), strict=True))


def positions(
    events: ir.Table,
    journey: Journey,
    *,
    path: str | None = None,
    now: datetime | None = None,
    lapsed_after: timedelta = timedelta(days=90),
    frame: MilestoneFrame | None = None,
) -> PositionsResult:
    """Every customer's furthest milestone on ``path``, its status and their strays."""
    chosen = resolve_path(journey, path)
    if frame is None:
        frame = fetch_milestones(events, journey, now=now)
    seen = last_seen(events, now)
    now_us = frame.now if now is None else _to_us(now)
    first = _first_reach(frame, len(journey.milestones))
    return PositionsResult(
        path=chosen.id,
        now=now_us,
        lapsed_after=lapsed_after,
        customers=_place(journey, chosen, frame, first, seen, now_us, lapsed_after),
    )


def _first_reach(frame: MilestoneFrame, n_milestones: int) -> np.ndarray:
    first = np.full((frame.customers, n_milestones), NONE, dtype=np.int64)
    pair = frame.cust * n_milestones + frame.milestone
    _, idx = np.unique(pair, return_index=True)  # rows are time-sorted: first index = first reach
    first[frame.cust[idx], frame.milestone[idx]] = frame.ts[idx]
    return first


def _latest_step(frame: MilestoneFrame, code: np.ndarray) -> np.ndarray:
    """Per customer, the path step of their latest path-milestone event (ties: furthest)."""
    step = code[frame.milestone]
    on = step >= 0
    latest = np.full(frame.customers, -1, dtype=np.int64)
    cust, ts, st = frame.cust[on], frame.ts[on], step[on]
    order = np.lexsort((st, ts, cust))
    last = np.r_[cust[order][1:] != cust[order][:-1], True] if len(order) else np.zeros(0, bool)
    latest[cust[order][last]] = st[order][last]
    return latest


def _thresholds(journey: Journey, chosen: JourneyPath, f: np.ndarray) -> list[float | None]:
    out: list[float | None] = []
    steps = chosen.milestone_ids
    for k in range(len(steps) - 1):
        designed = journey.milestone(steps[k + 1]).expected_within
        if designed is not None:
            out.append(designed.total_seconds())
            continue
        both = (f[:, k] != NONE) & (f[:, k + 1] != NONE)
        gaps = (f[both, k + 1] - f[both, k]) / 1e6
        gaps = gaps[gaps >= 0]
        out.append(float(np.percentile(gaps, 90)) if len(gaps) else None)
    return out


def _place(
    journey: Journey,
    chosen: JourneyPath,
    frame: MilestoneFrame,
    first: np.ndarray,
    seen: dict[str, int],
    now: int,
    lapsed_after: timedelta,
) -> tuple[CustomerPosition, ...]:
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    steps = chosen.milestone_ids
    code = np.full(len(journey.milestones), -1, dtype=np.int64)
    for k, mid in enumerate(steps):
        code[index[mid]] = k
    f = first[:, [index[m] for m in steps]]
    reached = f != NONE
    has = reached.any(axis=1)
    pos = len(steps) - 1 - np.argmax(reached[:, ::-1], axis=1)
    thresholds = _thresholds(journey, chosen, f)
    latest = _latest_step(frame, code)
    others = sorted({m for p in journey.paths for m in p.milestone_ids} - set(steps))
    optional = [s.optional for s in chosen.steps]
    out = []
    for c in np.flatnonzero(has):
        k = int(pos[c])
        strays = _strays(
            steps,
            optional,
            f[c],
            k,
            int(latest[c]),
            [m for m in others if first[c, index[m]] != NONE],
        )
        cid = str(frame.customer_ids[c])
        at = int(f[c, k])
        limit = thresholds[k] if k < len(steps) - 1 else None
        status = _status(
            k == len(steps) - 1,
            now - seen.get(cid, at),
            now - at,
            limit,
            bool(strays),
            lapsed_after,
        )
        out.append(CustomerPosition(cid, steps[k], at, status, strays, (now - at) / 1e6, limit))
    return tuple(out)


def _status(
    completed: bool,
    quiet_us: int,
    waiting_us: int,
    limit: float | None,
    strayed: bool,
    lapsed_after: timedelta,
) -> str:
    if completed:
        return "completed"
    if quiet_us >= lapsed_after / timedelta(microseconds=1):
        return "lapsed"
    if limit is not None and waiting_us / 1e6 > limit:
        return "stuck"
    return "strayed" if strayed else "on_track"


def _strays(
    steps: tuple[str, ...],
    optional: list[bool],
    f: np.ndarray,
    pos: int,
    latest: int,
    off_path: list[str],
) -> tuple[Stray, ...]:
    out = [Stray("skipped", (steps[k],)) for k in range(pos) if f[k] == NONE and not optional[k]]
    for i in range(len(steps)):
        for j in range(i + 1, len(steps)):
            if f[i] != NONE and f[j] != NONE and f[i] > f[j]:
                out.append(Stray("out_of_order", (steps[i], steps[j])))
    if 0 <= latest < pos:
        out.append(Stray("backwards", (steps[latest], steps[pos])))
    out += [Stray("off_path", (m,)) for m in off_path]
    return tuple(out)
