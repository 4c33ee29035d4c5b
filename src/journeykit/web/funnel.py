"""The funnel dashboard beyond its steps: how to count (mode, semantics, ClickHouse modes),
conversion per entry period and who converted or dropped at a step.

Each is the call the CLI's ``funnel`` command makes (``analytics.funnel``, ``funnel_trends``,
``funnel_people``) on the same cached result; a choice the analyses refuse comes back as a
message for the control that caused it (``FunnelOptionError.field``), never as a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from journeykit.analytics.errors import AnalyticsError, FunnelOptionError
from journeykit.analytics.funnel_views import (
    FunnelPeople,
    FunnelTrends,
    funnel_people,
    funnel_trends,
)
from journeykit.web.data import Filters, FunnelAsk

if TYPE_CHECKING:
    from journeykit.analytics import FunnelResult
    from journeykit.journey import Journey
    from journeykit.web.app import Context
    from journeykit.web.store import Revision


def ask_of(mode: str | None, semantics: str | None, clickhouse: Sequence[str]) -> FunnelAsk:
    """The request's counting choices; ``funnel()`` checks them (one place for the rules)."""
    modes = tuple(sorted({m for m in clickhouse if m}))
    return FunnelAsk(mode or "ordered", semantics or "journeykit", modes)


def _key(ctx: Context, what: str, rev: Revision, f: Filters, ask: FunnelAsk) -> tuple[object, ...]:
    return (what, rev.sha256, ctx.data.version(), f.key(), f.window, ask)


def trends_of(
    ctx: Context,
    rev: Revision,
    journey: Journey,
    f: Filters,
    ask: FunnelAsk,
    interval: str,
    to_step: str | None = None,
) -> FunnelTrends:
    """As ``journeykit funnel --trends INTERVAL``; ``to_step`` (default: the last) as the API's
    ``funnel_trends(..., to_step)``."""
    result = ctx.data.funnel(rev.sha256, journey, f, ask)
    key = (*_key(ctx, "funnel_trends", rev, f, ask), interval, to_step)
    return ctx.data.cached(key, lambda: funnel_trends(result, interval, to_step))  # type: ignore[arg-type]


def people_of(
    ctx: Context,
    rev: Revision,
    journey: Journey,
    f: Filters,
    ask: FunnelAsk,
    step: str | None,
    dropped: bool,
) -> FunnelPeople:
    """As ``journeykit funnel --people STEP [--dropped]``; no step: the last one."""
    result = ctx.data.funnel(rev.sha256, journey, f, ask)
    at = step or str(len(result.steps))
    key = (*_key(ctx, "funnel_people", rev, f, ask), at, dropped)
    return ctx.data.cached(key, lambda: funnel_people(result, at, dropped=dropped))


@dataclass(frozen=True)
class FunnelChoice:
    """What the page asks beyond the counts: a trend interval, a step's people."""

    trends: str | None = None
    trend_to: str | None = None
    people: str | None = None
    dropped: bool = False


@dataclass(frozen=True)
class FunnelView:
    """The dashboard's results; ``errors`` maps a control's name to why it was refused."""

    result: FunnelResult | None
    trends: FunnelTrends | None = None
    people: FunnelPeople | None = None
    errors: dict[str, str] = field(default_factory=dict)


def funnel_view(
    ctx: Context, rev: Revision, journey: Journey, f: Filters, ask: FunnelAsk, choice: FunnelChoice
) -> FunnelView:
    try:
        result = ctx.data.funnel(rev.sha256, journey, f, ask)
    except FunnelOptionError as exc:
        return FunnelView(None, errors={exc.field: str(exc)})
    errors: dict[str, str] = {}
    trends = people = None
    if choice.trends:
        try:
            trends = trends_of(ctx, rev, journey, f, ask, choice.trends, choice.trend_to)
        except FunnelOptionError as exc:
            errors[exc.field] = str(exc)
        except AnalyticsError as exc:  # a to step not on the path, or not after the first
            errors["trend_to"] = str(exc)
    if choice.people:
        try:
            people = people_of(ctx, rev, journey, f, ask, choice.people, choice.dropped)
        except AnalyticsError as exc:  # a step not on the path, or dropping at the first
            errors["people"] = str(exc)
    return FunnelView(result, trends, people, errors)
