"""A payment system's REST API as a source: a local server answers in Stripe's documented list
shape (``data``, ``has_more``, ``starting_after``), with a rate-limit answer and, in one test, a
page that keeps failing. No test touches the internet."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.engine.workspace import import_rest
from journeykit.events.dbsource import SourceError
from journeykit.workspace import Workspace

from .cases import snapshot, workspace_rows

pytest.importorskip("dlt", reason="the rest extra is not installed")

CHARGES = [
    {"id": f"ch_{i:03d}", "object": "charge", "amount": 1000 + i, "currency": "eur",
     "customer": f"cus_{i % 4}", "created": 1704103200 + 3600 * i, "status": "succeeded",
     "paid": True, "refunded": False}
    for i in range(1, 12)
]  # fmt: skip


class Stripe(BaseHTTPRequestHandler):
    charges: ClassVar[list[dict[str, Any]]] = CHARGES
    requests: ClassVar[list[tuple[str, str | None]]] = []
    fail_after: int | None = None  # pages served before every answer is a 500

    def do_GET(self) -> None:
        Stripe.requests.append((self.path, self.headers.get("Authorization")))
        if len(Stripe.requests) == 2:  # the second request is rate-limited once
            self._answer(429, {"error": {"type": "rate_limit_error"}}, {"Retry-After": "0"})
            return
        if Stripe.fail_after is not None and len(Stripe.requests) > Stripe.fail_after:
            self._answer(500, {"error": {"type": "api_error", "message": "boom"}})
            return
        query = parse_qs(urlparse(self.path).query)
        limit = int(query["limit"][0])
        after = query.get("starting_after", [None])[0]
        ids = [c["id"] for c in Stripe.charges]
        start = ids.index(after) + 1 if after else 0
        page = Stripe.charges[start : start + limit]
        more = start + limit < len(Stripe.charges)
        self._answer(200, {"object": "list", "url": "/v1/charges", "has_more": more, "data": page})

    def _answer(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Stripe]]:
    server = HTTPServer(("127.0.0.1", 0), Stripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Stripe.requests, Stripe.fail_after, Stripe.charges = [], None, CHARGES
    monkeypatch.setenv("JOURNEYKIT_STRIPE_API", f"http://127.0.0.1:{server.server_port}/v1/")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    # dlt's retries: few and quick, so a failing page fails the test fast.
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "0")
    yield Stripe
    server.shutdown()
    server.server_close()


def test_charges_are_paged_through_and_imported_with_the_preset(
    stripe: type[Stripe], ws: Workspace
) -> None:
    report = import_rest(ws, "stripe://charges")
    assert report is not None and (report.read, report.loaded, report.rejected) == (11, 11, 0)
    assert workspace_rows(ws, "SELECT count(DISTINCT customer_id), sum(value) FROM events") == [
        (4, sum(c["amount"] for c in CHARGES) / 100)
    ]
    # 100 a page by default; the 429 was answered again; the key went as a bearer token.
    assert all(auth == "Bearer sk_test_local" for _, auth in stripe.requests)
    assert stripe.requests[0][0] == "/v1/charges?limit=100"
    assert stripe.requests[1] == stripe.requests[2]  # rate-limited, then asked again


@pytest.fixture
def pages_of_4(monkeypatch: pytest.MonkeyPatch) -> None:
    from journeykit.events import rest

    original = rest.pull_to_file
    monkeypatch.setattr(rest, "pull_to_file", lambda a, r, o: original(a, r, o, page_size=4))


@pytest.mark.usefixtures("pages_of_4")
def test_pages_follow_the_last_objects_id_and_a_second_pull_adds_only_the_new(
    stripe: type[Stripe], ws: Workspace
) -> None:
    import_rest(ws, "stripe://charges")
    paths = [p for p, _ in stripe.requests]
    assert "/v1/charges?limit=4&starting_after=ch_004" in paths
    assert "/v1/charges?limit=4&starting_after=ch_008" in paths
    stripe.charges = [*CHARGES, {**CHARGES[0], "id": "ch_100", "created": 1704103200 + 999999}]
    again = import_rest(ws, "stripe://charges")
    assert again is not None and (again.loaded, again.duplicates) == (1, 11)


@pytest.mark.usefixtures("pages_of_4")
def test_a_page_that_keeps_failing_imports_nothing(stripe: type[Stripe], ws: Workspace) -> None:
    stripe.fail_after = 3  # page 1, a 429, page 2, then 500s: page 3 never comes
    before = snapshot(ws)
    with pytest.raises(
        SourceError, match=r"stripe://charges: the pull failed, nothing was imported"
    ):
        import_rest(ws, "stripe://charges")
    assert snapshot(ws) == before
    assert not list((ws.root / "pulled").iterdir())


def test_the_key_comes_from_the_environment_only(
    stripe: type[Stripe], ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STRIPE_API_KEY")
    result = CliRunner().invoke(
        cli, ["import", "--from", "stripe://charges", "--workspace", str(ws.root)]
    )
    assert result.exit_code == 1
    assert "stripe: set the environment variable STRIPE_API_KEY (its API key)" in result.stderr
    result = CliRunner().invoke(
        cli, ["import", "--from", "stripe://chargs", "--workspace", str(ws.root)]
    )
    assert "no resource 'chargs'; did you mean 'charges'?" in result.stderr
