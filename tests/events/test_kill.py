"""An import killed part-way (a real SIGKILL) leaves the workspace exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from journeykit.events.importer import import_files
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text
from journeykit.workspace import Workspace

from .conftest import db_rows, snapshot

_IMPORT = """
import sys
from pathlib import Path
from journeykit.events.importer import import_files
from journeykit.workspace import open_workspace
print("started", flush=True)
import_files(open_workspace(Path(sys.argv[1])), [Path(sys.argv[2])])
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
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    time.sleep(0.8)
    assert proc.poll() is None, "the import finished before it could be killed; use a bigger file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert snapshot(ws) == before
    # And the workspace still works: the killed file imports completely afterwards.
    (report,) = import_files(ws, [big])
    assert report.loaded > 300_000
    assert db_rows(ws, "SELECT count(*) FROM imports") == [(2,)]
