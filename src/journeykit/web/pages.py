"""The pages: server-rendered HTML (Jinja, autoescaped) with a little vendored JavaScript."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from journeykit.analytics.funnel import MODES
from journeykit.analytics.funnel_names import CLICKHOUSE_MODES, INTERVALS, SEMANTICS
from journeykit.analytics.position import STATUSES
from journeykit.analytics.windows import DEFAULT_WINDOW
from journeykit.journey.templates import template_names
from journeykit.report.export import csv_safe
from journeykit.web import views
from journeykit.web.app import STATIC, Context, ident_of, make_filters
from journeykit.web.errors import FilterError, NotFound
from journeykit.web.funnel import FunnelChoice, ask_of, people_of
from journeykit.web.imports import shown_name
from journeykit.web.journeys import Parsed, diff, parse
from journeykit.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    client_ip,
    end_previous_session,
)
from journeykit.web.store import ROLES

if TYPE_CHECKING:
    from journeykit.journey import Journey
    from journeykit.web.data import Filters, FunnelAsk

router = APIRouter(include_in_schema=False)
DASHBOARDS = ("funnel", "paths", "positions", "cohorts")
PAGE_ROWS = 100
LIST_FIELDS = ("customer_id", "milestone", "reached_at", "status")


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def render(request: Request, name: str, code: int = 200, **values: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    ident = getattr(request.state, "ident", None)
    html = ctx.templates.get_template(name).render(
        ident=ident,
        user=ident.user if ident else None,
        csrf=ident.csrf if ident else "",
        csrf_field=CSRF_FIELD,
        can_edit=bool(ident and ident.user and ident.user.role in ("editor", "admin")),
        is_admin=bool(ident and ident.user and ident.user.role == "admin"),
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=code)


def error_response(
    request: Request,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    field: str | None = None,
) -> Response:
    """``field``: the parameter the error is about, in the API's body when known."""
    path = request.url.path
    if path.startswith("/api") or path == "/openapi.json":
        body = {"detail": message} if field is None else {"detail": message, "field": field}
        return JSONResponse(body, status, headers=dict(headers or {}))
    if status == 401 and request.method == "GET":
        return RedirectResponse(f"/login?{urlencode({'next': path})}", 303)
    if not hasattr(request.state, "ident"):
        request.state.ident = None
    resp = render(request, "error.html", status, status_code=status, message=message)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def safe_next(target: str | None) -> str:
    # Only a path on this site: "//evil.example" or "https://..." would be an open redirect.
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/journeys"
    return target


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(files[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=safe_next(next), failed=None)


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/journeys",
) -> Response:
    ctx = ctx_of(request)
    ip = client_ip(request)
    wait, mark = ctx.limiter.attempt(ip, name)
    if wait > 0:
        msg = f"Too many failed sign-ins: try again in {int(wait) + 1} seconds."
        resp: Response = render(request, "login.html", 429, next=safe_next(next), failed=msg)
        resp.headers["Retry-After"] = str(int(wait) + 1)
        return resp
    user = ctx.store.check_password(name, password)
    if user is None:
        msg = "Wrong name or password."
        return render(request, "login.html", 401, next=safe_next(next), failed=msg)
    ctx.limiter.succeeded(ip, name, mark)
    end_previous_session(request, ctx.store)
    token, _ = ctx.store.new_session(user)
    resp = RedirectResponse(safe_next(next), 303)
    set_session_cookie(resp, token, ctx.https)
    return resp


def set_session_cookie(resp: Response, token: str, https: bool) -> None:
    resp.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=https, path="/",
        max_age=7 * 86400,
    )  # fmt: skip


@router.post("/logout")
def logout(request: Request) -> Response:
    ident = ident_of(request)
    if ident.token:
        ctx_of(request).store.end_session(ident.token)
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def home(request: Request) -> Response:
    # A workspace with no events yet: the first-run steps (template, import, map) come first.
    empty = ctx_of(request).data.version() == "empty"
    return RedirectResponse("/welcome" if empty else "/journeys", 303)


@router.get("/journeys")
def journeys_page(request: Request) -> Response:
    return render(
        request, "journeys.html", rows=views.journey_rows(ctx_of(request)),
        templates=template_names(), message=None,
    )  # fmt: skip


@router.post("/journeys")
def create_journey(
    request: Request, name: Annotated[str, Form()], template: Annotated[str, Form()]
) -> Response:
    ctx = ctx_of(request)
    ctx.journeys.create(name.strip(), template, ident_of(request).user.name)  # type: ignore[union-attr]
    return RedirectResponse(f"/journeys/{quote(name.strip())}/edit", 303)


def _filters_form(request: Request, journey: Journey) -> dict[str, Any]:
    q = request.query_params
    return {
        "journey": journey,
        "f_path": q.get("path") or "",
        "f_window": q.get("window") or DEFAULT_WINDOW,
        "f_persona": q.get("persona") or "",
        "f_since": q.get("since") or "",
        "f_until": q.get("until") or "",
    }


def _filters(request: Request, journey: Journey) -> Filters:
    q = request.query_params
    return make_filters(
        journey, q.get("path"), q.get("window"), q.get("persona"), q.get("since"), q.get("until")
    )


@router.get("/journeys/{key}")
def map_page(request: Request, key: str) -> Response:
    ctx = ctx_of(request)
    rev, journey = ctx.journey(key)
    f = _filters(request, journey)
    svg, note = views.map_svg(ctx, rev, journey, f)
    return render(
        request, "map.html", key=key, rev=rev, svg=svg, note=note,
        **_filters_form(request, journey),
    )  # fmt: skip


def _editor(request: Request, key: str, parsed: Parsed, code: int = 200, **extra: Any) -> Response:
    ctx = ctx_of(request)
    values: dict[str, Any] = {
        "saved": None, "preview": None, "checked": False, "checked_only": False, **extra
    }  # fmt: skip
    return render(
        request, "editor.html", code, key=key, parsed=parsed,
        lines=parsed.text.splitlines() or [""], current=ctx.journeys.current(key),
        file=ctx.journeys.file(key).name, **values,
    )  # fmt: skip


@router.get("/journeys/{key}/edit")
def edit_page(request: Request, key: str) -> Response:
    return _editor(request, key, ctx_of(request).load(key)[1])


@router.post("/journeys/{key}/check")
def check_page(request: Request, key: str, text: Annotated[str, Form()]) -> Response:
    ctx = ctx_of(request)
    parsed = parse(text, ctx.journeys.file(key).name)
    preview = views.preview_svg(parsed)
    # A check that finds problems has still done its job: 200, the problems are the answer.
    return _editor(request, key, parsed, preview=preview, checked=True, checked_only=True)


@router.post("/journeys/{key}/edit")
def save_page(
    request: Request, key: str, text: Annotated[str, Form()], note: Annotated[str, Form()] = ""
) -> Response:
    ctx = ctx_of(request)
    user = ident_of(request).user
    assert user is not None
    result = ctx.journeys.save(key, text.replace("\r\n", "\n"), user.name, note.strip() or "saved")
    if isinstance(result, Parsed):
        return _editor(request, key, result, 422, checked=True)
    return _editor(request, key, ctx.load(key)[1], saved=result)


@router.get("/journeys/{key}/revisions")
def revisions_page(
    request: Request, key: str, a: int | None = None, b: int | None = None
) -> Response:
    ctx = ctx_of(request)
    current = ctx.journeys.current(key)
    revs = ctx.store.revisions(key)
    lines = None
    if a is not None and b is not None:
        lines = diff(ctx.journeys.revision(key, a), ctx.journeys.revision(key, b))
    return render(
        request, "revisions.html", key=key, revs=revs, current=current, diff=lines, a=a, b=b
    )


@router.get("/journeys/{key}/revisions/{number}")
def revision_page(request: Request, key: str, number: int) -> Response:
    ctx = ctx_of(request)
    rev = ctx.journeys.revision(key, number)
    current = ctx.journeys.current(key)
    return render(
        request, "revision.html", key=key, rev=rev, current=current, diff=diff(rev, current),
        lines=rev.text.splitlines(),
    )  # fmt: skip


@router.post("/journeys/{key}/revisions/{number}/restore")
def restore_page(request: Request, key: str, number: int) -> Response:
    ctx = ctx_of(request)
    user = ident_of(request).user
    assert user is not None
    result = ctx.journeys.restore(key, number, user.name)
    if isinstance(result, Parsed):
        return _editor(request, key, result, 422, checked=True)
    return RedirectResponse(f"/journeys/{quote(key)}/revisions?restored={result.number}", 303)


@router.get("/journeys/{key}/dashboards/{kind}")
def dashboard_page(request: Request, key: str, kind: str) -> Response:
    if kind not in DASHBOARDS:
        raise NotFound(f"no dashboard {kind!r}; expected one of {', '.join(DASHBOARDS)}")
    ctx = ctx_of(request)
    rev, journey = ctx.journey(key)
    f = _filters(request, journey)
    asked = _funnel_asked(request) if kind == "funnel" else None
    view = views.dashboard(ctx, rev, journey, f, kind, asked)
    refused = kind == "funnel" and bool(view.extra["funnel"].errors)
    return render(
        request, "dashboard.html", 400 if refused else 200, key=key, kind=kind, kinds=DASHBOARDS,
        view=view, **_filters_form(request, journey), **_funnel_form(request, key, journey),
    )  # fmt: skip


def _funnel_asked(request: Request) -> tuple[FunnelAsk, FunnelChoice]:
    q = request.query_params
    ask = ask_of(q.get("mode"), q.get("semantics"), q.getlist("clickhouse"))
    choice = FunnelChoice(
        q.get("trends") or None, q.get("trend_to") or None, q.get("people") or None,
        q.get("dropped") == "1",
    )  # fmt: skip
    return ask, choice


def _funnel_form(request: Request, key: str, journey: Journey) -> dict[str, Any]:
    """The funnel controls' values, their choices, and the people list's CSV link."""
    from journeykit.analytics.milestones import resolve_path

    q = request.query_params
    chosen = resolve_path(journey, q.get("path") or None)
    csv_link = f"/journeys/{quote(key)}/funnel/people.csv?{urlencode(list(q.multi_items()))}"
    return {
        "f_mode": q.get("mode") or "ordered", "f_semantics": q.get("semantics") or "journeykit",
        "f_clickhouse": q.getlist("clickhouse"), "f_trends": q.get("trends") or "",
        "f_trend_to": q.get("trend_to") or "",
        "f_people": q.get("people") or "", "f_dropped": q.get("dropped") == "1",
        "modes": MODES, "semantics_names": SEMANTICS, "clickhouse_modes": CLICKHOUSE_MODES,
        "intervals": INTERVALS, "people_csv": csv_link, "people_rows": PAGE_ROWS,
        "path_steps": [journey.milestone(m).title for m in chosen.milestone_ids],
    }  # fmt: skip


@router.get("/journeys/{key}/funnel/people.csv")
def funnel_people_csv(request: Request, key: str) -> Response:
    """The people list of the funnel dashboard, as ``journeykit funnel --people STEP --format
    csv`` writes it."""
    ctx = ctx_of(request)
    rev, journey = ctx.journey(key)
    f = _filters(request, journey)
    ask, choice = _funnel_asked(request)
    listed = people_of(ctx, rev, journey, f, ask, choice.people, choice.dropped)
    what = "dropped" if listed.dropped else "converted"
    text = _csv_text(listed.rows(), ["customer_id"])
    return _csv(text, f"{key}-{listed.path}-{listed.step}-{what}.csv")


@router.get("/journeys/{key}/customers")
def customer_page(request: Request, key: str, q: str | None = None) -> Response:
    ctx = ctx_of(request)
    rev, journey = ctx.journey(key)
    f = _filters(request, journey)
    found, missing, story = None, None, None
    if q and q.strip():
        try:
            found = ctx.data.customer(rev.sha256, journey, f, q.strip())
        except NotFound as exc:
            missing = str(exc)
        else:
            from journeykit.web.results import customer_story

            story = customer_story(ctx, key, q.strip())
    return render(
        request, "customer.html", key=key, q=q or "", found=found, missing=missing, story=story,
        titles={m.id: m.title for m in journey.milestones}, **_filters_form(request, journey),
    )  # fmt: skip


@router.get("/journeys/{key}/lists/{status}")
def list_page(
    request: Request, key: str, status: str, format: str = "html", top: int | None = None
) -> Response:
    if status not in STATUSES:
        raise NotFound(f"no list {status!r}; expected one of {', '.join(STATUSES)}")
    if format not in ("html", "csv"):
        raise NotFound(f"format {format!r}: expected html or csv")
    if top is not None and top < 1:
        raise FilterError(f"top: expected a number of customers of at least 1, got {top}")
    ctx = ctx_of(request)
    rev, journey = ctx.journey(key)
    f = _filters(request, journey)
    placed = ctx.data.positions(rev.sha256, journey, f)
    if format == "csv":
        cache_key = ("csv", rev.sha256, ctx.data.version(), f.key(), status, top)
        text = ctx.data.cached(
            cache_key,
            lambda: _csv_text(ctx.data.listed(rev.sha256, journey, f, placed, status, top).rows()),
        )
        return _csv(text, f"{key}-{status}.csv")
    total = placed.summary[status]
    if top is not None:
        total = min(total, top)
    # Only the rows shown are built: at a million customers, building them all takes seconds.
    shown = min(PAGE_ROWS, top or PAGE_ROWS)
    listed = ctx.data.listed(rev.sha256, journey, f, placed, status, shown)
    return render(
        request, "list.html", key=key, status=status, rows=listed.customers, listed=listed,
        total=total,
        titles={m.id: m.title for m in journey.milestones}, statuses=STATUSES,
        csv_link=f"{request.url.path}?{urlencode({**request.query_params, 'format': 'csv'})}",
        **_filters_form(request, journey),
    )  # fmt: skip


def _csv_text(rows: list[dict[str, Any]], empty: Sequence[str] = LIST_FIELDS) -> str:
    """``empty``: the header when there are no rows."""
    out = io.StringIO()
    fields = list(rows[0]) if rows else list(empty)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # A cell starting with = + - @ is a formula to spreadsheet tools: keep it text.
        writer.writerow({k: csv_safe(v) for k, v in row.items()})
    return out.getvalue()


def _csv(text: str, filename: str) -> Response:
    return Response(
        text, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip


@router.get("/imports")
def imports_page(request: Request) -> Response:
    ctx = ctx_of(request)
    return render(request, "imports.html", history=ctx.imports.history(), error=None)


@router.post("/imports")
def upload_page(
    request: Request,
    file: Annotated[UploadFile, File()],
    customer_id: Annotated[str, Form()] = "",
) -> Response:
    ctx = ctx_of(request)
    user = ident_of(request).user
    assert user is not None
    path = ctx.imports.save_upload(file.filename or "upload", file.file)
    job = ctx.imports.start(path, user.name, customer_id=customer_id.strip() or None)
    return RedirectResponse(f"/imports/jobs/{job.id}", 303)


@router.get("/imports/jobs/{job_id}")
def job_page(request: Request, job_id: str) -> Response:
    job = ctx_of(request).imports.job(job_id)
    return render(request, "import_job.html", job=job)


@router.get("/imports/{import_id}/rejected.csv")
def rejects_file(request: Request, import_id: str) -> Response:
    path = ctx_of(request).imports.rejects_file(import_id)
    return StreamingResponse(
        _safe_rejects(path), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rejected-{import_id}.csv"'},
    )  # fmt: skip


def _safe_rejects(path: Path) -> Iterator[str]:
    """The rejects file as the other CSV exports: the uploaded name, not the server's path (the
    file is the CLI's), and cells that would be formulas kept as text. Streamed: it can be big."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        writer.writerow(header)
        source = header.index("source") if "source" in header else -1
        for n, row in enumerate(reader):
            if 0 <= source < len(row):
                row[source] = shown_name(row[source])
            writer.writerow([csv_safe(v) for v in row])
            if n % 1000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    yield out.getvalue()


@router.get("/users")
def users_page(request: Request, message: str | None = None) -> Response:
    ctx = ctx_of(request)
    return render(request, "users.html", users=ctx.store.users(), roles=ROLES, message=message)


@router.post("/users")
def add_user_page(
    request: Request,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    ctx_of(request).store.add_user(name.strip(), role, password)
    return RedirectResponse(f"/users?{urlencode({'message': f'added {name.strip()}'})}", 303)


@router.post("/users/{name}/delete")
def remove_user_page(request: Request, name: str) -> Response:
    ctx_of(request).store.remove_user(name)
    return RedirectResponse(f"/users?{urlencode({'message': f'removed {name}'})}", 303)


@router.post("/users/{name}/role")
def role_page(request: Request, name: str, role: Annotated[str, Form()]) -> Response:
    ctx_of(request).store.set_role(name, role)
    return RedirectResponse(f"/users?{urlencode({'message': f'{name} is now {role}'})}", 303)


@router.post("/users/{name}/password")
def password_page(request: Request, name: str, password: Annotated[str, Form()]) -> Response:
    ctx_of(request).store.set_password(name, password)
    return RedirectResponse(f"/users?{urlencode({'message': f'new password for {name}'})}", 303)
