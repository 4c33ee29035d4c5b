"""Status: who is completed, lapsed, stuck, strayed or on track (DESIGN "Status"), and the lists
someone acts on.

The first that applies, in this order:

- ``completed``: the final milestone of the path is reached;
- ``lapsed``: no event of any kind for ``lapsed_after`` (default 90 days) before ``now``;
- ``stuck``: not final, and ``now - reached_at`` is over the threshold: the next milestone's
  ``expected_within``, or, where none is designed, the p90 time from this milestone to the next
  among the customers who reached both (:func:`stuck_thresholds`);
- ``strayed``: any stray (skipped, out of order, backwards, off path; ``analytics.position``);
- ``on_track``.

A list row names the customer's next step and the touchpoints that should move them on: those
designed from their milestone to that next step, else any designed from their milestone (none: a
gap in the design).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.analytics.quantiles import percentiles
from journeykit.analytics.results import NONE, Shared, _Tabular, records_json
from journeykit.journey.schema import Journey, JourneyPath, Touchpoint

if TYPE_CHECKING:
    from journeykit.analytics.position import CustomerPosition, PositionsResult, Stray

STATUSES = ("completed", "lapsed", "stuck", "strayed", "on_track")


def stuck_thresholds(journey: Journey, path: JourneyPath, first: np.ndarray) -> list[float | None]:
    """Per step but the last: seconds a customer may wait for the next step before "stuck".

    ``first`` is customers x steps of first-reach times (microseconds, ``NONE`` if never).
    """
    out: list[float | None] = []
    steps = path.milestone_ids
    for k in range(len(steps) - 1):
        designed = journey.milestone(steps[k + 1]).expected_within
        if designed is not None:
            out.append(designed.total_seconds())
            continue
        both = (first[:, k] != NONE) & (first[:, k + 1] != NONE)
        gaps = (first[both, k + 1] - first[both, k]) / 1e6
        gaps = gaps[gaps >= 0]
        out.append(percentiles(gaps, [90])[0] if len(gaps) else None)
    return out


def judge(
    final: np.ndarray,
    idle_us: np.ndarray,
    waiting_us: np.ndarray,
    limits: Sequence[float | None],
    position: np.ndarray,
    strayed: np.ndarray,
    lapsed_after: timedelta,
) -> np.ndarray:
    """Per customer, the index into ``STATUSES`` of the first status that applies.

    ``idle_us``: now minus their last event of any kind; ``waiting_us``: now minus the time they
    reached their position; ``limits``: per step, the stuck threshold in seconds (None: never).
    """
    limit = np.array([np.nan if x is None else x for x in limits])[position]
    return np.select(
        [
            final,
            idle_us >= lapsed_after / timedelta(microseconds=1),
            ~np.isnan(limit) & (waiting_us / 1e6 > limit),
            strayed,
        ],
        [0, 1, 2, 3],
        4,
    ).astype(np.int64)


def strays_text(strays: Sequence[Stray]) -> str:
    """Strays in one cell: ``skipped:trial; out_of_order:a>b``."""
    return "; ".join(f"{s.type}:{'>'.join(s.milestones)}" for s in strays)


def status_rows(placed: PositionsResult, status: str, top: int | None = None) -> list[int]:
    """Rows of ``placed`` with ``status``: stuck ones longest stuck first, others by customer id
    (ties by id, so the order is the same on every run and engine)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    rows = np.flatnonzero(placed.status == STATUSES.index(status))
    ids = placed.customer_ids[rows]
    # A log is read in id order, so the rows usually are: a sort of the ids as text is spared.
    by_id = rows if _ascending(ids) else rows[np.argsort(ids.astype(str), kind="stable")]
    order = by_id
    if status == "stuck":
        order = by_id[np.argsort(-placed.waiting_seconds[by_id], kind="stable")]
    return list((order if top is None else order[:top]).tolist())


def _ascending(ids: np.ndarray) -> bool:
    """Text ids, each before the next as Python compares text (as numpy sorts it too)."""
    if len(ids) < 2:
        return True
    if ids.dtype != object or set(map(type, ids.tolist())) != {str}:
        return False
    return bool(np.all(ids[:-1] < ids[1:]))


@dataclass(frozen=True)
class StatusList(_Tabular):
    """The customers with one status on a path, in the order someone acts on them.

    The JSON of ``journeykit stuck``, of the web app's lists and of their CSV exports. Each
    customer at a step with a next step carries it (``next``) and the touchpoints designed
    between the two (``touchpoints``): what should move them on.
    """

    path: str
    status: str
    summary: dict[str, int]
    placed: PositionsResult
    order: list[int]  # rows of ``placed``, in the listed order
    next_steps: dict[str, str]  # milestone -> the next step of the path
    touchpoints: dict[str, tuple[Touchpoint, ...]]  # milestone -> touchpoints to the next step

    @cached_property
    def customers(self) -> tuple[CustomerPosition, ...]:
        return tuple(self.placed.row(r) for r in self.order)

    def _customers(self) -> list[dict[str, Any]]:
        moves = self._moves()
        out = self.placed.customer_dicts(np.asarray(self.order, dtype=np.int64))
        for d in out:
            d["next"] = self.next_steps.get(d["milestone"])
            d["touchpoints"] = [dict(t) for t in moves.get(d["milestone"], ())]
        return out

    def _head(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "summary": self.summary}

    def to_dict(self) -> dict[str, Any]:
        return {**self._head(), "customers": self._customers()}

    def json_text(self) -> str:
        """``to_dict()``'s JSON (``results.json_bytes``)."""
        order = np.asarray(self.order, dtype=np.int64)
        at = self.placed.position[order]
        moves = self._moves()
        steps = self.placed.steps
        fields = {
            **self.placed.json_fields(order),
            "next": Shared([self.next_steps.get(m) for m in steps], at),
            "touchpoints": Shared([moves.get(m, []) for m in steps], at),
        }
        return records_json(self._head(), "customers", fields)

    def _moves(self) -> dict[str, list[dict[str, str | None]]]:
        return {
            m: [{"channel": t.channel, "action": t.action, "owner": t.owner} for t in ts]
            for m, ts in self.touchpoints.items()
        }

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for CSV: strays and touchpoints as text (strays left out of stuck lists)."""
        order = np.asarray(self.order, dtype=np.int64)
        ids, at, reached, statuses, days, strays = self.placed.columns(order, strays_as_text=True)
        moves = {
            m: "; ".join(f"{t['channel']}: {t['action']}" for t in ts)
            for m, ts in self._moves().items()
        }
        nxt = [self.next_steps.get(m) for m in at]
        ways = [moves.get(m, "") for m in at]
        columns = zip(ids, at, reached, statuses, days, nxt, strays, ways, strict=True)
        if self.status == "stuck":
            return [
                {"customer_id": c, "milestone": m, "reached_at": t, "status": s, "days_waiting": d,
                 "next": n, "touchpoints": w}
                for c, m, t, s, d, n, _, w in columns
            ]  # fmt: skip
        return [
            {"customer_id": c, "milestone": m, "reached_at": t, "status": s, "days_waiting": d,
             "next": n, "strays": x, "touchpoints": w}
            for c, m, t, s, d, n, x, w in columns
        ]  # fmt: skip


def touchpoints_from(journey: Journey, at: str, nxt: str | None) -> tuple[Touchpoint, ...]:
    """The touchpoints designed from ``at`` to ``nxt``; else every one from ``at``."""
    exact = tuple(t for t in journey.touchpoints if t.from_ == at and t.to == nxt)
    return exact or tuple(t for t in journey.touchpoints if t.from_ == at)


def status_list(
    placed: PositionsResult, journey: Journey, status: str = "stuck", top: int | None = None
) -> StatusList:
    """The customers of ``placed`` with ``status``, with what should move each on."""
    steps = placed.steps
    following = {steps[k]: steps[k + 1] for k in range(len(steps) - 1)}
    moves = {mid: touchpoints_from(journey, mid, nxt) for mid, nxt in following.items()}
    order = status_rows(placed, status, top)
    return StatusList(placed.path, status, placed.summary, placed, order, following, moves)
