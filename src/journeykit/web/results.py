"""Customer lifetime value, the community and each customer's story: pages and their API.

Every number comes from the function the CLI calls, with the CLI's defaults: ``clv simple --by``
and ``clv value --intervals`` (``clv.journey``), the model's holdout check
(``clv.value.holdout_check``), ``community northstar|levels`` (``measure.community_results``,
the map's own log) and ``community impact``. One computation per journey revision and data
version, cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response

from journeykit.clv.defaults import DISCOUNT_RATE, HORIZON_MONTHS
from journeykit.errors import JourneykitError
from journeykit.journey import Journey
from journeykit.web.api import READ
from journeykit.web.app import Context, make_filters, parse_date
from journeykit.web.errors import NotFound
from journeykit.web.pages import render

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.analytics.impact import ImpactResult
    from journeykit.clv import SimpleCLVByGroup
    from journeykit.clv.journey import JourneyCLV, JourneyCustomers, JourneyTracking
    from journeykit.clv.models._base import FitResult
    from journeykit.clv.value import HoldoutCheck
    from journeykit.measure import CommunityResults
    from journeykit.web.data import Filters

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=READ)

GROUPINGS = ("persona", "path", "cohort")
HOLDOUT_SHARE = 1 / 3  # of the purchase span, when no calibration end is chosen
MIN_HOLDOUT = timedelta(days=28)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


# --- customer lifetime value ---------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutView:
    """The model fitted on purchases up to ``calibration_end`` and checked on those after."""

    calibration_end: date
    fit: FitResult
    check: HoldoutCheck
    tracking: JourneyTracking

    def to_dict(self) -> dict[str, Any]:
        return {"calibration_end": self.calibration_end.isoformat(), "fit": self.fit.to_dict(),
                "check": self.check.to_dict(), "tracking": self.tracking.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class ClvView:
    customers: int
    bought_again: int
    purchase_milestones: tuple[str, ...]
    unit: str
    simple: dict[str, SimpleCLVByGroup]  # by grouping, as ``clv simple --by``
    value: JourneyCLV | None  # as ``clv value``
    holdout: HoldoutView | None
    notes: tuple[str, ...]
    data: JourneyCustomers

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "bought_again": self.bought_again,
            "purchase_milestones": list(self.purchase_milestones),
            "unit": self.unit,
            "simple": {by: s.to_dict() for by, s in self.simple.items()},
            "value": None if self.value is None else self.value.to_dict(),
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
            "notes": list(self.notes),
        }


def clv_view(ctx: Context, key: str, calibration_end: date | None = None) -> ClvView:
    rev, journey = ctx.journey(key)
    f = make_filters(journey, None, None, None, None, None)
    cache_key = ("clv_view", rev.sha256, ctx.data.version(), calibration_end)
    return ctx.data.cached(
        cache_key,
        lambda: ctx.data._run(journey, f, lambda ev, g: _clv(ev, journey, g, calibration_end)),
    )


def _clv(events: ir.Table, journey: Journey, f: Filters, cal: date | None) -> ClvView:
    from journeykit.analytics.milestones import fetch_milestones
    from journeykit.clv.journey import journey_customers, simple_clv_by

    frame = fetch_milestones(events, journey, now=f.now, personas=True)  # one scan serves all
    data = journey_customers(frame, journey, unit="weeks")
    notes: list[str] = []
    simple: dict[str, SimpleCLVByGroup] = {}
    for by in GROUPINGS:
        try:
            simple[by] = simple_clv_by(data, by, horizon_months=HORIZON_MONTHS,
                                       discount_rate=DISCOUNT_RATE)  # fmt: skip
        except JourneykitError as exc:
            notes.append(f"simple formula by {by} not computed: {exc}")
            break
    value = None
    try:
        with np.errstate(all="ignore"):
            value = _value_with_intervals(data, notes)
    except (JourneykitError, FloatingPointError) as exc:
        notes.append(f"BG/NBD and Gamma-Gamma could not be fitted: {exc}")
    holdout, why = _holdout(frame, journey, data, cal)
    if why:
        notes.append(why)
    return ClvView(len(data), int((data.summary.frequency > 0).sum()), data.purchase_milestones,
                   data.unit, simple, value, holdout, tuple(notes), data)  # fmt: skip


def _value_with_intervals(data: JourneyCustomers, notes: list[str]) -> JourneyCLV:
    """``clv value --intervals``; a fit whose covariance is unknown (not converged, Hessian not
    positive definite) still gives its values, as ``clv value`` does, with a note why there
    are no intervals."""
    from journeykit.clv.errors import NotFittedError
    from journeykit.clv.journey import clv_by_journey

    try:
        return clv_by_journey(data, horizon=HORIZON_MONTHS, discount_rate=DISCOUNT_RATE,
                              intervals=True)  # fmt: skip
    except NotFittedError as exc:
        notes.append(f"no intervals for the model's CLV: {exc}")
    return clv_by_journey(data, horizon=HORIZON_MONTHS, discount_rate=DISCOUNT_RATE)


def default_calibration_end(data: JourneyCustomers) -> date | None:
    """The last third of the time since the first purchase held out (None: too short to hold
    out four weeks)."""
    first = data.observation_end - timedelta(weeks=float(data.summary.T.max()))
    held = (data.observation_end - first) * HOLDOUT_SHARE
    if held < MIN_HOLDOUT:
        return None
    return (data.observation_end - held).date()


def _holdout(
    frame: Any, journey: Journey, data: JourneyCustomers, cal: date | None
) -> tuple[HoldoutView | None, str | None]:
    from journeykit.clv.journey import journey_customers, journey_tracking
    from journeykit.clv.models import transaction_model
    from journeykit.clv.value import holdout_check

    cal = cal or default_calibration_end(data)
    if cal is None:
        return None, "holdout check skipped: purchases span too short a time to hold some out"
    try:
        held = journey_customers(frame, journey, calibration_end=cal, unit="weeks")
        if held.holdout is None:
            return None, f"holdout check skipped: nothing after {cal} to hold out"
        with np.errstate(all="ignore"):
            model = transaction_model("bgnbd")().fit(held.holdout.calibration)
            check = holdout_check(model, held.holdout)
            tracking = journey_tracking(frame, journey, model, held)
    except (JourneykitError, FloatingPointError) as exc:
        return None, f"holdout check not computed: {exc}"
    return HoldoutView(cal, model.result(), check, tracking), None


@pages.get("/journeys/{key}/clv")
def clv_page(request: Request, key: str, calibration_end: str | None = None) -> Response:
    from journeykit.report.charts import holdout_chart
    from journeykit.report.clv_charts import tracking_chart

    ctx = _ctx(request)
    _, journey = ctx.journey(key)
    view = None if ctx.data.version() == "empty" else clv_view(
        ctx, key, parse_date("calibration_end", calibration_end)
    )  # fmt: skip
    chart = tracking = None
    if view and view.holdout:
        chart = holdout_chart(view.holdout.check)
        t = view.holdout.tracking
        tracking = tracking_chart(t.tracking, calibration_end=t.calibration_end)
    return render(request, "clv.html", key=key, journey=journey, view=view, chart=chart,
                  tracking=tracking, groupings=GROUPINGS)  # fmt: skip


@api.get("/journeys/{key}/clv", summary="Customer lifetime value: simple formula, model, check")
def clv_json(request: Request, key: str, calibration_end: str | None = None) -> dict[str, Any]:
    """As ``journeykit clv simple --by persona|path|cohort`` and ``clv value --intervals``,
    with the model's holdout check (``calibration_end``: default the last third held out)."""
    ctx = _ctx(request)
    if ctx.data.version() == "empty":
        raise NotFound("the workspace has no events yet")
    return clv_view(ctx, key, parse_date("calibration_end", calibration_end)).to_dict()


# --- community -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityView:
    measured: CommunityResults | None
    impacts: tuple[tuple[int, ImpactResult | None, str | None], ...]  # role, result, why not

    def to_dict(self) -> dict[str, Any]:
        m = self.measured
        return {
            "north_stars": [None if s is None else s.to_dict() for _, s in m.roles] if m else [],
            "levels": None if m is None or m.levels is None else m.levels.to_dict(),
            "impact": [
                {"role": k + 1, "result": None if r is None else r.to_dict(), "note": why}
                for k, r, why in self.impacts
            ],
            "notes": list(m.notes) if m else [],
        }


def community_view(ctx: Context, key: str) -> tuple[Journey, CommunityView | None]:
    rev, journey = ctx.journey(key)
    if journey.community is None or ctx.data.version() == "empty":
        return journey, None
    f = make_filters(journey, None, None, None, None, None)
    measured = ctx.data.map_results(rev.sha256, journey, f).community  # the map's own numbers

    def compute() -> tuple[tuple[int, ImpactResult | None, str | None], ...]:
        return ctx.data._run(journey, f, lambda ev, g: _impacts(ev, journey, g))

    impacts = ctx.data.cached(("impacts", rev.sha256, ctx.data.version()), compute)
    return journey, CommunityView(measured, impacts)


def _impacts(
    events: ir.Table, journey: Journey, f: Filters
) -> tuple[tuple[int, ImpactResult | None, str | None], ...]:
    """``community impact`` for every role with a north star, with the CLI's defaults."""
    from journeykit.analytics.impact import impact

    assert journey.community is not None
    out: list[tuple[int, ImpactResult | None, str | None]] = []
    for k, role in enumerate(journey.community.all_roles):
        if role.north_star is None:
            continue
        try:
            out.append((k, impact(events, journey, role=k, now=f.now, seed=0), None))
        except JourneykitError as exc:
            out.append((k, None, f"impact of role {k + 1} not measured: {exc}"))
    return tuple(out)


@pages.get("/journeys/{key}/community")
def community_page(request: Request, key: str) -> Response:
    from journeykit.report.charts import north_star_value
    from journeykit.report.pages import community_block

    ctx = _ctx(request)
    journey, view = community_view(ctx, key)
    block = community_block(journey, view.measured if view else None)  # escaped where drawn
    return render(request, "community.html", key=key, journey=journey, view=view, block=block,
                  num=north_star_value,
                  dnum=difference_text)  # fmt: skip


def difference_text(x: float | None, metric: str) -> str:
    """A difference between groups: shares in percentage points, else two decimals, signed."""
    if x is None:
        return "-"
    return f"{x * 100:+.1f} points" if metric in SHARES else f"{x:+.2f}"


SHARES = ("share_reaching", "repeat_rate")


@api.get("/journeys/{key}/community", summary="North stars, engagement levels and impact")
def community_json(request: Request, key: str) -> dict[str, Any]:
    """As ``journeykit community northstar``, ``levels`` and ``impact`` (``--format json``)."""
    _, view = community_view(_ctx(request), key)
    if view is None:
        raise NotFound("no community measured: none designed, or no events yet")
    return view.to_dict()


# --- a customer's story --------------------------------------------------------------------


def customer_story(ctx: Context, key: str, customer_id: str) -> dict[str, Any]:
    """Who the customer is beside where they are: persona, value and the plays they entered."""
    from journeykit.act.ledger import entry_table, open_ledger

    _, journey = ctx.journey(key)
    story: dict[str, Any] = {"persona": _persona(ctx, journey, customer_id), "value": None,
                             "value_note": None, "plays": []}  # fmt: skip
    try:
        view = clv_view(ctx, key)
        story["value"] = _value(view, _values(ctx, key, view), customer_id)
    except JourneykitError as exc:
        story["value_note"] = f"no value: {exc}"
    if journey.plays and ctx.ws.database.exists():
        titles = {p.id: p.title or p.id for p in journey.plays}
        with ctx.data.lock:
            engine = open_ledger(ctx.ws, read_only=True, wait=10)
            try:
                table = entry_table(engine, journey.id)
            finally:
                engine.close()
        import pyarrow.compute as pc

        mine = table.filter(pc.equal(table["customer_id"], customer_id))
        rows = mine.to_pylist()  # the ledger can hold millions: only this customer's rows
        story["plays"] = [
            {"play": r["play_id"], "title": titles.get(r["play_id"], r["play_id"]),
             "arm": r["arm"], "entered_at": _iso(r["entered_at"]), "milestone": r["milestone"],
             "status": r["status"], "goal": r["goal"]}
            for r in rows
        ]  # fmt: skip
    return story


def _iso(value: Any) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


def _persona(ctx: Context, journey: Journey, customer_id: str) -> dict[str, str] | None:
    from journeykit.analytics.segments import personas_of

    if not any(p.segment is not None for p in journey.personas):
        return None
    f = make_filters(journey, None, None, None, None, None)
    # Every customer's persona once per data version: a query per customer page scanned every
    # event (0.12 s), and 50 clients looking up customers queued behind it.
    everyone = ctx.data.cached(
        ("personas", journey.model_dump_json(include={"personas"}), ctx.data.version()),
        lambda: ctx.data._run(journey, f, lambda ev, g: personas_of(ev, journey, now=g.now)),
    )
    found = everyone.get(customer_id)
    if found is None:
        return None
    p = journey.personas[found]
    return {"id": p.id, "name": p.name}


@dataclass(frozen=True)
class _Values:
    """Per buyer of a CLV view: their summary row and expected CLV, looked up by id."""

    row: dict[str, int]
    expected: np.ndarray | None
    source: str | None


def _values(ctx: Context, key: str, view: ClvView) -> _Values:
    rev, _ = ctx.journey(key)

    def build() -> _Values:
        from journeykit.clv.journey import customer_values

        ids = view.data.summary.customer_id
        row = {} if ids is None else {str(c): i for i, c in enumerate(ids.tolist())}
        simple = view.simple["persona"].overall if "persona" in view.simple else None
        values = customer_values(view.data, view.value, simple)
        if values is None:
            return _Values(row, None, None)
        return _Values(row, values.of(np.asarray(ids, dtype=object)), values.source)

    return ctx.data.cached(("clv_values", rev.sha256, ctx.data.version()), build)


def _value(view: ClvView, values: _Values, customer_id: str) -> dict[str, Any] | None:
    """What the customer has bought and is expected to be worth (``clv value``'s per customer
    figure; the simple formula's when the model could not be fitted): value at stake's source."""
    i = values.row.get(customer_id)
    if i is None:
        return None
    data = view.data
    out: dict[str, Any] = {
        "purchases": int(data.purchases[i]),
        "revenue": None if data.revenue is None else float(data.revenue[i]),
        "expected_clv": None, "source": None,
    }  # fmt: skip
    if values.expected is not None:
        out["expected_clv"] = float(values.expected[i])
        out["source"] = values.source
    if view.value is not None:
        out["probability_alive"] = float(view.value.probability_alive[i])
    return out


@api.get("/journeys/{key}/customers/{customer_id}/story", summary="A customer's story")
def story_json(request: Request, key: str, customer_id: str) -> dict[str, Any]:
    """Position, status and timeline (as ``/customers/{id}``), persona, value and plays."""
    ctx = _ctx(request)
    rev, journey = ctx.journey(key)
    f = make_filters(journey, None, None, None, None, None)
    found = ctx.data.customer(rev.sha256, journey, f, customer_id)
    return {**found.to_dict(), **customer_story(ctx, key, customer_id)}
