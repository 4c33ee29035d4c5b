"""The web app: ``create_app(workspace)`` builds it; routes call the library, never SQL.

Pages (``pages.py``) and the JSON API (``api.py``) share one context: the workspace, the app's
store, the journeys, the cached analyses and the import jobs. One guard runs before every route
(access matrix, then CSRF); one place turns errors into a page or a JSON body.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException

from journeykit import __version__
from journeykit._optional import require
from journeykit.analytics.windows import DEFAULT_WINDOW
from journeykit.errors import JourneykitError
from journeykit.journey import Journey
from journeykit.web.data import Data, Filters
from journeykit.web.errors import FilterError
from journeykit.web.imports import Imports
from journeykit.web.journeys import Journeys, Parsed, parse
from journeykit.web.security import (
    CSRF_COOKIE,
    Identity,
    LoginLimiter,
    check_access,
    check_csrf,
    identify,
    new_csrf,
    rule_of,
)
from journeykit.web.store import Revision, Store
from journeykit.workspace import Workspace, open_workspace

HERE = Path(__file__).parent
STATIC = HERE / "static"


class InvalidJourney(JourneykitError):
    """The journey's saved text does not validate: analyses wait until it is fixed."""

    http_status: ClassVar[int] = 409

    def __init__(self, key: str, parsed: Parsed) -> None:
        self.key, self.parsed = key, parsed
        first = parsed.problems[0].render(None) if parsed.problems else "invalid"
        super().__init__(f"journey {key!r} does not validate ({first}); fix it in the editor")


@dataclass
class Context:
    ws: Workspace
    store: Store
    journeys: Journeys
    data: Data
    imports: Imports
    limiter: LoginLimiter
    https: bool
    templates: Any
    parsed: dict[tuple[str, str], Parsed] = field(default_factory=dict)
    parsed_lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, key: str) -> tuple[Revision, Parsed]:
        """The current revision of journey ``key``, parsed once per revision."""
        rev = self.journeys.current(key)
        name = self.journeys.file(key).name
        with self.parsed_lock:
            parsed = self.parsed.get((rev.sha256, name))
        if parsed is None:
            parsed = parse(rev.text, name)
            with self.parsed_lock:
                if len(self.parsed) > 64:
                    self.parsed.clear()
                self.parsed[(rev.sha256, name)] = parsed
        return rev, parsed

    def journey(self, key: str) -> tuple[Revision, Journey]:
        """The current revision and the journey; InvalidJourney when it does not validate."""
        rev, parsed = self.load(key)
        if parsed.journey is None:
            raise InvalidJourney(key, parsed)
        return rev, parsed.journey


def parse_date(name: str, text: str | date | None) -> date | None:
    if isinstance(text, date):
        return text
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(f"{name}: expected a date such as 2024-03-31, got {text!r}") from None


def make_filters(
    journey: Journey,
    path: str | None,
    window: str | None,
    persona: str | None,
    since: str | date | None,
    until: str | date | None,
) -> Filters:
    f = Filters(
        path=path or None,
        window=window or DEFAULT_WINDOW,
        persona=persona or None,
        since=parse_date("since", since),
        until=parse_date("until", until),
    )
    return f.check(journey)


def iter_routes(routes: Any, prefix: str = "") -> Any:
    """(route, full path) for every route, through included routers (FastAPI nests them)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from iter_routes(route.original_router.routes,
                                   prefix + route.include_context.prefix)  # fmt: skip
        else:
            yield route, prefix + getattr(route, "path", "")


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods some route answers at ``path``: the Allow header of a 405."""
    methods: set[str] = set()
    for route, _ in iter_routes(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def ident_of(request: Any) -> Identity:
    ident: Identity = request.state.ident
    return ident


def create_app(workspace: Path, *, https: bool = False) -> FastAPI:
    """The app for one workspace; ``https`` marks cookies Secure (behind a TLS proxy)."""
    jinja2 = require("jinja2", extra="web")
    require("python_multipart", extra="web")
    from journeykit.web import api, pages

    ws = open_workspace(workspace)
    store = Store.of_workspace(ws.root)
    data = Data(ws)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value from journeys, data and answers is text, never markup
        undefined=jinja2.StrictUndefined,
    )
    ctx = Context(ws, store, Journeys(ws, store), data, Imports(data), LoginLimiter(), https, env)

    async def guard(request: Request) -> None:
        ident = identify(request, ctx.store)
        if not ident.csrf:
            ident = Identity(ident.user, request.state.fresh_csrf, ident.token, ident.local)
        request.state.ident = ident
        check_access(request, ident, rule_of(request))
        await check_csrf(request, ident)

    app = FastAPI(
        title="journeykit",
        version=__version__,
        description="Journeys, live dashboards, customer look-up and who needs a nudge.",
        docs_url=None,  # Swagger UI would load its script from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(guard)],
    )
    app.state.ctx = ctx

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        fresh = None
        if CSRF_COOKIE not in request.cookies:
            fresh = new_csrf()
        request.state.fresh_csrf = fresh or ""
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=https, path="/"
            )
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            "form-action 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.exception_handler(JourneykitError)
    async def domain_error(request: Request, exc: JourneykitError) -> Any:
        field = getattr(exc, "field", None)
        return pages.error_response(request, exc.http_status, str(exc), field=field)

    from journeykit.engine.duckdb import DuckDBError, storage_error

    @app.exception_handler(DuckDBError)
    async def database_error(request: Request, exc: Exception) -> Any:
        # The workspace database damaged or out of room, met by any route: a page naming the
        # file and what to do. Any other database error is our bug and stays a 500.
        translated = storage_error(exc, ws.database)
        if translated is None:
            raise exc
        return await domain_error(request, translated)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Any:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        return pages.error_response(request, exc.status_code, str(exc.detail), headers)

    app.include_router(pages.router)
    app.include_router(api.router)
    from journeykit.web import plays

    app.include_router(plays.pages)
    app.include_router(plays.api)
    from journeykit.web import decide

    app.include_router(decide.pages)
    app.include_router(decide.api)
    from journeykit.web import builder, discovery, firstrun, results

    app.include_router(discovery.pages)
    app.include_router(results.pages)
    app.include_router(results.api)
    app.include_router(builder.pages)
    app.include_router(builder.api)
    app.include_router(firstrun.pages)
    return app
