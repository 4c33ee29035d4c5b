"""Issue 23, finding 12: a damaged workspace database and a full disk are messages naming the
file and what to do, never a traceback, and a failed import or act changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from journeykit.act import act, open_ledger
from journeykit.cli import cli
from journeykit.engine.duckdb import storage_error
from journeykit.engine.workspace import check_workspace, import_files
from journeykit.errors import WorkspaceDamaged, WorkspaceFull, WorkspaceStorageError
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import load_journey
from journeykit.workspace import Workspace, create_workspace
from tests.storage import SmallDisk, contents, damage


def workspace(root: Path, events: Path, customers: int = 300) -> Workspace:
    ws = create_workspace(root, template="coding-course")
    journey = load_journey(ws.journey_file)
    simulate_to_file(journey, SimulationOptions(customers=customers, seed=4, days=120), events)
    import_files(ws, [events])
    return ws


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, duckdb.Error), result.output  # no traceback
    return result.exit_code, result.output


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Workspace, Path]:
    ws = workspace(tmp_path / "ws", tmp_path / "events.parquet")
    damage(ws.database, "event_rows")
    return ws, tmp_path / "events.parquet"


def test_every_command_on_a_damaged_workspace_says_so(damaged: tuple[Workspace, Path]) -> None:
    """The events' table damaged: every command that reads it says so. (Without ``--now``
    these commands answer from the stored milestone log and never read the damaged block:
    see the next test for damage there.)"""
    ws, _ = damaged
    for command in ("funnel", "positions", "stuck"):
        code, out = run(
            command, str(ws.journey_file), "--workspace", str(ws.root), "--now", "2030-01-01"
        )
        assert code == 1, out
        assert f"{ws.database}: the workspace database is damaged (Corrupt database file" in out
        assert f"journeykit doctor --workspace {ws.root}" in out


def test_a_damaged_stored_milestone_log_says_so(tmp_path: Path) -> None:
    """The commands that read the stored log (issue 22) report damage there the same way."""
    ws = workspace(tmp_path / "ws", tmp_path / "events.parquet")
    damage(ws.database, "milestone_rows")
    for command in ("funnel", "paths", "positions", "stuck", "cohorts"):
        code, out = run(command, str(ws.journey_file), "--workspace", str(ws.root))
        assert code == 1, out
        assert f"{ws.database}: the workspace database is damaged (Corrupt database file" in out
        assert f"journeykit doctor --workspace {ws.root}" in out


def test_an_import_into_a_damaged_workspace_refuses_and_changes_nothing(
    damaged: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, events = damaged
    before = ws.database.read_bytes()
    journey = load_journey(ws.journey_file)
    other = tmp_path / "more.parquet"
    simulate_to_file(journey, SimulationOptions(customers=20, seed=9, days=10), other)
    # The same file again never reads the events, so it exited 0 on the damaged file before.
    for path in (events, other):
        code, out = run("import", str(path), "--workspace", str(ws.root))
        assert code == 1, out
        assert "the workspace database is damaged (table event_rows: Corrupt" in out
        assert "nothing was imported" in out
        assert ws.database.read_bytes() == before
    with pytest.raises(WorkspaceDamaged, match="nothing was imported"):
        import_files(ws, [other])


def test_doctor_reads_every_table_and_names_the_damaged_one(
    damaged: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, events = damaged
    code, out = run("doctor", "--workspace", str(ws.root))
    assert code == 1
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "DAMAGED: Corrupt database file" in lines["event_rows"]
    assert lines["imports"].split()[1:] == ["1", "rows", "ok"]
    assert lines["events"].split()[1:] == ["view", "ok"]
    assert str(events.resolve()) in out  # what to import again
    assert "restore the file from a backup" in out
    report = json.loads(
        run("doctor", "--workspace", str(ws.root), "--format", "json")[1].split("\n")[0]
    )
    assert report["damaged"] and [t["name"] for t in report["tables"] if t["problem"]] == [
        "event_rows"
    ]

    healthy = workspace(tmp_path / "fine", tmp_path / "fine.parquet")
    code, out = run("doctor", "--workspace", str(healthy.root))
    assert code == 0, out
    loaded = contents(healthy.database)["event_rows"][0]
    assert f"{loaded:,} rows  ok" in out and "DAMAGED" not in out
    assert not check_workspace(healthy).damaged


def test_a_damaged_header_is_a_message_and_doctor_says_it_cannot_be_opened(
    tmp_path: Path,
) -> None:
    ws = workspace(tmp_path / "ws", tmp_path / "events.parquet", customers=20)
    with ws.database.open("r+b") as f:
        f.seek(8)
        f.write(b"XXXX")  # DuckDB's magic bytes
    code, out = run("funnel", str(ws.journey_file), "--workspace", str(ws.root))
    assert code == 1 and "is damaged" in out and "not a valid DuckDB database file" in out
    code, out = run("doctor", "--workspace", str(ws.root))
    assert code == 1 and "cannot be opened: " in out


def test_only_the_files_own_failures_become_storage_errors(tmp_path: Path) -> None:
    db = tmp_path / "ws" / "journeykit.duckdb"
    full = storage_error(duckdb.IOException('IO Error: Could not write file "/d/x.csv": No space '
                                            "left on device"), db)  # fmt: skip
    assert isinstance(full, WorkspaceFull) and full.database == Path("/d/x.csv")
    assert full.http_status == 503
    bad = storage_error(duckdb.IOException("IO Error: Corrupt WAL file: entry at byte 9"), db)
    assert isinstance(bad, WorkspaceDamaged) and bad.database == db and bad.http_status == 500
    elsewhere = duckdb.IOException('IO Error: No files found that match the pattern "e.csv"')
    assert storage_error(elsewhere, db) is None  # an events file, not the workspace
    assert type(storage_error(elsewhere, db, opening=True)) is WorkspaceStorageError
    assert storage_error(duckdb.BinderException("Binder Error: x"), db) is None  # our bug
    assert storage_error(ValueError("No space left on device"), db) is None


def on_small_disk(disk: SmallDisk, tmp_path: Path) -> tuple[Workspace, Path]:
    ws = workspace(disk.root / "ws", tmp_path / "events.parquet")
    small = tmp_path / "small.csv"
    small.write_text(
        "customer_id,event,timestamp\nnew1,lesson_started,2024-05-01T10:00:00\n"
        "new2,lesson_started,2024-05-02T10:00:00\n",
        encoding="utf-8",
    )
    return ws, small


@pytest.mark.parametrize("size", ["small", "large"])
def test_an_import_on_a_full_disk_says_so_and_changes_nothing(
    small_disk: SmallDisk, tmp_path: Path, size: str
) -> None:
    ws, events = on_small_disk(small_disk, tmp_path)
    if size == "large":  # written to the file while inserting, before the commit
        events = tmp_path / "large.parquet"
        journey = load_journey(ws.journey_file)
        simulate_to_file(journey, SimulationOptions(customers=5000, seed=8, days=60), events)
    before, files = contents(ws.database), sorted(p.name for p in ws.root.iterdir())

    small_disk.fill()
    done = small_disk.journeykit("import", str(events), "--workspace", str(ws.root))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{ws.root}" in done.stderr and "no room left to write" in done.stderr
    assert "nothing was changed" in done.stderr and "Free some space on the disk" in done.stderr
    if size == "small":  # a few rows go to the write-ahead log at the commit
        assert "Failed to commit" in done.stderr
    small_disk.free()
    assert contents(ws.database) == before
    assert sorted(p.name for p in ws.root.iterdir() if p.suffix != ".wal") == files
    assert not check_workspace(ws).damaged

    again = small_disk.journeykit("import", str(events), "--workspace", str(ws.root))
    assert again.returncode == 0, again.stderr
    assert contents(ws.database)["event_rows"][0] > before["event_rows"][0]


def test_act_on_a_full_disk_says_so_and_records_nothing(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    ws, _ = on_small_disk(small_disk, tmp_path)
    open_ledger(ws).close()  # the ledger's tables exist: the act fails at its own commit
    journey = load_journey(ws.journey_file)
    due = sum(r.due - r.already_in for r in act(ws, journey, dry_run=True).plays)
    assert due > 0  # so the act below would record entries
    before = contents(ws.database)

    small_disk.fill()
    done = small_disk.journeykit("act", str(ws.journey_file), "--workspace", str(ws.root))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "no room left to write" in done.stderr and "nothing was changed" in done.stderr
    small_disk.free()
    assert contents(ws.database) == before

    assert (
        small_disk.journeykit("act", str(ws.journey_file), "--workspace", str(ws.root)).returncode
        == 0
    )
    assert contents(ws.database)["play_entries"][0] > before["play_entries"][0] == 0
