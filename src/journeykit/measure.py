"""The thin runner: scan the events once, run every analysis the map, report and web show.

It sits above ``analytics`` and ``clv`` and below the views: the renderers (``report``, ``web``)
read only the :class:`JourneyResults` this returns; they never query events nor compute numbers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np

from journeykit.analytics import (
    FunnelResult,
    MilestoneFrame,
    PathsResult,
    PositionsResult,
    funnel,
    paths,
    positions,
)
from journeykit.analytics.health import CardNumbers, card_numbers
from journeykit.analytics.milestones import (
    Events,
    LogCounts,
    log_counts,
    milestone_frame,
    resolve_path,
)
from journeykit.analytics.windows import DEFAULT_WINDOW, Resolved, Window
from journeykit.clv.defaults import HORIZON_MONTHS
from journeykit.errors import JourneykitError
from journeykit.journey.schema import Journey, JourneyPath

if TYPE_CHECKING:
    from collections.abc import Mapping

    from journeykit.analytics.community import NorthStarResult
    from journeykit.analytics.levels import LevelsResult
    from journeykit.analytics.opportunities import PlayProofLike
    from journeykit.analytics.stake import CustomerValues
    from journeykit.clv import SimpleCLV
    from journeykit.clv.journey import JourneyCLV
    from journeykit.decide import Decisions, StoryOptions
    from journeykit.discover import Answers, ThemeResult
    from journeykit.journey.schema import Role


T = TypeVar("T")
# Threads for the map's analyses: two cores are the machine this is tuned on; more threads than
# analyses that release the GIL would only add switching.
WORKERS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class CommunityResults:
    """The community's roles, each with its north-star series, and the engagement levels.

    Computed by ``analytics.community.north_star`` and ``analytics.levels.engagement_levels`` on
    the report's own milestone log, so the page shows exactly what ``journeykit community
    northstar|levels`` print. A role whose north star cannot be measured has None and a note.
    """

    roles: tuple[tuple[Role, NorthStarResult | None], ...]
    levels: LevelsResult | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClvSummary:
    """The simple formula and the model's expected value, from the one CLV pipeline
    (``clv.journey``): exactly what ``journeykit clv simple`` and ``clv value`` print."""

    simple: SimpleCLV | None  # with the value over ``HORIZON_MONTHS``
    value: JourneyCLV | None  # BG/NBD + Gamma-Gamma over ``HORIZON_MONTHS``, 1% a month
    notes: tuple[str, ...] = ()
    customers: CustomerValues | None = None  # per customer, for value at stake


@dataclass(frozen=True)
class JourneyResults:
    """Everything the map and the report show, computed once."""

    journey: Journey
    path: str  # the chosen path: its funnel and positions lead the report
    now: int  # microseconds since the epoch
    windows: dict[str, Resolved]
    funnels: dict[str, FunnelResult]  # every path, chosen first
    positions: dict[str, PositionsResult]
    counts: LogCounts
    paths: PathsResult | None = None
    clv: ClvSummary | None = None
    community: CommunityResults | None = None
    themes: ThemeResult | None = None
    notes: tuple[str, ...] = field(default=())
    decisions: Decisions | None = None  # opportunities, stories, heroes (full mode)

    @property
    def path_order(self) -> list[str]:
        return list(self.funnels)

    @functools.cached_property
    def cards(self) -> dict[str, CardNumbers]:
        """The numbers and health of every milestone's card (``analytics.health``)."""
        return card_numbers(self.journey, self.funnels, self.positions, self.counts.reached)


def path_order(journey: Journey, chosen: str) -> list[JourneyPath]:
    """The chosen path first, then the others in file order (a journey with no paths: 'main')."""
    all_paths = list(journey.paths) or [journey.path(None)]
    return sorted(all_paths, key=lambda p: p.id != chosen)


def measure(
    events: Events,
    journey: Journey,
    *,
    path: str | None = None,
    now: datetime | None = None,
    window: Window = DEFAULT_WINDOW,
    lapsed_after: timedelta | None = None,
    full: bool = True,
    themes: ThemeResult | None = None,
    answers: Answers | None = None,
    proofs: Mapping[str, PlayProofLike] | None = None,
    stories: StoryOptions | None = None,
) -> JourneyResults:
    """Run the analyses once over ``events``: the map needs funnels and positions per path, and
    the community's north stars and levels; ``full`` adds paths and CLV for the report.
    ``themes`` (``discover.find_themes`` on members' answers) are carried along: the map's
    emotion curve and the report's quotes come from them.

    ``window`` is the funnel window: a duration, None for no window, or "designed" (default) for
    each path's designed window (``analytics.windows``). ``events`` may be a milestone log
    already fetched (every milestone, same ``now``), as the web app keeps one per journey
    revision and data version.

    In full mode the results also carry ``decisions`` (``decide.decide``): opportunities ranked by
    value at stake, the proof library from ``answers`` and testimonial events, and each
    persona's hero's journey. ``proofs`` (play id -> Prove's verdict and effect with its
    interval) is shown with each play aimed at an opportunity.
    """
    chosen = resolve_path(journey, path)
    measurable = [m.id for m in journey.milestones if m.when is not None]
    if not measurable:
        raise JourneykitError("no milestone has a 'when' rule, so there is nothing to measure")
    frame = milestone_frame(events, journey, now=now)
    notes: list[str] = []
    measured: list[str] = []
    for p in path_order(journey, chosen.id):
        unmeasured = [mid for mid in p.milestone_ids if journey.milestone(mid).when is None]
        if unmeasured:
            notes.append(f"path {p.id!r} is not measured: {', '.join(unmeasured)} have no 'when'")
        else:
            measured.append(p.id)

    def place() -> dict[str, PositionsResult]:
        # One task for every path: only positions may read the events (a customer's last
        # event, for lapsed), and one DuckDB connection must not serve two threads at once.
        return {
            p: positions(frame, journey, path=p, now=now, lapsed_after=lapsed_after)
            for p in measured
        }

    work: list[Callable[[], object]] = [
        *[functools.partial(funnel, frame, journey, path=p, window=window, now=now)
          for p in measured],
        place,
        lambda: community_results(frame, journey, chosen.id),
    ]  # fmt: skip
    *funnels_, placed_, community_ = concurrently(work)
    funnels = {p: cast("FunnelResult", f) for p, f in zip(measured, funnels_, strict=True)}
    placed = cast("dict[str, PositionsResult]", placed_)
    community = cast("CommunityResults | None", community_)
    windows: dict[str, Resolved] = {p: f.window for p, f in funnels.items()}
    counts = log_counts(frame)
    clv = clv_summary(frame, journey) if full else None
    decisions = None
    if full:
        from journeykit.decide import decide

        decisions = decide(
            frame, journey, funnels=funnels, positions=placed,
            values=clv.customers if clv else None, themes=themes, answers=answers,
            proofs=proofs, stories=stories, now=now,
        )  # fmt: skip
    return JourneyResults(
        journey,
        chosen.id,
        frame.now,
        windows,
        funnels,
        placed,
        counts,
        paths=paths(frame, journey, top=20, now=now) if full else None,
        clv=clv,
        community=community,
        themes=themes,
        notes=tuple(notes),
        decisions=decisions,
    )


def concurrently(work: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent analyses of one log on two threads; their results in ``work``'s order.

    The funnel kernels release the GIL (``nogil``) and numpy does in its array loops, so on two
    cores the map's analyses take about the time of the longer half (``WORKERS`` = 1: in turn).
    """
    if WORKERS < 2 or len(work) < 2:
        return [w() for w in work]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [f.result() for f in [pool.submit(w) for w in work]]


def community_results(
    frame: MilestoneFrame, journey: Journey, path: str
) -> CommunityResults | None:
    """Every role's north star per entry period (the levels' period, default month) and the
    engagement levels, from the log already fetched: no second scan of the events."""
    from journeykit.analytics.community import north_star
    from journeykit.analytics.levels import engagement_levels

    com = journey.community
    if com is None:
        return None
    period = com.levels.period if com.levels else "month"
    notes: list[str] = []
    roles: list[tuple[Role, NorthStarResult | None]] = []
    for i, role in enumerate(com.all_roles):
        star = None
        if role.north_star is not None:
            try:
                star = north_star(frame, journey, role=i, period=period, path=path)
            except JourneykitError as exc:
                notes.append(f"north star of role {i + 1} not measured: {exc}")
        roles.append((role, star))
    levels = None
    if com.activity_milestones:
        try:
            levels = engagement_levels(frame, journey)
        except JourneykitError as exc:
            notes.append(f"engagement levels not measured: {exc}")
    return CommunityResults(tuple(roles), levels, tuple(notes))


def clv_summary(frame: MilestoneFrame, journey: Journey) -> ClvSummary:
    """The simple formula and BG/NBD + Gamma-Gamma over 12 months, through the one pipeline.

    Each part that cannot be computed on these purchases leaves a note saying why instead.
    """
    from journeykit.clv.journey import (
        clv_by_journey,
        customer_values,
        journey_customers,
        simple_clv_by,
    )

    try:
        data = journey_customers(frame, journey, unit="weeks")
    except JourneykitError as exc:
        return ClvSummary(None, None, (f"no CLV: {exc}",))
    notes: list[str] = []
    simple = None
    try:
        simple = simple_clv_by(data, None, horizon_months=HORIZON_MONTHS).overall
    except JourneykitError as exc:
        notes.append(f"simple formula not computed: {exc}")
    value = None
    try:
        # Overflow inside the hypergeometric terms of a poor fit: judged below by finiteness.
        with np.errstate(all="ignore"):
            value = clv_by_journey(data, horizon=HORIZON_MONTHS, by=("path",))
    except (JourneykitError, FloatingPointError) as exc:
        notes.append(f"BG/NBD and Gamma-Gamma could not be fitted: {exc}")
    if value is not None and not np.isfinite(value.overall.clv):
        value = None
        notes.append("BG/NBD and Gamma-Gamma gave no finite answer on these purchases")
    return ClvSummary(simple, value, tuple(notes), customer_values(data, value, simple))
