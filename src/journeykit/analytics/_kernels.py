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
    back = s - 1
    while back >= 0 and ts[order[back]] == start:
        # Exclusions sort first among same-time rows; one at the start's time still counts.
        if step[order[back]] == EXCLUDED:
            last_excl = start
        back -= 1
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
                    # An event at two steps always goes to the exact search, so end[j] is
                    # never this row's own event: no second-latest end is needed.
                    cand, cblk = end[j], blk[j]
                    ok = True
                    if within[k] >= 0 and t - cand > within[k]:
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
        if passed_from >= 0:
            for m in range(passed_from + 1, k + 1):
                if first[m] == NONE:
                    first[m] = t
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
    shared: bool,
    out_level: np.ndarray,
    out_open: np.ndarray,
    out_first: np.ndarray,
) -> int:
    """Per customer: furthest step (-1: never started), whether it is still open, step times.

    ``shared``: some events carry several tags (``key`` repeats), so customers with such an event
    get the exact search. Returns how many customers had too many such events at one time.
    """
    n_c = len(offsets) - 1
    too_many = 0
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
    ev = np.empty(longest if shared else 0, dtype=np.int64)
    copy = np.empty(longest if shared else 0, dtype=np.int64)
    bit = np.empty(longest if shared else 0, dtype=np.int64)
    can_follow = _can_follow(k_steps, optional)
    for c in range(n_c):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        _order_ties(ts, step, lo, hi, order)
        if shared:
            flag, _ = _name_events(order, n, step, ts, key, ev, copy, bit, 0)
            if flag == TOO_MANY:
                too_many += 1
                out_level[c] = -1
                out_open[c] = False
                continue
            if flag == AMBIGUOUS:
                level, is_open, over = _exact_customer(
                    order, n, step, ts, ev, bit, k_steps, can_follow, within, window, strict,
                    now, first,
                )  # fmt: skip
                too_many += 1 if over else 0
                out_level[c] = level
                out_open[c] = is_open
                if level >= 0:
                    for k in range(k_steps):
                        out_first[c, k] = first[k]
                continue
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
    return too_many


@nb.njit(cache=True)
def any_order_funnel(
    offsets: np.ndarray,
    step: np.ndarray,
    ts: np.ndarray,
    key: np.ndarray,
    k_steps: int,
    optional: np.ndarray,
    window: int,
    now: int,
    shared: bool,
    out_level: np.ndarray,
    out_open: np.ndarray,
) -> int:
    """Per customer: furthest step j whose event and all required earlier steps fit a window.

    With ``shared`` keys, customers with an event of several tags get the exact matching search.
    Returns how many customers had too many such events at one time.
    """
    n_c = len(offsets) - 1
    nearest = np.empty(k_steps, dtype=np.int64)
    latest_start = np.empty(k_steps, dtype=np.int64)
    too_many = 0
    longest = 0
    if shared:
        for c in range(n_c):
            longest = max(longest, offsets[c + 1] - offsets[c])
    order = np.empty(longest, dtype=np.int64)
    ev = np.empty(longest, dtype=np.int64)
    copy = np.empty(longest, dtype=np.int64)
    bit = np.empty(longest, dtype=np.int64)
    for c in range(n_c):
        lo, hi = offsets[c], offsets[c + 1]
        if shared:
            n = hi - lo
            _order_ties(ts, step, lo, hi, order)
            flag, _ = _name_events(order, n, step, ts, key, ev, copy, bit, 0)
            if flag == TOO_MANY:
                too_many += 1
                out_level[c] = -1
                out_open[c] = False
                continue
            if flag == AMBIGUOUS:
                tsp = np.empty(n, dtype=np.int64)
                stp = np.empty(n, dtype=np.int64)
                for p in range(n):
                    tsp[p] = ts[order[p]]
                    stp[p] = step[order[p]]
                out_level[c], out_open[c] = _exact_any(
                    n, tsp, stp, ev, k_steps, optional, window, now
                )
                continue
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
    return too_many


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


# ----------------------------------------------------------------------------- exact search
#
# When one event reaches several milestones of the path (overlapping rules), "one event serves one
# step" makes the latest-end summary above inexact: whether a row may extend an attempt depends on
# which events the attempt already used at that timestamp. Those customers (rare: it needs two
# tags on one event) get an exact dynamic programme over (row, events used at the row's time).

MAX_STATES = 64
AMBIGUOUS = 1
TOO_MANY = -1


@nb.njit(cache=True)
def _name_events(
    order: np.ndarray,
    n: int,
    step: np.ndarray,
    ts: np.ndarray,
    key: np.ndarray,
    ev: np.ndarray,
    copy: np.ndarray,
    bit: np.ndarray,
    next_id: int,
) -> tuple[int, int]:
    """Names the events behind one customer's rows (tie order) and flags overlapping tags.

    Rows of one event share its key and time. Identical events share a key too; they are told
    apart as copies (the i-th row of a key at a step belongs to copy i), which is exact because
    copies are interchangeable. ``bit[p]`` numbers, within a time group, the events that have more
    than one row (-1 otherwise). Returns (AMBIGUOUS, 0 or TOO_MANY, next free event id).
    """
    flag = 0
    g0 = 0
    while g0 < n:
        g1 = g0 + 1
        while g1 < n and ts[order[g1]] == ts[order[g0]]:
            g1 += 1
        for p in range(g0, g1):
            r = order[p]
            c = 0
            for q in range(g0, p):
                if key[order[q]] == key[r] and step[order[q]] == step[r]:
                    c += 1
            copy[p] = c
            ev[p] = -1
            for q in range(g0, p):
                if key[order[q]] == key[r] and copy[q] == c:
                    ev[p] = ev[q]
                    break
            if ev[p] == -1:
                ev[p] = next_id
                next_id += 1
            bit[p] = -1
        bits = 0
        for p in range(g0, g1):
            if bit[p] != -1:
                continue
            many = False
            for q in range(p + 1, g1):
                if ev[q] == ev[p]:
                    many = True
                    break
            if not many:
                continue
            if bits >= 62:
                return TOO_MANY, next_id
            for q in range(p, g1):
                if ev[q] == ev[p]:
                    bit[q] = bits
            bits += 1
            flag = AMBIGUOUS
        g0 = g1
    return flag, next_id


@nb.njit(cache=True)
def _local_arrays(
    order: np.ndarray,
    n: int,
    step: np.ndarray,
    ts: np.ndarray,
    k_steps: int,
    tsp: np.ndarray,
    stp: np.ndarray,
    gs: np.ndarray,
    ge: np.ndarray,
    excl: np.ndarray,
    path_pref: np.ndarray,
    step_pref: np.ndarray,
) -> None:
    """Per position: time, step, its time group's bounds, and prefix counts of row kinds."""
    for p in range(n):
        tsp[p] = ts[order[p]]
        stp[p] = step[order[p]]
    g0 = 0
    while g0 < n:
        g1 = g0 + 1
        while g1 < n and tsp[g1] == tsp[g0]:
            g1 += 1
        for p in range(g0, g1):
            gs[p] = g0
            ge[p] = g1
        g0 = g1
    excl[0] = 0
    path_pref[0] = 0
    for c in range(k_steps):
        step_pref[c, 0] = 0
    for p in range(n):
        excl[p + 1] = excl[p] + (1 if stp[p] == EXCLUDED else 0)
        path_pref[p + 1] = path_pref[p] + (1 if stp[p] >= 0 else 0)
        for c in range(k_steps):
            step_pref[c, p + 1] = step_pref[c, p] + (1 if stp[p] == c else 0)


@nb.njit(cache=True)
def _exact_attempt(
    s: int,
    n: int,
    tsp: np.ndarray,
    stp: np.ndarray,
    ev: np.ndarray,
    bit: np.ndarray,
    gs: np.ndarray,
    ge: np.ndarray,
    excl: np.ndarray,
    path_pref: np.ndarray,
    step_pref: np.ndarray,
    k_steps: int,
    can_follow: np.ndarray,
    within: np.ndarray,
    window: int,
    strict: bool,
    states: np.ndarray,
    nstates: np.ndarray,
    first: np.ndarray,
) -> tuple[int, int, bool]:
    """Every attempt from the start at position ``s``: (furthest step, latest end there, overflow).

    A state is an attempt's last use (a position) with the set of multi-row events it used at that
    position's time; events at other times can never be used again (one event, one timestamp).
    """
    t0 = tsp[s]
    for p in range(s, n):
        nstates[p] = 0
    states[s, 0] = (1 << bit[s]) if bit[s] >= 0 else 0
    nstates[s] = 1
    for k in range(k_steps):
        first[k] = NONE
    first[0] = t0
    best, best_end, overflow = 0, t0, False
    for u in range(s + 1, n):
        tu = tsp[u]
        if window >= 0 and tu - t0 > window:
            break
        b = stp[u]
        if b <= 0:
            continue
        ubit = (1 << bit[u]) if bit[u] >= 0 else 0
        for i in range(s, u):
            if nstates[i] == 0:
                continue
            a = stp[i]
            if not can_follow[a, b]:
                continue
            ti = tsp[i]
            if within[b] >= 0 and tu - ti > within[b]:
                continue
            if excl[ge[u]] - excl[gs[i]] > 0:
                continue
            if strict:
                lo, hi = i + 1, u
                blockers = (path_pref[hi] - path_pref[lo]) - (step_pref[a, hi] - step_pref[a, lo])
                blockers -= step_pref[b, hi] - step_pref[b, lo]
                if blockers > 0:
                    # The two events' own other rows are not blockers.
                    for q in range(lo, min(ge[i], hi)):
                        own = ev[q] == ev[i] or ev[q] == ev[u]
                        if own and stp[q] >= 0 and stp[q] != a and stp[q] != b:
                            blockers -= 1
                    if gs[u] != gs[i]:
                        for q in range(gs[u], hi):
                            own = ev[q] == ev[i] or ev[q] == ev[u]
                            if own and stp[q] >= 0 and stp[q] != a and stp[q] != b:
                                blockers -= 1
                if blockers > 0:
                    continue
            same = ti == tu
            for m in range(nstates[i]):
                mask = states[i, m]
                if same and (mask & ubit) != 0:
                    continue
                new = (mask | ubit) if same else ubit
                dominated = False
                for x in range(nstates[u]):
                    if states[u, x] & ~new == 0:
                        dominated = True
                        break
                if dominated:
                    continue
                w = 0
                for x in range(nstates[u]):
                    if new & ~states[u, x] != 0:
                        states[u, w] = states[u, x]
                        w += 1
                if w == MAX_STATES:
                    overflow = True
                    nstates[u] = w
                    continue
                states[u, w] = new
                nstates[u] = w + 1
        if nstates[u] > 0:
            for k in range(1, b + 1):
                if first[k] == NONE:
                    first[k] = tu
            if b >= best:
                best, best_end = b, tu
    return best, best_end, overflow


@nb.njit(cache=True)
def _can_follow(k_steps: int, optional: np.ndarray) -> np.ndarray:
    """can[a, b]: step b may directly follow step a (skipping only optional steps)."""
    can = np.zeros((k_steps, k_steps), dtype=np.bool_)
    for a in range(k_steps):
        for b in range(a + 1, k_steps):
            can[a, b] = True
            if not optional[b]:
                break
    return can


@nb.njit(cache=True)
def _exact_ordered(
    n: int,
    tsp: np.ndarray,
    stp: np.ndarray,
    ev: np.ndarray,
    bit: np.ndarray,
    gs: np.ndarray,
    ge: np.ndarray,
    excl: np.ndarray,
    path_pref: np.ndarray,
    step_pref: np.ndarray,
    k_steps: int,
    can_follow: np.ndarray,
    within: np.ndarray,
    window: int,
    strict: bool,
    now: int,
    states: np.ndarray,
    nstates: np.ndarray,
    first: np.ndarray,
    out_first: np.ndarray,
) -> tuple[int, bool, bool]:
    """One customer by exact search over every start: (furthest step, still open, overflow)."""
    best, chosen = -1, NONE
    is_open, overflow = False, False
    for k in range(k_steps):
        out_first[k] = NONE
    for s in range(n):
        if stp[s] != 0:
            continue
        level, end, over = _exact_attempt(
            s, n, tsp, stp, ev, bit, gs, ge, excl, path_pref, step_pref,
            k_steps, can_follow, within, window, strict, states, nstates, first,
        )  # fmt: skip
        overflow = overflow or over
        t0 = tsp[s]
        if level > best:
            best, chosen, is_open = level, t0, False
            for k in range(k_steps):
                out_first[k] = first[k]
        elif level == best and t0 == chosen:
            for k in range(k_steps):
                if first[k] != NONE and (out_first[k] == NONE or first[k] < out_first[k]):
                    out_first[k] = first[k]
        if level == best and best < k_steps - 1:
            fits = window < 0 or now - t0 <= window
            nxt = within[best + 1]
            if fits and (nxt < 0 or now - end <= nxt):
                is_open = True
    return best, is_open, overflow


@nb.njit(cache=True)
def _matches(
    lo: int,
    hi: int,
    stp: np.ndarray,
    ev: np.ndarray,
    needed: np.ndarray,
    n_needed: int,
    k_steps: int,
    base: int,
    owner: np.ndarray,
    mate: np.ndarray,
    parent_step: np.ndarray,
    parent_ev: np.ndarray,
    queue: np.ndarray,
) -> bool:
    """Whether distinct events in [lo, hi) can serve every needed step (augmenting paths)."""
    for p in range(lo, hi):
        owner[ev[p] - base] = -1
    for c in range(k_steps):
        mate[c] = -1
    for idx in range(n_needed):
        c0 = needed[idx]
        for c in range(k_steps):
            parent_step[c] = -2
        parent_step[c0] = -1
        head, tail = 0, 1
        queue[0] = c0
        found, via = -1, -1
        while head < tail and found < 0:
            c = queue[head]
            head += 1
            for p in range(lo, hi):
                if stp[p] != c:
                    continue
                e = ev[p] - base
                if owner[e] == -1:
                    found, via = e, c
                    break
                c2 = owner[e]
                if parent_step[c2] == -2:
                    parent_step[c2] = c
                    parent_ev[c2] = e
                    queue[tail] = c2
                    tail += 1
        if found < 0:
            return False
        c, e = via, found
        while True:
            owner[e] = c
            mate[c] = e
            if parent_step[c] == -1:
                break
            e = parent_ev[c]
            c = parent_step[c]
    return True


@nb.njit(cache=True)
def _exact_any(
    n: int,
    tsp: np.ndarray,
    stp: np.ndarray,
    ev: np.ndarray,
    k_steps: int,
    optional: np.ndarray,
    window: int,
    now: int,
) -> tuple[int, bool]:
    """Any order for one customer whose events carry several tags: distinct events per step."""
    base, top = 0, 0
    if n:
        base, top = ev[0], ev[0]
        for p in range(n):
            base = min(base, ev[p])
            top = max(top, ev[p])
    owner = np.empty(top - base + 1, dtype=np.int64)
    mate = np.empty(k_steps, dtype=np.int64)
    parent_step = np.empty(k_steps, dtype=np.int64)
    parent_ev = np.empty(k_steps, dtype=np.int64)
    queue = np.empty(k_steps, dtype=np.int64)
    needed = np.empty(k_steps, dtype=np.int64)
    latest = np.full(k_steps, NONE, dtype=np.int64)
    g0 = 0
    while g0 < n:
        t0 = tsp[g0]
        hi = g0
        while hi < n and (window < 0 or tsp[hi] - t0 <= window):
            hi += 1
        for j in range(k_steps):
            m = 0
            for i in range(j):
                if not optional[i]:
                    needed[m] = i
                    m += 1
            needed[m] = j
            if _matches(
                g0, hi, stp, ev, needed, m + 1, k_steps, base, owner, mate, parent_step,
                parent_ev, queue,
            ):  # fmt: skip
                latest[j] = t0
        g1 = g0 + 1
        while g1 < n and tsp[g1] == t0:
            g1 += 1
        g0 = g1
    best = -1
    for j in range(k_steps):
        if latest[j] != NONE:
            best = j
    alive = 0 <= best < k_steps - 1 and (window < 0 or now - latest[best] <= window)
    return best, alive


@nb.njit(cache=True)
def _exact_customer(
    order: np.ndarray,
    n: int,
    step: np.ndarray,
    ts: np.ndarray,
    ev: np.ndarray,
    bit: np.ndarray,
    k_steps: int,
    can_follow: np.ndarray,
    within: np.ndarray,
    window: int,
    strict: bool,
    now: int,
    out_first: np.ndarray,
) -> tuple[int, bool, bool]:
    """Sets up the per-position arrays for one customer and runs the exact ordered search."""
    tsp = np.empty(n, dtype=np.int64)
    stp = np.empty(n, dtype=np.int64)
    gs = np.empty(n, dtype=np.int64)
    ge = np.empty(n, dtype=np.int64)
    excl = np.empty(n + 1, dtype=np.int64)
    path_pref = np.empty(n + 1, dtype=np.int64)
    step_pref = np.empty((k_steps, n + 1), dtype=np.int64)
    _local_arrays(order, n, step, ts, k_steps, tsp, stp, gs, ge, excl, path_pref, step_pref)
    states = np.empty((n, MAX_STATES), dtype=np.int64)
    nstates = np.zeros(n, dtype=np.int64)
    first = np.empty(k_steps, dtype=np.int64)
    return _exact_ordered(
        n, tsp, stp, ev, bit, gs, ge, excl, path_pref, step_pref, k_steps, can_follow, within,
        window, strict, now, states, nstates, first, out_first,
    )  # fmt: skip
