"""Who may do what, written once: the access matrix, sessions, CSRF and login rate limits.

Every route's rule is in ``ACCESS`` (method, route path) -> the least role that may use it, or
``anyone``. The guard runs before every route and refuses a route that has no rule, so a new
route cannot be reachable by accident; tests/web walk every route x role against this table.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from fastapi import HTTPException, Request

from journeykit.web.store import ROLES, Session, Store, User

SESSION_COOKIE = "jk_session"
CSRF_COOKIE = "jk_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANYONE = "anyone"
RANK = {ANYONE: -1, **{r: i for i, r in enumerate(ROLES)}}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

_J = "/journeys/{key}"
_A = "/api/journeys/{key}"
ACCESS: dict[tuple[str, str], str] = {
    # signing in and out, the static files
    ("GET", "/login"): ANYONE,
    ("POST", "/login"): ANYONE,
    ("POST", "/logout"): ANYONE,
    ("GET", "/static/{name}"): ANYONE,
    ("POST", "/api/login"): ANYONE,
    ("GET", "/api/session"): ANYONE,
    # The API's description holds no data (and FastAPI serves it outside the guard).
    ("GET", "/openapi.json"): ANYONE,
    ("POST", "/api/logout"): ANYONE,
    # reading: viewers
    ("GET", "/"): "viewer",
    ("GET", "/journeys"): "viewer",
    ("GET", _J): "viewer",
    ("GET", _J + "/edit"): "viewer",
    ("POST", _J + "/check"): "viewer",
    ("GET", _J + "/revisions"): "viewer",
    ("GET", _J + "/revisions/{number}"): "viewer",
    ("GET", _J + "/dashboards/{kind}"): "viewer",
    ("GET", _J + "/customers"): "viewer",
    ("GET", _J + "/lists/{status}"): "viewer",
    ("GET", _J + "/themes"): "viewer",
    ("GET", "/imports"): "viewer",
    ("GET", "/imports/jobs/{job_id}"): "viewer",
    ("GET", "/imports/{import_id}/rejected.csv"): "viewer",
    ("GET", "/api/journeys"): "viewer",
    ("GET", _A): "viewer",
    ("POST", _A + "/validate"): "viewer",
    ("GET", _A + "/revisions"): "viewer",
    ("GET", _A + "/revisions/{number}"): "viewer",
    ("GET", _A + "/map"): "viewer",
    ("GET", _A + "/funnel"): "viewer",
    ("GET", _A + "/funnel/trends"): "viewer",
    ("GET", _A + "/funnel/people"): "viewer",
    ("GET", _J + "/funnel/people.csv"): "viewer",
    ("GET", _A + "/paths"): "viewer",
    ("GET", _A + "/positions"): "viewer",
    ("GET", _A + "/cohorts"): "viewer",
    ("GET", _A + "/customers/{customer_id}"): "viewer",
    ("GET", _A + "/lists/{status}"): "viewer",
    ("GET", _A + "/themes"): "viewer",
    ("GET", "/api/imports"): "viewer",
    ("GET", "/api/imports/jobs/{job_id}"): "viewer",
    ("GET", "/api/imports/{import_id}/rejected"): "viewer",
    ("GET", _J + "/plays"): "viewer",
    ("GET", _J + "/plays/{play}/entries.csv"): "viewer",
    ("GET", _A + "/plays"): "viewer",
    ("GET", _J + "/proof"): "viewer",
    ("GET", _A + "/proof"): "viewer",
    ("GET", "/api/sample-size"): "viewer",
    ("GET", _J + "/opportunities"): "viewer",
    ("GET", _J + "/stories.csv"): "viewer",
    ("GET", _J + "/stories/wall/{persona}"): "viewer",
    ("GET", _J + "/stories"): "viewer",
    ("GET", _J + "/hero"): "viewer",
    ("GET", _A + "/opportunities"): "viewer",
    ("GET", _A + "/stories"): "viewer",
    ("GET", _A + "/hero"): "viewer",
    ("GET", _J + "/answers/{name}"): "viewer",
    ("GET", _J + "/clv"): "viewer",
    ("GET", _A + "/clv"): "viewer",
    ("GET", _J + "/community"): "viewer",
    ("GET", _A + "/community"): "viewer",
    ("GET", _A + "/customers/{customer_id}/story"): "viewer",
    ("GET", _J + "/builder"): "viewer",
    ("GET", "/welcome"): "viewer",
    ("POST", _A + "/rule-counts"): "viewer",
    # changing journeys and data: editors
    ("POST", "/journeys"): "editor",
    ("POST", _J + "/edit"): "editor",
    ("POST", _J + "/revisions/{number}/restore"): "editor",
    ("POST", "/imports"): "editor",
    ("POST", "/api/journeys"): "editor",
    ("PUT", _A): "editor",
    ("POST", _A + "/revisions/{number}/restore"): "editor",
    ("POST", "/api/imports"): "editor",
    ("POST", _J + "/plays/run"): "editor",
    ("POST", _A + "/plays/run"): "editor",
    ("POST", _J + "/answers"): "editor",
    ("POST", _J + "/answers/{name}"): "editor",
    ("POST", _J + "/themes/edit"): "editor",
    ("POST", _J + "/themes/accept"): "editor",
    ("POST", _J + "/builder"): "editor",
    ("POST", "/welcome/journey"): "editor",
    ("POST", "/imports/upload"): "editor",
    ("GET", "/imports/mapping/{upload}"): "editor",
    ("POST", "/imports/mapping/{upload}"): "editor",
    # people: admins
    ("GET", "/users"): "admin",
    ("POST", "/users"): "admin",
    ("POST", "/users/{name}/delete"): "admin",
    ("POST", "/users/{name}/role"): "admin",
    ("POST", "/users/{name}/password"): "admin",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("DELETE", "/api/users/{name}"): "admin",
    ("PUT", "/api/users/{name}"): "admin",
}

LOCAL_USER = User("local", "admin")


@dataclass(frozen=True)
class Identity:
    user: User | None
    csrf: str  # the token this client's unsafe requests must carry
    token: str | None = None  # the session token, when signed in
    local: bool = False  # no users exist: a loopback-only server, everyone is the local admin


class LoginLimiter:
    """Failed logins per client address and per user name in a sliding window.

    Both limits apply: one address cannot guess many users' passwords, and many addresses
    cannot guess one user's.
    """

    def __init__(self, per_user: int = 5, per_ip: int = 20, window: float = 900.0) -> None:
        self.per_user, self.per_ip, self.window = per_user, per_ip, window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def attempt(self, ip: str, user: str) -> tuple[float, float]:
        """Check and count one sign-in at once: (seconds to wait, the attempt's mark).

        A wait of 0 means go on, and the attempt already counts as failed, so concurrent
        attempts cannot all pass the check before any is counted (issue 23: 26 of 40 did).
        A sign-in that succeeds hands its mark back to ``succeeded``.
        """
        now = time.monotonic()
        with self._lock:
            waits = [0.0]
            keys = ((f"ip:{ip}", self.per_ip), (f"user:{user}", self.per_user))
            for key, limit in keys:
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(q[len(q) - limit] + self.window - now)
            if max(waits) > 0:
                return max(waits), now
            for key, _ in keys:
                self._recent(key, now).append(now)
            return 0.0, now

    def succeeded(self, ip: str, user: str, mark: float) -> None:
        with self._lock:
            self._fails.pop(f"user:{user}", None)
            q = self._fails.get(f"ip:{ip}")
            if q is not None and mark in q:
                q.remove(mark)


def client_ip(request: Request) -> str:
    # The peer address only: a forwarded-for header is whatever the client wants it to be.
    return request.client.host if request.client else "unknown"


def identify(request: Request, store: Store) -> Identity:
    token = request.cookies.get(SESSION_COOKIE)
    session: Session | None = store.session(token) if token else None
    if session is not None:
        return Identity(session.user, session.csrf, token)
    anon_csrf = request.cookies.get(CSRF_COOKIE) or ""
    if not store.has_users():
        return Identity(LOCAL_USER, anon_csrf, local=True)
    return Identity(None, anon_csrf)


def end_previous_session(request: Request, store: Store) -> None:
    """Signing in ends the session this browser had: it must not stay valid for whoever
    signed in before (issue 23 found it did)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        store.end_session(token)


def rule_of(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    rule = ACCESS.get((request.method, str(path)))
    if rule is None and request.method == "HEAD":
        rule = ACCESS.get(("GET", str(path)))
    if rule is None:
        # Fail closed: a route nobody wrote a rule for is reachable by nobody.
        raise HTTPException(403, f"no access rule for {request.method} {path}")
    return rule


def is_loopback_address(text: str) -> bool:
    """True for a loopback IP address (an IPv4-mapped one too); never resolves a name."""
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return bool((mapped or addr).is_loopback)


def check_access(request: Request, ident: Identity, rule: str) -> None:
    if ident.local:
        # No users: everyone is the local admin, so both must say "this machine": the peer
        # address (the Host header is the client's to choose) and the Host (DNS rebinding).
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        peer = request.client.host if request.client else ""
        if host not in LOOPBACK_HOSTS or not is_loopback_address(peer):
            raise HTTPException(403, "this server has no users and answers on localhost only")
    if rule == ANYONE:
        return
    if ident.user is None:
        raise HTTPException(401, "sign in first")
    if RANK[ident.user.role] < RANK[rule]:
        raise HTTPException(403, f"needs the {rule} role; {ident.user.name} is {ident.user.role}")


async def check_csrf(request: Request, ident: Identity) -> None:
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not ident.csrf or not given or not hmac.compare_digest(given, ident.csrf):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


def new_csrf() -> str:
    return secrets.token_urlsafe(32)
