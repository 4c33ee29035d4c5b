from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from pytest import MonkeyPatch

from journeykit.cli import cli


def init(tmp_path: Path) -> Path:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    return tmp_path / "ws"


def test_import_prints_json_counts_and_reimport_says_so(tmp_path: Path) -> None:
    ws = init(tmp_path)
    events = tmp_path / "e.csv"
    events.write_text(
        "user,name,at\na,open,2024-01-01\nb,open,2024-01-01\nb,open,2024-01-01\n,x,y\n"
    )
    args = ["import", str(events), "--workspace", str(ws), "--customer-id", "user",
            "--event", "name", "--timestamp", "at", "--format", "json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert {k: got[k] for k in ("read", "loaded", "duplicates", "rejected")} == {
        "read": 4,
        "loaded": 2,
        "duplicates": 1,
        "rejected": 1,
    }
    assert Path(got["rejected_file"]).is_file()
    assert "read 4, loaded 2, duplicates 1, rejected 1 (see" in result.stderr
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0
    assert json.loads(again.stdout)["loaded"] == 0
    assert "already imported" in again.stderr


def test_import_errors_are_one_line_naming_the_file(tmp_path: Path) -> None:
    ws = init(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = CliRunner().invoke(cli, ["import", str(empty), "--workspace", str(ws)])
    assert result.exit_code == 1
    assert "empty.csv: the file is empty" in result.stderr


def test_strict_exit_code(tmp_path: Path) -> None:
    ws = init(tmp_path)
    events = tmp_path / "e.csv"
    events.write_text("customer_id,event,timestamp\na,open,2024-01-01\na,open,never\n")
    result = CliRunner().invoke(cli, ["import", str(events), "--workspace", str(ws), "--strict"])
    assert result.exit_code == 1
    assert "e.csv:3: timestamp: unparseable timestamp" in result.stderr


def test_simulate_then_import(tmp_path: Path) -> None:
    ws = init(tmp_path)
    out = tmp_path / "sim.parquet"
    result = CliRunner().invoke(
        cli, ["simulate", str(ws / "journey.yaml"), "--customers", "300", "--seed", "4",
              "--duplicates", "0.01", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    imported = CliRunner().invoke(
        cli, ["import", str(out), "--workspace", str(ws), "--format", "json"]
    )
    assert imported.exit_code == 0, imported.output
    counts = json.loads(imported.stdout)
    assert counts["loaded"] > 1000 and counts["duplicates"] > 0 and counts["rejected"] == 0


def test_demo_imports_simulated_events(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "FROM " in result.stdout and "simulated 4,000 customers" in result.stdout
    assert "purpose (why members belong)" in result.stdout and "not proof of cause" in result.stdout
    assert "rejected 0" in result.stdout


def test_import_shows_progress_on_stderr_only(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """A long import draws a Rich bar on stderr; stdout keeps only the JSON counts."""
    from journeykit.cli import events_cmds
    from journeykit.cli.output import err_console
    from journeykit.events.simulate import SimulationOptions, simulate_to_file
    from journeykit.journey import load_journey

    ws = init(tmp_path)
    events = tmp_path / "sim.csv"
    journey = load_journey(ws / "journey.yaml")
    simulate_to_file(journey, SimulationOptions(customers=20_000, seed=3), events)
    # stderr as a terminal: Rich reads TTY_COMPATIBLE each time, is_interactive only at start.
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(err_console, "is_interactive", True)
    monkeypatch.setattr(events_cmds, "PROGRESS_AFTER", 0.0)  # so a test-sized file shows it
    result = CliRunner().invoke(
        cli, ["import", str(events), "--workspace", str(ws), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert "reading" in result.stderr and "%" in result.stderr
    counts = json.loads(result.stdout)  # nothing but the JSON line on stdout
    assert counts["loaded"] > 100_000 and counts["rejected"] == 0


def test_import_waits_for_a_busy_workspace_then_says_so(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    from journeykit.engine import duckdb as duckdb_engine
    from journeykit.workspace import open_workspace
    from tests.builders import database_held

    root = init(tmp_path)
    database = open_workspace(root).database
    files = []
    for name in ("a", "b", "c"):
        files.append(tmp_path / f"{name}.csv")
        files[-1].write_text(f"customer_id,event,timestamp\n{name},signed_up,2024-01-01\n")

    def run(path: Path) -> object:
        return CliRunner().invoke(cli, ["import", str(path), "--workspace", str(root)])

    assert run(files[0]).exit_code == 0  # type: ignore[attr-defined]
    monkeypatch.setattr(duckdb_engine, "LOCK_WAIT", 0.5, raising=False)
    for write in (False, True):  # the web app computing; another import
        with database_held(database, write=write):
            busy = run(files[1])
        assert busy.exit_code == 1, busy.output  # type: ignore[attr-defined]
        assert "the workspace is busy" in busy.output  # type: ignore[attr-defined]
    monkeypatch.setattr(duckdb_engine, "LOCK_WAIT", 30.0, raising=False)
    with database_held(database, write=True, release_after=1.0):
        assert run(files[2]).exit_code == 0  # type: ignore[attr-defined]
