"""PostHog's funnel semantics, for a team that wants PostHog's numbers.

PostHog computes a funnel per person with a user-defined function (``funnel-udf``,
``steps.rs`` for ordered and strict funnels, ``unordered_steps.rs`` for unordered). This module
follows those rules; docs/metrics.md "PostHog semantics" says them in words.

Ordered and strict. Walking the person's events by time, ``entered[j]`` is the latest attempt
that completed j steps, with its entry time, whether an exclusion tainted it, the steps it
passed (a bitfield) and the events it used. Every time group re-opens ``entered[0]`` at its time.
An event of step s extends the attempt at the nearest earlier step that is still within the
window of its entry (looking past optional steps only), unless an attempt from the same entry
already reached s. An exclusion scoped to step s taints that attempt instead; the person is
dropped when the attempt that went furthest is tainted. In a strict funnel every event (of any
kind) clears the attempts at steps it does not serve. Several different events at one time are
split into one event per step they serve, in step order, with exclusions and the strict clear
left out (PostHog's own choice for ties). A person counts at step s when the furthest attempt
passed s (its bitfield), so an optional step counts only those who did it.

Unordered (``posthog_unordered``): a sliding window of held events per step, cleared by an
exclusion; PostHog records the count only when events leave the window or at the end.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from journeykit.analytics.kernels.common import NONE, StepArrays, longest_customer, order_ties

OTHER = -3  # an event that serves no step and no exclusion (rows kept for strict funnels)


class PostHogSteps(NamedTuple):
    """The path as PostHog's function takes it. Step numbers s are 1-based, as in PostHog."""

    optional: np.ndarray  # per step number 0..k (index 0 unused): an optional step
    exclusion: np.ndarray  # per exclusion code e (step = -10 - e): bits of the step numbers s
    window: int  # microseconds; -1: none
    strict: bool


class PostHogReached(NamedTuple):
    """Per person: the furthest step number (0: none; -1: dropped by an exclusion), its passed
    steps as bits (bit s-1 for step s), and the furthest attempt's entry time."""

    furthest: np.ndarray
    passed: np.ndarray
    entry: np.ndarray


EXCLUSION_BASE = -10  # row code of exclusion e: EXCLUSION_BASE - e


class Attempts(NamedTuple):
    """``entered[0..k]`` and the furthest attempt (last slot), as columns."""

    ts: np.ndarray  # entry time, NONE when empty
    excluded: np.ndarray
    passed: np.ndarray
    used: np.ndarray  # slots x k: events the attempt used at its required steps
    n_used: np.ndarray


@nb.njit(cache=True)
def _attempts(k: int) -> Attempts:
    return Attempts(
        np.full(k + 2, NONE, dtype=np.int64),
        np.zeros(k + 2, dtype=np.bool_),
        np.zeros(k + 2, dtype=np.int64),
        np.full((k + 2, max(k, 1)), -1, dtype=np.int64),
        np.zeros(k + 2, dtype=np.int64),
    )


@nb.njit(cache=True)
def _copy(a: Attempts, src: int, dst: int) -> None:
    a.ts[dst], a.excluded[dst], a.passed[dst] = a.ts[src], a.excluded[src], a.passed[src]
    a.n_used[dst] = a.n_used[src]
    a.used[dst, :] = a.used[src, :]


@nb.njit(cache=True)
def _clear(a: Attempts, j: int) -> None:
    a.ts[j], a.excluded[j], a.passed[j], a.n_used[j] = NONE, False, 0, 0


@nb.njit(cache=True)
def posthog_ordered(rows: StepArrays, k: int, steps: PostHogSteps) -> PostHogReached:
    """Every person's outcome in an ordered or strict PostHog funnel of ``k`` steps."""
    offsets, ts, code, key = rows.offsets, rows.time_us, rows.step, rows.key
    n_cust = len(offsets) - 1
    out = PostHogReached(
        np.zeros(n_cust, dtype=np.int64),
        np.zeros(n_cust, dtype=np.int64),
        np.full(n_cust, NONE, dtype=np.int64),
    )
    longest = longest_customer(offsets)
    order = np.empty(longest, dtype=np.int64)
    # Per event of a time group: the step numbers it serves and the exclusions it triggers.
    pos = np.empty(longest, dtype=np.int64)
    neg = np.empty(longest, dtype=np.int64)
    ev_id = np.empty(longest, dtype=np.int64)
    a = _attempts(k)
    top = k + 1  # the slot of the furthest attempt
    for c in range(n_cust):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        order_ties(ts, key, lo, hi, order)
        for j in range(k + 2):
            _clear(a, j)
        best = 0
        g0 = 0
        while g0 < n:
            t = ts[order[g0]]
            g1 = g0
            while g1 < n and ts[order[g1]] == t:
                g1 += 1
            n_ev = _group_events(code, key, order, g0, g1, steps.exclusion, pos, neg, ev_id)
            for e in range(n_ev):
                pos[e] <<= 1  # bit s for step number s
            a.ts[0], a.excluded[0], a.passed[0], a.n_used[0] = t, False, 0, 0
            same = True
            for e in range(1, n_ev):
                if pos[e] != pos[0] or neg[e] != neg[0]:
                    same = False
            if same:
                for e in range(n_ev):
                    best = _event(a, k, top, best, t, pos[e], neg[e], ev_id[e], False, steps)
            else:
                for s in range(1, k + 1):
                    for e in range(n_ev):
                        if pos[e] >> s & 1:
                            best = _event(a, k, top, best, t, 1 << s, 0, ev_id[e], True, steps)
            g0 = g1
            if a.ts[k] != NONE:
                break
        if best > 0 and a.excluded[top]:
            out.furthest[c] = -1
        else:
            out.furthest[c] = best
            out.passed[c] = a.passed[top] >> 1
            out.entry[c] = a.ts[top]
    return out


@nb.njit(cache=True)
def _group_events(
    code: np.ndarray,
    key: np.ndarray,
    order: np.ndarray,
    g0: int,
    g1: int,
    exclusion: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
    ev_id: np.ndarray,
) -> int:
    """The events of one time group (rows g0..g1 in key order) into ``pos`` (steps served,
    bit s for 0-based step s), ``neg`` (exclusion step numbers) and ``ev_id``, ordered by
    (pos, neg): PostHog leaves the order of same-time events open; this one is reproducible."""
    n_ev = 0
    p = g0
    while p < g1:
        q, pm, nm, codes = _event_rows(code, key, order, p, g1, exclusion)
        for i in range(max(1, (q - p) // max(1, codes))):  # identical copies
            pos[n_ev], neg[n_ev], ev_id[n_ev] = pm, nm, order[p + i]
            n_ev += 1
        p = q
    for i in range(1, n_ev):
        a, b, e = pos[i], neg[i], ev_id[i]
        j = i - 1
        while j >= 0 and (pos[j] > a or (pos[j] == a and neg[j] > b)):
            pos[j + 1], neg[j + 1], ev_id[j + 1] = pos[j], neg[j], ev_id[j]
            j -= 1
        pos[j + 1], neg[j + 1], ev_id[j + 1] = a, b, e
    return n_ev


@nb.njit(cache=True)
def _event_rows(
    code: np.ndarray, key: np.ndarray, order: np.ndarray, p: int, end: int, exclusion: np.ndarray
) -> tuple[int, int, int, int]:
    """The rows of one key from position p: (one past them, steps as bits, exclusion step
    numbers as bits, distinct codes). Identical events share a key and repeat every code, so
    rows / distinct codes is how many of them there are."""
    q, pm, nm, excl = p, 0, 0, 0
    while q < end and key[order[q]] == key[order[p]]:
        s = code[order[q]]
        if s >= 0:
            pm |= 1 << s
        elif s <= EXCLUSION_BASE:
            nm |= exclusion[EXCLUSION_BASE - s]
            excl |= 1 << (EXCLUSION_BASE - s)
        q += 1
    return q, pm, nm, _bits(pm) + _bits(excl) + (1 if pm == 0 and excl == 0 else 0)


@nb.njit(cache=True)
def _bits(x: int) -> int:
    n = 0
    while x:
        x &= x - 1
        n += 1
    return n


@nb.njit(cache=True)
def _event(
    a: Attempts,
    k: int,
    top: int,
    best: int,
    t: int,
    pos: int,
    neg: int,
    ev: int,
    multiple: bool,
    steps: PostHogSteps,
) -> int:
    """One event (steps.rs ``process_event``): exclusions first, then steps, each highest first.

    ``pos`` and ``neg`` hold bit s for step number s. Returns the furthest step number so far.
    """
    for pass_ in range(2):
        bits = neg if pass_ == 0 else pos
        for s in range(k, 0, -1):
            if not bits >> s & 1:
                continue
            prev = s - 1
            pts = a.ts[prev]
            inw = pts != NONE and (steps.window < 0 or t - pts <= steps.window)
            while prev > 0 and not inw and steps.optional[prev]:
                prev -= 1
                pts = a.ts[prev]
                inw = pts != NONE and (steps.window < 0 or t - pts <= steps.window)
            if not inw or (a.ts[s] == pts and a.ts[s] != NONE):
                continue
            if pass_ == 0:
                if not a.excluded[prev]:
                    a.excluded[prev] = True
                    top_t = a.ts[top]
                    top_in = top_t != NONE and (steps.window < 0 or t - top_t <= steps.window)
                    if best == prev and top_in:
                        a.excluded[top] = True
                continue
            if multiple and _used(a, prev, ev):
                continue
            tainted = a.excluded[prev]
            # The new attempt goes to slot s (unless tainted) and may become the furthest.
            becomes_best = s > best or (s == best and a.excluded[top])
            if not tainted or becomes_best:
                scratch = top if tainted else s
                _copy(a, prev, scratch)
                a.passed[scratch] |= 1 << s
                if not steps.optional[s]:
                    a.used[scratch, a.n_used[scratch]] = ev
                    a.n_used[scratch] += 1
                if becomes_best:
                    if scratch != top:
                        _copy(a, scratch, top)
                    best = s
    if steps.strict and not multiple:
        for j in range(1, k + 1):
            if not pos >> j & 1:
                _clear(a, j)
    return best


@nb.njit(cache=True)
def _used(a: Attempts, j: int, ev: int) -> bool:
    for i in range(a.n_used[j]):  # noqa: SIM110 (numba compiles no generator in any())
        if a.used[j, i] == ev:
            return True
    return False


@nb.njit(cache=True)
def posthog_unordered(rows: StepArrays, k: int, window: int, exclusion: np.ndarray) -> np.ndarray:
    """Per person: the most steps completed (unordered_steps.rs), 0 when none.

    Events are taken one by one in time order. Each step event joins the step it serves whose
    latest event is oldest (a step with none first); before it, events older than the window
    are dropped, oldest first, and the count of distinct steps held is recorded each time one
    is dropped, and after the last event. An exclusion drops everything held, unrecorded.
    """
    offsets, ts, code, key = rows.offsets, rows.time_us, rows.step, rows.key
    n_cust = len(offsets) - 1
    out = np.zeros(n_cust, dtype=np.int64)
    longest = longest_customer(offsets)
    order = np.empty(longest, dtype=np.int64)
    q_t = np.empty(longest, dtype=np.int64)  # held events in arrival (time) order
    q_s = np.empty(longest, dtype=np.int64)
    pos = np.empty(longest, dtype=np.int64)
    neg = np.empty(longest, dtype=np.int64)
    ev_id = np.empty(longest, dtype=np.int64)
    held = np.zeros(max(k, 1), dtype=np.int64)
    back = np.empty(max(k, 1), dtype=np.int64)
    for c in range(n_cust):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        order_ties(ts, key, lo, hi, order)
        held[:] = 0
        back[:] = NONE
        head, tail, steps_held, best = 0, 0, 0, 0
        g0 = 0
        while g0 < n and best < k:
            t = ts[order[g0]]
            g1 = g0
            while g1 < n and ts[order[g1]] == t:
                g1 += 1
            n_ev = _group_events(code, key, order, g0, g1, exclusion, pos, neg, ev_id)
            g0 = g1
            for e in range(n_ev):
                if best >= k:
                    break
                if pos[e] == 0 and neg[e] == 0:
                    continue
                best, head, tail, steps_held = _unordered_event(
                    k, window, t, pos[e], held, back, q_t, q_s, best, head, tail, steps_held
                )
        out[c] = max(best, steps_held)
    return out


@nb.njit(cache=True)
def _unordered_event(
    k: int,
    window: int,
    t: int,
    pm: int,
    held: np.ndarray,
    back: np.ndarray,
    q_t: np.ndarray,
    q_s: np.ndarray,
    best: int,
    head: int,
    tail: int,
    steps_held: int,
) -> tuple[int, int, int, int]:
    """One event of an unordered funnel: (best, head, tail, steps held) after it.

    ``pm`` 0 means an exclusion.
    """
    while head < tail and (steps_held >= k or (window >= 0 and t - q_t[head] > window)):
        best = max(best, steps_held)
        s = q_s[head]
        head += 1
        held[s] -= 1
        if held[s] == 0:
            steps_held -= 1
            back[s] = NONE
    if pm == 0:
        held[:] = 0
        back[:] = NONE
        return best, 0, 0, 0
    chosen = -1
    for s in range(k):
        if pm >> s & 1 and (chosen < 0 or back[s] < back[chosen]):
            chosen = s
    if held[chosen] == 0:
        steps_held += 1
    held[chosen] += 1
    back[chosen] = t
    q_t[tail], q_s[tail] = t, chosen
    return best, head, tail + 1, steps_held
