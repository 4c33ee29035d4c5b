"""The JSON API: everything the pages show, as the CLI's own ``to_dict()`` shapes (OpenAPI at
``/openapi.json``). Signed in by the session cookie; unsafe methods carry ``X-CSRF-Token``, the
token ``GET /api/session`` and ``POST /api/login`` return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from journeykit.analytics.position import STATUSES
from journeykit.analytics.results import iso_time
from journeykit.journey import Journey
from journeykit.web import views
from journeykit.web.app import Context, ident_of, make_filters
from journeykit.web.data import Filters, FunnelAsk
from journeykit.web.errors import NotFound
from journeykit.web.funnel import ask_of, people_of, trends_of
from journeykit.web.journeys import Parsed, diff, parse
from journeykit.web.pages import DASHBOARDS, set_session_cookie
from journeykit.web.security import SESSION_COOKIE, client_ip, end_previous_session
from journeykit.web.store import ROLES, Revision

JSON = dict[str, Any]


class ErrorBody(BaseModel):
    detail: str
    field: str | None = None  # the parameter at fault, when one is (the funnel's options)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "Bad input", 401: "Not signed in", 403: "Not allowed, or no CSRF token",
        404: "Not found", 409: "Exists already, or the journey does not validate",
        429: "Too many attempts",
    }  # fmt: skip
    return {c: {"model": ErrorBody, "description": text[c]} for c in codes}


READ = _errors(400, 401, 403, 404, 409)
WRITE = _errors(400, 401, 403, 404, 409)
router = APIRouter(prefix="/api", responses=READ)


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


class Login(BaseModel):
    name: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class JourneyText(BaseModel):
    text: str = Field(max_length=2_000_000)
    note: str = Field("saved via the API", max_length=500)


Template = Literal["coding-course", "fitness-studio", "saas-trial", "membership-community"]
Role = Literal["viewer", "editor", "admin"]


class NewJourney(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    template: Template


class NewUser(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    role: Role
    password: str = Field(min_length=10, max_length=1000)


class UserChange(BaseModel):
    role: Role | None = None
    password: str | None = Field(None, min_length=10, max_length=1000)


def _session(request: Request) -> JSON:
    ident = ident_of(request)
    return {
        "user": ident.user.name if ident.user else None,
        "role": ident.user.role if ident.user else None,
        "csrf_token": ident.csrf,
        "local": ident.local,
    }


@router.get("/session")
def session(request: Request) -> JSON:
    """Who is signed in, and the CSRF token unsafe requests must send as ``X-CSRF-Token``."""
    return _session(request)


@router.post("/login", responses=_errors(401, 403, 429))
def login(request: Request, body: Login) -> Response:
    ctx = ctx_of(request)
    ip = client_ip(request)
    wait, mark = ctx.limiter.attempt(ip, body.name)
    if wait > 0:
        headers = {"Retry-After": str(int(wait) + 1)}
        return JSONResponse({"detail": "too many failed sign-ins"}, 429, headers=headers)
    user = ctx.store.check_password(body.name, body.password)
    if user is None:
        return JSONResponse({"detail": "wrong name or password"}, 401)
    ctx.limiter.succeeded(ip, body.name, mark)
    end_previous_session(request, ctx.store)
    token, sess = ctx.store.new_session(user)
    resp = JSONResponse({"user": user.name, "role": user.role, "csrf_token": sess.csrf,
                         "local": False})  # fmt: skip
    set_session_cookie(resp, token, ctx.https)
    return resp


@router.post("/logout")
def logout(request: Request) -> Response:
    ident = ident_of(request)
    if ident.token:
        ctx_of(request).store.end_session(ident.token)
    resp = JSONResponse({"signed_out": True})
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/journeys")
def journeys(request: Request) -> list[JSON]:
    return views.journey_rows(ctx_of(request))


@router.post("/journeys", status_code=201, responses=_errors(400, 401, 403, 409))
def create_journey(request: Request, body: NewJourney) -> JSON:
    user = ident_of(request).user
    assert user is not None
    return ctx_of(request).journeys.create(body.name, body.template, user.name).summary()


def _problems(parsed: Parsed) -> list[JSON]:
    return [{"line": p.line, "field": p.field, "message": p.message} for p in parsed.problems]


@router.get("/journeys/{key}")
def journey(request: Request, key: str) -> JSON:
    ctx = ctx_of(request)
    parsed = ctx.journeys.load(key)
    j = parsed.journey
    return {
        "key": key,
        "file": ctx.journeys.file(key).name,
        "revision": ctx.journeys.current(key).summary(),
        "text": parsed.text,
        "valid": j is not None,
        "problems": _problems(parsed),
        "journey": j.model_dump(mode="json", by_alias=True, exclude_none=True) if j else None,
    }


@router.put("/journeys/{key}", responses={**WRITE, 422: {"description": "Invalid journey"}})
def save(request: Request, key: str, body: JourneyText) -> Response:
    user = ident_of(request).user
    assert user is not None
    result = ctx_of(request).journeys.save(key, body.text, user.name, body.note)
    if isinstance(result, Parsed):
        return JSONResponse({"valid": False, "problems": _problems(result)}, 422)
    return JSONResponse(result.summary())


@router.post("/journeys/{key}/validate")
def validate(request: Request, key: str, body: JourneyText) -> JSON:
    """Problems with their lines; nothing is saved."""
    parsed = parse(body.text, ctx_of(request).journeys.file(key).name)
    return {"valid": parsed.journey is not None, "problems": _problems(parsed)}


@router.get("/journeys/{key}/revisions")
def revisions(request: Request, key: str) -> list[JSON]:
    ctx = ctx_of(request)
    ctx.journeys.current(key)
    return [r.summary() for r in ctx.store.revisions(key)]


@router.get("/journeys/{key}/revisions/{number}")
def revision(request: Request, key: str, number: int) -> JSON:
    ctx = ctx_of(request)
    rev = ctx.journeys.revision(key, number)
    current = ctx.journeys.current(key)
    lines = [line for _, line in diff(rev, current)]
    return {**rev.summary(), "text": rev.text, "diff_to_current": lines}


@router.post("/journeys/{key}/revisions/{number}/restore",
             responses={**WRITE, 422: {"description": "Invalid journey"}})  # fmt: skip
def restore(request: Request, key: str, number: int) -> Response:
    user = ident_of(request).user
    assert user is not None
    result = ctx_of(request).journeys.restore(key, number, user.name)
    if isinstance(result, Parsed):
        return JSONResponse({"valid": False, "problems": _problems(result)}, 422)
    return JSONResponse(result.summary())


Path_ = Annotated[str | None, Query(description="Path id (default: the first)", max_length=64)]
Window = Annotated[str | None, Query(description="Window: 30d, 2w, 1mo, none", max_length=32)]
Persona = Annotated[str | None, Query(description="Only this persona's customers", max_length=64)]
_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Since = Annotated[str | None, Query(description="Events from this date (YYYY-MM-DD)", pattern=_DAY)]
Until = Annotated[str | None, Query(description="Events to this date; results as of it",
                                    pattern=_DAY)]  # fmt: skip


def _setup(request: Request, key: str, path: str | None, window: str | None,
           persona: str | None, since: str | None,
           until: str | None) -> tuple[Context, Revision, Journey, Filters]:  # fmt: skip
    ctx = ctx_of(request)
    rev, j = ctx.journey(key)
    return ctx, rev, j, make_filters(j, path, window, persona, since, until)


@router.get("/journeys/{key}/map")
def map_numbers(request: Request, key: str, path: Path_ = None, persona: Persona = None,
                since: Since = None, until: Until = None) -> JSON:  # fmt: skip
    """What the living map's cards show: each path's funnel and where customers are."""
    ctx, rev, j, f = _setup(request, key, path, None, persona, since, until)
    r = ctx.data.map_results(rev.sha256, j, f)
    return {
        "path": r.path,
        "funnels": {p: fr.to_dict() for p, fr in r.funnels.items()},
        "positions": {p: pr.summary for p, pr in r.positions.items()},
        "reached": r.counts.reached,
        "cards": {mid: card.to_dict() for mid, card in r.cards.items()},
        "notes": list(r.notes),
    }


Mode = Annotated[str, Query(description="ordered, strict or any", max_length=16)]
Semantics = Annotated[
    str, Query(description="Count as journeykit, posthog or clickhouse does", max_length=16)
]
ClickHouse = Annotated[
    list[str] | None,
    Query(description="windowFunnel modes, with semantics clickhouse (repeat the parameter)",
          max_length=64),
]  # fmt: skip


@dataclass(frozen=True)
class FunnelQuery:
    """The funnel routes' parameters: the dashboards' filters and how to count."""

    filters: tuple[str | None, ...]  # path, window, persona, since, until
    ask: FunnelAsk

    def setup(self, request: Request, key: str) -> tuple[Context, Revision, Journey, Filters]:
        return _setup(request, key, *self.filters)


def funnel_query(path: Path_ = None, window: Window = None, persona: Persona = None,
                 since: Since = None, until: Until = None, mode: Mode = "ordered",
                 semantics: Semantics = "journeykit",
                 clickhouse: ClickHouse = None) -> FunnelQuery:  # fmt: skip
    return FunnelQuery((path, window, persona, since, until),
                       ask_of(mode, semantics, clickhouse or ()))  # fmt: skip


FunnelParams = Annotated[FunnelQuery, Depends(funnel_query)]


@router.get("/journeys/{key}/funnel")
def funnel(request: Request, key: str, q: FunnelParams) -> JSON:
    """As ``journeykit funnel --format json`` (``--mode``, ``--semantics``,
    ``--clickhouse-mode``); a refused combination is a 400 naming its ``field``."""
    ctx, rev, j, f = q.setup(request, key)
    return ctx.data.funnel(rev.sha256, j, f, q.ask).to_dict()


@router.get("/journeys/{key}/funnel/trends")
def funnel_trends(request: Request, key: str, q: FunnelParams,
                  interval: Annotated[str, Query(description="day, week or month",
                                                 max_length=8)] = "week",
                  to_step: Annotated[str | None, Query(description="Conversion to this step "
                                                       "(default: the last)",
                                                       max_length=64)] = None) -> JSON:  # fmt: skip
    """As ``journeykit funnel --trends INTERVAL --format json``: conversion per entry period."""
    ctx, rev, j, f = q.setup(request, key)
    return trends_of(ctx, rev, j, f, q.ask, interval, to_step).to_dict()


@router.get("/journeys/{key}/funnel/people")
def funnel_people(request: Request, key: str, q: FunnelParams,
                  step: Annotated[str | None, Query(description="Step number or milestone id "
                                                    "(default: the last)", max_length=64)] = None,
                  dropped: bool = False) -> JSON:  # fmt: skip
    """As ``journeykit funnel --people STEP [--dropped] --format json``."""
    ctx, rev, j, f = q.setup(request, key)
    return people_of(ctx, rev, j, f, q.ask, step, dropped).to_dict()


@router.get("/journeys/{key}/paths")
def paths(request: Request, key: str, persona: Persona = None, since: Since = None,
          until: Until = None, top: Annotated[int, Query(ge=1, le=1000)] = 20) -> JSON:  # fmt: skip
    """As ``journeykit paths --format json``."""
    ctx, rev, j, f = _setup(request, key, None, None, persona, since, until)
    return ctx.data.paths(rev.sha256, j, f, top).to_dict()


@router.get("/journeys/{key}/positions")
def positions(request: Request, key: str, path: Path_ = None, persona: Persona = None,
              since: Since = None, until: Until = None,
              limit: Annotated[int, Query(ge=0, le=100_000)] = 1000,
              offset: Annotated[int, Query(ge=0)] = 0) -> JSON:  # fmt: skip
    """As ``journeykit positions --format json``, customers paged (``total`` is all of them)."""
    ctx, rev, j, f = _setup(request, key, path, None, persona, since, until)
    placed = ctx.data.positions(rev.sha256, j, f)
    total = len(placed.customer_ids)
    rows = range(offset, min(offset + limit, total))
    return {
        "path": placed.path,
        "now": iso_time(placed.now),
        "summary": placed.summary,
        "customers": [placed.row(r).to_dict() for r in rows],
        "total": total,
        "offset": offset,
    }


@router.get("/journeys/{key}/cohorts")
def cohorts(request: Request, key: str, path: Path_ = None, persona: Persona = None,
            since: Since = None, until: Until = None,
            days: Annotated[int, Query(ge=1, le=3650)] = 30) -> JSON:  # fmt: skip
    """As ``journeykit cohorts --format json``."""
    ctx, rev, j, f = _setup(request, key, path, None, persona, since, until)
    return ctx.data.cohorts(rev.sha256, j, f, days).to_dict()


@router.get("/journeys/{key}/customers/{customer_id}")
def customer(request: Request, key: str, customer_id: str, path: Path_ = None,
             since: Since = None, until: Until = None) -> JSON:  # fmt: skip
    """One customer: position, status and strays on the path, and their milestone timeline."""
    ctx, rev, j, f = _setup(request, key, path, None, None, since, until)
    return ctx.data.customer(rev.sha256, j, f, customer_id).to_dict()


@router.get("/journeys/{key}/lists/{status}")
def listed(request: Request, key: str, status: str, path: Path_ = None, persona: Persona = None,
           since: Since = None, until: Until = None,
           top: Annotated[int | None, Query(ge=1)] = None) -> JSON:  # fmt: skip
    """Customers with a status; ``stuck`` is ``journeykit stuck --format json``."""
    if status not in STATUSES:
        raise NotFound(f"no list {status!r}; expected one of {', '.join(STATUSES)}")
    ctx, rev, j, f = _setup(request, key, path, None, persona, since, until)
    placed = ctx.data.positions(rev.sha256, j, f)
    return ctx.data.listed(rev.sha256, j, f, placed, status, top).to_dict()


@router.get("/journeys/{key}/themes")
def themes(
    request: Request,
    key: str,
    answers: Annotated[str, Query(description="A file in the answers/ folder")],
) -> JSON:
    """As ``journeykit discover themes --format json`` on one of the workspace's answer files."""
    ctx = ctx_of(request)
    _, j = ctx.journey(key)
    return views.themes(ctx, j, answers).to_dict()


@router.get("/imports")
def imports(request: Request) -> JSON:
    ctx = ctx_of(request)
    return {
        "history": ctx.imports.history(),
        "jobs": [job.to_dict() for job in ctx.imports.jobs.values()],
    }


@router.post("/imports", status_code=202, responses=WRITE)
def upload(request: Request, file: Annotated[UploadFile, File()],
           customer_id: Annotated[str, Form()] = "") -> JSON:  # fmt: skip
    """Start an import of one events file; poll the job for progress and the rejects."""
    ctx = ctx_of(request)
    user = ident_of(request).user
    assert user is not None
    path = ctx.imports.save_upload(file.filename or "upload", file.file)
    return ctx.imports.start(path, user.name, customer_id=customer_id.strip() or None).to_dict()


@router.get("/imports/jobs/{job_id}")
def job(request: Request, job_id: str) -> JSON:
    return ctx_of(request).imports.job(job_id).to_dict()


@router.get("/imports/{import_id}/rejected")
def rejected(request: Request, import_id: str,
             limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[JSON]:  # fmt: skip
    ctx = ctx_of(request)
    if import_id not in {r["import_id"] for r in ctx.imports.history()}:
        raise NotFound(f"no import {import_id!r}")
    return ctx.imports.rejected_rows([import_id], limit)


@router.get("/users")
def users(request: Request) -> list[JSON]:
    return [{"name": u.name, "role": u.role} for u in ctx_of(request).store.users()]


@router.post("/users", status_code=201, responses=_errors(400, 401, 403, 409))
def add_user(request: Request, body: NewUser) -> JSON:
    u = ctx_of(request).store.add_user(body.name, body.role, body.password)
    return {"name": u.name, "role": u.role}


@router.delete("/users/{name}", responses=WRITE)
def remove_user(request: Request, name: str) -> JSON:
    ctx_of(request).store.remove_user(name)
    return {"removed": name}


@router.put("/users/{name}", responses=WRITE)
def change_user(request: Request, name: str, body: UserChange) -> JSON:
    store = ctx_of(request).store
    if store.user(name) is None:
        raise NotFound(f"no user {name!r}")
    if body.role is not None:
        store.set_role(name, body.role)
    if body.password is not None:
        store.set_password(name, body.password)
    u = store.user(name)
    assert u is not None
    return {"name": u.name, "role": u.role, "roles": list(ROLES)}


__all__ = ["DASHBOARDS", "router"]
