"""What every funnel kernel reads: the bundled arguments, one customer's rows in tie order, and
the events behind those rows.

The milestone log arrives sorted by customer and time. Rows at one time are put in step order
(exclusions first), which is how DESIGN takes ties. Rows of one event share a key; when one
event reaches several steps, the customer is marked ``AMBIGUOUS`` and gets an exact search
(``exact_ordered``, ``exact_any``) instead of the fast one of its mode.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from journeykit.analytics.kernels.bundles import (
    AMBIGUOUS,
    EXCLUDED,
    MAX_SHARED,
    NONE,
    TOO_MANY,
    Reached,
    StepArrays,
    Steps,
)

__all__ = ["AMBIGUOUS", "EXCLUDED", "MAX_SHARED", "NONE", "TOO_MANY", "Reached", "StepArrays",
           "Steps"]  # fmt: skip

# Kernels read a bundle's fields into locals once per call, and the per-customer loop of a mode
# stays in one function: numba counts a reference each time it takes an array out of a tuple or
# hands one to a call. Done per row or per customer, that made the kernels 2-4x slower.


class Tied(NamedTuple):
    """Scratch for one customer, as long as the longest customer: its rows in tie order."""

    order: np.ndarray  # row numbers in the log, in tie order
    event: np.ndarray  # the event behind each position (named only when the log is shared)
    copy: np.ndarray  # which of identical events (same key, same step) the row belongs to
    bit: np.ndarray  # an event with several rows: its bit within its time group, else -1


class Positions(NamedTuple):
    """One customer's rows in tie order, copied out for an exact search."""

    time_us: np.ndarray
    step: np.ndarray
    event: np.ndarray
    bit: np.ndarray


@nb.njit(cache=True)
def reached(customers: int, k_steps: int) -> Reached:
    """Outputs for ``customers``, each not started until a kernel says otherwise."""
    return Reached(
        np.full(customers, -1, dtype=np.int64),
        np.zeros(customers, dtype=np.bool_),
        np.full((customers, k_steps), NONE, dtype=np.int64),
        0,
    )


@nb.njit(cache=True)
def longest_customer(offsets: np.ndarray) -> int:
    """The most rows any one customer has: the size of per-customer scratch."""
    longest = 0
    for c in range(len(offsets) - 1):
        longest = max(longest, offsets[c + 1] - offsets[c])
    return longest


@nb.njit(cache=True)
def tied_buffers(offsets: np.ndarray) -> Tied:
    longest = longest_customer(offsets)
    return Tied(
        np.empty(longest, dtype=np.int64),
        np.empty(longest, dtype=np.int64),
        np.empty(longest, dtype=np.int64),
        np.empty(longest, dtype=np.int64),
    )


@nb.njit(cache=True)
def order_ties(ts: np.ndarray, rank: np.ndarray, lo: int, hi: int, out: np.ndarray) -> None:
    """Rows lo..hi (time-sorted) into ``out``, same-time rows by ``rank`` (insertion sort)."""
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
            while b >= i and rank[out[b]] > rank[v]:
                out[b + 1] = out[b]
                b -= 1
            out[b + 1] = v
        i = j


@nb.njit(cache=True)
def positions(rows: StepArrays, tied: Tied, n: int) -> Positions:
    """The customer's rows in ``tied`` (events named) as arrays of their own."""
    out = Positions(
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        tied.event[:n].copy(),
        tied.bit[:n].copy(),
    )
    for p in range(n):
        out.time_us[p] = rows.time_us[tied.order[p]]
        out.step[p] = rows.step[tied.order[p]]
    return out


@nb.njit(cache=True)
def name_events(rows: StepArrays, tied: Tied, n: int) -> int:
    """Names the events behind the customer's rows in ``tied.order``: AMBIGUOUS when an event
    has several rows, TOO_MANY when more such events share a time than a mask holds, else 0.

    Rows of one event share its key and time. Identical events share a key too; they are told
    apart as copies (the i-th row of a key at a step belongs to copy i), which is exact because
    copies are interchangeable. ``bit`` numbers, within a time group, the events that have more
    than one row.
    """
    order, ev, copy, bit = tied.order, tied.event, tied.copy, tied.bit
    ts, key, step = rows.time_us, rows.key, rows.step
    flag, next_id = 0, 0
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
            if bits >= MAX_SHARED:
                return TOO_MANY
            for q in range(p, g1):
                if ev[q] == ev[p]:
                    bit[q] = bits
            bits += 1
            flag = AMBIGUOUS
        g0 = g1
    return flag


DAY_US = 86_400_000_000


@nb.njit(cache=True)
def window_from(window: int, months: int, start: int) -> int:
    """The funnel window of an attempt that starts at ``start``: ``window``, or (calendar
    months) up to the same day ``months`` later. It never shrinks as the start moves later,
    which the kernels' scans of runs of starts rely on. Scalars only: handing it the ``Steps``
    bundle cost the ordered kernel 12% in reference counting."""
    if months <= 0:
        return window
    return add_months(start, months) - start


@nb.njit(cache=True)
def add_months(t: int, months: int) -> int:
    """Time ``t`` (UTC microseconds) moved ``months`` calendar months on, to the month's last
    day when it is shorter; days by the civil-calendar arithmetic of H. Hinnant's
    ``days_from_civil``/``civil_from_days``."""
    days = t // DAY_US
    of_day = t - days * DAY_US
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    index = month - 1 + months
    year += index // 12
    month = index % 12 + 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    last = (
        29
        if month == 2 and leap
        else (28 if month == 2 else (30 if month in (4, 6, 9, 11) else 31))
    )
    day = min(day, last)
    y = year - 1 if month <= 2 else year
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * DAY_US + of_day


@nb.njit(cache=True)
def still_open(steps: Steps, level: int, start: int, end: int, window: int) -> bool:
    """An attempt that started at ``start`` and reached ``level`` at ``end`` can go on at now,
    ``window`` being its funnel window (``window_from``)."""
    if level < 0 or level >= len(steps.optional) - 1:
        return False
    if window >= 0 and steps.now - start > window:
        return False
    wait = steps.within[level + 1]
    return bool(wait < 0 or steps.now - end <= wait)
