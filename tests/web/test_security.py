"""Every route x every role against the access matrix; CSRF, XSS, traversal, rate limits."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from journeykit.cli import cli
from journeykit.engine.workspace import import_files
from journeykit.web.app import create_app, iter_routes
from journeykit.web.security import ACCESS, ANYONE, RANK, LoginLimiter
from journeykit.web.store import Store, User
from journeykit.workspace import create_workspace, open_workspace
from tests.web.conftest import PASSWORD, Site

SAMPLE = {
    "key": "journey", "number": "1", "kind": "funnel", "status": "stuck", "name": "nobody",
    "job_id": "x" * 22, "import_id": "abcdef123456", "customer_id": "c00001",
    "upload": "0123456789ab-none.csv",
}  # fmt: skip


def _routes(app: object) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, through included routers."""
    out: list[tuple[str, str]] = []
    for route, path in iter_routes(app.routes):  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            out.extend((m, path) for m in sorted(route.methods))
        elif path != "/openapi.json":
            pytest.fail(f"route {route!r} is not an API route: the guard would not see it")
    assert len(out) > 40
    return out


def test_every_route_has_exactly_one_rule(site: Site) -> None:
    routes = set(_routes(site.app))
    extra = {("GET", "/openapi.json")}
    assert routes | extra == set(ACCESS), (
        f"routes without a rule: {sorted(routes - set(ACCESS))}; "
        f"rules without a route: {sorted(set(ACCESS) - routes - extra)}"
    )


def _url(path: str) -> str:
    url = path
    for k, v in SAMPLE.items():
        url = url.replace("{" + k + "}", v)
    return url.replace("{name}", "app.css") if url.startswith("/static") else url


@pytest.mark.parametrize("role", [None, "viewer", "editor", "admin"])
def test_access_matrix(site: Site, role: str | None) -> None:
    rank = RANK[role] if role else -2
    problems = []
    routes = [*_routes(site.app), ("GET", "/openapi.json")]
    client = site.client(role)
    for method, path in routes:
        rule = ACCESS[(method, path)]
        site.sign_in(client, role)  # a fresh session: /logout must not end the next request's
        url = _url(path)
        r = client.request(method, url, json={} if method != "GET" else None,
                           follow_redirects=False)  # fmt: skip
        denied = r.status_code in (401, 403) or (
            r.status_code == 303 and r.headers["location"].startswith("/login?")
        )
        allowed = rule == ANYONE or (role is not None and rank >= RANK[rule])
        if allowed and denied:
            problems.append(f"{method} {url}: {role} refused ({r.status_code}) but rule is {rule}")
        if not allowed and not denied:
            problems.append(f"{method} {url}: {role} got {r.status_code}, rule is {rule}")
        if not allowed and role is None:
            api = url.startswith("/api") or url == "/openapi.json"
            want = 401 if api or method != "GET" else 303
            if r.status_code != want:
                problems.append(f"{method} {url}: anonymous got {r.status_code}, want {want}")
        if r.status_code >= 500:
            problems.append(f"{method} {url}: {role} got {r.status_code}")
    assert not problems, "\n".join(problems)


def test_unsafe_requests_without_the_csrf_token_are_refused(site: Site) -> None:
    editor = site.client("editor")
    token = editor.headers.pop("X-CSRF-Token")
    text = (site.root / "journey.yaml").read_text()
    before = len(site.store.revisions("journey"))
    for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
        r = editor.put("/api/journeys/journey", json={"text": text}, headers=headers)
        assert r.status_code == 403, r.text
        assert "CSRF" in r.json()["detail"]
    r = editor.post("/journeys/journey/edit", data={"text": text})
    assert r.status_code == 403
    r = editor.post("/journeys/journey/edit", data={"text": text, "csrf_token": "nope"})
    assert r.status_code == 403
    # A token from another session is no good either.
    other = site.client("editor").headers["X-CSRF-Token"]
    r = editor.put("/api/journeys/journey", json={"text": text}, headers={"X-CSRF-Token": other})
    assert r.status_code == 403
    assert len(site.store.revisions("journey")) == before
    r = editor.put("/api/journeys/journey", json={"text": text}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text


def test_login_needs_the_csrf_cookie_token_and_sets_strict_httponly_cookies(site: Site) -> None:
    c = TestClient(site.app, base_url="http://127.0.0.1")
    form = {"name": "viewer", "password": PASSWORD}
    assert c.post("/login", data=form, follow_redirects=False).status_code == 403
    c.get("/login")
    r = c.post("/login", data={**form, "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/login", data={**form, "csrf_token": c.cookies["jk_csrf"]},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/journeys"
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("jk_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert c.get("/journeys").status_code == 200
    secure = TestClient(create_app(site.root, https=True), base_url="https://127.0.0.1")
    secure.get("/login")
    r = secure.post("/login", data={**form, "csrf_token": secure.cookies["jk_csrf"]},
                    follow_redirects=False)  # fmt: skip
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("jk_session="))
    assert "Secure" in cookie


def test_login_redirects_only_within_the_site(site: Site) -> None:
    for target, want in (("//evil.example/x", "/journeys"), ("https://evil.example", "/journeys"),
                         ("/journeys/journey", "/journeys/journey")):  # fmt: skip
        c = site.client(None)
        r = c.post("/login", data={"name": "viewer", "password": PASSWORD, "next": target,
                                   "csrf_token": c.cookies["jk_csrf"]}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
        assert r.headers["location"] == want


def test_login_attempts_are_limited_per_user_and_per_address(site: Site) -> None:
    ctx = site.app.state.ctx
    ctx.limiter = LoginLimiter(per_user=5, per_ip=12, window=900)
    c = site.client(None)

    def attempt(name: str, password: str) -> int:
        data = {"name": name, "password": password, "csrf_token": c.cookies["jk_csrf"]}
        r = c.post("/login", data=data, follow_redirects=False)
        c.cookies.delete("jk_session")  # stay anonymous: each attempt is a new sign-in
        return r.status_code

    assert [attempt("editor", "wrong password") for _ in range(5)] == [401] * 5
    r = c.post("/login", data={"name": "editor", "password": PASSWORD,
                               "csrf_token": c.cookies["jk_csrf"]}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 800
    assert "Too many" in r.text
    # Another user from the same address still may, until the address's own limit.
    assert attempt("viewer", PASSWORD) == 303
    assert [attempt(f"ghost{i}", "x") for i in range(7)] == [401] * 7
    assert attempt("viewer", PASSWORD) == 429
    api = site.client(None)
    r = api.post("/api/login", json={"name": "viewer", "password": PASSWORD})
    assert r.status_code == 429
    ctx.limiter = LoginLimiter()


TRAVERSALS = [
    "/static/..%2f..%2fpyproject.toml",
    "/static/%2e%2e%2fapp.py",
    "/static/app.py",
    "/journeys/..%2f..%2fjourneykit",
    "/journeys/%2e%2e",
    "/journeys/journeykit.toml",
    "/journeys/journey/themes?answers=../journeykit.toml",
    "/journeys/journey/themes?answers=/etc/passwd",
    "/journeys/journey/themes?answers=..%2F..%2Fjourney.yaml",
    "/api/journeys/journey/themes?answers=../journey.yaml",
    "/imports/..%2f..%2fjourneykit.toml/rejected.csv",
    "/imports/..%2Fjourney/rejected.csv",
    "/api/imports/..%2f..%2fx/rejected",
    "/imports/jobs/..%2f..%2fx",
    "/imports/mapping/..%2f..%2fjourneykit.toml",
    "/imports/mapping/0123456789ab-..%2f..%2fjourneykit.toml",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_path_traversal_in_file_parameters_is_refused(site: Site, url: str) -> None:
    r = site.client("admin").get(url)
    assert r.status_code == 404, (url, r.status_code, r.text[:200])
    assert "workspace" not in r.text or "answers/ folder" in r.text
    assert "[workspace]" not in r.text and "root:" not in r.text


def test_upload_names_never_become_paths(site: Site) -> None:
    editor = site.client("editor")
    body = b"customer_id,event,timestamp\nu1,visited_site,2024-01-01T00:00:00\n"
    for name in ("../../evil.csv", "..\\..\\evil.csv", "/etc/cron.d/evil.csv", ".hidden.csv"):
        r = editor.post("/api/imports", files={"file": (name, body, "text/csv")})
        assert r.status_code == 202, r.text
    uploads = site.root / "uploads"
    assert all(p.parent == uploads for p in uploads.rglob("*"))
    assert not list(site.root.parent.glob("evil*")) and not (site.root / "evil.csv").exists()
    assert not any(p.name.startswith(".") for p in uploads.iterdir())
    r = editor.post("/api/imports", files={"file": ("notes.txt", body, "text/plain")})
    assert r.status_code == 400 and "expected an events file" in r.json()["detail"]
    r = editor.post("/api/journeys", json={"name": "../x", "template": "saas-trial"})
    assert r.status_code == 422  # the API's schema refuses the name
    r = editor.post("/journeys", data={"name": "../x", "template": "saas-trial"})
    assert r.status_code == 400 and "journey name &#39;../x&#39;" in r.text
    assert not (site.root.parent / "x.yaml").exists()


XSS = {
    "title": "<script>alert('title')</script>",
    "persona": "<img src=x onerror=alert('persona')>",
    "event": "<svg onload=alert('event')>",
    "customer": "<script>alert('customer')</script>",
    "answer": "<script>alert('answer')</script> the price is too high",
}
_XSS_JOURNEY = """\
id: xss
title: "{title}"
transformation: {{from: "<i>nowhere</i>", to: somewhere}}
lapsed_after: 90d  # the customer quiet for a month stays on the stuck list this test reads
personas:
  - id: p1
    name: "{persona}"
    description: "{persona}"
    segment: {{event: "{event}"}}
milestones:
  - {{id: start, title: "Start {persona}", phase: pre, when: "{event}"}}
  - {{id: done, title: Done, phase: core, when: finish, expected_within: 2d}}
community:
  purpose: "{title}"
  roles:
    - objective: success
      description: "{persona}"
      north_star: {{title: "{title}", metric: share_reaching, milestone: done, among: start,
                    target: 0.5}}
  milestones: [start]
"""


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("xss") / "ws"
    ws = create_workspace(root, template="saas-trial")
    ws.journey_file.write_text(_XSS_JOURNEY.format(**XSS), "utf-8")
    rows = io.StringIO()
    w = csv.writer(rows)
    w.writerow(["customer_id", "event", "timestamp"])
    w.writerow([XSS["customer"], XSS["event"], "2024-01-01T00:00:00"])
    for i in range(30):
        w.writerow([f"ok{i}", XSS["event"], "2024-01-01T00:00:00"])
        w.writerow([f"ok{i}", "finish", "2024-01-02T00:00:00"])
    w.writerow(["late", "other", "2024-02-01T00:00:00"])
    events = root / "events.csv"
    events.write_text(rows.getvalue(), "utf-8")
    import_files(open_workspace(root), [events])
    (root / "answers").mkdir()
    words = ["price", "support", "community", "videos", "mentor", "schedule"]
    answers = [f"{XSS['answer']} for me, month {i}" for i in range(15)]
    answers += [f"I liked the {words[i % 6]} and the {words[(i * 5) % 6]} a lot" for i in range(25)]
    with (root / "answers" / "survey.csv").open("w", newline="") as f:
        aw = csv.writer(f)
        aw.writerow(["answer"])
        aw.writerows([a] for a in answers)
    store = Store.of_workspace(root)
    store.add_user("viewer", "viewer", PASSWORD)
    return Site(root, create_app(root), store)


def test_payloads_render_as_text(xss_site: Site) -> None:
    c = xss_site.client("viewer")
    customer = XSS["customer"]
    pages = {
        "/journeys": ["title"],
        "/journeys/journey": ["title", "persona"],
        "/journeys/journey/edit": ["title", "persona", "event"],
        "/journeys/journey/builder": ["title", "persona", "event"],
        "/welcome": ["title"],
        "/journeys/journey/dashboards/funnel": ["title", "persona"],
        "/journeys/journey/dashboards/funnel?people=2&dropped=1&trends=week": [
            "title",
            "persona",
            "customer",
        ],
        "/journeys/journey/lists/stuck": ["customer"],
        "/journeys/journey/lists/stuck?persona=p1": ["customer"],
        f"/journeys/journey/customers?q={customer}": ["customer", "persona"],
        "/journeys/journey/themes?answers=survey.csv": ["answer"],
        "/journeys/journey/clv": [],
        "/journeys/journey/community": ["title", "persona"],
        "/journeys/journey/answers/survey.csv": ["answer"],
    }
    for url, shown in pages.items():
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        for payload in XSS.values():
            raw = payload.split(" the price")[0]
            assert raw not in r.text, (url, payload)
        for key in shown:
            escaped = XSS[key].split(" the price")[0].replace("<", "&lt;").replace(">", "&gt;")
            forms = {escaped, escaped.replace("'", "&#39;"), escaped.replace("'", "&#x27;")}
            assert any(f in r.text for f in forms), (url, key)
    csv_text = c.get("/journeys/journey/lists/stuck?format=csv").text
    assert customer in csv_text  # CSV is data, not markup: the id is kept as it is
    people = c.get("/journeys/journey/funnel/people.csv?people=2&dropped=1").text
    assert customer in people.splitlines()
    # a payload in a funnel option comes back in the message next to its field, as text
    for field in ("semantics", "mode", "clickhouse", "trends", "people"):
        r = c.get("/journeys/journey/dashboards/funnel", params={field: XSS["customer"]})
        assert r.status_code == 400 and XSS["customer"] not in r.text, field
        assert 'id="e-' + field + '"' in r.text and "&lt;script&gt;" in r.text, field
    assert (
        c.get("/journeys/journey")
        .headers["Content-Security-Policy"]
        .startswith("default-src 'self'")
    )


def test_hostile_answers_columns_and_theme_labels_render_as_text(xss_site: Site) -> None:
    if xss_site.store.user("editor") is None:
        xss_site.store.add_user("editor", "editor", PASSWORD)
    editor = xss_site.client("editor")
    column = "<script>alert('column')</script>"
    rows = io.StringIO()
    w = csv.writer(rows)
    w.writerow([column, "stage"])
    words = ["price", "support", "community", "videos", "mentor", "schedule"]
    for i in range(40):
        w.writerow([f"{XSS['answer']} {words[i % 6]} and {words[(i * 5) % 6]}", "<b>s</b>"])
    r = editor.post("/journeys/journey/answers",
                    files={"file": ("<img src=x onerror=alert(1)>.csv", rows.getvalue())},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    where = r.headers["location"]
    assert "<" not in where and not list(xss_site.root.glob("**/<img*"))
    page = editor.get(where).text
    assert column not in page and "&lt;script&gt;alert(&#39;column&#39;)" in page
    r = editor.post(where, data={"text": column, "stage": "stage"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    name = where.rsplit("/", 1)[1]
    themes = editor.get(f"/api/journeys/journey/themes?answers={name}").json()["themes"]
    form = {"answers": name, "op": "rename", "themes": themes[0]["id"], "label": XSS["title"]}
    assert editor.post("/journeys/journey/themes/edit", data=form).status_code == 200
    form = {"answers": name, "theme": themes[0]["id"]}
    assert editor.post("/journeys/journey/themes/accept", data=form).status_code == 200
    for url in (f"/journeys/journey/themes?answers={name}", "/journeys/journey",
                "/journeys/journey/edit"):  # fmt: skip
        text = editor.get(url).text
        for payload in (XSS["title"], XSS["answer"].split(" the price")[0], column):
            assert payload not in text, (url, payload)
    assert (
        "&lt;script&gt;alert(&#39;title&#39;)"
        in editor.get(f"/journeys/journey/themes?answers={name}").text
    )


_KEYS_JOURNEY = """\
id: keys
title: Odd property keys
transformation: {from: Visiting, to: Buying}
milestones:
  - {id: visit, title: Visit, phase: pre, when: {event: pageview, properties: {"$browser": Safari}}}
  - {id: buy, title: Buy, phase: core,
     when: {event: purchase, properties: {"product'x": "a.b", "*": {exists: true}}}}
"""


def test_property_keys_are_keys_not_query_text(tmp_path: Path) -> None:
    """A quote in a key passed `validate`, then every page of the journey was a 500."""
    root = tmp_path / "ws"
    ws = create_workspace(root, template="saas-trial")
    ws.journey_file.write_text(_KEYS_JOURNEY, "utf-8")
    rows = io.StringIO()
    w = csv.writer(rows)
    w.writerow(["customer_id", "event", "timestamp", "$browser", "browser", "product'x", "*"])
    w.writerow(["ana", "pageview", "2024-01-01T00:00:00", "Safari", "", "", ""])
    w.writerow(["ana", "purchase", "2024-01-02T00:00:00", "", "", "a.b", "1"])
    w.writerow(["ben", "pageview", "2024-01-01T00:00:00", "", "Safari", "", ""])
    w.writerow(["ben", "purchase", "2024-01-02T00:00:00", "", "", "a.b", ""])
    (root / "events.csv").write_text(rows.getvalue(), "utf-8")
    import_files(open_workspace(root), [root / "events.csv"])
    store = Store.of_workspace(root)
    store.add_user("viewer", "viewer", PASSWORD)
    c = Site(root, create_app(root), store).client("viewer")
    for url in ("/journeys/journey", "/journeys/journey/dashboards/funnel"):
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:300])
    got = c.get("/api/journeys/journey/funnel").json()
    assert [s["customers"] for s in got["steps"]] == [1, 1]


def test_without_users_the_app_answers_on_loopback_only(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "--workspace", str(root), "--host", "0.0.0.0"])
    assert r.exit_code == 1
    assert "journeykit users add NAME --role admin --workspace" in r.output
    app = create_app(root)
    local = TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000))
    assert local.get("/journeys").status_code == 200
    assert "No users yet" in local.get("/journeys").text
    rebound = TestClient(app, base_url="http://attacker.example")
    assert rebound.get("/journeys").status_code == 403


def test_users_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from journeykit.web import passwords

    monkeypatch.setattr(passwords, "HASHER_OPTIONS", {})  # the real cost, as installed
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    runner = CliRunner()
    ws = ["--workspace", str(root)]

    def run(*args: str, input: str | None = None) -> str:
        r = runner.invoke(cli, ["users", *args, *ws], input=input)
        assert r.exit_code == 0, r.output
        return r.output

    run("add", "ana", "--role", "editor", "--password-stdin", input=PASSWORD + "\n")
    run("add", "ben", "--password-stdin", input=PASSWORD + "\n")
    assert run("list").splitlines()[-2:] == ["ana\teditor", "ben\tviewer"]
    store = Store.of_workspace(root)
    token, _ = store.new_session(store.user("ana"))  # type: ignore[arg-type]
    run("reset-password", "ana", "--password-stdin", "--role", "admin",
        input="a brand new password\n")  # fmt: skip
    assert store.session(token) is None  # a reset ends the sessions
    assert store.check_password("ana", "a brand new password") is not None
    assert store.check_password("ana", PASSWORD) is None
    assert store.user("ana").role == "admin"  # type: ignore[union-attr]
    run("remove", "ben")
    assert run("list").splitlines()[-1:] == ["ana\tadmin"]
    bad = runner.invoke(cli, ["users", "add", "x y", *ws, "--password-stdin"], input="p" * 12)
    assert bad.exit_code == 1 and "user name 'x y'" in bad.output
    short = runner.invoke(cli, ["users", "add", "cy", *ws, "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    digest = re.compile(r"^\$argon2id\$v=19\$m=65536,t=3,p=4\$")
    import sqlite3

    with sqlite3.connect(root / "journeykit-web.sqlite") as db:
        (h,) = db.execute("SELECT password_hash FROM users WHERE name = 'ana'").fetchone()
    assert digest.match(h)


def test_without_users_a_remote_peer_is_refused_whatever_its_host_header(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    app = create_app(root)
    remote = TestClient(app, base_url="http://localhost:8000", client=("203.0.113.5", 50000))
    assert remote.get("/api/session").status_code == 403
    assert remote.get("/journeys").status_code == 403
    mapped = TestClient(app, base_url="http://localhost:8000", client=("::ffff:127.0.0.1", 1))
    assert mapped.get("/api/session").json()["local"] is True


def test_the_last_admin_cannot_be_removed_or_demoted(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    store = Store.of_workspace(root)
    store.add_user("ana", "admin", PASSWORD)
    store.add_user("ben", "viewer", PASSWORD)
    app = create_app(root)
    c = TestClient(app, base_url="http://127.0.0.1")
    token, session = store.new_session(store.user("ana"))  # type: ignore[arg-type]
    c.cookies.set("jk_session", token)
    c.headers["X-CSRF-Token"] = session.csrf
    r = c.delete("/api/users/ana")
    assert r.status_code == 400 and "last admin" in r.json()["detail"]
    r = c.put("/api/users/ana", json={"role": "editor"})
    assert r.status_code == 400 and "last admin" in r.json()["detail"]
    assert c.delete("/api/users/ben").status_code == 200
    bad = CliRunner().invoke(cli, ["users", "remove", "ana", "--workspace", str(root)])
    assert bad.exit_code == 1 and "last user" in bad.output
    assert [u.name for u in store.users()] == ["ana"]
    store.add_user("cy", "admin", PASSWORD)
    store.remove_user("ana")  # another admin is left
    assert store.users() == [User("cy", "admin")]


def test_a_damaged_or_full_state_file_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    Store.of_workspace(root).add_user("ana", "admin", PASSWORD)
    runner = CliRunner()
    for args in (["users", "list"], ["serve"]):
        (root / "journeykit-web.sqlite").write_bytes(b"not a database, or a damaged one" * 100)
        r = runner.invoke(cli, [*args, "--workspace", str(root)])
        assert r.exit_code == 1, r.output
        assert "journeykit-web.sqlite (users, sessions, revisions): it is damaged" in r.output
    (root / "journeykit-web.sqlite").unlink()
    store = Store.of_workspace(root)

    def full(*args: object, **kwargs: object) -> object:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite3, "connect", full)
    r = runner.invoke(cli, ["users", "add", "ben", "--workspace", str(root), "--password-stdin"],
                      input=PASSWORD + "\n")  # fmt: skip
    assert r.exit_code == 1 and "the disk is full; free some space" in r.output
    assert store.path.name == "journeykit-web.sqlite"


def test_the_first_run_upload_is_limited_in_size_and_type(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeykit.web import imports

    editor = site.client("editor")
    before = set((site.root / "uploads").glob("*")) if (site.root / "uploads").exists() else set()
    r = editor.post("/imports/upload", files={"file": ("notes.txt", b"a,b\n1,2\n", "text/plain")})
    assert r.status_code == 400 and "expected an events file" in r.text
    monkeypatch.setattr(imports, "MAX_UPLOAD", 1024)
    big = b"customer_id,event,timestamp\n" + b"u1,x,2024-01-01T00:00:00\n" * 100
    r = editor.post("/imports/upload", files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 400 and "larger than" in r.text
    r = editor.post("/imports/upload", files={"file": ("../../evil.csv", big[:200], "text/csv")},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "/imports/mapping/" in r.headers["location"]
    after = set((site.root / "uploads").glob("*"))
    (added,) = after - before  # the refused ones left nothing behind; the name is ours
    assert added.parent == site.root / "uploads" and added.name.endswith("-evil.csv")
    added.unlink()


def test_builder_and_mapping_screens_escape_hostile_text(xss_site: Site) -> None:
    if xss_site.store.user("editor") is None:
        xss_site.store.add_user("editor", "editor", PASSWORD)
    c = xss_site.client("editor")
    evil = XSS["event"]
    header = f'customer_id,event,timestamp,"{evil}"\n'
    body = f'"{XSS["customer"]}","{evil}",2024-01-01T00:00:00,"{XSS["title"]}"\n'
    body += f'u2,"{evil}",not a time,x\n'
    r = c.post("/imports/upload", files={"file": ("x.csv", (header + body).encode(), "text/csv")})
    assert r.status_code == 200, r.text[:300]
    for payload in XSS.values():
        assert payload.split(" the price")[0] not in r.text
    assert "&lt;svg onload=alert(&#39;event&#39;)&gt;" in r.text
    # the builder's rule picker offers the hostile event name as text
    r = c.get("/journeys/journey/builder")
    assert evil not in r.text and "&lt;svg onload" in r.text
    counts = c.post("/api/journeys/journey/rule-counts", json={"rule": {"events": evil}}).json()
    assert counts["events"] == 31
