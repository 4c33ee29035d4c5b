"""The thin runner: scan the events once, run every analysis the map and report show.

The renderers (``journey_map``, ``report``) read only the :class:`JourneyResults` this returns;
they never query events. The counts here that the analytics package does not give (customers who
ever reached a milestone, purchases for the simple CLV, the north-star value) are read off the
fetched milestone log, which is small next to the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from journeykit.analytics import (
    FunnelResult,
    MilestoneFrame,
    PathsResult,
    PositionsResult,
    fetch_milestones,
    funnel,
    paths,
    positions,
)
from journeykit.analytics.milestones import resolve_path
from journeykit.errors import JourneykitError
from journeykit.journey.schema import Journey, JourneyPath

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.analytics.community import NorthStarResult
    from journeykit.analytics.levels import LevelsResult
    from journeykit.clv import SimpleCLV
    from journeykit.discover import ThemeResult
    from journeykit.journey.schema import Role

UNDESIGNED_STEP = timedelta(days=30)  # the funnel command's default window, per undesigned step
_MONTH_US = 30.44 * 86400e6


def designed_window(journey: Journey, path: JourneyPath) -> timedelta:
    """How long the whole path should take by design: the sum of its steps' allowances.

    A step's allowance is its ``within``, else its milestone's ``expected_within``, else 30 days.
    """
    total = timedelta(0)
    for step in path.steps[1:]:
        total += step.within or journey.milestone(step.milestone).expected_within or UNDESIGNED_STEP
    return total


@dataclass(frozen=True)
class LogCounts:
    """Read off the milestone log: who ever reached what."""

    customers: int  # customers with at least one milestone
    reached: dict[str, int]  # milestone -> customers who ever reached it


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
    simple: SimpleCLV | None
    model: dict[str, float] | None  # BG/NBD + Gamma-Gamma means, when the clv extra is there
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class JourneyResults:
    """Everything the map and the report show, computed once."""

    journey: Journey
    path: str  # the chosen path: its funnel and positions lead the report
    now: int  # microseconds since the epoch
    windows: dict[str, timedelta | None]
    funnels: dict[str, FunnelResult]  # every path, chosen first
    positions: dict[str, PositionsResult]
    counts: LogCounts
    paths: PathsResult | None = None
    clv: ClvSummary | None = None
    community: CommunityResults | None = None
    themes: ThemeResult | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def path_order(self) -> list[str]:
        return list(self.funnels)


def path_order(journey: Journey, chosen: str) -> list[JourneyPath]:
    """The chosen path first, then the others in file order (a journey with no paths: 'main')."""
    all_paths = list(journey.paths) or [journey.path(None)]
    return sorted(all_paths, key=lambda p: p.id != chosen)


def measure(
    events: ir.Table,
    journey: Journey,
    *,
    path: str | None = None,
    now: datetime | None = None,
    window: timedelta | str | None = "designed",
    lapsed_after: timedelta = timedelta(days=90),
    full: bool = True,
    themes: ThemeResult | None = None,
    frame: MilestoneFrame | None = None,
) -> JourneyResults:
    """Run the analyses once over ``events``: the map needs funnels and positions per path, and
    the community's north stars and levels; ``full`` adds paths and CLV for the report.
    ``themes`` (``discover.find_themes`` on members' answers) are carried along: the map's
    emotion curve and the report's quotes come from them.

    ``window`` is the funnel window: a duration, None for no window, or "designed" (default) for
    each path's :func:`designed_window`. ``frame`` is a milestone log already fetched (every
    milestone, same ``now``), as the web app keeps one per journey revision and data version.
    """
    chosen = resolve_path(journey, path)
    measurable = [m.id for m in journey.milestones if m.when is not None]
    if not measurable:
        raise JourneykitError("no milestone has a 'when' rule, so there is nothing to measure")
    if frame is None:
        frame = fetch_milestones(events, journey, now=now)
    funnels: dict[str, FunnelResult] = {}
    placed: dict[str, PositionsResult] = {}
    windows: dict[str, timedelta | None] = {}
    notes: list[str] = []
    for p in path_order(journey, chosen.id):
        unmeasured = [mid for mid in p.milestone_ids if journey.milestone(mid).when is None]
        if unmeasured:
            notes.append(f"path {p.id!r} is not measured: {', '.join(unmeasured)} have no 'when'")
            continue
        w = designed_window(journey, p) if window == "designed" else window
        assert not isinstance(w, str)
        windows[p.id] = w
        funnels[p.id] = funnel(frame, journey, path=p.id, window=w, now=now)
        placed[p.id] = positions(
            events, journey, path=p.id, now=now, lapsed_after=lapsed_after, frame=frame
        )
    counts = log_counts(frame, journey)
    community = community_results(frame, journey, chosen.id)
    return JourneyResults(
        journey,
        chosen.id,
        frame.now,
        windows,
        funnels,
        placed,
        counts,
        paths=paths(events, journey, top=20, now=now, frame=frame) if full else None,
        clv=clv_summary(frame, journey) if full else None,
        community=community,
        themes=themes,
        notes=tuple(notes),
    )


def log_counts(frame: MilestoneFrame, journey: Journey) -> LogCounts:
    ids = [m.id for m in journey.milestones]
    pair = np.unique(frame.cust.astype(np.int64) * len(ids) + frame.milestone)
    per = np.bincount(pair % len(ids), minlength=len(ids))
    reached = {mid: int(per[i]) for i, mid in enumerate(ids)}
    return LogCounts(frame.customers, reached)


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
    """The simple formula from purchase milestones (core); BG/NBD + Gamma-Gamma with ``clv``.

    Purchases are the events tagged with a milestone that ``is_purchase``; one event counts once
    even when it reaches two purchase milestones. Lifespan is observed: first to last milestone
    event of each buyer, in months, so it is a lower bound while customers are still active.
    """
    from journeykit.clv import simple_clv

    buy_idx = [i for i, m in enumerate(journey.milestones) if m.is_purchase and m.when]
    rows = np.flatnonzero(np.isin(frame.milestone, buy_idx))
    if not len(rows):
        return ClvSummary(None, None, ("no purchase milestone was reached, so no CLV",))
    _, keep = np.unique(
        np.stack([frame.cust[rows], frame.event_key[rows]]), axis=1, return_index=True
    )
    rows = rows[np.sort(keep)]
    cust = frame.cust[rows]
    buyers = np.unique(cust)
    n_buys = np.bincount(cust, minlength=frame.customers)[buyers]
    revenue = np.bincount(
        cust, weights=np.nan_to_num(frame.value[rows]), minlength=frame.customers
    )[buyers]
    first = frame.ts[frame.offsets[:-1]][buyers]
    last = frame.ts[frame.offsets[1:] - 1][buyers]
    observed = max((frame.now - int(frame.ts.min())) / _MONTH_US, 1 / 30.44)
    simple = simple_clv(
        n_buys, revenue, (last - first) / _MONTH_US, periods_observed=observed, period="month"
    )
    model, notes = _clv_model(frame, rows)
    return ClvSummary(simple, model, tuple(notes))


def _clv_model(
    frame: MilestoneFrame, rows: np.ndarray
) -> tuple[dict[str, float] | None, list[str]]:
    try:
        import scipy  # noqa: F401
    except ImportError:
        return None, ["BG/NBD and Gamma-Gamma need the 'clv' extra: pip install 'journeykit[clv]'"]
    import pyarrow as pa

    table = pa.table(
        {
            "customer_id": frame.customer_ids[frame.cust[rows]].astype(str),
            "timestamp": pa.array(frame.ts[rows], pa.timestamp("us")),
            "value": np.nan_to_num(frame.value[rows]),
        }
    )
    try:
        # Overflow inside the hypergeometric terms of a poor fit: judged below by finiteness.
        with np.errstate(all="ignore"):
            return _fit_clv_model(table, frame.now)
    except (JourneykitError, ValueError, FloatingPointError) as exc:
        return None, [f"BG/NBD and Gamma-Gamma could not be fitted: {exc}"]


def _fit_clv_model(table: Any, now_us: int) -> tuple[dict[str, float] | None, list[str]]:
    from journeykit.clv import BetaGeo, GammaGamma, discounted_clv, rfm_from_transactions

    end = np.datetime64(now_us, "us")
    rfm = rfm_from_transactions(table, monetary_col="value", freq="D", observation_end=end)
    bg = BetaGeo().fit(rfm)
    gg = GammaGamma().fit(rfm.select(rfm.frequency > 0))
    clv = discounted_clv(cast(Any, bg), gg, rfm, horizon=12, time_unit="D")
    out = {
        "customers": float(len(rfm)),
        "mean_p_alive": float(np.mean(bg.probability_alive(rfm))),
        "mean_expected_purchases_12m": float(np.mean(clv.expected_purchases)),
        "mean_clv_12m": float(np.mean(clv.clv)),
    }
    if not all(np.isfinite(v) for v in out.values()):
        return None, ["BG/NBD and Gamma-Gamma gave no finite answer on these purchases"]
    return out, []
