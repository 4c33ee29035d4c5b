"""Where to act first, the proof library and the hero's journey: pages, exports and the API.

One computation per journey revision, data version and answers file: ``measure`` in full mode
(the same call as ``journeykit opportunities``, ``proof`` and ``report``), so every number here is
the CLI's. Stories leave the server only as ``ProofLibrary.to_dict``/``rows`` and the wall,
which hold only those whose authors consented; the page counts the others.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from journeykit.journey import Journey
from journeykit.report.export import csv_safe
from journeykit.web import views
from journeykit.web.api import READ
from journeykit.web.app import Context, make_filters
from journeykit.web.errors import NotFound
from journeykit.web.pages import render

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.decide import Decisions
    from journeykit.web.data import Filters

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=READ)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def decisions(ctx: Context, key: str, answers: str | None) -> tuple[Journey, Decisions | None]:
    """The journey and its decisions (None when the workspace has no events yet)."""
    rev, journey = ctx.journey(key)
    if ctx.data.version() == "empty":
        return journey, None
    f = make_filters(journey, None, None, None, None, None)
    digest = None
    if answers:
        digest = views.answers_digest(views.answer_file(ctx, answers))  # columns, edits too
    cache_key = ("decisions", rev.sha256, ctx.data._signature(), digest)  # the ledger too

    def compute() -> Decisions:
        from journeykit.measure import measure
        from journeykit.web.plays import proof_view

        proof = proof_view(ctx, key)[1]  # each play's verdict, as the Proof page shows it
        proofs = None if proof is None else proof.verdicts()

        found = views.answers(ctx, answers) if answers else None
        themes = views.themes(ctx, journey, answers) if answers else None
        frame = ctx.data._frame(rev.sha256, journey, f)

        def work(ev: ir.Table, g: Filters) -> Decisions:
            results = measure(frame.with_events(ev), journey, now=g.now, full=True,
                              themes=themes, answers=found, proofs=proofs)  # fmt: skip
            assert results.decisions is not None
            return results.decisions

        return ctx.data._run(journey, f, work)

    return journey, ctx.data.cached(cache_key, compute)


def _context(request: Request, key: str, answers: str | None) -> dict[str, Any]:
    ctx = _ctx(request)
    journey, found = decisions(ctx, key, answers)
    return {"key": key, "journey": journey, "decisions": found, "chosen": answers,
            "files": views.answer_files(ctx)}  # fmt: skip


@pages.get("/journeys/{key}/opportunities")
def opportunities_page(
    request: Request, key: str, answers: str | None = None, persona: str | None = None
) -> HTMLResponse:
    from journeykit.analytics.opportunities import opportunity_title
    from journeykit.report.decisions import value_text
    from journeykit.report.tree import opportunity_tree, tree_mermaid, tree_svg

    values = _context(request, key, answers)
    journey, found = values["journey"], values["decisions"]
    if persona and persona not in {p.id for p in journey.personas}:
        raise NotFound(f"no persona {persona!r} in journey {key!r}")
    tree = opportunity_tree(found.opportunities, journey) if found else None
    return render(
        request, "opportunities.html", **values, persona=persona or None,
        tree_svg=tree_svg(tree) if tree else None, tree_text=tree_mermaid(tree) if tree else "",
        title_of=lambda o: opportunity_title(o, journey), value_of=value_text,
        titles={m.id: m.title for m in journey.milestones},
    )  # fmt: skip


@pages.get("/journeys/{key}/stories")
def stories_page(request: Request, key: str, answers: str | None = None) -> HTMLResponse:
    values = _context(request, key, answers)
    return render(request, "stories.html", **values,
                  names={p.id: p.name for p in values["journey"].personas})  # fmt: skip


@pages.get("/journeys/{key}/stories.csv")
def stories_csv(request: Request, key: str, answers: str | None = None) -> Response:
    """The consented stories as CSV (the CLI's ``proof --format csv``)."""
    _, found = decisions(_ctx(request), key, answers)
    rows = found.proof.rows() if found else []
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in rows)
    disposition = f'attachment; filename="{key}-stories.csv"'
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition})  # fmt: skip


@pages.get("/journeys/{key}/stories/wall/{persona}")
def wall(request: Request, key: str, persona: str, answers: str | None = None) -> Response:
    """One persona's story wall (``journeykit proof --wall``), to download and paste."""
    from journeykit.report.wall import wall_page

    journey, found = decisions(_ctx(request), key, answers)
    if persona not in {p.id for p in journey.personas} or found is None:
        raise NotFound(f"no stories for persona {persona!r}")
    return Response(
        wall_page(found.proof, journey, persona), media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="wall-{persona}.html"'},
    )  # fmt: skip


@pages.get("/journeys/{key}/hero")
def hero_page(request: Request, key: str, answers: str | None = None) -> HTMLResponse:
    return render(request, "hero.html", **_context(request, key, answers))


def _found(request: Request, key: str, answers: str | None) -> Decisions:
    _, found = decisions(_ctx(request), key, answers)
    if found is None:
        raise NotFound("the workspace has no events yet")
    return found


@api.get("/journeys/{key}/opportunities", summary="Where the journey leaks, ranked by value")
def opportunities_json(request: Request, key: str, answers: str | None = None) -> dict[str, Any]:
    """As ``journeykit opportunities --format json``."""
    return _found(request, key, answers).opportunities.to_dict()


@api.get("/journeys/{key}/stories", summary="The stories whose authors consented")
def stories_json(request: Request, key: str, answers: str | None = None) -> dict[str, Any]:
    """As ``journeykit proof --format json``: consented stories only, and a count of the rest."""
    return _found(request, key, answers).proof.to_dict()


@api.get("/journeys/{key}/hero", summary="Each persona's hero's journey")
def hero_json(request: Request, key: str, answers: str | None = None) -> list[dict[str, Any]]:
    """As ``journeykit hero --format json``."""
    return [h.to_dict() for h in _found(request, key, answers).heroes]
