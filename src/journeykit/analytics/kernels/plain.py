"""The default funnel in numpy: ordered, every step required, one fixed window (or none).

This is ``ordered.ordered_funnel`` for the funnel most questions ask (DESIGN "Funnel": ordered
mode, no optional step, no step window, no exclusion, no strict order, no calendar months, no
event that reaches two steps), computed with whole-array steps instead of a compiled loop: the
answer is the same (tests/analytics/test_funnel_plain.py checks it against the compiled kernel),
and a command that asks only this never loads numba (0.5-0.6 CPU s of import and cached-kernel
loading, more than this whole kernel at millions of rows). Everything else goes to the compiled
kernels (``fits`` says which).

Why whole arrays are enough here: with every step required and no step window, an attempt that
starts at a first-step row passes step k at the first step-k row after (in tie order) the row
that passed step k-1; a run of consecutive first-step rows shares that chain, so the run's
latest start goes furthest, and its earliest start that still reaches the level within the
window is the chosen one.
"""

from __future__ import annotations

import numpy as np

from journeykit.analytics.kernels.bundles import NONE, Reached, StepArrays, Steps


def fits(rows: StepArrays, steps: Steps) -> bool:
    """Whether ``ordered_funnel`` would compute nothing more than this kernel does."""
    return (
        not rows.shared
        and not steps.strict
        and steps.months <= 0
        and not bool(steps.optional.any())
        and bool((steps.within < 0).all())
        and not bool((rows.step < 0).any())  # no exclusions
    )


def ordered_plain(rows: StepArrays, steps: Steps) -> Reached:
    """``ordered.ordered_funnel`` for a log and steps that ``fits``."""
    offsets = rows.offsets
    customers = len(offsets) - 1
    k_steps = len(steps.optional)
    level = np.full(customers, -1, dtype=np.int64)
    is_open = np.zeros(customers, dtype=np.bool_)
    first = np.full((customers, k_steps), NONE, dtype=np.int64)
    n = len(rows.step)
    if not n:
        return Reached(level, is_open, first, 0)
    cust = np.repeat(np.arange(customers, dtype=np.int64), np.diff(offsets))
    step = rows.step.astype(np.int64)
    ts = rows.time_us
    order = _tie_order(cust, ts, step)
    if order is not None:
        cust, ts, step = cust[order], ts[order], step[order]
    same = cust[1:] == cust[:-1]
    is0 = step == 0
    # Runs of consecutive first-step rows of one customer: p..q.
    after0 = np.zeros(n, dtype=np.bool_)
    after0[1:] = is0[:-1] & same
    before0 = np.zeros(n, dtype=np.bool_)
    before0[:-1] = is0[1:] & same
    p = np.flatnonzero(is0 & ~after0)
    q = np.flatnonzero(is0 & ~before0)
    run_cust = cust[q]
    window = steps.window
    # The chain from the run's latest start: the row that passes each step, while in window.
    at = q.copy()
    run_level = np.zeros(len(q), dtype=np.int64)
    alive = np.ones(len(q), dtype=np.bool_)
    chain = np.empty((len(q), k_steps), dtype=np.int64)
    chain[:, 0] = q
    for k in range(1, k_steps):
        rows_k = np.flatnonzero(step == k)
        j = np.searchsorted(rows_k, at, side="right")
        nxt = rows_k[np.minimum(j, max(len(rows_k) - 1, 0))] if len(rows_k) else at
        ok = alive & (j < len(rows_k))
        ok &= cust[nxt] == run_cust
        if window >= 0:
            ok &= ts[nxt] - ts[q] <= window
        at = np.where(ok, nxt, at)
        chain[:, k] = at
        run_level[ok] = k
        alive = ok
    # Per customer: the furthest level; the first run (in time) that reaches it is chosen.
    best = np.full(customers, -1, dtype=np.int64)
    np.maximum.at(best, run_cust, run_level)
    top = run_level == best[run_cust]
    chosen_run = np.full(customers, len(q), dtype=np.int64)
    np.minimum.at(chosen_run, run_cust[top], np.flatnonzero(top))
    entered = best >= 0
    level[entered] = best[entered]
    runs = chosen_run[entered]
    reach = best[entered]
    # A run that reaches only step 1 needs no room: its earliest start is chosen.
    end = np.where(reach > 0, ts[chain[runs, reach]], ts[p[runs]])
    start = _earliest(ts, p[runs], q[runs], end, window)
    first[entered, 0] = ts[start]
    for k in range(1, k_steps):
        has = reach >= k
        first[np.flatnonzero(entered)[has], k] = ts[chain[runs[has], k]]
    # Open: a run at the customer's level whose latest start still has time at ``now``.
    can = top & (run_level < k_steps - 1)
    if window >= 0:
        can &= steps.now - ts[q] <= window
    is_open[run_cust[can]] = True
    return Reached(level, is_open, first, 0)


def _tie_order(cust: np.ndarray, ts: np.ndarray, step: np.ndarray) -> np.ndarray | None:
    """Rows come sorted by customer and time; rows at one time go in step order (DESIGN's
    ties). None when they already are (the usual case: no sort)."""
    tied = (cust[1:] == cust[:-1]) & (ts[1:] == ts[:-1])
    if not bool((tied & (step[1:] < step[:-1])).any()):
        return None
    group = np.concatenate([[0], np.cumsum(~tied)])
    return np.lexsort((step, group))


def _earliest(
    ts: np.ndarray, lo: np.ndarray, hi: np.ndarray, end: np.ndarray, window: int
) -> np.ndarray:
    """Per run (rows lo..hi, in time order): the earliest start within ``window`` of ``end``
    (hi is); with no window, the run's first row."""
    if window < 0:
        return lo
    lo, hi = lo.copy(), hi.copy()
    while True:
        left = lo < hi
        if not left.any():
            return lo
        mid = (lo + hi) // 2
        ok = end - ts[mid] <= window
        hi = np.where(left & ok, mid, hi)
        lo = np.where(left & ~ok, mid + 1, lo)
