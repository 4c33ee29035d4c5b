"""Workspace commands answer from the milestone log the import stored (issue 22, target 1).

``funnel``, ``paths``, ``positions``, ``stuck`` and ``cohorts`` with ``--workspace`` read the
journey's stored log with DuckDB alone when it is up to date and the options need no other
events. Their output must be the generic path's, byte for byte, in every format; and the fast
path must really be taken: a fresh process imports no Ibis, pandas or numba.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import pytest
from click.testing import CliRunner

import journeykit.engine.maplog as maplog
from journeykit.cli import cli
from journeykit.events.simulate import SimulationOptions, simulate, write_table
from journeykit.journey import load_journey
from tests.cli.test_startup import imported_by

COMMANDS = ("funnel", "paths", "positions", "stuck", "cohorts")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace (its template journey) with 600 simulated customers imported."""
    root = tmp_path_factory.mktemp("wslog")
    ws = root / "ws"
    assert CliRunner().invoke(cli, ["init", str(ws)]).exit_code == 0
    events = root / "events.parquet"
    journey = load_journey(ws / "journey.yaml")
    write_table(simulate(journey, SimulationOptions(customers=600, seed=3)), events)
    done = CliRunner().invoke(cli, ["import", str(events), "--workspace", str(ws)])
    assert done.exit_code == 0, done.output
    return ws


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


T = TypeVar("T")


def with_and_without(
    monkeypatch: pytest.MonkeyPatch, log: str, command: Callable[[], T]
) -> tuple[T, T]:
    """``command`` run with ``maplog.<log>`` (which must give a log), and with it giving none
    (the events tagged through Ibis, as before)."""
    calls: list[object] = []
    real = getattr(maplog, log)

    def counted(*a: object) -> object:
        got = real(*a)
        calls.append(got)
        return got

    with monkeypatch.context() as m:
        m.setattr(maplog, log, counted)
        fast = command()
    assert calls and calls[0] is not None, f"maplog.{log} was not used"
    with monkeypatch.context() as m:
        m.setattr(maplog, log, lambda *_: None)
        generic = command()
    return fast, generic


def both(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, str]:
    """The command's output from the stored log, and with the stored log unavailable."""
    return with_and_without(monkeypatch, "workspace_log", lambda: run(*args))


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
@pytest.mark.parametrize("command", COMMANDS)
def test_the_stored_log_gives_the_generic_output(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, command: str, fmt: str
) -> None:
    args = (command, str(workspace / "journey.yaml"), "--workspace", str(workspace))
    fast, generic = both(monkeypatch, *args, "--format", fmt)
    assert fast == generic
    assert len(fast) > 100


@pytest.mark.parametrize(
    "options",
    [
        ["--window", "3d", "--mode", "strict"],
        ["--window", "none", "--mode", "any"],
        ["--window", "1mo"],
        ["--exclude", "trial_ending_stall"],
        ["--cohort", "2024-01"],
        ["--people", "2"],
        ["--trends", "week"],
        ["--correlation"],  # the funnel from the log, the correlation from the events
        ["--path", "webinar_first"],  # an optional step and a step window: numba's kernel
    ],
    ids=lambda o: " ".join(o),
)
def test_funnel_options_the_stored_log_serves(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, options: list[str]
) -> None:
    args = ("funnel", str(workspace / "journey.yaml"), "--workspace", str(workspace))
    fast, generic = both(monkeypatch, *args, "--format", "json", *options)
    assert fast == generic


@pytest.mark.parametrize(
    "options", [["--by", "persona"], ["--now", "2024-02-01"], ["--from", "2024-01-15"]]
)
def test_options_that_need_the_events_take_them(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, options: list[str]
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(maplog, "workspace_log", lambda *a: calls.append(a))
    args = ("funnel", str(workspace / "journey.yaml"), "--workspace", str(workspace))
    assert '"steps"' in run(*args, "--format", "json", *options)
    assert calls == []


def test_a_journey_whose_rules_have_no_stored_log_is_measured_on_the_events(
    workspace: Path, tmp_path: Path
) -> None:
    """Another rule for one milestone (matching the same events): no log is stored for it,
    so the command tags the events, with the same answer."""
    text = (workspace / "journey.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "edited.yaml"
    rule = "when: nps_submitted"
    assert rule in text
    edited.write_text(text.replace(rule, "when: {event: [nps_submitted, not_an_event]}"), "utf-8")
    assert maplog.workspace_log(workspace, load_journey(edited)) is None
    for command in COMMANDS:
        stored = run(command, str(workspace / "journey.yaml"), "--workspace", str(workspace))
        tagged = run(command, str(edited), "--workspace", str(workspace))
        assert stored == tagged


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fresh_workspace_command_imports_no_ibis_pandas_or_numba(
    workspace: Path, command: str
) -> None:
    got = imported_by(command, str(workspace / "journey.yaml"), "--workspace", str(workspace),
                      "--format", "json")  # fmt: skip
    assert got & {"ibis", "pandas", "numba", "sqlglot"} == set()


_MAIN = """
import atexit, sys
from journeykit.cli import cli, main
atexit.register(lambda: print("atexit ran", file=sys.stderr))
sys.argv[0] = "journeykit"
main() if sys.argv.pop(1) == "main" else cli(prog_name="journeykit")
"""


def main_in_a_process(
    *args: str, stdout: int | IO[bytes], leave: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """``journeykit ARGS`` in a fresh interpreter, through ``cli.main`` as the script runs it
    (``leave``), else through the group itself, with Python's own exit."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    how = "main" if leave else "cli"
    return subprocess.run(
        [sys.executable, "-c", _MAIN, how, *args], stdout=stdout, stderr=subprocess.PIPE, env=env
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_a_question_leaves_with_all_its_output_and_its_exit_code(
    workspace: Path, tmp_path: Path, command: str, fmt: str
) -> None:
    """A question leaves without the interpreter's teardown (``cli.leave``): every byte still
    reaches a pipe and a file, the exit code is kept and ``atexit`` handlers run."""
    args = (command, str(workspace / "journey.yaml"), "--workspace", str(workspace),
            "--format", fmt)  # fmt: skip
    want = main_in_a_process(*args, stdout=subprocess.PIPE, leave=False).stdout
    piped = main_in_a_process(*args, stdout=subprocess.PIPE)
    assert (piped.returncode, piped.stdout) == (0, want), piped.stderr
    assert piped.stderr.decode().endswith("atexit ran\n")
    with (tmp_path / "out").open("wb") as sink:
        written = main_in_a_process(*args, stdout=sink)
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "out").read_bytes() == want


def test_a_question_that_fails_keeps_its_exit_code(workspace: Path) -> None:
    done = main_in_a_process(
        "stuck", str(workspace / "journey.yaml"), "--workspace", str(workspace), "--path", "nope",
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert done.returncode == 1
    assert b"nope" in done.stderr
