"""Funnels along a designed path: ordered, strict or any order, with conversion windows.

A customer reaches step k when events e1..ek match steps 1..k with t1 <= ... <= tk and
tk - t1 <= window (DESIGN "Funnel"); the start is the first-step event that goes furthest, ties
earliest. docs/metrics.md settles optional steps, per-step windows, exclusions and `in_progress`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from journeykit.analytics import kernels
from journeykit.analytics.errors import FunnelOptionError
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.funnel_names import Semantics
from journeykit.analytics.funnel_semantics import (
    Exclusion,
    check_options,
    parse_exclusion,
    peer_window,
    run_peer,
    window_us,
)
from journeykit.analytics.kernels import plain
from journeykit.analytics.milestones import (
    AnalyticsError,
    Events,
    MilestoneFrame,
    first_times_only,
    milestone_frame,
    resolve_path,
    since,
)
from journeykit.analytics.results import FunnelResult, FunnelStep, TimeStats
from journeykit.analytics.windows import (
    DEFAULT_WINDOW,
    DESIGNED,
    CalendarMonths,
    Resolved,
    Window,
    resolve_window,
)
from journeykit.journey.schema import Journey, JourneyPath

Mode = Literal["ordered", "strict", "any"]
MODES: tuple[str, ...] = ("ordered", "strict", "any")


def _us(value: timedelta | None) -> int:
    return -1 if value is None else int(value / timedelta(microseconds=1))


def funnel(
    events: Events,
    journey: Journey,
    *,
    path: str | None = None,
    mode: Mode = "ordered",
    window: Window = DEFAULT_WINDOW,
    now: datetime | None = None,
    exclude: Sequence[str | Exclusion] = (),
    by: str | None = None,
    breakdown: dict[str, Sequence[str]] | None = None,
    breakdown_by: str | None = None,
    semantics: Semantics = "journeykit",
    clickhouse: Sequence[str] = (),
    date_from: datetime | None = None,
    breakdown_limit: int | None = None,
    where: Sequence[str] = (),
    cohort: str | None = None,
    aggregate_by: str | None = None,
) -> FunnelResult:
    """How many customers reached each step of ``path`` within ``window``.

    ``window`` is a duration, ``CalendarMonths`` (until the same day N months on), None (no
    window) or ``"designed"`` (default): the path's designed window, the sum of its steps'
    allowances (``analytics.windows``).

    ``events`` is the canonical events table on any engine, or its fetched milestone log.
    ``exclude`` names milestones that break an attempt between two steps (``"m:FROM-TO"`` or an
    ``Exclusion`` scopes one to a range of steps, with PostHog semantics).
    ``semantics`` ``"posthog"`` or ``"clickhouse"`` counts as that tool does (``mode`` strict and
    any map to its strict and unordered funnels); ``clickhouse`` takes windowFunnel's modes
    (``strict_order``, ``strict_deduplication``, ``strict_increase``, ``allow_reentry``).
    ``date_from`` leaves out events before it (with ``now`` as the range's end).
    ``where`` (``BY=LABEL``, e.g. ``persona=team``, ``property:plan=pro``) keeps the customers
    in every such breakdown group; ``cohort`` (``2024-03``, ``2024-W10``) those who first
    reached step 1 in that month or ISO week. ``aggregate_by`` (``property:KEY``) counts the ids
    KEY names (a company, a session) instead of customers; events without KEY are left out and
    counted (``FunnelResult.without_unit``).
    ``by`` (``persona``, ``property:KEY``, ``first:KEY``, ``last:KEY``, ``all:KEY``,
    ``step:N:KEY``, or several of the first four joined by commas) adds the funnel of each group,
    the ``breakdown_limit`` largest kept and the rest in ``(other)``; or pass ``breakdown``, a
    group name -> customer ids mapping of your own.
    """
    # Segments build queries (Ibis): imported only by the options that need them.
    without_unit = 0
    if aggregate_by is not None:
        from journeykit.analytics.segments import aggregated

        if isinstance(events, MilestoneFrame):
            raise AnalyticsError("--aggregate-by needs the events table, not a milestone log")
        if now is None:  # "as of" the latest event of all, not of those with the unit
            now = to_arrow(events.timestamp.max()).as_py()
        events, without_unit = aggregated(events, aggregate_by)
    if date_from is not None:
        events = since(events, date_from)
    chosen = resolve_path(journey, path)
    at_step = None
    if by is not None:
        from journeykit.analytics.segments import breakdowns, parse_step_by, top_groups

        at_step = parse_step_by(by, len(chosen.steps))
        source = events.events if isinstance(events, MilestoneFrame) else events
        if source is None:
            raise AnalyticsError("a breakdown needs the events: this milestone log has none")
        if at_step is None:
            groups_of = breakdowns(source, journey, by, now=now, limit=breakdown_limit)
            breakdown = dict(groups_of)
        breakdown_by = by
    if mode not in MODES:
        raise FunnelOptionError(
            "mode", f"unknown funnel mode {mode!r}; expected one of {', '.join(MODES)}"
        )
    if mode == "any" and exclude and semantics == "journeykit":
        # Exclusions sit between two consecutive steps; any-order attempts have no such order.
        raise FunnelOptionError(
            "exclude", "exclude works with ordered and strict funnels, not with mode 'any'"
        )
    ids = list(chosen.milestone_ids)
    exclusions = [parse_exclusion(x) for x in exclude]
    excluded = [x.milestone for x in exclusions]
    _check_exclusions(journey, ids, excluded)
    check_options(semantics, mode, chosen, exclusions, clickhouse)
    source = "designed" if window == DESIGNED else "given"
    window = resolve_window(journey, chosen, window)
    frame = milestone_frame(events, journey, [*ids, *excluded], now=now)
    firsts = [s.milestone for s in chosen.steps if s.first_time]
    if firsts:
        frame = first_times_only(frame, firsts)
    passed: np.ndarray | None = None
    if semantics == "journeykit":
        level, is_open, times, customers = _run(frame, journey, chosen, mode, window, excluded)
    else:
        peer = run_peer(
            frame,
            journey,
            chosen,
            semantics=semantics,
            mode=mode,
            window_us=window_us(peer_window(window, semantics)),
            exclusions=exclusions,
            flags=clickhouse,
            now=now,
        )
        level, passed, customers, times = peer.level, peer.passed, peer.customers, None
        is_open = np.zeros(len(level), dtype=np.bool_)  # neither peer has open attempts
    if where or cohort is not None:
        keep = _kept(frame, journey, chosen, customers, where, cohort, now)
        level, is_open, customers = level[keep], is_open[keep], customers[keep]
        times = None if times is None else times[keep]
        passed = None if passed is None else passed[keep]
    steps = _steps(journey, chosen, level, is_open, times, passed)
    if at_step is not None:
        served = _by_step(frame, journey, chosen, at_step, customers, times, now)
        limited = served if breakdown_limit is None else top_groups(served, breakdown_limit)
        breakdown = dict(limited)
    groups: dict[str, tuple[FunnelStep, ...]] | None = None
    if breakdown is not None:
        index = {str(c): i for i, c in enumerate(customers)}
        groups = {}
        for name, members in breakdown.items():
            rows = np.array([index[m] for m in members if m in index], dtype=np.int64)
            groups[name] = _steps_of(journey, chosen, level, is_open, times, rows, passed)
    return FunnelResult(
        path=chosen.id,
        mode=mode,
        window=window,
        window_source=source,
        now=frame.now,
        steps=steps,
        customer_ids=customers,
        furthest=level,
        open=is_open,
        step_times=times,
        breakdown=groups,
        breakdown_by=breakdown_by,
        semantics=semantics,
        passed=passed,
        optional=tuple(s.optional for s in chosen.steps),
        filters=(*where, *(() if cohort is None else (f"cohort={cohort}",))),
        aggregate_by=aggregate_by,
        without_unit=without_unit,
    )


def _kept(
    frame: MilestoneFrame,
    journey: Journey,
    chosen: JourneyPath,
    customers: np.ndarray,
    where: Sequence[str],
    cohort: str | None,
    now: datetime | None,
) -> np.ndarray:
    """Which of ``customers`` the ``where`` and ``cohort`` filters keep. Each customer's funnel
    is their own, so filtering after the count equals counting the filtered customers."""
    from journeykit.analytics.segments import cohort_bounds, members_where

    keep = np.ones(len(customers), dtype=np.bool_)
    if where:
        if frame.events is None:
            raise AnalyticsError("--where needs the events: this milestone log has none")
        members = members_where(frame.events, journey, where, now=now)
        assert members is not None
        keep &= np.isin(customers.astype(str), np.array(sorted(members), dtype=str))
    if cohort is not None:
        lo, hi = cohort_bounds(cohort)
        index = {m.id: i for i, m in enumerate(journey.milestones)}
        rows = frame.milestone == index[chosen.milestone_ids[0]]
        entry = np.full(frame.customers, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(entry, frame.cust[rows], frame.ts[rows])
        where_in = {c: i for i, c in enumerate(frame.customer_ids.tolist())}
        mine = entry[[where_in[c] for c in customers.tolist()]]
        keep &= (mine >= lo) & (mine < hi)
    return keep


def _by_step(
    frame: MilestoneFrame,
    journey: Journey,
    chosen: JourneyPath,
    at_step: tuple[int, str],
    customers: np.ndarray,
    times: np.ndarray | None,
    now: datetime | None,
) -> dict[str, list[str]]:
    """``step:N:KEY``: each customer by KEY on the event that served step N of their chosen
    attempt (PostHog's attribution to a step); ``(none)`` when they did not reach it."""
    from journeykit.analytics.segments import step_values

    k, key = at_step
    if times is None:
        raise AnalyticsError(
            "--by step:N:KEY needs the chosen attempt's step times: journeykit semantics, "
            "mode ordered or strict"
        )
    source = frame.events
    assert source is not None  # checked with the breakdown
    if now is not None:
        source = source.filter(source.timestamp <= now)
    rule = journey.milestone(chosen.milestone_ids[k]).when
    assert rule is not None  # a path step without 'when' is refused before
    ids = [str(c) for c in customers]
    return step_values(source, rule, key, ids, times[:, k])


def _check_exclusions(journey: Journey, ids: list[str], exclude: Sequence[str]) -> None:
    for mid in exclude:
        try:
            journey.milestone(mid)
        except KeyError as exc:
            raise FunnelOptionError("exclude", f"exclude: {exc.args[0]}") from None
        if mid in ids:
            raise FunnelOptionError(
                "exclude", f"exclude: {mid!r} is a step of the path; it cannot also exclude"
            )
    for mid in ids:
        if journey.milestone(mid).when is None:
            raise AnalyticsError(f"milestone {mid!r} has no 'when' rule, so it cannot be measured")


def _run(
    frame: MilestoneFrame,
    journey: Journey,
    chosen: JourneyPath,
    mode: str,
    window: Resolved,
    exclude: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    rows = _step_arrays(frame, journey, chosen, exclude)
    k_steps = len(chosen.steps)
    within = [-1] * k_steps if mode == "any" else [_us(s.within) for s in chosen.steps]
    steps = kernels.Steps(
        optional=np.array([s.optional for s in chosen.steps], dtype=np.bool_),
        within=np.array([*within, -1], dtype=np.int64),
        window=0 if isinstance(window, CalendarMonths) else _us(window),
        strict=mode == "strict",
        now=frame.now,
        months=window.months if isinstance(window, CalendarMonths) else 0,
    )
    if mode == "any":
        got = kernels.any_order_funnel(rows, steps)
    elif plain.fits(rows, steps):  # the usual question: no numba to load
        got = plain.ordered_plain(rows, steps)
    else:
        got = kernels.ordered_funnel(rows, steps)
    if got.too_many:
        raise AnalyticsError(
            f"{got.too_many} customer(s) have more than {kernels.MAX_SHARED} events at one "
            "timestamp that each reach several milestones of the path; make the milestones' "
            "rules overlap less"
        )
    entered = got.level >= 0
    times = None if mode == "any" else got.first[entered]
    return got.level[entered], got.is_open[entered], times, frame.customer_ids[entered]


def _step_arrays(
    frame: MilestoneFrame, journey: Journey, chosen: JourneyPath, exclude: Sequence[str]
) -> kernels.StepArrays:
    """The frame's rows of the path's steps and of the excluded milestones, as kernel columns."""
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    code = np.full(len(journey.milestones), -2, dtype=np.int8)
    for k, mid in enumerate(chosen.milestone_ids):
        code[index[mid]] = k
    for mid in exclude:
        code[index[mid]] = kernels.EXCLUDED
    step = code[frame.milestone]
    keep = step > -2
    cust = frame.cust[keep]
    offsets = np.searchsorted(cust, np.arange(frame.customers + 1)).astype(np.int64)
    key = frame.event_key[keep]
    # Repeated keys mean one event reached several milestones; those customers need the exact
    # search so that one event serves one step.
    shared = frame.shared_keys and bool(len(key)) and np.unique(key).size < len(key)
    return kernels.StepArrays(
        offsets=offsets, step=step[keep], time_us=frame.ts[keep], key=key, shared=bool(shared)
    )


def steps_among(result: FunnelResult, journey: Journey, rows: np.ndarray) -> tuple[FunnelStep, ...]:
    """The steps of ``result`` counted over some of its customers (rows of ``customer_ids``), as a
    breakdown group's are: a persona's funnel from the funnel of everyone."""
    chosen = resolve_path(journey, result.path)
    return _steps_of(
        journey, chosen, result.furthest, result.open, result.step_times, rows, result.passed
    )


def _steps_of(
    journey: Journey,
    chosen: JourneyPath,
    level: np.ndarray,
    is_open: np.ndarray,
    times: np.ndarray | None,
    rows: np.ndarray,
    passed: np.ndarray | None = None,
) -> tuple[FunnelStep, ...]:
    return _steps(
        journey,
        chosen,
        level[rows],
        is_open[rows],
        None if times is None else times[rows],
        None if passed is None else passed[rows],
    )


def _steps(
    journey: Journey,
    chosen: JourneyPath,
    level: np.ndarray,
    is_open: np.ndarray,
    times: np.ndarray | None,
    passed: np.ndarray | None = None,
) -> tuple[FunnelStep, ...]:
    """``passed`` (customers x steps), when given, says who counts at each step (PostHog's
    optional steps count only those who did them); else everyone whose furthest step is later."""
    k_steps = len(chosen.steps)
    if passed is None:
        reached = [int((level >= k).sum()) for k in range(k_steps)]
    else:
        reached = [int(passed[:, k].sum()) for k in range(k_steps)]
    steps = []
    for k, mid in enumerate(chosen.milestone_ids):
        here = level == k
        last = k == k_steps - 1
        prev_n = reached[k - 1] if k else reached[0]
        from_prev = from_start = None
        if times is not None and k > 0:
            ok = level >= k
            from_prev = TimeStats.of((times[ok, k] - times[ok, k - 1]) / 1e6)
            from_start = TimeStats.of((times[ok, k] - times[ok, 0]) / 1e6)
        steps.append(
            FunnelStep(
                milestone=mid,
                title=journey.milestone(mid).title,
                customers=reached[k],
                dropped=0 if last else int((here & ~is_open).sum()),
                in_progress=0 if last else int((here & is_open).sum()),
                share_of_start=reached[k] / reached[0] if reached[0] else 0.0,
                share_of_previous=reached[k] / prev_n if prev_n else 0.0,
                time_from_previous=from_prev,
                time_from_start=from_start,
            )
        )
    return tuple(steps)
