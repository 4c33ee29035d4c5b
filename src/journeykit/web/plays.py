"""The Plays page and its API: each play's audience now, the ledger's entries per day and arm,
delivery state, an export; editors may run the plays (entries recorded, nothing sent: the
treatment is delivered by ``journeykit act -o/--webhook``, which also sends what is pending).

The audience is a dry run of ``journeykit.act.act`` (the same function as the CLI), cached per
journey revision and database file state; a run changes the file, so the page shows it at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from journeykit.act import ActResult, act, entries, open_ledger
from journeykit.act.ledger import PlayLedger, ledger_stats
from journeykit.journey import Journey
from journeykit.prove import ProveResult, prove
from journeykit.web.api import READ, WRITE
from journeykit.web.app import Context
from journeykit.web.errors import NotFound
from journeykit.web.pages import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=READ)


@dataclass(frozen=True)
class PlaysView:
    """The page's and the API's numbers: the dry run now and the ledger."""

    due: ActResult | None
    ledger: dict[str, PlayLedger]

    def to_dict(self) -> dict[str, Any]:
        plays = self.due.plays if self.due else ()
        return {
            "now": self.due.to_dict()["now"] if self.due else None,
            "plays": [
                {
                    **p.to_dict(with_entries=False),
                    "ledger": self.ledger[p.play.id].to_dict(),
                }
                for p in plays
            ],
        }


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def plays_view(ctx: Context, key: str) -> tuple[Journey, PlaysView]:
    rev, journey = ctx.journey(key)
    if not journey.plays:
        return journey, PlaysView(None, {})

    def compute() -> PlaysView:
        with ctx.data.lock:  # one DuckDB user at a time in this process
            due = act(ctx.ws, journey, dry_run=True, wait=10)
            engine = open_ledger(ctx.ws, read_only=True, wait=10)
            try:
                ledger = ledger_stats(engine, journey.id, [p.id for p in journey.plays])
            finally:
                engine.close()
        return PlaysView(due, ledger)

    state = ctx.data._signature()  # the ledger lives in the database file: its state is the key
    return journey, ctx.data.cached(("plays", rev.sha256, state), compute)


@pages.get("/journeys/{key}/plays")
def plays_page(request: Request, key: str, ran: int | None = None) -> Response:
    journey, view = plays_view(_ctx(request), key)
    return render(
        request, "plays.html", key=key, journey=journey, view=view, ran=ran,
        titles={m.id: m.title for m in journey.milestones},
    )  # fmt: skip


@pages.post("/journeys/{key}/plays/run")
def run_page(request: Request, key: str) -> Response:
    result = _run(_ctx(request), key)
    entered = sum(len(p.entered) for p in result.plays)
    return RedirectResponse(f"/journeys/{quote(key)}/plays?ran={entered}", 303)


def _run(ctx: Context, key: str) -> ActResult:
    _, journey = ctx.journey(key)
    with ctx.data.lock:
        return act(ctx.ws, journey, wait=10)


@pages.get("/journeys/{key}/plays/{play}/entries.csv")
def entries_csv(request: Request, key: str, play: str) -> Response:
    ctx = _ctx(request)
    _, journey = ctx.journey(key)
    if play not in {p.id for p in journey.plays}:
        raise NotFound(f"no play {play!r} in journey {key!r}")
    with ctx.data.lock:
        engine = open_ledger(ctx.ws, read_only=True, wait=10)
        try:
            rows = [e.to_dict() for e in entries(engine, journey.id, [play])]
        finally:
            engine.close()
    out = io.StringIO()
    fields = ["entry_id", "play", "customer_id", "arm", "entered_at", "milestone", "status",
              "days_waiting", "goal", "window_days"]  # fmt: skip
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{key}-{play}-entries.csv"'},
    )


@api.get("/journeys/{key}/plays", summary="Each play's audience now and its ledger")
def plays_json(request: Request, key: str) -> dict[str, Any]:
    return plays_view(_ctx(request), key)[1].to_dict()


@api.post(
    "/journeys/{key}/plays/run", summary="Enter who is due now (nothing is sent)", responses=WRITE
)
def run_json(request: Request, key: str) -> dict[str, Any]:
    result = _run(_ctx(request), key)
    out = result.to_dict()
    out["plays"] = [p.to_dict(with_entries=False) for p in result.plays]
    return out


def proof_view(ctx: Context, key: str) -> tuple[Journey, ProveResult | None]:
    """``journeykit prove`` on the workspace, cached per journey revision and database state."""
    rev, journey = ctx.journey(key)
    if not journey.plays:
        return journey, None

    def compute() -> ProveResult:
        with ctx.data.lock, ctx.data.engine() as eng:
            return prove(eng.events(str(ctx.ws.root)), journey, workspace=ctx.ws)

    state = ctx.data._signature()
    return journey, ctx.data.cached(("proof", rev.sha256, state), compute)


@pages.get("/journeys/{key}/proof")
def proof_page(request: Request, key: str) -> Response:
    from journeykit.report.proof_view import proof_section

    journey, result = proof_view(_ctx(request), key)
    section = "" if result is None else proof_section(result)  # escaped where it is drawn
    return render(request, "proof.html", key=key, journey=journey, result=result, section=section)


@api.get("/journeys/{key}/proof", summary="What each play changed, as journeykit prove says")
def proof_json(request: Request, key: str) -> dict[str, Any]:
    _, result = proof_view(_ctx(request), key)
    return (
        {"now": None, "results": [], "touchpoints": [], "notes": []}
        if result is None
        else (result.to_dict())
    )


@api.get("/sample-size", summary="Decided entries a play needs to detect a lift")
def sample_size_json(
    base_rate: float, lift: float, holdout_share: float = 0.1, power: float = 0.8
) -> dict[str, Any]:
    from journeykit.prove import ProveError, sample_size

    try:
        return sample_size(base_rate, lift, holdout_share=holdout_share, power=power).to_dict()
    except ValueError as exc:
        raise ProveError(str(exc)) from None
