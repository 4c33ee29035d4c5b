"""Any-order funnels by a backward sweep of time groups (the rule: ``kernels/__init__``).

Walking a customer's time groups from the latest back, ``nearest[j]`` is the earliest time at or
after the current group of an event of step j. From a group at t0, step j is reached when every
non-optional step up to j has a nearest event within the window of t0; the latest t0 that
reaches the furthest step says whether that attempt is still open. A customer with an event that
reaches several steps goes to ``exact_any`` instead, because the steps then need distinct events.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from journeykit.analytics.kernels import common, exact_any


@nb.njit(cache=True)
def any_order_funnel(rows: common.StepArrays, steps: common.Steps) -> common.Reached:
    """Every customer's furthest step and whether it is still open (no step times here)."""
    offsets, ts, step, shared = rows.offsets, rows.time_us, rows.step, rows.shared
    optional, now, fixed, months = steps.optional, steps.now, steps.window, steps.months
    k_steps = len(optional)
    out = common.reached(len(offsets) - 1, 0)
    levels, opens = out.level, out.is_open
    tied = common.tied_buffers(offsets if shared else offsets[:1])
    nearest = np.empty(k_steps, dtype=np.int64)
    latest_start = np.empty(k_steps, dtype=np.int64)
    too_many = 0
    for c in range(len(levels)):
        lo, hi = offsets[c], offsets[c + 1]
        if shared:
            common.order_ties(ts, step, lo, hi, tied.order)
            flag = common.name_events(rows, tied, hi - lo)
            if flag == common.TOO_MANY:
                too_many += 1
                continue
            if flag == common.AMBIGUOUS:
                levels[c], opens[c] = exact_any.search(
                    common.positions(rows, tied, hi - lo), hi - lo, steps
                )
                continue
        for j in range(k_steps):
            nearest[j] = common.NONE
            latest_start[j] = common.NONE
        best = -1
        g_end = hi
        while g_end > lo:
            g_start = g_end - 1
            while g_start > lo and ts[g_start - 1] == ts[g_end - 1]:
                g_start -= 1
            t0 = ts[g_start]
            window = common.window_from(fixed, months, t0)
            for r in range(g_start, g_end):
                if step[r] >= 0:
                    nearest[step[r]] = t0
            # The furthest step whose nearest event, and every required earlier one, fits.
            need, level = t0, -1
            for j in range(k_steps):
                reach = nearest[j] != common.NONE
                span = max(need, nearest[j]) if reach else need
                if reach and (window < 0 or span - t0 <= window):
                    level = j
                    if not optional[j]:
                        need = span
                elif not optional[j]:
                    break
            if level >= 0:
                best = max(best, level)
                latest_start[level] = max(latest_start[level], t0)
            g_end = g_start
        levels[c] = best
        # common.still_open without per-step windows (none in this mode), written out because a
        # call per customer costs as much as this kernel's own work.
        if 0 <= best < k_steps - 1:
            window = common.window_from(fixed, months, latest_start[best])
            opens[c] = window < 0 or now - latest_start[best] <= window
    return common.Reached(levels, opens, out.first, too_many)
