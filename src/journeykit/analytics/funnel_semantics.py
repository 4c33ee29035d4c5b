"""A funnel with a peer's meaning: PostHog's or ClickHouse's, on request.

journeykit's own funnel (``analytics.funnel``) is the default; a team moving from PostHog or
ClickHouse asks for ``semantics="posthog"`` or ``"clickhouse"`` and gets that tool's numbers on
the same events (docs/metrics.md "Funnel semantics" has the flag mapping and why the default
differs). This module turns the options into a peer kernel's input: the path's rows, exclusions
with their step ranges, and, for strict funnels, a row for every other event of the customer,
because both peers let any event in between break a strict funnel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from journeykit.analytics.errors import FunnelOptionError
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.funnel_names import CLICKHOUSE_MODES, SEMANTICS
from journeykit.analytics.kernels.bundles import StepArrays
from journeykit.analytics.milestones import AnalyticsError, MilestoneFrame
from journeykit.analytics.windows import CalendarMonths, Resolved
from journeykit.journey.schema import Journey, JourneyPath


@dataclass(frozen=True)
class Exclusion:
    """A milestone that breaks an attempt between path steps ``from_step`` and ``to_step``
    (1-based; None: the whole path), as PostHog's exclusion steps do."""

    milestone: str
    from_step: int | None = None
    to_step: int | None = None

    @property
    def scoped(self) -> bool:
        return self.from_step is not None

    def steps(self, k_steps: int) -> tuple[int, int]:
        """The range as (from, to), 1-based, the whole path when not scoped."""
        return (self.from_step or 1, self.to_step or k_steps)


_SCOPED = re.compile(r"^(?P<m>[^:]+):(?P<a>\d+)-(?P<b>\d+)$")


def parse_exclusion(text: str | Exclusion) -> Exclusion:
    """``cancelled`` or ``cancelled:1-3`` (between path steps 1 and 3) as an Exclusion."""
    if isinstance(text, Exclusion):
        return text
    found = _SCOPED.match(text)
    if found is None:
        if ":" in text:
            raise FunnelOptionError(
                "exclude",
                f"exclude: {text!r} is not MILESTONE or MILESTONE:FROM-TO (e.g. cancelled:1-3)",
            )
        return Exclusion(text)
    return Exclusion(found["m"], int(found["a"]), int(found["b"]))


def check_options(
    semantics: str,
    mode: str,
    chosen: JourneyPath,
    exclusions: Sequence[Exclusion],
    flags: Sequence[str],
) -> None:
    """Refuse combinations a peer does not have, naming what was expected."""
    if semantics not in SEMANTICS:
        raise FunnelOptionError(
            "semantics", f"unknown semantics {semantics!r}; expected one of {SEMANTICS}"
        )
    unknown = [f for f in flags if f not in CLICKHOUSE_MODES]
    if unknown:
        raise FunnelOptionError(
            "clickhouse",
            f"unknown ClickHouse mode {unknown[0]!r}; "
            f"expected some of {', '.join(CLICKHOUSE_MODES)}",
        )
    if flags and semantics != "clickhouse":
        raise FunnelOptionError("clickhouse", "ClickHouse modes need semantics 'clickhouse'")
    if "allow_reentry" in flags and not ("strict_order" in flags or mode == "strict"):
        raise FunnelOptionError(
            "clickhouse", "allow_reentry needs strict_order (ClickHouse's rule)"
        )
    k = len(chosen.steps)
    named = [ex.milestone for ex in exclusions]
    if len(set(named)) < len(named):
        raise FunnelOptionError(
            "exclude", "exclude: a milestone is given twice; give each one range"
        )
    for ex in exclusions:
        a, b = ex.steps(k)
        if ex.scoped and semantics != "posthog":
            raise FunnelOptionError(
                "exclude",
                f"exclude {ex.milestone}:{a}-{b}: a step range is PostHog semantics; "
                "pass semantics 'posthog' (journeykit's exclusions hold between every pair "
                "of steps)",
            )
        if not 1 <= a < b <= k:
            raise FunnelOptionError(
                "exclude",
                f"exclude {ex.milestone}:{a}-{b}: expected 1 <= FROM < TO <= {k} "
                "(steps of the path)",
            )
    if semantics == "clickhouse":
        _check_clickhouse(mode, chosen, exclusions)
    if semantics == "posthog" and mode == "any":
        if any(ex.steps(k) != (1, k) for ex in exclusions):
            raise FunnelOptionError(
                "exclude", "PostHog's unordered funnel takes exclusions over the whole path"
            )
        if any(s.optional for s in chosen.steps):
            raise FunnelOptionError("mode", "PostHog's unordered funnel has no optional steps")
    if semantics == "posthog" and any(s.within for s in chosen.steps):
        raise FunnelOptionError(
            "semantics", "PostHog semantics has one window for the whole funnel, no step's own"
        )


def _check_clickhouse(mode: str, chosen: JourneyPath, exclusions: Sequence[Exclusion]) -> None:
    if mode == "any":
        raise FunnelOptionError(
            "mode", "ClickHouse's windowFunnel is ordered; use mode 'ordered' or 'strict'"
        )
    if exclusions:
        raise FunnelOptionError("exclude", "ClickHouse's windowFunnel has no exclusions")
    if any(s.optional or s.within for s in chosen.steps):
        raise FunnelOptionError(
            "semantics",
            "ClickHouse's windowFunnel has no optional steps or per-step windows; this path has",
        )


@dataclass(frozen=True)
class PeerRun:
    """Per customer who entered: furthest step (0-based), steps passed (customers x steps)."""

    level: np.ndarray
    passed: np.ndarray
    customers: np.ndarray


def run_peer(
    frame: MilestoneFrame,
    journey: Journey,
    chosen: JourneyPath,
    *,
    semantics: str,
    mode: str,
    window_us: int,
    exclusions: Sequence[Exclusion],
    flags: Sequence[str],
    now: datetime | None,
) -> PeerRun:
    """The funnel of ``chosen`` as the peer computes it."""
    from journeykit.analytics.kernels import clickhouse, posthog  # numba: only for a peer

    ids = list(chosen.milestone_ids)
    k = len(ids)
    strict_order = mode == "strict"
    others = strict_order or "strict_order" in flags
    rows = _rows(frame, journey, ids, exclusions, others=others, now=now)
    if semantics == "clickhouse":
        got = clickhouse.clickhouse_funnel(
            rows,
            k,
            window_us,
            clickhouse.Flags(
                strict_order=others,
                strict_deduplication="strict_deduplication" in flags,
                strict_increase="strict_increase" in flags,
                allow_reentry="allow_reentry" in flags,
            ),
        )
        level = got.level
        passed = level[:, None] >= np.arange(k)[None, :]
    elif mode == "any":
        bits = _exclusion_bits(exclusions, k)
        level = posthog.posthog_unordered(rows, k, window_us, bits) - 1
        passed = level[:, None] >= np.arange(k)[None, :]
    else:
        optional = np.array([False, *(s.optional for s in chosen.steps)], dtype=np.bool_)
        reach = posthog.posthog_ordered(
            rows,
            k,
            posthog.PostHogSteps(optional, _exclusion_bits(exclusions, k), window_us, strict_order),
        )
        level = reach.furthest - 1  # -2 (dropped by an exclusion) and -1 (none): not entered
        passed = (reach.passed[:, None] >> np.arange(k)[None, :]) & 1 == 1
    entered = level >= 0
    return PeerRun(level[entered], passed[entered], frame.customer_ids[entered])


def _exclusion_bits(exclusions: Sequence[Exclusion], k: int) -> np.ndarray:
    """Per exclusion, the step numbers s (bit s) whose wait it breaks: from+1..to, as PostHog."""
    bits = np.zeros(max(len(exclusions), 1), dtype=np.int64)
    for e, ex in enumerate(exclusions):
        a, b = ex.steps(k)
        for s in range(a + 1, b + 1):
            bits[e] |= 1 << s
    return bits


def _rows(
    frame: MilestoneFrame,
    journey: Journey,
    ids: list[str],
    exclusions: Sequence[Exclusion],
    *,
    others: bool,
    now: datetime | None,
) -> StepArrays:
    """The frame's rows of the path (code = step) and exclusions (code = EXCLUSION_BASE - e),
    with, when ``others``, one row (code OTHER) per event that is neither."""
    from journeykit.analytics.kernels import posthog

    index = {m.id: i for i, m in enumerate(journey.milestones)}
    code = np.full(len(journey.milestones), -2, dtype=np.int16)
    for k, mid in enumerate(ids):
        code[index[mid]] = k
    for e, ex in enumerate(exclusions):
        code[index[ex.milestone]] = posthog.EXCLUSION_BASE - e
    step = code[frame.milestone]
    keep = step != -2
    cust, ts, key, step = frame.cust[keep], frame.ts[keep], frame.event_key[keep], step[keep]
    if others:
        measured = [*ids, *(x.milestone for x in exclusions)]
        o_cust, o_ts = _other_events(frame, journey, measured, now)
        start = (int(key.max()) + 1) if len(key) else 0
        cust = np.concatenate([cust, o_cust])
        ts = np.concatenate([ts, o_ts])
        key = np.concatenate([key, np.arange(start, start + len(o_cust), dtype=np.int64)])
        step = np.concatenate([step, np.full(len(o_cust), posthog.OTHER, dtype=np.int16)])
        order = np.lexsort((ts, cust))
        cust, ts, key, step = cust[order], ts[order], key[order], step[order]
    offsets = np.searchsorted(cust, np.arange(frame.customers + 1)).astype(np.int64)
    return StepArrays(offsets=offsets, step=step, time_us=ts, key=key, shared=True)


def _other_events(
    frame: MilestoneFrame, journey: Journey, ids: list[str], now: datetime | None
) -> tuple[np.ndarray, np.ndarray]:
    """(customer row, time) of every event of the frame's customers that reaches none of ``ids``."""
    if frame.events is None:
        raise AnalyticsError("a strict peer funnel needs the events: this milestone log has none")
    import ibis

    from journeykit.analytics.compile import compile_rule

    t = frame.events
    if now is not None:
        t = t.filter(t.timestamp <= now)
    rules = [journey.milestone(m).when for m in ids]
    hit = ibis.or_(*(compile_rule(t, r) for r in rules if r is not None))
    table = to_arrow(t.filter(~hit).select("customer_id", "timestamp"))
    where = {c: i for i, c in enumerate(frame.customer_ids.tolist())}
    cust = np.array([where.get(c, -1) for c in table.column("customer_id").to_pylist()], np.int64)
    stamps = table.column("timestamp").cast("timestamp[us]").cast("int64").to_numpy()
    mine = cust >= 0
    return cust[mine], stamps[mine].astype(np.int64)


def peer_window(window: Resolved, semantics: str) -> timedelta | None:
    """The window as the peer reads it. PostHog's funnels (``FunnelUDF.conversion_window_limit``)
    take a month as 31 days (``posthog/utils.py`` ``DATERANGE_MAP``); ClickHouse's windowFunnel
    takes seconds, so it has no calendar month."""
    if not isinstance(window, CalendarMonths):
        return window
    if semantics == "clickhouse":
        raise FunnelOptionError(
            "window",
            "ClickHouse's windowFunnel takes its window in seconds, not calendar months; "
            "give a duration such as 31d",
        )
    return timedelta(days=31 * window.months)


def window_us(window: timedelta | None) -> int:
    return -1 if window is None else int(window / timedelta(microseconds=1))
