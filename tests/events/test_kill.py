"""An import killed part-way (a real SIGKILL) leaves the workspace exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from journeykit.engine.workspace import import_files
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text
from journeykit.workspace import Workspace

from .conftest import db_rows, kill_when_paused, snapshot

# The child says when the big file's rows start going into ``events`` (inside the import's
# transaction, DuckDB writing on a worker thread), and the kill follows at once. Should the insert
# end first, the child stops there, so the kill lands part-way however fast the machine is.
_IMPORT = """
import sys, time
from pathlib import Path
from journeykit.engine.workspace import import_files
from journeykit.workspace import open_workspace

said = False

def progress(phase, done):
    global said
    if phase == "loading" and not said:
        said = True
        print("loading", flush=True)
    if phase == "loading" and done >= 100:
        time.sleep(60)

import_files(open_workspace(Path(sys.argv[1])), [Path(sys.argv[2])], progress=progress)
print("finished", flush=True)
"""


def test_killed_import_leaves_workspace_unchanged(ws: Workspace, tmp_path: Path) -> None:
    journey = parse_journey(template_text("saas-trial"))
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    simulate_to_file(journey, SimulationOptions(customers=50, seed=1), small)
    simulate_to_file(journey, SimulationOptions(customers=40_000, seed=2), big)
    import_files(ws, [small])
    before = snapshot(ws)
    proc = subprocess.Popen(
        [sys.executable, "-c", _IMPORT, str(ws.root), str(big)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "loading"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.stdout.read() == ""  # it never finished
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(ws) == before
    # And the workspace still works: the killed file imports completely afterwards.
    (report,) = import_files(ws, [big])
    assert report.loaded > 300_000
    assert db_rows(ws, "SELECT count(*) FROM imports") == [(2,)]


# The child pauses at one point of the import (by wrapping a function) so the kill lands there.
_PAUSED_IMPORT = """
import sys, time
from pathlib import Path
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.engine.workspace import import_files
from journeykit.events import importer
from journeykit.workspace import open_workspace

point = sys.argv[3]
owner = importer if point == "write_rejected_csv" else DuckDBEngine
original = getattr(owner, point)

def paused(*args, **kwargs):
    result = original(*args, **kwargs)
    print("paused", flush=True)
    time.sleep(60)
    return result

setattr(owner, point, paused)
import_files(open_workspace(Path(sys.argv[1])), [Path(sys.argv[2])])
"""

_WITH_REJECTS = "customer_id,event,timestamp\na,open,2024-01-01\n,open,2024-01-01\nb,open,never\n"


def _kill_when_paused(ws: Workspace, path: Path, point: str) -> None:
    kill_when_paused(_PAUSED_IMPORT, str(ws.root), str(path), point)


def _rejects_files(ws: Workspace) -> list[str]:
    folder = ws.root / "rejected"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_kill_after_the_rejects_file_is_written_before_commit(
    ws: Workspace, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(_WITH_REJECTS)
    import_files(ws, [first])
    before, files_before = snapshot(ws), _rejects_files(ws)
    second = tmp_path / "second.csv"
    second.write_text(_WITH_REJECTS.replace("a,", "c,"))
    _kill_when_paused(ws, second, "write_rejected_csv")
    assert snapshot(ws) == before  # nothing committed
    # The killed import's rejects file is on disk, but no import owns it; the next import
    # (whatever it imports) removes it before doing anything else.
    assert len(_rejects_files(ws)) == len(files_before) + 1
    (again,) = import_files(ws, [first])
    assert again.already_imported
    assert _rejects_files(ws) == files_before
    assert snapshot(ws) == before


def test_kill_after_commit_leaves_the_import_complete(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(_WITH_REJECTS)
    _kill_when_paused(ws, path, "close")  # the import closes its database after the commit
    ((import_id, rejected_file),) = db_rows(ws, "SELECT import_id, rejected_file FROM imports")
    assert _rejects_files(ws) == [Path(str(rejected_file)).name]
    assert str(import_id) in str(rejected_file)
    lines = Path(str(rejected_file)).read_text().splitlines()
    assert lines[1:] == [f"{path.resolve()},3,customer_id,missing customer id,\",open,2024-01-01\"",
                         f"{path.resolve()},4,timestamp,unparseable timestamp,\"b,open,never\""]  # fmt: skip
    assert db_rows(ws, "SELECT customer_id, source_row FROM events") == [("a", 2)]


def test_a_missing_rejects_file_is_written_again(ws: Workspace, tmp_path: Path) -> None:
    """The database is the record: a rejects file lost (or never renamed) is rebuilt."""
    path = tmp_path / "events.csv"
    path.write_text(_WITH_REJECTS)
    (report,) = import_files(ws, [path])
    assert report.rejected_file is not None
    text = report.rejected_file.read_text()
    report.rejected_file.unlink()
    stray = ws.root / "rejected" / f".{report.rejected_file.name}.tmp"  # the old scheme's leftover
    stray.write_text("x")
    import_files(ws, [path])
    assert report.rejected_file.read_text() == text
    assert not stray.exists()


def test_rejects_files_follow_a_moved_workspace(ws: Workspace, tmp_path: Path) -> None:
    from journeykit.workspace import open_workspace

    path = tmp_path / "events.csv"
    path.write_text(_WITH_REJECTS)
    (report,) = import_files(ws, [path])
    assert report.rejected_file is not None
    moved = open_workspace(ws.root.rename(tmp_path / "moved"))
    (moved.root / "rejected" / report.rejected_file.name).unlink()
    (again,) = import_files(moved, [path])
    assert again.already_imported
    assert _rejects_files(moved) == [report.rejected_file.name]
    assert again.rejected_file == moved.root / "rejected" / report.rejected_file.name
    assert not ws.root.exists()
