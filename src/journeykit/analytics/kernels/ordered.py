"""Ordered and strict funnels by a latest-end scan per start (the rule: ``kernels/__init__``).

For one start, the latest end of a valid partial attempt at each step dominates every other (it
leaves the most room for a per-step window, has the fewest strict blockers and exclusions after
it), so one forward scan per start decides how far that start goes. Starts are tried in time
order; a run of repeated first-step events is settled with a binary search, because within such
a run a later start never goes less far. A customer with an event that reaches several steps
goes to ``exact_ordered`` instead.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from journeykit.analytics.kernels import exact_ordered
from journeykit.analytics.kernels.common import (
    AMBIGUOUS,
    EXCLUDED,
    NONE,
    TOO_MANY,
    Reached,
    StepArrays,
    Steps,
    name_events,
    order_ties,
    positions,
    reached,
    still_open,
    tied_buffers,
    window_from,
)


class Ends(NamedTuple):
    """One scan's state, per step."""

    first: np.ndarray  # when the attempt first passed the step
    end: np.ndarray  # the latest time a partial attempt ended at the step
    blocked: np.ndarray  # strict: the steps seen since that end, one bit each


@nb.njit(cache=True, nogil=True)
def ordered_funnel(rows: StepArrays, steps: Steps) -> Reached:
    """Every customer's furthest step, whether it is still open, and the chosen attempt's times.

    Strict when ``steps.strict``. ``too_many`` counts customers left unsearched because they
    have too many events that reach several steps at one time.
    """
    offsets, ts, step, shared = rows.offsets, rows.time_us, rows.step, rows.shared
    k_steps = len(steps.optional)
    out = reached(len(offsets) - 1, k_steps)
    levels, opens, firsts = out.level, out.is_open, out.first
    tied = tied_buffers(offsets)
    order = tied.order
    ends = Ends(
        np.empty(k_steps, dtype=np.int64),
        np.empty(k_steps, dtype=np.int64),
        np.empty(k_steps, dtype=np.int64),
    )
    first, end = ends.first, ends.end
    # Per run of first-step events: how far its latest start went, its start and end times.
    run_level = np.empty(len(order), dtype=np.int64)
    run_start = np.empty(len(order), dtype=np.int64)
    run_end = np.empty(len(order), dtype=np.int64)
    run_window = np.empty(len(order), dtype=np.int64)
    fixed, months = steps.window, steps.months
    too_many = 0
    for c in range(len(levels)):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        order_ties(ts, step, lo, hi, order)
        flag = name_events(rows, tied, n) if shared else 0
        if flag == TOO_MANY:
            too_many += 1
            continue
        if flag == AMBIGUOUS:
            at = positions(rows, tied, n)
            levels[c], opens[c], overflow = exact_ordered.search(at, n, steps, firsts[c])
            too_many += 1 if overflow else 0
            continue
        best, chosen, n_runs = -1, -1, 0
        p = 0
        while p < n and best < k_steps - 1:
            if step[order[p]] != 0:
                p += 1
                continue
            q = p
            while q + 1 < n and step[order[q + 1]] == 0:
                q += 1
            t_q = ts[order[q]]
            w = fixed if months <= 0 else window_from(fixed, months, t_q)
            level = _scan(rows, order, n, q, steps, ends, w)
            run_level[n_runs], run_start[n_runs], run_end[n_runs] = level, t_q, end[level]
            run_window[n_runs] = w
            n_runs += 1
            if level > best:
                best, chosen = level, _earliest(rows, order, n, p, q, level, steps, ends)
            p = q + 1
        levels[c] = best
        if best < 0:
            continue
        t_c = ts[order[chosen]]
        _scan(rows, order, n, chosen, steps, ends, window_from(fixed, months, t_c))
        for k in range(k_steps):
            firsts[c, k] = first[k]
        # Open when a run that reached the level can still go on (its latest start has most time).
        for i in range(n_runs):
            if run_level[i] == best and still_open(
                steps, best, run_start[i], run_end[i], run_window[i]
            ):
                opens[c] = True
                break
    return Reached(levels, opens, firsts, too_many)


@nb.njit(cache=True)
def _earliest(
    rows: StepArrays,
    order: np.ndarray,
    n: int,
    p: int,
    q: int,
    level: int,
    steps: Steps,
    ends: Ends,
) -> int:
    """The earliest start in the run p..q that reaches ``level`` (q does)."""
    a, b = p, q
    while a < b:
        mid = (a + b) // 2
        w = window_from(steps.window, steps.months, rows.time_us[order[mid]])
        if _scan(rows, order, n, mid, steps, ends, w) >= level:
            b = mid
        else:
            a = mid + 1
    return a


@nb.njit(cache=True)
def _scan(
    rows: StepArrays, order: np.ndarray, n: int, s: int, steps: Steps, ends: Ends, window: int
) -> int:
    """How far the attempt that starts at row ``order[s]`` goes, within ``window`` (its own:
    ``window_from``); fills ``ends``.

    A row of step k extends the latest end of the nearest earlier step that has one (looking
    past optional steps only), unless the wait breaks step k's own window, an exclusion came
    at or after that end, or (strict) another step's row came since.
    """
    ts, step = rows.time_us, rows.step
    optional, within, strict = steps.optional, steps.within, steps.strict
    first, end, blocked = ends.first, ends.end, ends.blocked
    k_steps = len(optional)
    for k in range(k_steps):
        first[k] = NONE
        end[k] = NONE
        blocked[k] = 0
    start = ts[order[s]]
    first[0] = start
    end[0] = start
    best = 0
    last_excl = NONE
    back = s - 1
    while back >= 0 and ts[order[back]] == start:
        # Exclusions sort first among same-time rows; one at the start's time still counts.
        if step[order[back]] == EXCLUDED:
            last_excl = start
        back -= 1
    for p in range(s + 1, n):
        t = ts[order[p]]
        if window >= 0 and t - start > window:
            break
        k = step[order[p]]
        if k == EXCLUDED:
            last_excl = t
            continue
        passed_from = -1
        j = k - 1
        while j >= 0:
            cand = end[j]
            if (
                cand != NONE
                and (within[k] < 0 or t - cand <= within[k])
                and (last_excl == NONE or cand > last_excl)
                and not (strict and blocked[j] & ~((1 << j) | (1 << k)))
            ):
                passed_from = j
                break
            if not optional[j]:
                break
            j -= 1
        if strict:
            for m in range(k_steps):
                blocked[m] |= 1 << k
        if passed_from >= 0:
            for m in range(passed_from + 1, k + 1):
                if first[m] == NONE:
                    first[m] = t
            end[k] = t
            blocked[k] = 0
            if k > best:
                best = k
                if best == k_steps - 1:
                    break
    return best
