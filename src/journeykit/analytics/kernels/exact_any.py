"""Any-order funnels searched exactly, for a customer with an event at several steps.

Steps 1..j are reached from a start t0 when distinct events within the window of t0 can serve
each needed step (the rule: ``kernels/__init__``): a bipartite matching of steps to events, found
with augmenting paths.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from journeykit.analytics.kernels.common import NONE, Positions, Steps, still_open, window_from


class Matching(NamedTuple):
    """Scratch for matching steps to events; events are numbered from ``base``."""

    owner: np.ndarray  # per event: the step it serves, or -1
    parent_step: np.ndarray  # per step, in the search tree: the step it was reached from
    parent_event: np.ndarray  # ... and the event that led there
    queue: np.ndarray  # steps to visit
    base: int


@nb.njit(cache=True)
def search(at: Positions, n: int, steps: Steps) -> tuple[int, bool]:
    """One customer: (furthest step, still open)."""
    k_steps = len(steps.optional)
    base, top = 0, -1
    if n:
        base, top = at.event[:n].min(), at.event[:n].max()
    scratch = Matching(
        np.empty(top - base + 1, dtype=np.int64),
        np.empty(k_steps, dtype=np.int64),
        np.empty(k_steps, dtype=np.int64),
        np.empty(k_steps, dtype=np.int64),
        base,
    )
    needed = np.empty(k_steps, dtype=np.int64)
    latest = np.full(k_steps, NONE, dtype=np.int64)
    g0 = 0
    while g0 < n:
        t0 = at.time_us[g0]
        window = window_from(steps.window, steps.months, t0)
        hi = g0
        while hi < n and (window < 0 or at.time_us[hi] - t0 <= window):
            hi += 1
        for j in range(k_steps):
            m = 0
            for i in range(j):
                if not steps.optional[i]:
                    needed[m] = i
                    m += 1
            needed[m] = j
            if _matches(at, g0, hi, needed[: m + 1], scratch):
                latest[j] = t0
        while g0 < n and at.time_us[g0] == t0:
            g0 += 1
    best = -1
    for j in range(k_steps):
        if latest[j] != NONE:
            best = j
    return best, best >= 0 and still_open(
        steps, best, latest[best], 0, window_from(steps.window, steps.months, latest[best])
    )


@nb.njit(cache=True)
def _matches(at: Positions, lo: int, hi: int, needed: np.ndarray, scratch: Matching) -> bool:
    """Whether distinct events in rows lo..hi can serve every needed step."""
    for p in range(lo, hi):
        scratch.owner[at.event[p] - scratch.base] = -1
    for c0 in needed:
        found, via = _augmenting_path(at, lo, hi, c0, scratch)
        if found < 0:
            return False
        c, e = via, found
        while True:
            scratch.owner[e] = c
            if scratch.parent_step[c] == -1:
                break
            e = scratch.parent_event[c]
            c = scratch.parent_step[c]
    return True


@nb.njit(cache=True)
def _augmenting_path(
    at: Positions, lo: int, hi: int, c0: int, scratch: Matching
) -> tuple[int, int]:
    """A free event reachable from step c0 by alternating paths: (event, its step) or (-1, -1)."""
    scratch.parent_step[:] = -2
    scratch.parent_step[c0] = -1
    head, tail = 0, 1
    scratch.queue[0] = c0
    while head < tail:
        c = scratch.queue[head]
        head += 1
        for p in range(lo, hi):
            if at.step[p] != c:
                continue
            e = at.event[p] - scratch.base
            if scratch.owner[e] == -1:
                return e, c
            c2 = scratch.owner[e]
            if scratch.parent_step[c2] == -2:
                scratch.parent_step[c2] = c
                scratch.parent_event[c2] = e
                scratch.queue[tail] = c2
                tail += 1
    return -1, -1
