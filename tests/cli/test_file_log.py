"""``--events FILE`` questions tagged with the journey's kept SQL, without Ibis (issue 22).

``funnel``, ``paths``, ``positions``, ``stuck`` and ``cohorts`` with ``--events`` read the file
as before (the same checks, rejects and copies, said the same way) and tag it on DuckDB's own
connection (``engine.maplog.file_log``) when the options need no other events. Their output
must be the generic path's, byte for byte, on clean and dirty files of every format; and the
fast path must really be taken: a fresh process imports no Ibis, pandas or sqlglot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import journeykit.engine.maplog as maplog
from journeykit.cli import cli
from journeykit.events.simulate import SimulationOptions, simulate, write_table
from journeykit.journey import load_journey
from tests.cli.test_startup import imported_by
from tests.cli.test_workspace_log import COMMANDS, with_and_without

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "saas-trial.yaml"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """500 simulated customers as Parquet, JSON lines and CSV, and the CSV made dirty: rows
    refused for each reason the reader gives, and exact copies of earlier rows."""
    root = tmp_path_factory.mktemp("filelog")
    journey = load_journey(TEMPLATE)
    table = simulate(journey, SimulationOptions(customers=500, seed=5))
    out = {}
    for kind in ("parquet", "jsonl", "csv"):
        out[kind] = root / f"events.{kind}"
        write_table(table, out[kind])
    lines = out["csv"].read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    assert header.startswith('"customer_id","event","timestamp"'), header
    bad = [
        '"","signed_up","2024-01-05 10:00:00",,"{}"',  # no customer id
        '"x1","","2024-01-05 10:00:00",,"{}"',  # no event
        '"x2","signed_up","yesterday",,"{}"',  # no timestamp
        '"x3","subscription_started","2024-01-05 10:00:00","lots","{}"',  # no number
        '"x4","signed_up","2024-01-05 10:00:00",,"[1, 2]"',  # properties not an object
    ]
    dirty = [header, *rows[:300], *bad, *rows[:40], *rows[300:]]  # 40 exact copies
    out["dirty"] = root / "dirty.csv"
    out["dirty"].write_text("\n".join(dirty) + "\n", encoding="utf-8")
    return out


def run(caplog: pytest.LogCaptureFixture, *args: str) -> tuple[str, list[str]]:
    """The command's output, and the reader's messages (refused rows, copies)."""
    caplog.clear()
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout, [r.getMessage() for r in caplog.records]


def both(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, *args: str
) -> tuple[tuple[str, list[str]], tuple[str, list[str]]]:
    """Output and messages from the file's log, and with it unavailable."""
    return with_and_without(monkeypatch, "file_log", lambda: run(caplog, *args))


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["parquet", "jsonl", "dirty"])
def test_the_files_log_gives_the_generic_output(
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    command: str,
    fmt: str,
) -> None:
    args = (command, str(TEMPLATE), "--events", str(files[kind]), "--format", fmt)
    fast, generic = both(monkeypatch, caplog, *args)
    assert fast == generic
    assert len(fast[0]) > 100
    if kind == "dirty":  # refused rows and copies are said as before, once
        (rejected,) = [m for m in fast[1] if "rejected" in m]
        (copies,) = [m for m in fast[1] if "exact duplicate" in m]
        assert ": 5 row(s) rejected" in rejected
        assert int(copies.split(": ")[-1].split()[0]) >= 40


@pytest.mark.parametrize(
    "options",
    [
        ["--window", "3d", "--mode", "strict"],
        ["--window", "none", "--mode", "any"],
        ["--exclude", "trial_ending_stall"],
        ["--people", "2"],
        ["--trends", "week"],
        ["--path", "webinar_first"],
    ],
    ids=lambda o: " ".join(o),
)
def test_funnel_options_the_files_log_serves(
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    options: list[str],
) -> None:
    args = ("funnel", str(TEMPLATE), "--events", str(files["dirty"]), "--format", "json")
    fast, generic = both(monkeypatch, caplog, *args, *options)
    assert fast == generic


@pytest.mark.parametrize("options", [["--by", "persona"], ["--now", "2024-02-01"]])
def test_options_that_need_the_events_take_them(
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    options: list[str],
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(maplog, "file_log", lambda *a: calls.append(a))
    args = ("funnel", str(TEMPLATE), "--events", str(files["dirty"]), "--format", "json")
    out, said = run(caplog, *args, *options)
    assert '"steps"' in out
    assert calls == []
    assert sum("row(s) rejected" in m for m in said) == 1


@pytest.mark.parametrize("options", [["--correlation"], ["--correlation-property", "plan"]])
def test_events_after_the_log_are_the_files_as_read_once(
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    options: list[str],
) -> None:
    """The funnel from the file's log, the correlation from the events it staged: the file is
    read once (one message), and the answer is the generic one."""
    args = ("funnel", str(TEMPLATE), "--events", str(files["dirty"]), "--format", "json")
    fast, generic = both(monkeypatch, caplog, *args, *options)
    assert fast == generic
    assert sum("row(s) rejected" in m for m in fast[1]) == 1


def test_a_journey_without_rules_is_measured_on_the_events(files: dict[str, Path]) -> None:
    """No rule, no log: nothing is read for one (the caller reads the events)."""
    from journeykit.engine.duckdb import DuckDBEngine

    loaded = load_journey(TEMPLATE)
    bare = loaded.model_copy(
        update={"milestones": [m.model_copy(update={"when": None}) for m in loaded.milestones]}
    )
    engine = DuckDBEngine()
    try:
        assert maplog.file_log(engine, files["parquet"], loaded) is not None
        tables = engine.fetchall("SELECT count(*) FROM duckdb_tables()")
        assert maplog.file_log(engine, files["parquet"], bare) is None
        assert engine.fetchall("SELECT count(*) FROM duckdb_tables()") == tables
    finally:
        engine.close()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fresh_events_command_imports_no_ibis_pandas_or_sqlglot(
    files: dict[str, Path], command: str
) -> None:
    args = (command, str(TEMPLATE), "--events", str(files["dirty"]), "--format", "json")
    imported_by(*args)  # the first run after a change of code keeps the journey's SQL
    assert imported_by(*args) & {"ibis", "pandas", "numba", "sqlglot"} == set()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_journey_whose_rules_share_events_gives_the_generic_output(
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    command: str,
) -> None:
    """Two rules that match one event: the log keys events (``LogQuery.keyed``), as stored."""
    text = TEMPLATE.read_text(encoding="utf-8")
    shared = tmp_path / "shared.yaml"
    assert "when: webinar_joined" in text
    shared.write_text(
        text.replace("when: webinar_joined", "when: {event: [webinar_joined, board_created]}"),
        encoding="utf-8",
    )
    query = maplog.log_query(load_journey(shared))
    assert query is not None and query.keyed
    args = (command, str(shared), "--events", str(files["dirty"]), "--format", "json")
    fast, generic = both(monkeypatch, caplog, *args)
    assert fast == generic


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_with_no_event_left_gives_the_generic_output(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    command: str,
) -> None:
    """Every row refused: no customer, no "now"; the same answer (and message) either way."""
    refused = tmp_path / "refused.csv"
    refused.write_text(
        "customer_id,event,timestamp\n,signed_up,2024-01-01\nc1,signed_up,someday\n",
        encoding="utf-8",
    )
    args = (command, str(TEMPLATE), "--events", str(refused), "--format", "json")
    fast, generic = both(monkeypatch, caplog, *args)
    assert fast == generic
    assert any("2 row(s) rejected" in m for m in fast[1])
