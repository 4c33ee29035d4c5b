from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from journeykit.workspace import Workspace, create_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return create_workspace(tmp_path / "ws", template="saas-trial")


def db_rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    from journeykit.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        return engine.fetchall(sql)
    finally:
        engine.close()


def snapshot(
    ws: Workspace, tables: tuple[str, ...] = ("events", "rejected", "imports")
) -> tuple[object, ...]:
    if not ws.database.exists():
        return ()
    return tuple(tuple(sorted(db_rows(ws, f"SELECT * FROM {t}"), key=repr)) for t in tables)


def kill_when_paused(script: str, *args: str) -> None:
    """Run ``python -c script args``; when it prints "paused" (inside its transaction), kill
    it with SIGKILL. The child imports journeykit from where this process does."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "paused"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
