"""Brute-force reference for the peer semantics of the funnel (``semantics="posthog"`` and
``"clickhouse"``), beside ``tests/oracle.py`` (journeykit's own definitions).

Written from the peers' own code, step by step and with plain Python objects, so the compiled
kernels can be checked against it: ClickHouse's ``AggregateFunctionWindowFunnel.cpp``
(``getEventLevelNonStrictOnce``) and PostHog's ``funnel-udf/src/steps.rs`` (ordered, strict)
and ``unordered_steps.rs``. docs/metrics.md "Funnel semantics" says the same in words.

Events are the Events given (each one event, duplicates included), at or before ``now``.
Same-time events are taken in the order of (steps served, exclusions), a mask ordering that
PostHog leaves open and journeykit fixes; ClickHouse takes same-time rows by condition number.

``peer_funnel`` returns ``{"furthest": {customer: 1-based step}, "counts": [n, ...]}``: for
PostHog's ordered funnels ``counts`` are the customers who passed each step (an optional step
only for those who did it), otherwise those whose furthest step is at least that far.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from journeykit.journey.schema import Journey
from tests.builders import Event
from tests.oracle import as_of, matches

# (milestone, from step, to step), 1-based; None: the whole path.
Exclusion = tuple[str, int | None, int | None]


@dataclass(frozen=True)
class _PeerEvent:
    time: datetime
    uid: int
    steps: tuple[int, ...]  # PostHog's list: step numbers s+1 ascending, then -s for exclusions

    @property
    def order(self) -> tuple[int, int]:
        pos = sum(1 << (s - 1) for s in self.steps if s > 0)
        neg = sum(1 << -s for s in set(self.steps) if s < 0)
        return pos, neg


def _events(
    events: Sequence[Event],
    journey: Journey,
    milestones: Sequence[str],
    exclude: Sequence[Exclusion],
    now: datetime | None,
    keep_all: bool,
) -> dict[str, list[_PeerEvent]]:
    kept, _ = as_of(events, now)
    k = len(milestones)
    out: dict[str, list[_PeerEvent]] = {}
    for uid, e in enumerate(kept):
        pos = [j + 1 for j, m in enumerate(milestones) if _hit(journey, m, e)]
        neg: set[int] = set()
        for m, a, b in exclude:
            if _hit(journey, m, e):
                neg |= set(range((a or 1) + 1, (b or k) + 1))
        steps = tuple(pos) + tuple(-s for s in sorted(neg))
        if steps or keep_all:
            out.setdefault(e.customer_id, []).append(_PeerEvent(e.timestamp, uid, steps))
    for mine in out.values():
        mine.sort(key=lambda ev: (ev.time, ev.order))
    return out


def _hit(journey: Journey, milestone: str, e: Event) -> bool:
    rule = journey.milestone(milestone).when
    return rule is not None and matches(rule, e)


# --------------------------------------------------------------------------- ClickHouse


def clickhouse_level(
    evs: list[_PeerEvent], k: int, window: timedelta | None, modes: Sequence[str]
) -> int:
    """windowFunnel's level for one customer: rows (time, condition), condition 0 for any
    other event under strict_order, stably sorted, then one walk."""
    strict_order = "strict_order" in modes
    rows = [(ev.time, s) for ev in evs for s in ev.steps if s > 0]
    if strict_order:
        rows += [(ev.time, 0) for ev in evs if not any(s > 0 for s in ev.steps)]
    rows.sort(key=lambda r: (r[0], r[1]))
    if not rows:
        return 0
    if not strict_order and k == 1:
        return 1
    chains: list[tuple[datetime, datetime] | None] = [None] * k
    started = False

    def level() -> int:
        return max((i + 1 for i, c in enumerate(chains) if c is not None), default=0)

    for t, cond in rows:
        idx = cond - 1
        if strict_order and idx == -1:
            if started:
                break
            continue
        if idx == 0:
            chains[0] = (t, t)
            started = True
        elif "strict_deduplication" in modes and chains[idx] is not None:
            return level()
        elif strict_order and started and chains[idx - 1] is None:
            if "allow_reentry" in modes:
                continue
            return next(i for i, c in enumerate(chains) if c is None)
        elif (prev := chains[idx - 1]) is not None:
            ok = window is None or t - prev[0] <= window
            if "strict_increase" in modes:
                ok = ok and prev[1] < t
            if ok:
                chains[idx] = (prev[0], t)
                if idx + 1 == k:
                    return k
    return level()


# --------------------------------------------------------------------------- PostHog


@dataclass(frozen=True)
class _Entered:
    timestamp: datetime | None = None
    excluded: bool = False
    uuids: tuple[int, ...] = ()
    steps: int = 0


class _PostHogPerson:
    """steps.rs for one person: ``entered[j]`` and ``max_step``, as there."""

    def __init__(self, k: int, window: timedelta | None, optional: set[int], strict: bool):
        self.k, self.window, self.optional, self.strict = k, window, optional, strict
        self.entered = [_Entered()] * (k + 1)
        self.max_step: tuple[int, _Entered] = (0, _Entered())

    def _within(self, t: datetime, since: datetime | None) -> bool:
        return since is not None and (self.window is None or t - since <= self.window)

    def run(self, evs: list[_PeerEvent]) -> tuple[int, int] | None:
        """(furthest step number, passed steps as bits), or None when dropped by an exclusion."""
        i = 0
        while i < len(evs):
            group = [ev for ev in evs[i:] if ev.time == evs[i].time]
            i += len(group)
            self.entered[0] = _Entered(group[0].time)
            if len({ev.steps for ev in group}) == 1:
                for ev in group:
                    self.process(ev, multiple=False)
            else:
                flat = [(s, ev) for ev in group for s in ev.steps if s > 0]
                for s, ev in sorted(flat, key=lambda x: x[0]):
                    self.process(replace(ev, steps=(s,)), multiple=True)
            if self.entered[self.k].timestamp is not None:
                break
        final, value = self.max_step
        if value.excluded:
            return None
        return final, value.steps

    def process(self, ev: _PeerEvent, multiple: bool) -> None:
        for step in reversed(ev.steps):
            exclusion, s = step < 0, abs(step)
            prev = s - 1
            in_window = self._within(ev.time, self.entered[prev].timestamp)
            while prev > 0 and not in_window and prev in self.optional:
                prev -= 1
                in_window = self._within(ev.time, self.entered[prev].timestamp)
            here = self.entered[s].timestamp
            if not in_window or (here is not None and here == self.entered[prev].timestamp):
                continue
            previous = self.entered[prev]
            if exclusion:
                if not previous.excluded:
                    self.entered[prev] = replace(previous, excluded=True)
                    best, value = self.max_step
                    if best == prev and self._within(ev.time, value.timestamp):
                        self.max_step = (best, replace(value, excluded=True))
                continue
            if multiple and ev.uid in previous.uuids:
                continue
            uuids = previous.uuids if s in self.optional else (*previous.uuids, ev.uid)
            new = replace(previous, uuids=uuids, steps=previous.steps | 1 << (s - 1))
            if not previous.excluded:
                self.entered[s] = new
            if s > self.max_step[0] or (s == self.max_step[0] and self.max_step[1].excluded):
                self.max_step = (s, new)
        if self.strict and not multiple:
            for j in range(1, self.k + 1):
                if j not in ev.steps:
                    self.entered[j] = _Entered()


def posthog_unordered(evs: list[_PeerEvent], k: int, window: timedelta | None) -> int:
    """unordered_steps.rs for one person: the most steps completed."""
    by_step: list[deque[_PeerEvent]] = [deque() for _ in range(k)]
    completed, best = 0, 0
    for i, ev in enumerate(evs):
        while True:
            fronts = [(q[0].time, j) for j, q in enumerate(by_step) if q]
            if not fronts:
                break
            oldest_time, oldest = min(fronts)
            if completed < k and (window is None or oldest_time + window >= ev.time):
                break
            best = max(best, completed)
            by_step[oldest].popleft()
            if not by_step[oldest]:
                completed -= 1
        if all(s < 0 for s in ev.steps):
            by_step = [deque() for _ in range(k)]
            completed = 0
        else:
            serves = [s - 1 for s in ev.steps if s > 0]
            chosen = min(serves, key=lambda j: by_step[j][-1].time if by_step[j] else datetime.min)
            if not by_step[chosen]:
                completed += 1
            by_step[chosen].append(ev)
        if best == k:
            break
        if i == len(evs) - 1:
            best = max(best, completed)
    return best


# --------------------------------------------------------------------------- the funnel


def peer_funnel(
    events: Sequence[Event],
    journey: Journey,
    *,
    semantics: str,
    path: str | None = None,
    mode: str = "ordered",
    window: timedelta | None,
    now: datetime | None = None,
    exclude: Sequence[Exclusion] = (),
    clickhouse: Sequence[str] = (),
) -> dict[str, Any]:
    """The funnel of ``path`` as the peer counts it (shape: the module docstring)."""
    chosen = journey.path(path)
    milestones = chosen.milestone_ids
    k = len(milestones)
    strict = mode == "strict"
    modes = (*clickhouse, "strict_order") if semantics == "clickhouse" and strict else clickhouse
    keep_all = strict or "strict_order" in modes
    people = _events(events, journey, milestones, exclude, now, keep_all)
    furthest: dict[str, int] = {}
    passed: dict[str, int] = {}
    optional = {j + 1 for j, s in enumerate(chosen.steps) if s.optional}
    for customer, evs in people.items():
        if semantics == "clickhouse":
            level = clickhouse_level(evs, k, window, modes)
            bits = (1 << level) - 1
        elif mode == "any":
            level = posthog_unordered(evs, k, window)
            bits = (1 << level) - 1
        else:
            got = _PostHogPerson(k, window, optional, strict).run(evs)
            level, bits = got if got is not None else (0, 0)
        if level > 0:
            furthest[customer], passed[customer] = level, bits
    counts = [sum(bits >> j & 1 for bits in passed.values()) for j in range(k)]
    return {"furthest": furthest, "counts": counts}
