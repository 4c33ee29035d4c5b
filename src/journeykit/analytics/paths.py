"""Which routes customers really take: path variants and milestone-to-milestone transitions.

Per customer the milestones reached in time order (ties in journey order), consecutive repeats
collapsed (DESIGN "Paths"). Variants are counted with a 128-bit polynomial hash of each sequence,
so a million customers never become a million Python tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.analytics.columns import group_rows
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.milestones import Events, MilestoneFrame, milestone_frame
from journeykit.analytics.quantiles import median
from journeykit.analytics.results import _Tabular
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir

_BASES = (np.uint64(1_000_003), np.uint64(998_244_353))


@dataclass(frozen=True)
class Variant:
    steps: tuple[str, ...]
    customers: int
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "customers": self.customers, "share": self.share}


@dataclass(frozen=True)
class Transition:
    from_: str
    to: str
    count: int
    median_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_,
            "to": self.to,
            "count": self.count,
            "median_seconds": self.median_seconds,
        }


@dataclass(frozen=True)
class PathsResult(_Tabular):
    customers: int
    variants: tuple[Variant, ...]
    transitions: tuple[Transition, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"steps": " > ".join(v.steps), "customers": v.customers, "share": v.share}
            for v in self.variants
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "variants": [v.to_dict() for v in self.variants],
            "transitions": [t.to_dict() for t in self.transitions],
        }


def tie_order(cust: np.ndarray, ts: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A permutation of a log sorted by customer then time that puts each customer's same-time
    rows in ``key`` order (stably). Only tied rows are sorted, in numpy: a compiled kernel here
    cost `paths` numba's start-up (about 0.5 s) for a sort that touches few rows."""
    order = np.arange(len(ts))
    if len(ts) < 2:
        return order
    same = (ts[1:] == ts[:-1]) & (cust[1:] == cust[:-1])
    if not same.any():
        return order
    group = np.cumsum(np.r_[True, ~same]) - 1
    tied = np.flatnonzero(np.bincount(group)[group] > 1)
    order[tied] = tied[np.lexsort((key[tied], group[tied]))]
    return order


def _collapsed(frame: MilestoneFrame) -> tuple[np.ndarray, ...]:
    """Runs of the same milestone per customer: (cust, milestone, first ts, last ts)."""
    n = len(frame.ts)
    order = tie_order(frame.cust, frame.ts, frame.milestone)
    cust, m, ts = frame.cust[order], frame.milestone[order], frame.ts[order]
    new_run = np.r_[True, (cust[1:] != cust[:-1]) | (m[1:] != m[:-1])] if n else np.zeros(0, bool)
    starts = np.flatnonzero(new_run)
    ends = np.r_[starts[1:] - 1, n - 1] if n else starts
    return cust[starts], m[starts], ts[starts], ts[ends]


def paths(
    events: Events,
    journey: Journey,
    *,
    top: int | None = 20,
    now: datetime | None = None,
) -> PathsResult:
    """The most common milestone sequences and every directly-follows transition."""
    frame = milestone_frame(events, journey, now=now)
    cust, m, t_first, t_last = _collapsed(frame)
    ids = [x.id for x in journey.milestones]
    total = int((cust[1:] != cust[:-1]).sum()) + 1 if len(cust) else 0  # cust is sorted
    return PathsResult(
        customers=total,
        variants=_variants(cust, m, ids, total, top),
        transitions=_transitions(cust, m, t_first, t_last, ids),
    )


def _variants(
    cust: np.ndarray, m: np.ndarray, ids: list[str], total: int, top: int | None
) -> tuple[Variant, ...]:
    if not len(cust):
        return ()
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    pos = np.arange(len(cust)) - np.repeat(starts, np.diff(np.r_[starts, len(cust)]))
    keys = []
    with np.errstate(over="ignore"):
        for base in _BASES:
            powers = np.cumprod(np.r_[np.uint64(1), np.full(pos.max(), base, dtype=np.uint64)])
            terms = (m.astype(np.uint64) + np.uint64(1)) * powers[pos]
            keys.append(np.add.reduceat(terms, starts))
    lengths = np.diff(np.r_[starts, len(cust)])
    group, first = group_rows(np.stack([keys[0], keys[1], lengths.astype(np.uint64)], axis=1))
    counts = np.bincount(group)
    if top is not None and 0 < top < len(counts):
        # Only variants as common as the top-th one can rank (ties at it are broken by the
        # steps): their steps are spelled out, not every variant's (44k on a 1.15M-customer log).
        kept = np.flatnonzero(counts >= np.partition(counts, len(counts) - top)[len(counts) - top])
        counts, first = counts[kept], first[kept]
    seqs = [tuple(ids[i] for i in m[starts[f] : starts[f] + lengths[f]]) for f in first]
    ranked = sorted(zip(counts.tolist(), seqs, strict=True), key=lambda x: (-x[0], x[1]))
    chosen = ranked if top is None else ranked[:top]
    return tuple(Variant(seq, n, n / total) for n, seq in chosen)


def _transitions(
    cust: np.ndarray, m: np.ndarray, t_first: np.ndarray, t_last: np.ndarray, ids: list[str]
) -> tuple[Transition, ...]:
    follows = cust[1:] == cust[:-1]
    if not follows.any():
        return ()
    a, b = m[:-1][follows].astype(np.int64), m[1:][follows].astype(np.int64)
    gap = (t_first[1:][follows] - t_last[:-1][follows]) / 1e6
    pair = a * len(ids) + b
    # Pairs that fit 16 bits sort stably by numpy's radix sort, in one pass (a tenth of `paths`).
    order = np.argsort(pair.astype(np.int16) if len(ids) ** 2 <= 2**15 else pair, kind="stable")
    pair, gap = pair[order], gap[order]
    cuts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    out = []
    for lo, hi in zip(cuts, np.r_[cuts[1:], len(pair)], strict=True):
        p = int(pair[lo])
        out.append(
            Transition(ids[p // len(ids)], ids[p % len(ids)], int(hi - lo), median(gap[lo:hi]))
        )
    return tuple(sorted(out, key=lambda t: (-t.count, t.from_, t.to)))


def event_paths(
    events: ir.Table,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    top: int | None = 20,
    now: datetime | None = None,
) -> PathsResult:
    """Variants and transitions over raw event names, for a Sankey of what people actually do.

    ``only`` keeps just those events, ``skip`` drops those (noise such as page views); the rest is
    as ``paths``, with ties at one timestamp taken in event-name order.
    """
    t = events
    if now is not None:
        t = t.filter(t.timestamp <= now)
    if only:
        t = t.filter(t.event.isin(list(only)))
    if skip:
        t = t.filter(~t.event.isin(list(skip)))
    table = to_arrow(
        t.select("customer_id", "event", "timestamp").order_by(
            ["customer_id", "timestamp", "event"]
        )
    )
    n = table.num_rows
    if not n:
        return PathsResult(customers=0, variants=(), transitions=())
    ids_col = table.column("customer_id").combine_chunks()
    cust_change = pc.not_equal(ids_col.slice(1), ids_col.slice(0, n - 1)).to_numpy(
        zero_copy_only=False
    )
    cust = np.r_[0, np.cumsum(cust_change)].astype(np.int64)
    encoded = table.column("event").combine_chunks().dictionary_encode()
    names = [str(x) for x in encoded.dictionary.to_pylist()]
    code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    stamps = table.column("timestamp").combine_chunks().cast(pa.timestamp("us"))
    ts = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
    new_run = np.r_[True, (cust[1:] != cust[:-1]) | (code[1:] != code[:-1])]
    starts = np.flatnonzero(new_run)
    ends = np.r_[starts[1:] - 1, n - 1]
    c, m, t_first, t_last = cust[starts], code[starts], ts[starts], ts[ends]
    total = int(cust[-1]) + 1
    return PathsResult(
        customers=total,
        variants=_variants(c, m, names, total, top),
        transitions=_transitions(c, m, t_first, t_last, names),
    )
