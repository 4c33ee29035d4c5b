"""``journeykit serve`` in a subprocess on a free loopback port, for the web benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(
    workspace: Path, options: tuple[str, ...] = (), stderr: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The server process and its base URL, once it answers; killed on the way out (in-flight
    analyses need not finish). ``options`` go to ``journeykit serve``; ``stderr`` to Popen."""
    base = f"http://127.0.0.1:{free_port()}"
    server = subprocess.Popen([sys.executable, "-m", "journeykit", "serve", "--workspace",
                               str(workspace), "--port", base.rsplit(":", 1)[1], *options],
                              stderr=stderr)  # fmt: skip
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/login", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        yield server, base
    finally:
        server.kill()
        server.wait(30)


def sign_in(client: Any, name: str, password: str) -> Any:
    """``client`` (an httpx-style client on the server) signed in through the login form."""
    client.get("/login")
    r = client.post("/login", data={"name": name, "password": password,
                                    "csrf_token": client.cookies["jk_csrf"]})  # fmt: skip
    if r.status_code != 303:
        raise SystemExit(f"sign-in failed: {r.status_code} {r.text[:200]}")
    return client


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
