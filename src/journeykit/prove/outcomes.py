"""Each entry's outcome against the milestone log: goal reached in its window, failed, pending,
or already reached before entering (DESIGN "Proof").

Entries are columns (customer, entered at, goal, window, arm). For each goal milestone the first
goal event at or after the entry and the last one before it are found with one sorted search
over (customer, time rank) keys, so a million entries cost a few array passes, no Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeykit.analytics.milestones import MilestoneFrame

NONE = np.iinfo(np.int64).min

REACHED, FAILED, PENDING, ALREADY = 0, 1, 2, 3
OUTCOMES = ("reached", "failed", "pending", "already_reached")


@dataclass(frozen=True)
class EntryColumns:
    """Entries as aligned arrays; ``entered``, ``window`` in microseconds."""

    customer_id: np.ndarray  # str
    entered: np.ndarray  # int64 us
    goal: np.ndarray  # str: milestone id
    window: np.ndarray  # int64 us
    arm: np.ndarray  # str

    def __len__(self) -> int:
        return int(self.entered.size)

    def take(self, rows: np.ndarray) -> EntryColumns:
        return EntryColumns(
            self.customer_id[rows], self.entered[rows], self.goal[rows], self.window[rows],
            self.arm[rows],
        )  # fmt: skip


@dataclass(frozen=True)
class Outcomes:
    """Per entry: its outcome code, the time to goal (us; the time observed when censored) and
    the customer's index in the frame (-1: not in it)."""

    outcome: np.ndarray  # int8, one of REACHED, FAILED, PENDING, ALREADY
    duration: np.ndarray  # int64 us
    cust: np.ndarray  # int64


def outcomes(frame: MilestoneFrame, entries: EntryColumns) -> Outcomes:
    """Judge every entry at ``frame.now``: a goal event inside the window is ``reached``; a goal
    event before entering makes it ``already_reached``; otherwise ``failed`` once the window
    has closed by now, else ``pending`` (never a failure while the window is open)."""
    n = len(entries)
    cust = pd.Index(frame.customer_ids.astype(str)).get_indexer(entries.customer_id.astype(str))
    cust = cust.astype(np.int64)
    first_after = np.full(n, NONE, dtype=np.int64)
    before = np.zeros(n, dtype=bool)
    index = {m.id: i for i, m in enumerate(frame.journey.milestones)}
    for goal in np.unique(entries.goal):
        rows = np.flatnonzero(entries.goal == goal)
        code = index.get(str(goal))
        if code is None:
            continue
        first_after[rows], before[rows] = _around(frame, code, cust[rows], entries.entered[rows])
    now = frame.now
    deadline = entries.entered + entries.window
    hit = (first_after != NONE) & (first_after <= deadline) & (first_after <= now)
    outcome = np.where(hit, REACHED, np.where(deadline <= now, FAILED, PENDING)).astype(np.int8)
    outcome[before] = ALREADY
    observed = np.minimum(np.minimum(deadline, now) - entries.entered, entries.window)
    duration = np.where(hit, first_after - entries.entered, np.maximum(observed, 0))
    return Outcomes(outcome, duration.astype(np.int64), cust)


def _around(
    frame: MilestoneFrame, milestone: int, cust: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each (customer, time): the first goal event at or after it, and whether there is one
    before it."""
    rows = np.flatnonzero(frame.milestone == milestone)
    keys = _Keyed(frame.cust[rows], frame.ts[rows], cust, at)
    k = np.searchsorted(keys.sorted, keys.probe, side="left")
    first = np.full(cust.size, NONE, dtype=np.int64)
    same = keys.customer_at(k) == cust
    first[same] = keys.time_at(k[same])
    had = keys.customer_at(k - 1) == cust
    return first, had & (cust >= 0)


def events_before(frame: MilestoneFrame, cust: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Per (customer, time): how many of the customer's milestone events came before it."""
    keys = _Keyed(frame.cust, frame.ts, cust, at)
    k = np.searchsorted(keys.sorted, keys.probe, side="left")
    start = np.searchsorted(keys.sorted, np.maximum(cust, 0) * keys.span, side="left")
    return np.where(cust >= 0, k - start, 0)


class _Keyed:
    """Rows (customer, time) as one sortable int64 key: customer x span + rank of the time among
    every time involved (microsecond times themselves would overflow the product)."""

    def __init__(self, cust: np.ndarray, ts: np.ndarray, probe_cust: np.ndarray, at: np.ndarray):
        cust, ts = cust.astype(np.int64), ts.astype(np.int64)
        self.times = np.unique(np.concatenate([ts, at.astype(np.int64)]))
        self.span = np.int64(self.times.size + 1)
        self.sorted = np.sort(cust * self.span + np.searchsorted(self.times, ts))
        self.probe = probe_cust.astype(np.int64) * self.span + np.searchsorted(self.times, at)

    def customer_at(self, k: np.ndarray) -> np.ndarray:
        """The customer of sorted row ``k`` (-2 outside the rows)."""
        ok = (k >= 0) & (k < self.sorted.size)
        out = np.full(k.size, -2, dtype=np.int64)
        out[ok] = self.sorted[k[ok]] // self.span
        return out

    def time_at(self, k: np.ndarray) -> np.ndarray:
        return np.asarray(self.times[self.sorted[k] % self.span], dtype=np.int64)
