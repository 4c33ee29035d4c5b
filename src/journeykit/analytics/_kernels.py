"""Compiled per-customer passes over the milestone log (see docs/metrics.md for the definitions).

Rows arrive sorted by customer and time; ties are put in path order here. For one start, the
latest end of a valid partial attempt at each step dominates every other (it leaves the most room
for a per-step window, has the fewest strict blockers and exclusions after it), so one forward
scan per start decides how far that start goes. Starts are tried in time order; a run of repeated
first-step events is settled with a binary search, because within such a run a later start never
goes less far.
"""

from __future__ import annotations

import numba as nb
import numpy as np

NONE = np.iinfo(np.int64).min
EXCLUDED = -1


@nb.njit(cache=True)
def _order_ties(ts: np.ndarray, step: np.ndarray, lo: int, hi: int, out: np.ndarray) -> None:
    n = hi - lo
    for i in range(n):
        out[i] = lo + i
    i = 0
    while i < n:
        j = i + 1
        while j < n and ts[out[j]] == ts[out[i]]:
            j += 1
        for a in range(i + 1, j):
            v = out[a]
            b = a - 1
            while b >= i and step[out[b]] > step[v]:
                out[b + 1] = out[b]
                b -= 1
            out[b + 1] = v
        i = j


@nb.njit(cache=True)
def _attempt(
    order: np.ndarray,
    n: int,
    s: int,
    step: np.ndarray,
    ts: np.ndarray,
    key: np.ndarray,
    k_steps: int,
    optional: np.ndarray,
    within: np.ndarray,
    window: int,
    strict: bool,
    first: np.ndarray,
    end: np.ndarray,
    end_key: np.ndarray,
    end2: np.ndarray,
    blk: np.ndarray,
    blk2: np.ndarray,
) -> int:
    """How far the attempt that starts at ``order[s]`` goes; fills ``first`` and ``end``."""
    for k in range(k_steps):
        first[k] = NONE
        end[k] = NONE
        end_key[k] = 0
        end2[k] = NONE
        blk[k] = 0
        blk2[k] = 0
    r0 = order[s]
    start = ts[r0]
    first[0] = start
    end[0] = start
    end_key[0] = key[r0]
    best = 0
    last_excl = NONE
    for p in range(s + 1, n):
        r = order[p]
        t = ts[r]
        if window >= 0 and t - start > window:
            break
        k = step[r]
        if k == EXCLUDED:
            last_excl = t
            continue
        passed_from = -1
        if k > 0:
            j = k - 1
            while j >= 0:
                if end[j] != NONE:
                    if end_key[j] != key[r]:
                        cand, cblk = end[j], blk[j]
                    else:
                        cand, cblk = end2[j], blk2[j]
                    ok = cand != NONE
                    if ok and within[k] >= 0 and t - cand > within[k]:
                        ok = False
                    if ok and last_excl != NONE and cand <= last_excl:
                        ok = False
                    if ok and strict and (cblk & ~((1 << j) | (1 << k))) != 0:
                        ok = False
                    if ok:
                        passed_from = j
                        break
                if not optional[j]:
                    break
                j -= 1
        if strict:
            for m in range(k_steps):
                blk[m] |= 1 << k
                blk2[m] |= 1 << k
        if passed_from >= 0:
            for m in range(passed_from + 1, k + 1):
                if first[m] == NONE:
                    first[m] = t
            if end[k] != NONE and end_key[k] != key[r]:
                end2[k] = end[k]
                blk2[k] = blk[k]
            end[k] = t
            end_key[k] = key[r]
            blk[k] = 0
            if k > best:
                best = k
                if best == k_steps - 1:
                    break
    return best


@nb.njit(cache=True)
def ordered_funnel(
    offsets: np.ndarray,
    step: np.ndarray,
    ts: np.ndarray,
    key: np.ndarray,
    k_steps: int,
    optional: np.ndarray,
    within: np.ndarray,
    window: int,
    strict: bool,
    now: int,
    out_level: np.ndarray,
    out_open: np.ndarray,
    out_first: np.ndarray,
) -> None:
    """Per customer: furthest step (-1: never started), whether it is still open, step times."""
    n_c = len(offsets) - 1
    longest = 0
    for c in range(n_c):
        longest = max(longest, offsets[c + 1] - offsets[c])
    order = np.empty(longest, dtype=np.int64)
    first = np.empty(k_steps, dtype=np.int64)
    end = np.empty(k_steps, dtype=np.int64)
    end_key = np.empty(k_steps, dtype=np.int64)
    end2 = np.empty(k_steps, dtype=np.int64)
    blk = np.empty(k_steps, dtype=np.int64)
    blk2 = np.empty(k_steps, dtype=np.int64)
    run_level = np.empty(longest, dtype=np.int64)
    run_start = np.empty(longest, dtype=np.int64)
    run_end = np.empty(longest, dtype=np.int64)
    for c in range(n_c):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        _order_ties(ts, step, lo, hi, order)
        best, chosen, runs = -1, -1, 0
        p = 0
        while p < n:
            if step[order[p]] != 0:
                p += 1
                continue
            q = p
            while q + 1 < n and step[order[q + 1]] == 0:
                q += 1
            level = _attempt(
                order,
                n,
                q,
                step,
                ts,
                key,
                k_steps,
                optional,
                within,
                window,
                strict,
                first,
                end,
                end_key,
                end2,
                blk,
                blk2,
            )
            run_level[runs] = level
            run_start[runs] = ts[order[q]]
            run_end[runs] = end[level]
            runs += 1
            if level > best:
                a, b = p, q
                while a < b:
                    mid = (a + b) // 2
                    got = _attempt(
                        order,
                        n,
                        mid,
                        step,
                        ts,
                        key,
                        k_steps,
                        optional,
                        within,
                        window,
                        strict,
                        first,
                        end,
                        end_key,
                        end2,
                        blk,
                        blk2,
                    )
                    if got >= level:
                        b = mid
                    else:
                        a = mid + 1
                best, chosen = level, a
            if best == k_steps - 1:
                break
            p = q + 1
        out_level[c] = best
        out_open[c] = False
        if best < 0:
            continue
        _attempt(
            order,
            n,
            chosen,
            step,
            ts,
            key,
            k_steps,
            optional,
            within,
            window,
            strict,
            first,
            end,
            end_key,
            end2,
            blk,
            blk2,
        )
        for k in range(k_steps):
            out_first[c, k] = first[k]
        if best == k_steps - 1:
            continue
        for i in range(runs):
            if run_level[i] != best:
                continue
            if window >= 0 and now - run_start[i] > window:
                continue
            if within[best + 1] >= 0 and now - run_end[i] > within[best + 1]:
                continue
            out_open[c] = True
            break


@nb.njit(cache=True)
def any_order_funnel(
    offsets: np.ndarray,
    step: np.ndarray,
    ts: np.ndarray,
    k_steps: int,
    optional: np.ndarray,
    window: int,
    now: int,
    out_level: np.ndarray,
    out_open: np.ndarray,
) -> None:
    """Per customer: furthest step j whose event and all required earlier steps fit a window."""
    n_c = len(offsets) - 1
    nearest = np.empty(k_steps, dtype=np.int64)
    latest_start = np.empty(k_steps, dtype=np.int64)
    for c in range(n_c):
        lo, hi = offsets[c], offsets[c + 1]
        for k in range(k_steps):
            nearest[k] = NONE
            latest_start[k] = NONE
        best = -1
        g_end = hi
        while g_end > lo:
            g_start = g_end - 1
            while g_start > lo and ts[g_start - 1] == ts[g_end - 1]:
                g_start -= 1
            t0 = ts[g_start]
            for r in range(g_start, g_end):
                if step[r] >= 0:
                    nearest[step[r]] = t0
            need = t0
            level = -1
            for j in range(k_steps):
                reach = nearest[j] != NONE
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
        out_level[c] = best
        last = k_steps - 1
        out_open[c] = 0 <= best < last and (window < 0 or now - latest_start[best] <= window)


@nb.njit(cache=True)
def tie_order(offsets: np.ndarray, ts: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A permutation of time-sorted rows that puts each customer's same-time rows in key order."""
    n = offsets[-1]
    out = np.empty(n, dtype=np.int64)
    buf = np.empty(n, dtype=np.int64)
    for c in range(len(offsets) - 1):
        lo, hi = offsets[c], offsets[c + 1]
        _order_ties(ts, key, lo, hi, buf)
        out[lo:hi] = buf[: hi - lo]
    return out
