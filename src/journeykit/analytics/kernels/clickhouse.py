"""ClickHouse ``windowFunnel`` semantics, for a team that wants ClickHouse's numbers.

ClickHouse takes one customer's rows sorted by (time, condition number), a row per condition an
event meets (so one event may serve several steps), and a row of condition 0 for any other event
when ``strict_order`` is on. Walking them once, it keeps per step the start time of the latest
chain that reached it: a step-1 row starts a chain; a row of step k extends the chain of step
k-1 when it lies within the window of that chain's start. The customer's level is the furthest
step any chain reached. Modes (AggregateFunctionWindowFunnel.cpp):

- ``strict_order``: after the first step-1 row, any other event ends the walk, and a step whose
  previous step has no chain yet ends it too (ClickHouse never restarts after that);
- ``allow_reentry`` (needs ``strict_order``): such an early step is skipped instead;
- ``strict_deduplication``: a step met a second time ends the walk;
- ``strict_increase``: a step extends a chain only when strictly later than the chain's last step.

ClickHouse has no open attempts: every customer below the last step counts as dropped.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from journeykit.analytics.kernels.common import (
    NONE,
    Reached,
    StepArrays,
    longest_customer,
    order_ties,
    reached,
)

OTHER = -3  # the step code of an event that meets no step (rows kept only for strict_order)


class Flags(NamedTuple):
    """ClickHouse's windowFunnel modes, as booleans a kernel can read."""

    strict_order: bool
    strict_deduplication: bool
    strict_increase: bool
    allow_reentry: bool


@nb.njit(cache=True)
def clickhouse_funnel(rows: StepArrays, k_steps: int, window: int, flags: Flags) -> Reached:
    """Every customer's level as ``windowFunnel`` computes it, minus one (-1: not started)."""
    offsets, ts, step = rows.offsets, rows.time_us, rows.step
    out = reached(len(offsets) - 1, 0)
    levels = out.level
    longest = longest_customer(offsets)
    order = np.empty(longest, dtype=np.int64)
    start = np.empty(k_steps, dtype=np.int64)
    last = np.empty(k_steps, dtype=np.int64)
    for c in range(len(levels)):
        lo, hi = offsets[c], offsets[c + 1]
        order_ties(ts, step, lo, hi, order)
        start[:] = NONE
        last[:] = NONE
        levels[c] = _walk(ts, step, order, hi - lo, window, flags, start, last)
    return out


@nb.njit(cache=True)
def _walk(
    ts: np.ndarray,
    step: np.ndarray,
    order: np.ndarray,
    n: int,
    window: int,
    flags: Flags,
    start: np.ndarray,
    last: np.ndarray,
) -> int:
    """One customer's walk: the furthest step (0-based; -1: none)."""
    k_steps = len(start)
    started = False
    for p in range(n):
        t, k = ts[order[p]], step[order[p]]
        if k < 0:
            if flags.strict_order and started:
                return _level(start)
            continue
        if k == 0:
            start[0], last[0] = t, t
            started = True
        elif flags.strict_deduplication and start[k] != NONE:
            return _level(start)
        elif flags.strict_order and started and start[k - 1] == NONE:
            if flags.allow_reentry:
                continue
            return _level(start)
        elif start[k - 1] != NONE:
            ok = window < 0 or t - start[k - 1] <= window
            if flags.strict_increase:
                ok = ok and last[k - 1] < t
            if ok:
                start[k], last[k] = start[k - 1], t
                if k == k_steps - 1:
                    return int(k)
    return _level(start)


@nb.njit(cache=True)
def _level(start: np.ndarray) -> int:
    for k in range(len(start) - 1, -1, -1):
        if start[k] != NONE:
            return k
    return -1
