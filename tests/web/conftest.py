"""One workspace with simulated events and a user of every role, shared by the module's tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("httpx2", reason="httpx2 (the test client) is not installed")

from fastapi.testclient import TestClient

from journeykit.engine.workspace import import_files
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import load_journey
from journeykit.web import passwords
from journeykit.web.app import create_app
from journeykit.web.security import SESSION_COOKIE
from journeykit.web.store import Store
from journeykit.workspace import create_workspace

PASSWORD = "correct horse battery"
# Argon2id at its smallest cost: the tests check the flow, not the cost (the CLI test checks that
# real hashes are argon2id with the library's defaults).
passwords.HASHER_OPTIONS.update(time_cost=1, memory_cost=8, parallelism=1)
ROLES = ("viewer", "editor", "admin")


@dataclass
class Site:
    root: Path
    app: Any
    store: Store

    def client(self, role: str | None) -> TestClient:
        """A client signed in as the user named after ``role`` (None: anonymous), with the
        CSRF header set, so a refusal is about the role and not the token."""
        return self.sign_in(TestClient(self.app, base_url="http://127.0.0.1"), role)

    def sign_in(self, c: TestClient, role: str | None) -> TestClient:
        if role is None:
            c.get("/login")
            c.headers["X-CSRF-Token"] = c.cookies["jk_csrf"]
            return c
        user = self.store.user(role)
        assert user is not None
        token, session = self.store.new_session(user)
        c.cookies.set(SESSION_COOKIE, token)
        c.headers["X-CSRF-Token"] = session.csrf
        return c


def make_site(root: Path, customers: int = 200, users: bool = True) -> Site:
    ws = create_workspace(root, template="coding-course")
    events = root.parent / f"{root.name}-events.parquet"
    journey = load_journey(ws.journey_file)
    simulate_to_file(journey, SimulationOptions(customers=customers, seed=5, days=120), events)
    import_files(ws, [events])
    store = Store.of_workspace(ws.root)
    if users:
        for role in ROLES:
            store.add_user(role, role, PASSWORD)
    return Site(ws.root, create_app(root), store)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = make_site(tmp_path_factory.mktemp("web") / "ws")
    yield site
    site.app.state.ctx.imports.wait()  # no import thread may outlive the test


@contextmanager
def serving(site: Site) -> Iterator[str]:
    """The site served by uvicorn on a free local port, for a real browser: its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(site.app, host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        site.app.state.ctx.imports.wait()
        server.should_exit = True
        thread.join(10)
