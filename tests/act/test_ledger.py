"""The entries ledger: idempotent, atomic (even under SIGKILL), and one winner when two run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from journeykit.act import ActResult, ConcurrentActError, act, entries
from journeykit.act import run as act_run
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.journey import Journey
from journeykit.workspace import Workspace

EARLY = datetime(2024, 3, 1)


def ledger(ws: Workspace) -> list[tuple[Any, ...]]:
    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        names = {r[0] for r in engine.fetchall("SELECT table_name FROM duckdb_tables()")}
        if "play_entries" not in names:
            return []
        return engine.fetchall("SELECT * FROM play_entries ORDER BY entry_id")
    finally:
        engine.close()


def counts(result: ActResult) -> dict[str, tuple[int, int, int]]:
    return {p.play.id: (p.due, len(p.entered), p.already_in) for p in result.plays}


def test_act_twice_enters_nobody_the_second_time(ws: Workspace, journey: Journey) -> None:
    first = act(ws, journey)
    assert sum(len(p.entered) for p in first.plays) > 50
    for p in first.plays:
        assert p.due == len(p.entered) and p.already_in == 0
    rows = ledger(ws)
    second = act(ws, journey)
    assert all(not p.entered and p.already_in == p.due for p in second.plays)
    assert ledger(ws) == rows  # nothing written
    # Each customer entered a play once, with the arm of the keyed hash.
    keys = [(r[2], r[3]) for r in rows]
    assert len(keys) == len(set(keys))


def test_dry_run_changes_nothing_and_shows_who_would_enter(ws: Workspace, journey: Journey) -> None:
    before = ledger(ws)
    dry = act(ws, journey, dry_run=True)
    assert ledger(ws) == before == []
    real = act(ws, journey)
    assert counts(dry) == counts(real)
    assert [e.entry_id for p in dry.plays for e in p.entered] == [
        e.entry_id for p in real.plays for e in p.entered
    ]


def test_a_customer_enters_again_only_after_window_and_cooldown(
    ws: Workspace, journey: Journey
) -> None:
    act(ws, journey, now=EARLY)
    early = {(e.play_id, e.customer_id) for e in entries(DuckDBEngine(ws.database), journey.id)}
    later = act(ws, journey, now=EARLY + timedelta(days=10))
    for p in later.plays:
        for e in p.entered:
            if (p.play.id, e.customer_id) in early:
                # Only possible once the cool-down and the window (or the goal) have passed.
                assert p.play.cooldown <= timedelta(days=10), (p.play.id, e.customer_id)
    # Inside the cool-down, everyone still due is already in.
    again = act(ws, journey, now=EARLY + timedelta(days=1))
    assert all(not p.entered for p in again.plays if p.play.cooldown > timedelta(days=10))


# The child pauses inside the ledger's transaction, right after the INSERT, so the kill lands
# with the entries written but not committed.
_PAUSED_ACT = """
import sys, time
from pathlib import Path
from journeykit.act import act
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.journey import load_journey
from journeykit.workspace import open_workspace

original = DuckDBEngine.execute

def paused(self, sql, params=None):
    original(self, sql, params)
    if sql.startswith("INSERT INTO play_entries"):
        print("inserted", flush=True)
        time.sleep(60)

DuckDBEngine.execute = paused
ws = open_workspace(Path(sys.argv[1]))
act(ws, load_journey(ws.journey_file))
print("finished", flush=True)
"""


def test_sigkill_in_the_middle_leaves_the_ledger_as_before(ws: Workspace, journey: Journey) -> None:
    act(ws, journey, now=EARLY)
    before = ledger(ws)
    assert before
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_ACT, str(ws.root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "inserted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.stdout.read() == ""
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert ledger(ws) == before
    # And the next act enters them properly.
    after = act(ws, journey)
    assert sum(len(p.entered) for p in after.plays) > 0
    assert len(ledger(ws)) == len(before) + sum(len(p.entered) for p in after.plays)


def test_two_acts_at_once_in_one_process_one_wins_the_other_changes_nothing(
    ws: Workspace, journey: Journey, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_ready = threading.Barrier(2, timeout=60)
    real_record = act_run.record

    def record_together(engine: Any, new: Any) -> None:
        both_ready.wait()  # both have judged the same customers as not yet in
        real_record(engine, new)

    monkeypatch.setattr(act_run, "record", record_together)
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(act(ws, journey))
        except ConcurrentActError as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    won = [r for r in results if isinstance(r, ActResult)]
    lost = [r for r in results if isinstance(r, ConcurrentActError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "changed nothing" in str(lost[0])
    rows = ledger(ws)
    assert len(rows) == sum(len(p.entered) for p in won[0].plays)
    assert len({(r[2], r[3]) for r in rows}) == len(rows)


def test_two_act_processes_at_once_enter_each_customer_once(ws: Workspace, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "journeykit", "act", str(ws.journey_file), "--workspace",
           str(ws.root), "--format", "json", "--wait", "120"]  # fmt: skip
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    entered = [sum(p["entered"] for p in json.loads(o[0])["plays"]) for o in outs]
    rows = ledger(ws)
    assert sorted(entered)[0] == 0 and sum(entered) == len(rows) > 0
    assert len({(r[2], r[3]) for r in rows}) == len(rows)


_SMALL = """\
id: small
title: Small
transformation: {from: a, to: b}
lapsed_after: 60d
milestones:
  - {id: a, title: A, phase: pre, when: a}
  - {id: b, title: B, phase: core, when: b, expected_within: 2d}
  - {id: c, title: C, phase: post, when: c, expected_within: 30d}
plays:
  - id: nudge
    title: Nudge
    who: {status: stuck, milestone: a}
    goal: {milestone: b, within: 10d}
    channel: email
    message: "Hi {name}"
    cooldown: 1d
"""


def test_already_in_until_the_window_passes_or_the_goal_is_reached(tmp_path: Path) -> None:
    from journeykit.engine.workspace import import_files
    from journeykit.journey import parse_journey
    from journeykit.workspace import create_workspace

    ws = create_workspace(tmp_path / "small", template="saas-trial")
    ws.journey_file.write_text(_SMALL, encoding="utf-8")
    journey = parse_journey(_SMALL)
    rows = ["customer_id,event,timestamp"]
    for day in range(1, 31):  # both stay active: never lapsed
        rows += [f"x,ping,2024-01-{day:02d}", f"y,ping,2024-01-{day:02d}"]
    rows += ["x,a,2024-01-01", "y,a,2024-01-01", "y,b,2024-01-06", "z,a,2024-01-01"]
    events = tmp_path / "events.csv"
    events.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_files(ws, [events])

    def entered(day: int) -> list[str]:
        result = act(ws, journey, now=datetime(2024, 1, day))
        return sorted(e.customer_id for e in result.plays[0].entered)

    assert entered(5) == ["x", "y", "z"]  # stuck at a for 4 days (threshold 2d)
    assert entered(8) == []  # x, z: cool-down over, window (10d) open, goal not reached
    assert entered(14) == []  # y reached b: no longer stuck at a, so not due at all
    assert entered(16) == ["x", "z"]  # the window (to day 15) passed: still stuck, in again
    assert entered(16) == []
    seqs = {(e.customer_id, e.seq) for e in entries(DuckDBEngine(ws.database), journey.id)}
    assert seqs == {("x", 0), ("y", 0), ("z", 0), ("x", 1), ("z", 1)}
