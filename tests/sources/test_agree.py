"""The same events give the same funnel, positions and paths whether they came from a file, from
a PostgreSQL table through `import --from` and `sync`, or are measured on PostgreSQL itself
(`--engine URL --table`).

``JOURNEYKIT_PG_CUSTOMERS`` sets the size (default 3,000 customers, about 30,000 events);
docs/benchmarks.md records the run at 100,000 customers (1M events).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.workspace import create_workspace

from .cases import create_events_table, simulated

CUSTOMERS = int(os.environ.get("JOURNEYKIT_PG_CUSTOMERS", "3000"))
NOW = "2024-04-15"


def measure(command: str, journey: Path, *source: str) -> Any:
    result = CliRunner().invoke(
        cli, [command, str(journey), *source, "--now", NOW, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.timeout(1800)
def test_file_database_and_engine_give_the_same_answers(
    pg: Any, pg_url: str, tmp_path: Path
) -> None:
    events = simulated(CUSTOMERS, seed=7)
    create_events_table(pg_url, "events", events)
    path = tmp_path / "events.parquet"
    pq.write_table(events.drop_columns(["id"]), path)
    from_file = create_workspace(tmp_path / "file", template="saas-trial")
    from_db = create_workspace(tmp_path / "db", template="saas-trial")
    run("import", str(path), "--workspace", str(from_file.root))
    out = run("import", "--from", pg_url, "--table", "events", "--workspace", str(from_db.root))
    assert f"loaded {events.num_rows:,}" in out
    assert "loaded 0, replaced 0, unchanged 1" in run("sync", "--workspace", str(from_db.root))
    journey = from_file.journey_file
    for command in ("funnel", "positions", "paths"):
        expected = measure(command, journey, "--workspace", str(from_file.root))
        assert measure(command, journey, "--workspace", str(from_db.root)) == expected, command
        on_postgres = measure(command, journey, "--engine", pg_url, "--table", "events")
        assert on_postgres == expected, command
    funnel = measure("funnel", journey, "--workspace", str(from_file.root))
    assert funnel["steps"][0]["customers"] > CUSTOMERS // 2  # a real funnel, not zeros
