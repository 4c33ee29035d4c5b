"""Ordered and strict funnels searched exactly, for a customer with an event at several steps.

"One event serves one step" (the rule: ``kernels/__init__``) makes the latest-end summary of
``ordered`` inexact there: whether a row may extend an attempt depends on which events the
attempt already used at that row's time. Those customers (rare: it needs two tags on one event)
get a dynamic programme over (row, events used at the row's time): a state is an attempt's last
row with the set of multi-row events it used at that row's time; events at other times can never
be used again (one event, one timestamp).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from journeykit.analytics.kernels.common import (
    EXCLUDED,
    NONE,
    Positions,
    Steps,
    still_open,
    window_from,
)

MAX_STATES = 64


class Layout(NamedTuple):
    """Where each of one customer's rows stands: its time group, and rows of each kind before it."""

    group_start: np.ndarray  # first position of the row's time group
    group_end: np.ndarray  # one past its last
    excluded: np.ndarray  # excluded-milestone rows before position p (n + 1 entries)
    on_path: np.ndarray  # rows of any step before p
    at_step: np.ndarray  # steps x (n + 1): rows of each step before p
    can_follow: np.ndarray  # steps x steps: b may come right after a (skipping optional steps)


class States(NamedTuple):
    """Per position, the undominated sets of multi-row events an attempt ending there used."""

    mask: np.ndarray  # positions x MAX_STATES
    filled: np.ndarray  # how many, per position


@nb.njit(cache=True)
def search(at: Positions, n: int, steps: Steps, first: np.ndarray) -> tuple[int, bool, bool]:
    """One customer by exact search over every start: (furthest step, still open, overflow).

    ``first`` gets the chosen attempt's step times: the earliest start that goes furthest, and
    among attempts from that time the earliest pass of each step.
    """
    k_steps = len(steps.optional)
    layout = _layout(at, n, steps)
    states = States(np.empty((n, MAX_STATES), dtype=np.int64), np.zeros(n, dtype=np.int64))
    here = np.empty(k_steps, dtype=np.int64)
    best, chosen = -1, NONE
    is_open, overflow = False, False
    first[:] = NONE
    for s in range(n):
        if at.step[s] != 0:
            continue
        level, end, over = _attempt(at, n, s, layout, steps, states, here)
        overflow = overflow or over
        t0 = at.time_us[s]
        if level > best:
            best, chosen, is_open = level, t0, False
            first[:] = here
        elif level == best and t0 == chosen:
            for k in range(k_steps):
                if here[k] != NONE and (first[k] == NONE or here[k] < first[k]):
                    first[k] = here[k]
        if level == best and still_open(
            steps, best, t0, end, window_from(steps.window, steps.months, t0)
        ):
            is_open = True
    return best, is_open, overflow


@nb.njit(cache=True)
def _layout(at: Positions, n: int, steps: Steps) -> Layout:
    k_steps = len(steps.optional)
    out = Layout(
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.zeros((k_steps, n + 1), dtype=np.int64),
        np.zeros((k_steps, k_steps), dtype=np.bool_),
    )
    g0 = 0
    while g0 < n:
        g1 = g0 + 1
        while g1 < n and at.time_us[g1] == at.time_us[g0]:
            g1 += 1
        out.group_start[g0:g1] = g0
        out.group_end[g0:g1] = g1
        g0 = g1
    for p in range(n):
        b = at.step[p]
        out.excluded[p + 1] = out.excluded[p] + (1 if b == EXCLUDED else 0)
        out.on_path[p + 1] = out.on_path[p] + (1 if b >= 0 else 0)
        out.at_step[:, p + 1] = out.at_step[:, p]
        if b >= 0:
            out.at_step[b, p + 1] += 1
    for a in range(k_steps):
        for b in range(a + 1, k_steps):
            out.can_follow[a, b] = True
            if not steps.optional[b]:
                break
    return out


@nb.njit(cache=True)
def _attempt(
    at: Positions, n: int, s: int, layout: Layout, steps: Steps, states: States, first: np.ndarray
) -> tuple[int, int, bool]:
    """Every attempt from the start at position ``s``: (furthest step, latest end there, overflow).

    ``first`` gets the first time any of them passed each step. Row u may come right after a
    state's row i when step u may follow step i, within u's own window, with no exclusion at or
    between their times and (strict) no blocker between them; then ``_extend`` adds u's event.
    """
    ts, step, bit, filled = at.time_us, at.step, at.bit, states.filled
    can_follow, excluded, gs, ge = (
        layout.can_follow,
        layout.excluded,
        layout.group_start,
        layout.group_end,
    )
    within, strict = steps.within, steps.strict
    t0 = ts[s]
    window = window_from(steps.window, steps.months, t0)
    filled[s:n] = 0
    states.mask[s, 0] = (1 << bit[s]) if bit[s] >= 0 else 0
    filled[s] = 1
    first[:] = NONE
    first[0] = t0
    best, best_end, overflow = 0, t0, False
    for u in range(s + 1, n):
        tu = ts[u]
        if window >= 0 and tu - t0 > window:
            break
        b = step[u]
        if b <= 0:
            continue
        for i in range(s, u):
            if (
                filled[i]
                and can_follow[step[i], b]
                and (within[b] < 0 or tu - ts[i] <= within[b])
                and excluded[ge[u]] - excluded[gs[i]] == 0
                and not (strict and _blocked(at, layout, i, u))
            ):
                overflow = _extend(states, i, u, ts[i] == tu, bit[u]) or overflow
        if filled[u] > 0:
            for k in range(1, b + 1):
                if first[k] == NONE:
                    first[k] = tu
            if b >= best:
                best, best_end = b, tu
    return best, best_end, overflow


@nb.njit(cache=True)
def _blocked(at: Positions, layout: Layout, i: int, u: int) -> bool:
    """Strict: a row of another step of the path lies between rows i and u.

    The two events' own other rows are not blockers.
    """
    a, b = at.step[i], at.step[u]
    lo, hi = i + 1, u
    count = layout.at_step
    blockers = layout.on_path[hi] - layout.on_path[lo]
    blockers -= (count[a, hi] - count[a, lo]) + (count[b, hi] - count[b, lo])
    if blockers > 0:
        blockers -= _own_rows(at, lo, min(layout.group_end[i], hi), i, u)
        if layout.group_start[u] != layout.group_start[i]:
            blockers -= _own_rows(at, layout.group_start[u], hi, i, u)
    return bool(blockers > 0)


@nb.njit(cache=True)
def _own_rows(at: Positions, lo: int, hi: int, i: int, u: int) -> int:
    """Rows in lo..hi of the events of rows i and u, at a step other than theirs."""
    a, b = at.step[i], at.step[u]
    own = 0
    for q in range(lo, hi):
        mine = at.event[q] == at.event[i] or at.event[q] == at.event[u]
        if mine and at.step[q] >= 0 and at.step[q] != a and at.step[q] != b:
            own += 1
    return own


@nb.njit(cache=True)
def _extend(states: States, i: int, u: int, same_time: bool, u_bit: int) -> bool:
    """Adds to row u every state of row i extended by u's event; True when u's states overflow."""
    masks, filled = states.mask, states.filled
    ubit = (1 << u_bit) if u_bit >= 0 else 0
    overflow = False
    for m in range(filled[i]):
        mask = masks[i, m]
        if same_time and (mask & ubit) != 0:
            continue
        new = (mask | ubit) if same_time else ubit
        if _dominated(states, u, new):
            continue
        w = 0
        for x in range(filled[u]):
            if new & ~masks[u, x] != 0:
                masks[u, w] = masks[u, x]
                w += 1
        if w == MAX_STATES:
            overflow = True
            filled[u] = w
            continue
        masks[u, w] = new
        filled[u] = w + 1
    return overflow


@nb.njit(cache=True)
def _dominated(states: States, u: int, new: int) -> bool:
    """Row u already has a state that used no event ``new`` did not."""
    for x in range(states.filled[u]):  # noqa: SIM110 (numba compiles no generator in any())
        if states.mask[u, x] & ~new == 0:
            return True
    return False
